-- SPDX-License-Identifier: MIT
-- The guest's PCIe tree: a machine, its root bus, root ports, switches, devices and functions.
-- Scripts build it by hand (or through vflaunch.plan); finalize() assigns what was left out.
local util = require "vflaunch.util"

local M = {}

local Machine, Port, Switch = {}, {}, {}
Machine.__index, Port.__index, Switch.__index = Machine, Port, Switch

-- QEMU ids: a letter, then letters, digits, '-', '.', '_' (qemu util/id.c).
local function check_id(what, id)
  if id ~= nil and (type(id) ~= "string" or not id:match("^[A-Za-z][A-Za-z0-9_.%-]*$")) then
    util.usage(string.format("%s: id %q is not a QEMU id (a letter, then letters, digits, " ..
      "'-', '.', '_')", what, tostring(id)))
  end
  return id
end

-- "1f.7", "1f" (function 0), a number (a slot) or {slot=, func=}; nil stays nil (auto).
local function parse_addr(what, addr)
  if addr == nil then return nil end
  local slot, func
  if type(addr) == "number" then
    slot, func = addr, 0
  elseif type(addr) == "string" then
    local s, f = addr:match("^(%x%x?)%.([0-7])$")
    if not s then s, f = addr:match("^(%x%x?)$"), "0" end
    slot, func = s and tonumber(s, 16), tonumber(f)
  elseif type(addr) == "table" then
    slot, func = addr.slot, addr.func or 0
  end
  if math.type(slot) ~= "integer" or math.type(func) ~= "integer" or slot < 0 or slot > 0x1f
      or func < 0 or func > 7 then
    util.usage(string.format("%s: addr %s is not a slot.function (slots 00-1f, functions 0-7, " ..
      "as in \"03.0\")", what, tostring(addr)))
  end
  return { slot = slot, func = func }
end

local function check_int(what, name, v, lo, hi)
  if v ~= nil and (math.type(v) ~= "integer" or v < lo or v > hi) then
    util.usage(string.format("%s: %s must be an integer from %d to %d, not %s", what, name, lo,
      hi, tostring(v)))
  end
  return v
end

local function new_bus(machine, owner)
  return { machine = machine, owner = owner, children = {} }
end

-- Register element e (already holding kind, model, id, addr) on bus.
local function attach(bus, e)
  local m = bus.machine
  e.parent, e.machine, e.where = bus, m, e.where or util.where()
  bus.children[#bus.children + 1] = e
  m.elements[#m.elements + 1] = e
  return e
end

-- What a device argument names: an inventory device, or a host address as a string.
local function host_of(what, dev)
  if type(dev) == "string" then return dev, nil end
  if type(dev) == "table" and type(dev.address) == "string" then return dev.address, dev end
  util.usage(what .. ": expected a host device (from vflaunch.host) or a PCI address string, got "
    .. type(dev))
end

local DEVICE_OPTS = { id = true, addr = true, rombar = true }

local function add_device(what, bus, dev, opts, addr)
  opts = util.check_keys(what, opts, DEVICE_OPTS)
  local host, hostdev = host_of(what, dev)
  return attach(bus, {
    kind = "device", model = "vfio-pci", host = host, hostdev = hostdev,
    id = check_id(what, opts.id), addr = addr or parse_addr(what, opts.addr),
    rombar = check_int(what, "rombar", opts.rombar, 0, 1),
  })
end

local function add_functions(what, bus, devs, opts, slot)
  if type(devs) ~= "table" or #devs < 1 or #devs > 8 then
    util.usage(what .. ": expected a list of 1 to 8 devices (functions 0-7 of one slot)")
  end
  opts = util.check_keys(what, opts, { ids = true, slot = true })
  local out, group = {}, {} -- group: the functions share one slot, auto-assigned or not
  for i, dev in ipairs(devs) do
    out[i] = add_device(what, bus, dev, { id = opts.ids and opts.ids[i] },
      { slot = slot, func = i - 1, group = group })
  end
  return out
end

---------------------------------------------------------------------------------------------
-- Machine

local MACHINE_OPTS = { qemu = true, type = true, options = true, cpu = true, accel = true,
  memory = true, smp = true, kernel = true, initrd = true, append = true, args = true,
  name = true, bind_group = true }

-- options: a list of "key=value" strings or a map { ["gic-version"] = 3 }.
local function machine_options(t)
  if t == nil then return {} end
  if type(t) ~= "table" then util.usage("machine: options must be a table") end
  local out = {}
  for _, v in ipairs(t) do
    if type(v) ~= "string" then util.usage("machine: options[] must be \"key=value\" strings") end
    out[#out + 1] = v
  end
  local keys = {}
  for k in pairs(t) do
    if type(k) == "string" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  for _, k in ipairs(keys) do out[#out + 1] = k .. "=" .. tostring(t[k]) end
  return out
end

function M.machine(spec)
  spec = util.check_keys("machine", spec, MACHINE_OPTS)
  for _, k in ipairs { "qemu", "type", "cpu", "accel", "kernel", "initrd", "append", "name" } do
    if spec[k] ~= nil and type(spec[k]) ~= "string" then
      util.usage("machine: " .. k .. " must be a string")
    end
  end
  if spec.memory ~= nil and type(spec.memory) ~= "string" and math.type(spec.memory) ~= "integer" then
    util.usage("machine: memory must be a size such as \"8G\" or a number of MiB")
  end
  local args = {}
  for i, a in ipairs(spec.args or {}) do
    if type(a) ~= "string" then util.usage("machine: args[" .. i .. "] must be a string") end
    args[i] = a
  end
  local m = setmetatable({
    name = spec.name, qemu = spec.qemu, type = spec.type or "virt",
    options = machine_options(spec.options), cpu = spec.cpu, accel = spec.accel,
    memory = spec.memory, smp = check_int("machine", "smp", spec.smp, 1, 4096),
    kernel = spec.kernel, initrd = spec.initrd, append = spec.append, args = args,
    bind_group = spec.bind_group and true or false,
    where = util.where(), elements = {},
  }, Machine)
  m.root = new_bus(m, nil)
  return m
end

local ROOT_PORT_OPTS = { id = true, chassis = true, slot = true, addr = true, model = true,
  io_reserve = true, bus_reserve = true }
local ROOT_PORT_MODELS = { ["pcie-root-port"] = true, ioh3420 = true }

-- A root port on pcie.0. model: "pcie-root-port" (default) or "ioh3420".
function Machine:root_port(opts)
  opts = util.check_keys("root_port", opts, ROOT_PORT_OPTS)
  local model = opts.model or "pcie-root-port"
  if not ROOT_PORT_MODELS[model] then
    util.usage("root_port: model must be 'pcie-root-port' or 'ioh3420', not " .. tostring(model))
  end
  if model ~= "pcie-root-port" and (opts.io_reserve or opts.bus_reserve) then
    util.usage("root_port: io_reserve and bus_reserve are properties of pcie-root-port only")
  end
  local p = attach(self.root, setmetatable({
    kind = "root-port", model = model, id = check_id("root_port", opts.id),
    addr = parse_addr("root_port", opts.addr),
    chassis = check_int("root_port", "chassis", opts.chassis, 0, 255),
    slot = check_int("root_port", "slot", opts.slot, 0, 8191),
    -- VFs have no I/O BARs; a port that reserves 4 KiB of the 64 KiB I/O space anyway runs
    -- the space out after about ten ports (qemu docs/pcie.txt).
    io_reserve = model == "pcie-root-port" and (opts.io_reserve or 0) or nil,
    bus_reserve = check_int("root_port", "bus_reserve", opts.bus_reserve, 0, 255),
  }, Port))
  p.below = new_bus(self, p)
  return p
end

-- A passthrough device straight on pcie.0 (opts.addr, or the next free slot).
function Machine:add(dev, opts)
  return add_device("add", self.root, dev, opts)
end

-- Up to 8 passthrough devices as the functions of one slot on pcie.0.
function Machine:functions(devs, opts)
  local slot = opts and opts.slot and parse_addr("functions", opts.slot).slot
  return add_functions("functions", self.root, devs, opts, slot)
end

-- Place a list of devices with a strategy: "flat", "switch" or "dense" (lua/plan.lua).
function Machine:place(devs, opts)
  return require("vflaunch.plan").place(self, devs, opts)
end

-- Every passthrough device, in creation order.
function Machine:devices()
  local out = {}
  for _, e in ipairs(self.elements) do
    if e.kind == "device" then out[#out + 1] = e end
  end
  return out
end

---------------------------------------------------------------------------------------------
-- Ports (root ports and a switch's downstream ports)

-- The device behind this port, at 00.0 (the guest scans only device 0 behind a port).
-- opts.addr is accepted so that a misplaced device is reported, not silently moved.
function Port:add(dev, opts)
  local addr = not (opts and opts.addr) and { slot = 0, func = 0 } or nil
  return add_device("add", self.below, dev, opts, addr)
end

-- Up to 8 devices behind this port, as functions 0-7 of device 0.
function Port:functions(devs, opts)
  return add_functions("functions", self.below, devs, opts, 0)
end

-- True when nothing is attached behind this port yet.
function Port:is_free()
  return #self.below.children == 0
end

local SWITCH_OPTS = { id = true, ports = true, chassis = true, first_slot = true }

-- A switch behind this port: an x3130-upstream port and `ports` xio3130-downstream ports.
function Port:switch(opts)
  opts = util.check_keys("switch", opts, SWITCH_OPTS)
  local n = check_int("switch", "ports", opts.ports or 8, 1, 32)
  local m = self.machine
  local up = attach(self.below, {
    kind = "upstream-port", model = "x3130-upstream", id = check_id("switch", opts.id),
    addr = { slot = 0, func = 0 },
  })
  up.below = new_bus(m, up)
  local sw = setmetatable({ upstream = up, ports = {}, where = up.where }, Switch)
  up.switch = sw
  local chassis = check_int("switch", "chassis", opts.chassis, 0, 255)
  local first = check_int("switch", "first_slot", opts.first_slot, 0, 8191)
  for i = 1, n do
    local dp = attach(up.below, setmetatable({
      kind = "downstream-port", model = "xio3130-downstream", addr = { slot = i - 1, func = 0 },
      chassis = chassis, slot = first and first + i - 1, switch = sw, where = up.where,
    }, Port))
    dp.below = new_bus(m, dp)
    sw.ports[i] = dp
  end
  return sw
end

---------------------------------------------------------------------------------------------
-- Switches

function Switch:port(i)
  return self.ports[i]
end

-- The first downstream port with nothing behind it, or nil when the switch is full.
function Switch:free_port()
  for _, p in ipairs(self.ports) do
    if p:is_free() then return p end
  end
  return nil
end

function Switch:full()
  return self:free_port() == nil
end

---------------------------------------------------------------------------------------------
-- Finalize: assign ids, root-bus addresses, chassis/slot pairs, multifunction and guest bus
-- numbers. Problems go into errors as { where=, element=, message= }.

local PREFIX = { ["root-port"] = "rp", ["upstream-port"] = "up", ["downstream-port"] = "dp",
  device = "hostdev" }

local KIND_NAME = { ["root-port"] = "root port", ["upstream-port"] = "switch",
  ["downstream-port"] = "port", device = "device" }

function M.describe(e)
  return string.format("%s '%s'", KIND_NAME[e.kind], e.id or "?")
end

local function assign_ids(m, errors)
  local taken, counters = {}, {}
  for _, e in ipairs(m.elements) do
    if e.id then
      if e.id == "pcie.0" or taken[e.id] then
        errors[#errors + 1] = { where = e.where, element = e, message = string.format(
          "id '%s' is already used%s; give each element its own id, or none to have one assigned",
          e.id, taken[e.id] and (" by the " .. KIND_NAME[taken[e.id].kind] .. " created at " ..
          taken[e.id].where) or " by the root bus") }
      end
      taken[e.id] = e
    end
  end
  for _, e in ipairs(m.elements) do
    if not e.id then
      local prefix = PREFIX[e.kind]
      local n = counters[prefix] or 0
      repeat n = n + 1 until not taken[prefix .. n]
      counters[prefix] = n
      e.id = prefix .. n
      taken[e.id] = e
    end
  end
end

local function assign_root_addrs(m, profile, errors)
  local used = {}
  for _, e in ipairs(m.root.children) do
    if e.addr and e.addr.slot then used[e.addr.slot] = true end
  end
  local group_slot, free = {}, 1
  for _, e in ipairs(m.root.children) do
    if not (e.addr and e.addr.slot) then
      local func, group = e.addr and e.addr.func or 0, e.addr and e.addr.group
      local slot = group and group_slot[group]
      if not slot then
        while profile.root_slots[free] and used[profile.root_slots[free]] do free = free + 1 end
        slot = profile.root_slots[free]
        if slot then used[slot] = true end
        if group then group_slot[group] = slot end
      end
      if slot then
        e.addr = { slot = slot, func = func }
      else
        e.addr = nil
        errors[#errors + 1] = { where = e.where, element = e, message = string.format(
          "pcie.0 is full: %s has %d slots for devices and root ports (%s); put devices " ..
          "behind root ports (m:root_port():add(dev)), pack up to 8 root ports in one slot " ..
          "(addr = \"01.1\" ...), or put switches behind root ports (port:switch{ports = 32})",
          m.type, #profile.root_slots, profile.root_reserved[0]) }
      end
    end
  end
end

-- (chassis, slot) pairs must be unique across the machine (QEMU: "Can't add chassis slot").
local function assign_chassis(m)
  local used = {}
  for _, e in ipairs(m.elements) do
    if e.chassis and e.slot then used[e.chassis .. "/" .. e.slot] = true end
  end
  local next_slot = {}
  for _, e in ipairs(m.elements) do
    if e.kind == "root-port" or e.kind == "downstream-port" then
      if not (e.chassis and e.slot) then
        local c = e.chassis or 1
        local s = e.slot or next_slot[c] or 1
        while used[c .. "/" .. s] do s = s + 1 end
        e.chassis, e.slot = c, s
        used[c .. "/" .. s] = true
        next_slot[c] = s + 1
      end
    end
  end
end

local function sorted_children(bus)
  local list = {}
  for _, e in ipairs(bus.children) do
    if e.addr then list[#list + 1] = e end
  end
  table.sort(list, function(a, b)
    if a.addr.slot ~= b.addr.slot then return a.addr.slot < b.addr.slot end
    return a.addr.func < b.addr.func
  end)
  return list
end

-- Linux and firmware number buses depth first, in devfn order, from 0 at the root.
local function number_buses(bus, n)
  bus.children_sorted = sorted_children(bus)
  for _, e in ipairs(bus.children_sorted) do
    if e.below then
      n = n + 1
      e.below.number = n
      n = number_buses(e.below, n)
      e.below.subordinate = n
    end
  end
  return n
end

-- Function 0 of a slot in use by other functions carries multifunction=on.
local function mark_multifunction(bus)
  local slots = {}
  for _, e in ipairs(bus.children) do
    if e.addr then
      slots[e.addr.slot] = slots[e.addr.slot] or {}
      slots[e.addr.slot][e.addr.func] = slots[e.addr.slot][e.addr.func] or e
    end
  end
  for _, funcs in pairs(slots) do
    local others = false
    for f in pairs(funcs) do others = others or f ~= 0 end
    if funcs[0] and others then funcs[0].multifunction = true end
  end
  for _, e in ipairs(bus.children) do
    if e.below then mark_multifunction(e.below) end
  end
end

function M.finalize(m, profile)
  local errors = {}
  assign_ids(m, errors)
  assign_root_addrs(m, profile, errors)
  assign_chassis(m)
  mark_multifunction(m.root)
  m.root.number = 0
  m.buses_used = number_buses(m.root, 0) + 1
  m.profile = profile
  return errors
end

-- The QEMU bus name of a bus: pcie.0, or the id of the port above it.
function M.bus_name(bus)
  return bus.owner and bus.owner.id or "pcie.0"
end

return M
