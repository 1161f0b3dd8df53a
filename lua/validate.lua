-- SPDX-License-Identifier: MIT
-- PCIe rules a plan must keep before anything touches the host: each broken rule is reported
-- with the element, the script line that created it, and the way to fix it.
local parse_address = require("vflaunch.inventory").parse_address
local netid = require "vflaunch.netid"
local topology = require "vflaunch.topology"

local M = {}

local P = topology.private

local function addr_text(a)
  return string.format("%02x.%x", a.slot, a.func)
end

local function problem(errors, e, fmt, ...)
  errors[#errors + 1] = { where = P(e).where, element = e, message = string.format(fmt, ...) }
end

-- Slots of bus with functions but no function 0, reported with one of their functions.
local function check_function_0(bus, name, errors)
  local slots = {}
  for _, e in ipairs(bus.children) do
    local a = rawget(e, "addr")
    if a then
      slots[a.slot] = slots[a.slot] or {}
      slots[a.slot][a.func] = e
    end
  end
  for slot, funcs in pairs(slots) do
    if not funcs[0] then
      local _, e = next(funcs)
      problem(errors, e, "slot %02x on %s has functions but no function 0, and the guest looks " ..
        "for function 0 first; place one device at %02x.0", slot, name, slot)
    end
  end
end

-- Fields are read raw: finalize made them plain fields of each element, and most are nil,
-- which would ask the element's __index for methods and views. Addresses are keyed by devfn
-- (slot * 8 + func), and made text only for a message.
local function check_bus(bus, profile, errors)
  local name = topology.bus_name(bus)
  local owner = bus.owner and P(bus.owner).kind
  local behind_port = owner == "root-port" or owner == "downstream-port"
  local reserved = not bus.owner and profile.root_reserved
  local at, func0, lacking = {}, {}, 0 -- func0[slot]: whether function 0 is there (nil: no slot)
  local children = bus.children
  for i = 1, #children do
    local e = children[i]
    local a = rawget(e, "addr")
    if a then
      local slot, func = a.slot, a.func
      local devfn = slot * 8 + func
      local first = at[devfn]
      if first then
        problem(errors, e, "%s on %s is already taken by %s (%s); give each its own address" ..
          "%s", addr_text(a), name, topology.describe(first), P(first).where,
          behind_port and (": behind a port, up to 8 devices fit as functions 00.0-00.7 " ..
          "(port:functions{...}), or use another port") or "")
      else
        at[devfn] = e
      end
      local has0 = func0[slot]
      if func == 0 then
        if has0 == false then lacking = lacking - 1 end
        func0[slot] = true
      elseif has0 == nil then
        func0[slot] = false
        lacking = lacking + 1
      end
      if reserved and reserved[slot] then
        problem(errors, e, "%s on pcie.0 is not free: %s; use slots %02x-%02x", addr_text(a),
          reserved[slot], profile.root_slots[1], profile.root_slots[#profile.root_slots])
      end
      if behind_port and slot ~= 0 then
        problem(errors, e, "is at %s behind %s, and the guest scans only device 0 behind a " ..
          "port (QEMU accepts it, the guest never sees it); use 00.0-00.7 (port:functions{...}) " ..
          "or another port", addr_text(a), topology.describe(bus.owner))
      end
    end
    local below = P(e).below
    if below then check_bus(below, profile, errors) end
  end
  if lacking > 0 then check_function_0(bus, name, errors) end
end

local function check_chassis(m, errors)
  local pairs_used = {}
  local elements = P(m).elements
  for i = 1, #elements do
    local e = elements[i]
    local chassis, slot = rawget(e, "chassis"), rawget(e, "slot")
    if chassis and slot then
      local key = chassis .. "/" .. slot
      local first = pairs_used[key]
      if first then
        problem(errors, e, "chassis %d slot %d is already used by %s (%s); QEMU refuses two " ..
          "ports with one pair: give another pair, or leave chassis and slot out to have them " ..
          "assigned", chassis, slot, topology.describe(first), P(first).where)
      else
        pairs_used[key] = e
      end
    end
  end
end

-- Host devices: a valid address, present on the host, an endpoint, placed once.
local function check_hosts(m, inventory, errors)
  local placed = {}
  local elements = P(m).elements
  for i = 1, #elements do
    local e = elements[i]
    local rec = P(e)
    if rec.kind == "device" then
      local host = rawget(e, "host")
      local canonical, why = parse_address(host)
      if not canonical then
        problem(errors, e, "host address '%s' is not a PCI address: %s (the form is " ..
          "dddd:bb:dd.f, e.g. 0002:81:10.0)", host, why)
      else
        if canonical ~= host then rawset(e, "host", canonical) end
        rec.hostdev = inventory.by_address[canonical]
        if not rec.hostdev then
          problem(errors, e, "host device %s is not present on this host (%s); check the " ..
            "address with 'vflaunch --list'", canonical, inventory.root)
        elseif rec.hostdev:is_bridge() then
          problem(errors, e, "host device %s is a bridge, not an endpoint; pass its devices " ..
            "through instead", canonical)
        end
        if placed[canonical] then
          problem(errors, e, "host device %s is already placed as %s (%s); a device can be " ..
            "passed through once", canonical, topology.describe(placed[canonical]),
            P(placed[canonical]).where)
        end
        placed[canonical] = placed[canonical] or e
      end
    end
  end
end

-- VF identity: only for network VFs, each MAC once in the guest, a minimum under the maximum.
-- (What needs the PF's driver and link, and the MACs of other guests: hostprep, at launch.)
local function check_identity(m, inventory, errors)
  local macs = {}
  local elements = P(m).elements
  for i = 1, #elements do
    local e = elements[i]
    local rec = P(e)
    local id = rec.kind == "device" and netid.of(e) -- m:devices(), without making the list
    local d = rec.hostdev
    if id and d then
      local why = netid.not_network_vf(inventory.root, d)
      if why then problem(errors, e, "%s", why) end
    end
    if id and id.mac then
      local first = macs[id.mac]
      if first then
        problem(errors, e, "mac %s is already taken by %s (%s); each device of a guest needs its own " ..
          "MAC (mac = \"auto\" gives each a stable one)", id.mac, topology.describe(first),
          P(first).where)
      end
      macs[id.mac] = first or e
    end
    if id and id.min_rate and id.max_rate and id.max_rate > 0 and id.min_rate > id.max_rate then
      problem(errors, e, "min_rate %d Mb/s is above max_rate %d Mb/s", id.min_rate, id.max_rate)
    end
  end
end

local function check_budget(m, profile, errors)
  local buses_used = P(m).buses_used
  if buses_used > profile.bus_limit then
    -- Parts placed by hand after a m:place() can overflow what the plan had left: name the plans.
    local plans = {}
    for _, p in ipairs(P(m).plans) do
      plans[#plans + 1] = string.format("m:place() at %s takes %d", p.where, p.needs.buses)
    end
    errors[#errors + 1] = { where = m.where, message = string.format(
      "machine needs %d buses, %s has %d%s%s: every root port, switch and downstream port takes " ..
      "one; QEMU would start it and the guest kernel would fail while scanning. Use fewer " ..
      "switch ports (ports = N), or several devices behind one port (port:functions{...}, or " ..
      "m:place(devices, {strategy = 'dense'}))",
      buses_used, m.type, profile.bus_limit,
      profile.bus_limit_why and (" (" .. profile.bus_limit_why .. ")") or "",
      #plans > 0 and (" (" .. table.concat(plans, ", ") .. ")") or "") }
  end
end

-- Each passthrough device and each root or downstream port (the kernel's pcieport driver, built
-- in, takes its vector first) uses at least one MSI; a VF has no INTx to fall back on, so a VF
-- left without a vector has no interrupt at all. VF drivers often want several vectors each.
local function check_msi(m, profile, errors)
  if not profile.msi_limit then return end
  local limit, why = profile.msi_limit(m)
  if not limit then return end
  local devices, ports = 0, 0
  for _, e in ipairs(P(m).elements) do
    local kind = P(e).kind
    if kind == "device" then devices = devices + 1
    elseif kind == "root-port" or kind == "downstream-port" then ports = ports + 1 end
  end
  if devices + ports > limit then
    errors[#errors + 1] = { where = m.where, message = string.format(
      "machine has %d devices and %d ports that take at least one MSI each (%d), and %s: a " ..
      "VF left without one has no interrupt at all (VFs have no INTx). Add options = " ..
      "{ \"gic-version=3\" } (GICv3's ITS has no such limit)", devices, ports, devices + ports,
      why) }
  end
end

-- All problems of a finalized machine, rule by rule, as { where=, element=, message= }.
function M.check(m, profile, inventory, errors)
  errors = errors or {}
  check_bus(P(m).root, profile, errors)
  check_chassis(m, errors)
  check_hosts(m, inventory, errors)
  check_identity(m, inventory, errors)
  check_budget(m, profile, errors)
  check_msi(m, profile, errors)
  return errors
end

-- One line per problem: "file:line: port 'dp33': chassis 1 slot 33 is already used by ...".
function M.format(errors)
  local lines = {}
  for _, err in ipairs(errors) do
    lines[#lines + 1] = err.where .. ": " ..
      (err.element and (topology.describe(err.element) .. ": ") or "") .. err.message
  end
  return table.concat(lines, "\n")
end

return M
