-- SPDX-License-Identifier: MIT
-- The planner behind m:place(devices, {strategy = ...}): lays out any number of devices the way
-- the machine allows, with the machine's own ports, ids, chassis/slot pairs and root slots, so that
-- planned and hand-placed parts share one space. A plan that cannot fit is refused at the place()
-- line, before anything is created, with the numbers and the strategies that would fit.
local machines = require "vflaunch.machines"
local topology = require "vflaunch.topology"
local util = require "vflaunch.util"

local M = {}

local P = topology.private

M.FUNCS_PER_SLOT = 8 -- root ports packed as the functions of one root-bus slot (docs/pcie.txt)
M.MAX_SWITCH_PORTS = 32 -- downstream ports on one switch's bus
M.MAX_PER_PORT = 8 -- functions 0-7 of device 0 behind a port; vfio hides ARI

local PLACE_OPTS = { strategy = true, ports_per_switch = true, per_port = true,
  spare_ports = true, net = true }
local STRATEGIES = { flat = true, switch = true, dense = true }
M.STRATEGIES = { "flat", "switch", "dense" }

local function ceil_div(a, b)
  return (a + b - 1) // b
end

-- What a strategy takes for n devices and `spare` empty ports: root ports, root slots, buses.
-- Every root port, upstream port and downstream port takes one bus; devices take none.
function M.needs(strategy, n, spare, ports_per_switch, per_port)
  local need = {}
  if strategy == "flat" then
    need.root_ports = n + spare
    need.buses = need.root_ports
  elseif strategy == "dense" then
    need.root_ports = ceil_div(n, per_port or M.MAX_PER_PORT) + spare
    need.buses = need.root_ports
  elseif strategy == "switch" then
    local down = n + spare
    need.switches = ceil_div(down, ports_per_switch or M.MAX_SWITCH_PORTS)
    need.root_ports = need.switches
    need.buses = need.switches * 2 + down -- root port + upstream port, then its ports
  else
    error("unknown strategy " .. tostring(strategy))
  end
  need.slots = ceil_div(need.root_ports, M.FUNCS_PER_SLOT)
  return need
end

-- What the machine already takes: root slots (of those it has) and buses (bus 0 included).
function M.in_use(m, profile)
  local usable = {}
  for _, s in ipairs(profile.root_slots) do usable[s] = true end
  local slots, groups, count = {}, {}, 0
  for _, e in ipairs(P(m).root.children) do
    local a, auto = e.addr, P(e).auto
    if a then
      if usable[a.slot] and not slots[a.slot] then slots[a.slot] = true; count = count + 1 end
    elseif auto and auto.group then
      if not groups[auto.group] then groups[auto.group] = true; count = count + 1 end
    else
      count = count + 1
    end
  end
  local buses = 1
  for _, e in ipairs(P(m).elements) do
    if P(e).below then buses = buses + 1 end
  end
  return count, buses
end

local function fits(need, free_slots, free_buses)
  return need.slots <= free_slots and need.buses <= free_buses
end

-- The most devices a strategy fits in what is free (need grows with n: a binary search).
function M.capacity(strategy, spare, free_slots, free_buses, ports_per_switch, per_port)
  local lo, hi = -1, free_buses * M.MAX_PER_PORT + M.MAX_PER_PORT
  while lo < hi do
    local mid = (lo + hi + 1) // 2
    if fits(M.needs(strategy, mid, spare, ports_per_switch, per_port), free_slots, free_buses) then
      lo = mid
    else
      hi = mid - 1
    end
  end
  return lo
end

local function plural(n, word)
  return string.format("%d %s%s", n, word, n == 1 and "" or "s")
end

-- The refusal: what the plan needs, what the machine has, and what would fit instead.
local function refuse(m, profile, n, o, need, used_slots, used_buses)
  local free_slots = #profile.root_slots - used_slots
  local free_buses = profile.bus_limit - used_buses
  local what = string.format("place: %s with strategy '%s'%s", plural(n, "device"), o.strategy,
    o.spare > 0 and (" and " .. plural(o.spare, "spare port")) or "")
  local lines = {}
  if need.slots > free_slots then
    local s = string.format("needs %d root slots for %s (8 per slot), %s has %d",
      used_slots + need.slots, plural(need.root_ports, "root port"), m.type,
      #profile.root_slots)
    local taken = {}
    for slot = 0, 0x1f do
      if profile.root_reserved[slot] then taken[#taken + 1] = profile.root_reserved[slot] end
    end
    s = s .. " (" .. table.concat(taken, "; ") .. ")"
    if used_slots > 0 then
      s = s .. string.format(" and %d of them are taken by parts placed before", used_slots)
    end
    lines[#lines + 1] = s
  end
  if need.buses > free_buses then
    lines[#lines + 1] = string.format("needs %d buses, %s has %d%s", used_buses + need.buses,
      m.type, profile.bus_limit, profile.bus_limit_why and (" (" .. profile.bus_limit_why .. ")")
      or "")
  end
  -- The ways out, largest first: other strategies, other parameters, fewer devices.
  local outs = {}
  for _, s in ipairs(M.STRATEGIES) do
    local pps = s == "switch" and M.MAX_SWITCH_PORTS or nil
    local cap = M.capacity(s, o.spare, free_slots, free_buses, pps, M.MAX_PER_PORT)
    if s ~= o.strategy and cap >= n then
      outs[#outs + 1] = string.format("use strategy '%s' (fits up to %d)", s, cap)
    elseif s == o.strategy and s == "switch" and o.ports_per_switch < M.MAX_SWITCH_PORTS
        and cap >= n then
      outs[#outs + 1] = string.format("use ports_per_switch = %d (fits up to %d)",
        M.MAX_SWITCH_PORTS, cap)
    elseif s == o.strategy and s == "dense" and o.per_port < M.MAX_PER_PORT and cap >= n then
      outs[#outs + 1] = string.format("use per_port = %d (fits up to %d)", M.MAX_PER_PORT, cap)
    end
  end
  if o.spare > 0 then
    local cap = M.capacity(o.strategy, 0, free_slots, free_buses, o.ports_per_switch, o.per_port)
    if cap >= n then
      outs[#outs + 1] = string.format("ask for fewer spare ports (with none, '%s' fits %d)",
        o.strategy, cap)
    end
  end
  local own = M.capacity(o.strategy, o.spare, free_slots, free_buses, o.ports_per_switch,
    o.per_port)
  outs[#outs + 1] = string.format("place at most %d devices this way", math.max(own, 0))
  if profile.family == "q35" and profile.root_reserved[0x01] then
    outs[#outs + 1] = "add '-nodefaults' to the machine's args to free root slots 01 and 02"
  end
  if profile.bus_limit < 256 and need.buses > free_buses then
    outs[#outs + 1] = "give the machine the high ECAM for 256 buses (no highmem=off or " ..
      "highmem-ecam=off, virt-3.0 or later)"
  end
  local best = 0
  for _, s in ipairs(M.STRATEGIES) do
    best = math.max(best, M.capacity(s, 0, #profile.root_slots, profile.bus_limit - 1,
      M.MAX_SWITCH_PORTS, M.MAX_PER_PORT))
  end
  if n > best then
    outs[#outs + 1] = string.format("split the devices across guests: one %s guest takes at " ..
      "most %d (%d root slots x 8 root ports x 8 functions, %d buses)", m.type, best,
      #profile.root_slots, profile.bus_limit)
  end
  util.usage(what .. " " .. table.concat(lines, "; ") .. ": " .. table.concat(outs, ", or "))
end

-- n root ports on pcie.0, packed 8 to a slot as functions 0-7 (function 0 multifunction=on);
-- finalize gives each pack the next free slot, after any slot a script chose by hand.
local function root_ports(m, n, out)
  local pack
  for i = 1, n do
    local func = (i - 1) % M.FUNCS_PER_SLOT
    if func == 0 then pack = {} end
    out[#out + 1] = topology.packed_root_port(m, func, pack)
  end
  return out
end

local function check_count(name, v, lo, hi, default)
  if v == nil then return default end
  if math.type(v) ~= "integer" or v < lo or v > hi then
    util.usage(string.format("place: %s must be an integer from %d to %d, not %s", name, lo, hi,
      tostring(v)))
  end
  return v
end

-- m:place(devices, opts): see doc/lua-api.md. Returns the plan: { devices, ports, spares,
-- root_ports, switches, strategy, needs }.
function M.place(m, devs, opts)
  opts = util.check_keys("place", opts, PLACE_OPTS)
  if type(devs) ~= "table" then
    util.usage("place: expected a list of devices (from vf.vfs/vf.find, or address strings), got "
      .. util.show(devs))
  end
  local n, why = util.list_length(devs, "devices")
  if not n then util.usage("place: " .. why) end
  -- A script whose vf.vfs{...} found nothing would otherwise plan a guest without a device.
  if n == 0 then
    util.usage("place: the list of devices is empty, so there is nothing to place; check what " ..
      "the filter that made it finds on this host ('vflaunch --list --vfs')")
  end
  for i = 1, n do
    local d = devs[i]
    if type(d) ~= "string" and not (type(d) == "table" and type(d.address) == "string") then
      util.usage(string.format("place: devices[%d] is a %s, not a host device or an address",
        i, type(d)))
    end
  end
  local strategy = opts.strategy
  if not STRATEGIES[strategy] then
    util.usage(string.format("place: strategy must be 'flat', 'switch' or 'dense', not %s",
      strategy == nil and "missing" or ("'" .. tostring(strategy) .. "'")))
  end
  if opts.ports_per_switch ~= nil and strategy ~= "switch" then
    util.usage("place: ports_per_switch is for strategy 'switch'")
  end
  if opts.per_port ~= nil and strategy ~= "dense" then
    util.usage("place: per_port is for strategy 'dense'")
  end
  local o = {
    strategy = strategy,
    ports_per_switch = check_count("ports_per_switch", opts.ports_per_switch, 1,
      M.MAX_SWITCH_PORTS, M.MAX_SWITCH_PORTS),
    per_port = check_count("per_port", opts.per_port, 1, M.MAX_PER_PORT, M.MAX_PER_PORT),
    spare = check_count("spare_ports", opts.spare_ports, 0, 8191, 0),
  }
  local need = M.needs(strategy, n, o.spare, o.ports_per_switch, o.per_port)

  -- The profile checks the machine's fields again first (the script may have changed them).
  local profile = machines.profile(m)
  local used_slots, used_buses = M.in_use(m, profile)
  if not fits(need, #profile.root_slots - used_slots, profile.bus_limit - used_buses) then
    refuse(m, profile, n, o, need, used_slots, used_buses)
  end

  local plan = { strategy = strategy, needs = need, devices = {}, ports = {}, spares = {},
    root_ports = {}, switches = {}, where = util.where() }
  -- net: the VF identity of each device, a table for all or function(dev, i) -> table or nil.
  local net = opts.net
  if net ~= nil and type(net) ~= "table" and type(net) ~= "function" then
    util.usage("place: net must be a table of VF identity keys (mac, vlan, ...) for every " ..
      "device, or a function(dev, i) returning one per device, not " .. util.show(net))
  end
  local function put(port, list)
    local out = topology.attach(port, list)
    plan.ports[#plan.ports + 1] = port
    for _, e in ipairs(out) do
      local i = #plan.devices + 1
      plan.devices[i] = e
      local values = net
      if type(net) == "function" then
        values = net(devs[i], i)
        if values ~= nil and type(values) ~= "table" then
          util.usage(string.format("place: net(dev, %d) returned %s; it returns a table of " ..
            "VF identity keys, or nil for none", i, util.show(values)))
        end
      end
      if values ~= nil then
        topology.set_identity(e, values, string.format("place: net of devices[%d]", i))
      end
    end
  end

  if strategy == "flat" or strategy == "dense" then
    local per = strategy == "flat" and 1 or o.per_port
    local ports = root_ports(m, need.root_ports, plan.root_ports)
    local i = 0
    for _, port in ipairs(ports) do
      if i < n then
        put(port, table.move(devs, i + 1, math.min(i + per, n), 1, {}))
        i = i + per
      else
        plan.spares[#plan.spares + 1] = port
      end
    end
  else
    local down = n + o.spare
    local rps = root_ports(m, need.switches, plan.root_ports)
    local i = 0
    for s, rp in ipairs(rps) do
      local size = math.min(o.ports_per_switch, down - (s - 1) * o.ports_per_switch)
      local sw = rp:switch { ports = size }
      plan.switches[s] = sw
      for _, port in ipairs(P(sw).ports) do
        i = i + 1
        if i <= n then put(port, { devs[i] }) else plan.spares[#plan.spares + 1] = port end
      end
    end
  end
  -- What the budget check names later; the plan itself is the script's to change.
  local plans = P(m).plans
  plans[#plans + 1] = { where = plan.where, needs = { buses = need.buses } }
  return plan
end

return M
