-- SPDX-License-Identifier: MIT
-- The guest's PCIe tree: a machine, its root bus, root ports, switches, devices and functions.
-- Scripts build it by hand (or through vflaunch.plan); finalize() assigns what was left out.
--
-- What a script may set on an object is a plain field, checked when the object is made and again
-- at finalize, by one checker per field. The tree's structure (buses, parents, the element list)
-- lives in private records that scripts cannot reach: a broken link would crash finalize or
-- render. render, validate and plan reach them through M.private().
local machines = require "vflaunch.machines"
local netid = require "vflaunch.netid"
local util = require "vflaunch.util"

local M = {}

-- object -> its private record. Weak keys: a record lives as long as its object.
local private = setmetatable({}, { __mode = "k" })

-- The key under which an object's own __index hands out its record. Only this module holds it,
-- and it works through __index chains: rehearsal renders a table whose __index is the machine.
local RECORD = setmetatable({}, { __name = "vflaunch private record" })

-- The private record of a machine, element or switch (or of a table inheriting from one), or nil.
-- The record of an object itself first: validate and render ask for thousands, and only a table
-- is a key of private.
function M.private(x)
  return private[x] or type(x) == "table" and x[RECORD] or nil
end

local function copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = x end
  return out
end

-- A bus as scripts see it: read-only, its number (after finalize), its owner and its name.
local function bus_view(bus)
  if not bus then return nil end
  bus.view = bus.view or setmetatable({}, {
    __index = function(_, k)
      if k == "number" or k == "subordinate" or k == "owner" then return bus[k] end
      if k == "name" then return M.bus_name(bus) end
      return nil
    end,
    __newindex = function(_, k)
      util.usage(string.format("a bus is part of the tree vflaunch keeps: %s cannot be set",
        util.show(k)))
    end,
  })
  return bus.view
end

-- An object kind: its methods, read-only views of its record, and the fields a script may set
-- (fields(record) -> a set). Anything else written to an object is refused at the script's line:
-- a typo would otherwise be a silent no-op, and a structural name would break the tree.
local function class(what, methods, views, fields)
  local mt = {}
  mt.__index = function(t, k)
    if k == RECORD then return private[t] end
    local f = methods[k]
    if f ~= nil then return f end
    local view = views[k]
    if view then return view(private[t]) end
    return nil
  end
  mt.__newindex = function(t, k, v)
    local rec = private[t]
    local name = what(t, rec)
    if methods[k] then
      util.usage(string.format("%s: %s is a method; it cannot be set", name, util.show(k)))
    elseif views[k] then
      util.usage(string.format("%s: %s is part of the tree vflaunch keeps; it cannot be set",
        name, k))
    end
    local known = fields(rec)
    if not known[k] then
      local names = {}
      for n in pairs(known) do names[#names + 1] = n end
      table.sort(names)
      util.usage(string.format("%s: no field %s to set%s", name, util.show(k),
        #names > 0 and (" (the fields are " .. table.concat(names, ", ") .. ")") or ""))
    end
    rawset(t, k, v)
  end
  return mt
end

-- The record of self, which must be an object of metatable mt. A method called with '.' instead
-- of ':' gets its first argument (or nil) as self: say how to call it.
local function own(self, mt, example)
  local rec = type(self) == "table" and rawequal(getmetatable(self), mt) and private[self]
  if not rec then
    util.usage(string.format("%s is a method: call it with ':', as in %s", example:match(
      ":([%w_]+)"), example))
  end
  return rec
end

local KIND_NAME = { ["root-port"] = "root port", ["upstream-port"] = "switch",
  ["downstream-port"] = "port", device = "device" }

-- "root port 'rp1'", for messages. For scripts too (vf.describe).
function M.describe(e)
  local rec = M.private(e)
  if not (rec and rec.kind) then
    util.usage("describe: expected an element of the machine (what m:add, m:root_port, " ..
      "port:switch ... return), not " .. util.show(e))
  end
  local id = rawget(e, "id")
  return string.format("%s '%s'", KIND_NAME[rec.kind], type(id) == "string" and id or "?")
end

---------------------------------------------------------------------------------------------
-- Element fields: one checker each, used at creation and again at finalize. A checker takes the
-- value and the element's record and returns true and the value to keep, or false and why.

-- QEMU ids: a letter, then letters, digits, '-', '.', '_' (qemu util/id.c).
local function check_id(v)
  if v == nil or (type(v) == "string" and v:match("^[A-Za-z][A-Za-z0-9_.%-]*$")) then
    return true, v
  end
  return false, string.format("id %s is not a QEMU id (a letter, then letters, digits, " ..
    "'-', '.', '_')", util.show(v))
end

-- "1f.7", "1f" (function 0), an integer (a slot) or {slot=, func=}. nil is assigned at finalize
-- on pcie.0; behind a port or a switch's upstream port an element always has its address.
local function check_addr(v, rec)
  if v == nil and rec.parent.owner then
    return false, "addr cannot be left out behind a port or in a switch (behind a port, " ..
      "devices are at 00.0-00.7)"
  end
  if v == nil then return true, nil end
  local t, slot, func = type(v), nil, nil
  if t == "number" then
    if math.type(v) == "integer" then slot, func = v, 0 end
  elseif t == "string" then
    local s, f = v:match("^(%x%x?)%.([0-7])$")
    if not s then s, f = v:match("^(%x%x?)$"), "0" end
    slot, func = s and tonumber(s, 16), tonumber(f)
  elseif t == "table" and not getmetatable(v) then
    slot, func = v.slot, v.func == nil and 0 or v.func
    for k in next, v do
      if k ~= "slot" and k ~= "func" then slot = nil end
    end
  end
  if math.type(slot) ~= "integer" or math.type(func) ~= "integer" or slot < 0 or slot > 0x1f
      or func < 0 or func > 7 then
    return false, string.format("addr %s is not a slot.function (slots 00-1f, functions 0-7, " ..
      "as in \"03.0\" or {slot = 3, func = 0})", util.show(v))
  end
  return true, { slot = slot, func = func }
end

local function int_field(name, lo, hi)
  return function(v)
    if v == nil or (math.type(v) == "integer" and v >= lo and v <= hi) then return true, v end
    return false, string.format("%s must be an integer from %d to %d, not %s", name, lo, hi,
      util.show(v))
  end
end

-- The host device: an inventory device or a PCI address string (validate checks the address).
local function check_host(v)
  if type(v) == "table" and type(v.address) == "string" then v = v.address end
  if type(v) ~= "string" then
    return false, "expected a host device (from vf.find or vf.vfs) or a PCI address string, not "
      .. util.show(v)
  end
  local why = util.argv_problem(v)
  if why then return false, "host address " .. why end
  return true, v
end

-- Properties of pcie-root-port alone (ioh3420 and the switch ports have none).
local function root_port_only(name, check)
  return function(v, rec)
    if v ~= nil and rec.model ~= "pcie-root-port" then
      return false, name .. " is a property of pcie-root-port only, not of " .. rec.model
    end
    return check(v)
  end
end

-- io-reserve: a size as QEMU reads it, rendered as given.
local function check_io_reserve(v)
  if v == nil or (math.type(v) == "integer" and v >= 0) then return true, v end
  local _, why
  if type(v) == "string" then
    _, why = machines.parse_size(v, 0)
    if not why then return true, v end
  end
  return false, string.format("io_reserve %s is not a size QEMU reads: a non-negative integer " ..
    "(bytes) or a string such as \"4K\"%s", util.show(v), why and ("; " .. why) or "")
end

-- sees_nil: a checker that must see a field left out (addr behind a port, host always); every
-- other checker accepts nil whatever the element, so new_element skips it for a field left out.
local ADDR = { "addr", check_addr, sees_nil = true }
local FIELDS = {
  device = { { "id", check_id }, ADDR, { "host", check_host, sees_nil = true },
    { "rombar", int_field("rombar", 0, 1) } }, -- and VF identity's, below
  ["root-port"] = { { "id", check_id }, ADDR,
    { "chassis", int_field("chassis", 0, 255) }, { "slot", int_field("slot", 0, 8191) },
    { "io_reserve", root_port_only("io_reserve", check_io_reserve) },
    { "bus_reserve", root_port_only("bus_reserve", int_field("bus_reserve", 0, 255)) } },
  ["upstream-port"] = { { "id", check_id }, ADDR },
  ["downstream-port"] = { { "id", check_id }, ADDR,
    { "chassis", int_field("chassis", 0, 255) }, { "slot", int_field("slot", 0, 8191) } },
}

for _, f in ipairs(netid.FIELDS) do table.insert(FIELDS.device, f) end

local FIELD_SET = {}
for kind, list in pairs(FIELDS) do
  FIELD_SET[kind] = {}
  for _, f in ipairs(list) do FIELD_SET[kind][f[1]] = true end
end

local MACHINE_FIELD_SET = {}
for _, f in ipairs(machines.FIELDS) do MACHINE_FIELD_SET[f.name] = true end

---------------------------------------------------------------------------------------------
-- Classes

local Machine, Port, Device, Upstream, Switch = {}, {}, {}, {}, {}

local ELEMENT_VIEWS = {
  kind = function(r) return r.kind end,
  model = function(r) return r.model end,
  where = function(r) return r.where end,
  multifunction = function(r) return r.multifunction end,
  hostdev = function(r) return r.hostdev end,
  parent = function(r) return bus_view(r.parent) end,
  below = function(r) return bus_view(r.below) end,
  machine = function(r) return r.machine end,
}

local function element_name(e) return M.describe(e) end
local function element_fields(rec) return FIELD_SET[rec.kind] end

local MachineMT = class(function() return "machine" end, Machine, {
  where = function(r) return r.where end,
  root = function(r) return bus_view(r.root) end,
  buses_used = function(r) return r.buses_used end,
  profile = function(r) return r.profile end,
  elements = function() return nil end,
  plans = function() return nil end,
}, function() return MACHINE_FIELD_SET end)
local PortMT = class(element_name, Port, ELEMENT_VIEWS, element_fields)
local DeviceMT = class(element_name, Device, ELEMENT_VIEWS, element_fields)
local UpstreamMT = class(element_name, Upstream, ELEMENT_VIEWS, element_fields)
local SwitchMT = class(function() return "switch" end, Switch, {
  upstream = function(r) return r.upstream end,
  ports = function(r) return copy(r.ports) end, -- a copy: the switch's own list stays whole
  where = function(r) return r.where end,
}, function() return {} end)

-- The method tables of each kind, by the class names of the editor annotations
-- (dist/types/vflaunch.lua), whose test checks that every method there is annotated.
M.METHODS = { Machine = Machine, Port = Port, Switch = Switch, Element = Device,
  Upstream = Upstream }

local function new_bus(machine, owner)
  return { machine = machine, owner = owner, children = {} }
end

-- An element's table and the table of its checked values, sized for the fields of its kind
-- that are usually set (id at finalize): Lua 5.4 has no table.create, but a constructor sizes a
-- table for the fields it names, nil ones included, so that the fields set next do not grow it
-- one by one (a rehash each, for thousands of elements).
local BLANK = {
  device = function() return { host = nil, addr = nil, id = nil }, { host = nil, addr = nil } end,
  ["root-port"] = function()
    return { addr = nil, id = nil, chassis = nil, slot = nil, io_reserve = nil },
      { addr = nil, io_reserve = nil }
  end,
  ["upstream-port"] = function() return { addr = nil, id = nil }, { addr = nil } end,
  ["downstream-port"] = function()
    return { addr = nil, id = nil, chassis = nil, slot = nil }, { addr = nil }
  end,
}

-- An addr as its checked value: its devfn (slot * 8 + func), which a script cannot change
-- inside, as it can the element's table.
local function devfn(a) return a.slot * 8 + a.func end

local NO_OPTS = {} -- the options of an element given none (only read)

-- The fields whose checkers run for an element made with NO_OPTS: addr and host, given apart
-- from the options, and those that must see nil. Every other is nil, which its checker accepts.
local BARE_FIELDS = {}
for kind, list in pairs(FIELDS) do
  BARE_FIELDS[kind] = {}
  for _, f in ipairs(list) do
    if f[1] == "addr" or f[1] == "host" or f.sees_nil then table.insert(BARE_FIELDS[kind], f) end
  end
end

-- A new element of kind on bus, each field through its checker; errors name `call`. The
-- fields' values: addr and a device's host as given, the others from the table values (the
-- script's options, or NO_OPTS). own_addr: addr is a table made here, a valid address as it is
-- (behind a port, in a switch), which the element keeps without a check. where: the script's
-- line, found once by the method the script called (one stack walk for a switch's 33
-- elements, and none of the frames between it and here).
local function new_element(call, bus, kind, model, values, mt, where, addr, host, own_addr)
  local e, checked = BLANK[kind]()
  local rec = { kind = kind, model = model, where = where, machine = bus.machine, parent = bus,
    checked = checked }
  local fields = values == NO_OPTS and BARE_FIELDS[kind] or FIELDS[kind]
  for i = 1, #fields do
    local f = fields[i]
    local name = f[1]
    local v
    if name == "addr" then v = addr elseif name == "host" then v = host else v = values[name] end
    if own_addr and name == "addr" then
      e.addr, checked.addr = v, devfn(v)
    elseif v ~= nil or f.sees_nil then
      local ok
      ok, v = f[2](v, rec)
      if not ok then util.usage(call .. ": " .. v) end
      if v ~= nil then
        e[name] = v -- e has no metatable yet: a plain field
        checked[name] = name == "addr" and devfn(v) or v
      end
    end
  end
  setmetatable(e, mt)
  private[e] = rec
  local children, elements = bus.children, private[bus.machine].elements
  children[#children + 1] = e
  elements[#elements + 1] = e
  return e, rec
end

---------------------------------------------------------------------------------------------
-- Devices

local DEVICE_OPTS = { id = true, addr = true, rombar = true }
for k in pairs(netid.KEY_SET) do DEVICE_OPTS[k] = true end

-- opts: the device's options (id, rombar, VF identity) or NO_OPTS. addr: the address made for
-- it (own_addr), or nil for opts.addr.
local function add_device(call, bus, dev, opts, addr, where)
  local e, rec = new_element(call, bus, "device", "vfio-pci", opts, DeviceMT, where,
    addr or opts.addr, dev, addr ~= nil)
  if type(dev) == "table" then rec.hostdev = dev end
  return e, rec
end

-- The options of function i of n in functions{...}: a VF identity key's value is one value
-- for every function, or a list of one per function (mac = {"52:54:00:..", ...}). net:
-- whether opts has a VF identity key at all (most calls have none).
local function function_opts(call, opts, i, n, net)
  if not net then return opts.ids == nil and NO_OPTS or { id = opts.ids[i] } end
  local out = { id = opts.ids and opts.ids[i] }
  for k in pairs(netid.KEY_SET) do
    local v = opts[k]
    if type(v) == "table" then
      local count, bad = util.list_length(v, k)
      if not count then util.usage(call .. ": " .. bad) end
      if count ~= n then
        util.usage(string.format("%s: %s lists %d values for %d devices; give one value " ..
          "for all, or one per device", call, k, count, n))
      end
      v = v[i]
    end
    out[k] = v
  end
  return out
end

local FUNCTIONS_OPTS = { ids = true, slot = true }
for k in pairs(netid.KEY_SET) do FUNCTIONS_OPTS[k] = true end
local FUNCTIONS_OPTS_PORT = copy(FUNCTIONS_OPTS)
FUNCTIONS_OPTS_PORT.slot = nil

-- Up to 8 devices as the functions of one slot: behind a port always device 0; on pcie.0 the
-- slot given, or one assigned at finalize to all of them together.
local function add_functions(call, bus, devs, opts, behind_port, where)
  if behind_port and type(opts) == "table" and opts.slot ~= nil then
    util.usage(call .. ": behind a port the functions are always those of device 0 " ..
      "(00.0-00.7); leave slot out")
  end
  opts = util.check_keys(call, opts, behind_port and FUNCTIONS_OPTS_PORT or FUNCTIONS_OPTS)
  local n, why = util.list_length(devs, "devices")
  if not n then util.usage(call .. ": " .. why) end
  if n < 1 or n > 8 then
    util.usage(string.format("%s: expected a list of 1 to 8 devices (functions 0-7 of one " ..
      "slot), got %d", call, n))
  end
  local ids = opts.ids
  if ids ~= nil then
    local count, bad = util.list_length(ids, "ids")
    if not count then util.usage(call .. ": " .. bad) end
    if count > n then
      util.usage(string.format("%s: %d ids for %d devices; give at most one id per device",
        call, count, n))
    end
  end
  local slot = opts.slot
  if slot ~= nil then
    local s = math.type(slot) == "integer" and slot or
      (type(slot) == "string" and slot:match("^%x%x?$") and tonumber(slot, 16))
    if not s or s < 0 or s > 0x1f then
      util.usage(string.format("%s: slot %s is not a slot of pcie.0 (00-1f, as in 3 or \"03\"); " ..
        "the devices become its functions .0, .1, ... in order", call, util.show(slot)))
    end
    slot = s
  end
  local net = false
  for k in pairs(netid.KEY_SET) do net = net or opts[k] ~= nil end
  local out, group = {}, {} -- group: the functions share one slot, assigned or not
  for i = 1, n do
    local addr = (behind_port or slot) and { slot = behind_port and 0 or slot, func = i - 1 }
    local e, rec = add_device(call, bus, devs[i], function_opts(call, opts, i, n, net), addr,
      where)
    if not addr then rec.auto = { func = i - 1, group = group } end
    out[i] = e
  end
  return out
end

---------------------------------------------------------------------------------------------
-- Machine

function M.machine(spec)
  spec = util.check_keys("machine", spec, MACHINE_FIELD_SET)
  local m = setmetatable({}, MachineMT)
  local rec = { where = util.where(), elements = {}, plans = {} }
  private[m] = rec
  for _, f in ipairs(machines.FIELDS) do
    local ok, v = f.check(spec[f.name])
    if not ok then util.usage("machine " .. v) end
    rawset(m, f.name, v)
  end
  rec.root = new_bus(m, nil)
  return m
end

local ROOT_PORT_OPTS = { id = true, chassis = true, slot = true, addr = true, model = true,
  io_reserve = true, bus_reserve = true }
local ROOT_PORT_MODELS = { ["pcie-root-port"] = true, ioh3420 = true }

-- A root port on pcie.0. model: "pcie-root-port" (default) or "ioh3420".
function Machine:root_port(opts)
  local mrec = own(self, MachineMT, "m:root_port{...}")
  opts = util.check_keys("root_port", opts, ROOT_PORT_OPTS)
  local model = opts.model == nil and "pcie-root-port" or opts.model
  if not ROOT_PORT_MODELS[model] then
    util.usage("root_port: model must be 'pcie-root-port' or 'ioh3420', not " ..
      util.show(model))
  end
  -- VFs have no I/O BARs; a port that reserves 4 KiB of the 64 KiB I/O space anyway runs the
  -- space out after about ten ports (qemu docs/pcie.txt).
  local io_reserve = opts.io_reserve
  if io_reserve == nil and model == "pcie-root-port" then io_reserve = 0 end
  local p, rec = new_element("root_port", mrec.root, "root-port", model, {
    id = opts.id, chassis = opts.chassis, slot = opts.slot, io_reserve = io_reserve,
    bus_reserve = opts.bus_reserve }, PortMT, util.where(3), opts.addr)
  rec.below = new_bus(self, p)
  return p
end

-- A passthrough device straight on pcie.0 (opts.addr, or the next free slot).
function Machine:add(dev, opts)
  local mrec = own(self, MachineMT, "m:add(dev, {...})")
  return (add_device("add", mrec.root, dev, util.check_keys("add", opts, DEVICE_OPTS), nil,
    util.where(3)))
end

-- Up to 8 passthrough devices as the functions of one slot on pcie.0.
function Machine:functions(devs, opts)
  local mrec = own(self, MachineMT, "m:functions({dev, ...}, {...})")
  return add_functions("functions", mrec.root, devs, opts, false, util.where(3))
end

-- Place a list of devices with a strategy: "flat", "switch" or "dense" (lua/plan.lua).
function Machine:place(devs, opts)
  own(self, MachineMT, "m:place(devices, {strategy = ...})")
  return util.at(util.where(), require("vflaunch.plan").place, self, devs, opts)
end

-- Every passthrough device, in creation order.
function Machine:devices()
  local mrec = own(self, MachineMT, "m:devices()")
  local out, elements = {}, mrec.elements
  for i = 1, #elements do
    local e = elements[i]
    if private[e].kind == "device" then out[#out + 1] = e end
  end
  return out
end

---------------------------------------------------------------------------------------------
-- Ports (root ports and a switch's downstream ports)

-- The device behind this port, at 00.0 (the guest scans only device 0 behind a port).
-- opts.addr is accepted so that a misplaced device is reported, not silently moved.
function Port:add(dev, opts)
  local rec = own(self, PortMT, "port:add(dev, {...})")
  opts = opts == nil and NO_OPTS or util.check_keys("add", opts, DEVICE_OPTS)
  local addr = opts.addr == nil and { slot = 0, func = 0 } or nil
  return (add_device("add", rec.below, dev, opts, addr, util.where(3)))
end

-- Up to 8 devices behind this port, as functions 0-7 of device 0.
function Port:functions(devs, opts)
  local rec = own(self, PortMT, "port:functions({dev, ...}, {...})")
  return add_functions("functions", rec.below, devs, opts, true, util.where(3))
end

-- True when nothing is attached behind this port yet.
function Port:is_free()
  local rec = own(self, PortMT, "port:is_free()")
  return #rec.below.children == 0
end

local SWITCH_OPTS = { id = true, ports = true, chassis = true, first_slot = true }

-- A switch behind this port (a root port, or a downstream port of another switch): an
-- x3130-upstream port and `ports` xio3130-downstream ports.
function Port:switch(opts)
  local rec = own(self, PortMT, "port:switch{...}")
  opts = util.check_keys("switch", opts, SWITCH_OPTS)
  local function check(ok, v) if not ok then util.usage("switch: " .. v) end return v end
  local n = check(int_field("ports", 1, 32)(opts.ports == nil and 8 or opts.ports))
  local chassis = check(int_field("chassis", 0, 255)(opts.chassis))
  local first = check(int_field("first_slot", 0, 8191)(opts.first_slot))
  if first and first + n - 1 > 8191 then
    util.usage(string.format("switch: first_slot %d with %d ports gives the last port slot %d, " ..
      "and slots go up to 8191; use first_slot %d or lower", first, n, first + n - 1, 8192 - n))
  end
  local m, where = rec.machine, util.where(3)
  local up, uprec = new_element("switch", rec.below, "upstream-port", "x3130-upstream",
    { id = opts.id }, UpstreamMT, where, { slot = 0, func = 0 }, nil, true)
  uprec.below = new_bus(m, up)
  local sw = setmetatable({}, SwitchMT)
  local swrec = { upstream = up, ports = {}, where = uprec.where }
  private[sw] = swrec
  uprec.switch = sw
  for i = 1, n do
    local dp, dprec = new_element("switch", uprec.below, "downstream-port", "xio3130-downstream",
      { chassis = chassis, slot = first and first + i - 1 }, PortMT, where,
      { slot = i - 1, func = 0 }, nil, true)
    dprec.below = new_bus(m, dp)
    dprec.switch = sw
    swrec.ports[i] = dp
  end
  return sw
end

---------------------------------------------------------------------------------------------
-- Switches

function Switch:port(i)
  local rec = own(self, SwitchMT, "sw:port(i)")
  return rec.ports[i]
end

-- The first downstream port with nothing behind it, or nil when the switch is full. Nothing
-- attached is ever taken away, so the search starts where the last one ended (rec.free): a
-- script filling a switch port by port asks this once or twice per port.
function Switch:free_port()
  local rec = own(self, SwitchMT, "sw:free_port()")
  local ports = rec.ports
  for i = rec.free or 1, #ports do
    local p = ports[i]
    if #private[p].below.children == 0 then
      rec.free = i
      return p
    end
  end
  rec.free = #ports + 1
  return nil
end

function Switch:full()
  own(self, SwitchMT, "sw:full()")
  return self:free_port() == nil
end

---------------------------------------------------------------------------------------------
-- For the planner: a root port whose root-bus slot finalize assigns, shared by its group.

-- For the planner: VF identity values of a device it made (m:place's net option), checked as
-- they would be at creation; errors name `call`.
function M.set_identity(e, values, call)
  local rec = private[e]
  values = util.check_keys(call, values, netid.KEY_SET)
  for _, f in ipairs(netid.FIELDS) do
    local ok, v = f[2](values[f[1]], rec)
    if not ok then util.usage(call .. ": " .. v) end
    rawset(e, f[1], v)
    rec.checked[f[1]] = v
  end
end

-- For the planner: a root port as m:root_port() makes it, function func of the root-bus slot
-- that finalize assigns to its group (the ports packed into one slot).
local PACKED_ROOT_PORT = { io_reserve = 0 } -- m:root_port()'s values (only read)

function M.packed_root_port(m, func, group)
  local p, rec = new_element("root_port", private[m].root, "root-port", "pcie-root-port",
    PACKED_ROOT_PORT, PortMT, util.where())
  rec.below = new_bus(m, p)
  rec.auto = { func = func, group = group }
  return p
end

-- For the planner: the devices of list behind port p, as port:add(list[1]) makes one and
-- port:functions(list) up to 8 (the planner's lists: checked, and without options).
function M.attach(p, list)
  local bus, where, out = private[p].below, util.where(), {}
  local call = #list == 1 and "add" or "functions"
  for i = 1, #list do
    out[i] = add_device(call, bus, list[i], NO_OPTS, { slot = 0, func = i - 1 }, where)
  end
  return out
end

---------------------------------------------------------------------------------------------
-- Finalize: check every field again, then assign ids, root-bus addresses, chassis/slot pairs,
-- multifunction and guest bus numbers. Problems go into errors as { where=, element=, message= }.

-- A field a script changed after creation to something invalid is reported at the line that
-- made the element, and the value checked then is put back, so that what follows still works.
-- A checker is a function of the value and of what the record fixes at creation (kind, model,
-- parent), and what it returns it accepts again as it is: a field still nil, or still the
-- string kept at its check, passes again without a second check (most fields of most elements
-- are nil). Anything else is checked again: a table (addr) can have changed inside, and a
-- number compares equal to the float of itself, which no integer field takes.
local function recheck_element(e, rec, errors)
  local checked = rec.checked
  for _, f in ipairs(FIELDS[rec.kind]) do
    local name = f[1]
    local v = rawget(e, name)
    local ok = v == nil and checked[name] == nil or type(v) == "string" and v == checked[name]
    if not ok then ok, v = f[2](v, rec) end
    if ok then
      rawset(e, name, v)
    else
      local c = checked[name]
      if name == "addr" and c then c = { slot = c // 8, func = c % 8 } end
      rawset(e, name, c)
      errors[#errors + 1] = { where = rec.where, element = e, message = string.format(
        "%s was changed after creation: %s", name, v) }
    end
  end
end

-- Whether every field of e is still what its check kept (the same value, of the same number
-- type; an addr as check_addr keeps it: a plain table of exactly slot and func, integers, of
-- the same devfn) and none was added or removed. Then
-- recheck_element would accept each as it is, and is skipped: for the thousands of elements of
-- a plan, a dozen fields each, almost all nil. A field it cannot vouch for sends the element
-- through recheck_element, which finds and reports it as before.
local function unchanged(e, rec)
  local checked, known, n = rec.checked, FIELD_SET[rec.kind], 0
  for k, v in next, e do
    local c = checked[k]
    if c ~= nil then
      if k == "addr" then
        if type(v) ~= "table" or getmetatable(v) or math.type(v.slot) ~= "integer" or
            math.type(v.func) ~= "integer" or v.slot ~= c // 8 or v.func ~= c % 8 then
          return false
        end
        for a in next, v do
          if a ~= "slot" and a ~= "func" then return false end
        end
      elseif v ~= c or math.type(c) and math.type(v) ~= math.type(c) then
        return false -- (a table is not equal to any value kept but an addr's, a number)
      end
      n = n + 1
    elseif known[k] then
      return false -- set after creation
    end
  end
  for _ in next, checked do n = n - 1 end
  return n == 0 -- else a field kept at creation was removed
end

local function recheck(m, errors)
  local elements = private[m].elements
  for i = 1, #elements do
    local e = elements[i]
    local rec = private[e]
    if not unchanged(e, rec) then recheck_element(e, rec, errors) end
  end
end

local PREFIX = { ["root-port"] = "rp", ["upstream-port"] = "up", ["downstream-port"] = "dp",
  device = "hostdev" }

-- Fields are read raw here and below: after recheck they are plain fields of the element, and
-- the many left out (nil) would each ask the element's __index for methods and views.
local function assign_ids(m, errors)
  local taken, counters = {}, {}
  local elements = private[m].elements
  for i = 1, #elements do
    local e = elements[i]
    local id = rawget(e, "id")
    if id then
      if id == "pcie.0" or taken[id] then
        local first = taken[id]
        errors[#errors + 1] = { where = private[e].where, element = e, message = string.format(
          "id '%s' is already used%s; give each element its own id, or none to have one assigned",
          id, first and (" by the " .. KIND_NAME[private[first].kind] .. " created at " ..
          private[first].where) or " by the root bus") }
      end
      taken[id] = e
    end
  end
  -- An id made here is not added to taken: each prefix's numbers only grow, and no prefix
  -- followed by a number spells another's, so it cannot be made twice.
  for i = 1, #elements do
    local e = elements[i]
    if not rawget(e, "id") then
      local prefix = PREFIX[private[e].kind]
      local n, id = counters[prefix] or 0
      repeat n = n + 1; id = prefix .. n until not taken[id]
      counters[prefix] = n
      rawset(e, "id", id)
    end
  end
end

local function assign_root_addrs(m, profile, errors)
  local used = {}
  local root = private[m].root
  for _, e in ipairs(root.children) do
    local a = rawget(e, "addr")
    if a then used[a.slot] = true end
  end
  local group_slot, free = {}, 1
  for _, e in ipairs(root.children) do
    if not rawget(e, "addr") then
      local rec = private[e]
      local func, group = rec.auto and rec.auto.func or 0, rec.auto and rec.auto.group
      local slot = group and group_slot[group]
      if not slot then
        while profile.root_slots[free] and used[profile.root_slots[free]] do free = free + 1 end
        slot = profile.root_slots[free]
        if slot then used[slot] = true end
        if group then group_slot[group] = slot end
      end
      if slot then
        rawset(e, "addr", { slot = slot, func = func })
      else
        errors[#errors + 1] = { where = rec.where, element = e, message = string.format(
          "pcie.0 is full: %s has %d slots for devices and root ports (%s); put devices " ..
          "behind root ports (m:root_port():add(dev)), pack up to 8 root ports in one slot " ..
          "(addr = \"01.1\" ...), or put switches behind root ports (port:switch{ports = 32})",
          m.type, #profile.root_slots, profile.root_reserved[0]) }
      end
    end
  end
end

local function is_port(rec)
  local kind = rec.kind
  return kind == "root-port" or kind == "downstream-port"
end

-- (chassis, slot) pairs must be unique across the machine (QEMU: "Can't add chassis slot").
local function assign_chassis(m)
  local used = {}
  local elements = private[m].elements
  for i = 1, #elements do
    local e = elements[i]
    local c, s = rawget(e, "chassis"), rawget(e, "slot")
    if c and s then used[c .. "/" .. s] = true end
  end
  local next_slot = {}
  for i = 1, #elements do
    local e = elements[i]
    if is_port(private[e]) then
      local c, s = rawget(e, "chassis"), rawget(e, "slot")
      if not (c and s) then
        c = c or 1
        s = s or next_slot[c] or 1
        local key = c .. "/" .. s
        while used[key] do
          s = s + 1
          key = c .. "/" .. s
        end
        rawset(e, "chassis", c)
        rawset(e, "slot", s)
        used[key] = true
        next_slot[c] = s + 1
      end
    end
  end
end

local function by_devfn(a, b)
  local x, y = rawget(a, "addr"), rawget(b, "addr")
  if x.slot ~= y.slot then return x.slot < y.slot end
  return x.func < y.func
end

-- The elements of a bus that have an address, in devfn order. Children are almost always made
-- in that order already (a plan's, a switch's, a port's functions): then there is nothing to
-- sort, and the order is the one sorting gives (each address once, so sorting has one answer).
local function sorted_children(bus)
  local list, n, in_order, last = {}, 0, true, -1
  local children = bus.children
  for i = 1, #children do
    local e = children[i]
    local a = rawget(e, "addr")
    if a then
      n = n + 1
      list[n] = e
      local at = a.slot * 8 + a.func
      if at <= last then in_order = false end
      last = at
    end
  end
  if not in_order then table.sort(list, by_devfn) end
  return list
end

-- Linux and firmware number buses depth first, in devfn order, from 0 at the root.
local function number_buses(bus, n)
  local sorted = sorted_children(bus)
  bus.sorted = sorted
  for i = 1, #sorted do
    local below = private[sorted[i]].below
    if below then
      n = n + 1
      below.number = n
      n = number_buses(below, n)
      below.subordinate = n
    end
  end
  return n
end

-- Function 0 of a slot in use by other functions carries multifunction=on (the first element
-- at function 0, when a script put two there: validate reports that).
local function mark_multifunction(bus)
  local children = bus.children
  if #children == 1 then -- a lone function (a port's one device, flat): none to mark
    local rec = private[children[1]]
    rec.multifunction = nil
    if rec.below then mark_multifunction(rec.below) end
    return
  end
  local func0, others = {}, {} -- slot -> its first function 0; slot -> true: other functions
  for i = 1, #children do
    local e = children[i]
    private[e].multifunction = nil
    local a = rawget(e, "addr")
    if a then
      local slot = a.slot
      if a.func == 0 then
        func0[slot] = func0[slot] or e
      else
        others[slot] = true
      end
    end
  end
  for slot, e in pairs(func0) do
    if others[slot] then private[e].multifunction = true end
  end
  for i = 1, #children do
    local below = private[children[i]].below
    if below then mark_multifunction(below) end
  end
end

-- profile: machines.profile(m), which also checks the machine's own fields again.
function M.finalize(m, profile)
  local mrec = private[m]
  profile = profile or machines.profile(m)
  local errors = {}
  recheck(m, errors)
  assign_ids(m, errors)
  assign_root_addrs(m, profile, errors)
  assign_chassis(m)
  mark_multifunction(mrec.root)
  mrec.root.number = 0
  mrec.buses_used = number_buses(mrec.root, 0) + 1
  mrec.profile = profile
  return errors
end

-- The QEMU bus name of a bus: pcie.0, or the id of the port above it.
function M.bus_name(bus)
  return bus.owner and bus.owner.id or "pcie.0"
end

return M
