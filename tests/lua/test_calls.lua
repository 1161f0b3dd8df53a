-- SPDX-License-Identifier: MIT
-- How scripts call the topology API: input that used to be ignored or cut short is refused; a
-- method called with '.' or a broken argument gets one line at the script's line; the tree's
-- structure cannot be broken from a script; switches hang behind switches; place() refuses empty
-- lists. (The inventory's calls: test_inventory.lua.)
local t = dofile(arg[0]:match("^(.*)/") .. "/testlib.lua")
local machines = require "vflaunch.machines"
local render = require "vflaunch.render"
local topology = require "vflaunch.topology"
local validate = require "vflaunch.validate"

local T = {}

local vfs = t.vfs

local refused = t.refused

local function machine(spec)
  local m = topology.machine(spec or { options = { "gic-version=3" } })
  return m
end

-- D15: input that was silently ignored or cut short.
function T.test_lists_and_types()
  refused("machine args must be a list (a table), not the string \"-nographic\"", machine,
    { args = "-nographic" })
  refused("machine args[2] is nil, and args[3] is not: a list cannot have holes", machine,
    { args = { "-a", nil, "-b" } })
  refused("machine args must be a list, and it has a key \"x\"", machine, { args = { x = "-a" } })
  refused("machine bind_group must be true or false, not \"no\"", machine, { bind_group = "no" })
  refused("machine bind_group must be true or false, not 0", machine, { bind_group = 0 })
  refused("switch: ports must be an integer from 1 to 32, not false", function()
    machine():root_port():switch { ports = false }
  end)
  refused("root_port: model must be 'pcie-root-port' or 'ioh3420', not false", function()
    machine():root_port { model = false }
  end)
  t.eq(machine { bind_group = true }.bind_group, true, "bind_group")
  t.eq(machine().bind_group, false, "bind_group default")
  local vf = require "vflaunch"
  local v = vfs(vf, 3)
  refused("functions: devices[2] is nil, and devices[3] is not", function()
    machine():functions({ v[1], nil, v[3] })
  end)
  refused("functions: devices[2] is nil", function()
    machine():root_port():functions({ v[1], nil, v[3] })
  end)
  refused("functions: expected a list of 1 to 8 devices (functions 0-7 of one slot), got 0",
    function() machine():functions({}) end)
  refused("functions: ids must be a list (a table), not the string \"ab\"", function()
    machine():functions(v, { ids = "ab" })
  end)
  refused("functions: 4 ids for 3 devices; give at most one id per device", function()
    machine():functions(v, { ids = { "a", "b", "c", "d" } })
  end)
  refused("functions: id \"1a\" is not a QEMU id", function()
    machine():functions(v, { ids = { "1a" } })
  end)
  refused("functions: behind a port the functions are always those of device 0 (00.0-00.7); " ..
    "leave slot out", function() machine():root_port():functions(v, { slot = 3 }) end)
  refused("functions: slot \"03.4\" is not a slot of pcie.0 (00-1f, as in 3 or \"03\")",
    function() machine():functions(v, { slot = "03.4" }) end)
  refused("functions: slot 32 is not a slot of pcie.0", function()
    machine():functions(v, { slot = 32 })
  end)
  -- What works: ids for some of the devices, a slot as a number or two hex digits.
  local m, errs = t.plan(function(_, mm)
    mm:functions(v, { ids = { "a", "b" }, slot = "0a" })
    mm:root_port():functions({ "0002:81:11.0", "0002:81:11.2" }, { ids = { "c" } })
  end)
  t.eq(#errs, 0, "errors")
  local argv = table.concat(render.argv(m, "q"), " ")
  assert(argv:find("id=a,bus=pcie.0,addr=0a.0,multifunction=on", 1, true), argv)
  assert(argv:find("id=b,bus=pcie.0,addr=0a.1", 1, true), argv)
  assert(argv:find("id=hostdev1,bus=pcie.0,addr=0a.2", 1, true), argv)
  assert(argv:find("host=0002:81:11.0,id=c,bus=rp1,addr=00.0", 1, true), argv)
end

-- D19: methods called with '.' instead of ':', and other broken calls.
function T.test_methods_called_with_a_dot()
  local vf = require "vflaunch"
  local m = machine()
  local p = m:root_port()
  local sw = m:root_port():switch { ports = 2 }
  for _, case in ipairs {
    { function() m.root_port {} end, "root_port is a method: call it with ':', as in " ..
      "m:root_port{...}" },
    { function() m.root_port() end, "as in m:root_port{...}" },
    { function() m.add("0002:81:10.0") end, "as in m:add(dev, {...})" },
    { function() m.functions({ "0002:81:10.0" }) end, "as in m:functions(" },
    { function() m.devices() end, "devices is a method: call it with ':', as in m:devices()" },
    { function() m.place(vfs(vf, 2), { strategy = "flat" }) end, "as in m:place(devices, " ..
      "{strategy = ...})" },
    { function() p.is_free() end, "is_free is a method: call it with ':', as in port:is_free()" },
    { function() p.add("0002:81:10.0") end, "as in port:add(dev, {...})" },
    { function() p.functions({ "0002:81:10.0" }) end, "as in port:functions(" },
    { function() p.switch { ports = 2 } end, "as in port:switch{...}" },
    { function() sw.free_port() end, "free_port is a method: call it with ':', as in " ..
      "sw:free_port()" },
    { function() sw.full() end, "as in sw:full()" },
    { function() sw.port(1) end, "as in sw:port(i)" },
    { function() vf.describe(nil) end, "describe: expected an element of the machine" },
    { function() vf.describe(m) end, "describe: expected an element of the machine" },
    { function() m:functions({ "0002:81:10.0" }, 5) end, "functions: expected a table of " ..
      "options, got number" },
    { function() p:functions({ "0002:81:10.0" }, "x") end, "functions: expected a table of " ..
      "options, got string" },
    { function() p:add("0002:81:10.0", 5) end, "add: expected a table of options, got number" },
    { function() m:add("0002:81:10.0", true) end, "add: expected a table of options" },
    { function() p:switch(3) end, "switch: expected a table of options" },
    { function() m:add(7) end, "add: expected a host device (from vf.find or vf.vfs) or a PCI " ..
      "address string, not 7" },
  } do
    refused(case[2], case[1])
  end
  t.eq(vf.describe(p), "root port '?'", "describe before ids are assigned")
end

-- D19: the tree's structure is vflaunch's; public fields are plain, typos are refused.
function T.test_structure_cannot_be_broken()
  local m = machine()
  local p = m:root_port()
  local d = p:add("0002:81:10.0")
  local sw = m:root_port():switch { ports = 2 }
  for _, case in ipairs {
    { function() m.root = 1 end, "machine: root is part of the tree vflaunch keeps; it cannot " ..
      "be set" },
    { function() m.elements = nil end, "machine: elements is part of the tree" },
    { function() m.plans = {} end, "machine: plans is part of the tree" },
    { function() m.where = "x" end, "machine: where is part of the tree" },
    { function() m.buses_used = 1 end, "machine: buses_used is part of the tree" },
    { function() m.memroy = "8G" end, "machine: no field \"memroy\" to set (the fields are " ..
      "accel, append, args, bind_group, cpu, initrd, kernel, memory, name, options, qemu, qmp, " ..
      "smp, type)" },
    { function() m.add = nil end, "machine: \"add\" is a method; it cannot be set" },
    { function() p.below = nil end, "root port '?': below is part of the tree" },
    { function() p.parent = nil end, "root port '?': parent is part of the tree" },
    { function() p.machine = {} end, "root port '?': machine is part of the tree" },
    { function() p.kind = "device" end, "root port '?': kind is part of the tree" },
    { function() p.model = "ioh3420" end, "root port '?': model is part of the tree" },
    { function() p.multifunction = true end, "multifunction is part of the tree" },
    { function() p.rombar = 1 end, "root port '?': no field \"rombar\" to set (the fields are " ..
      "addr, bus_reserve, chassis, id, io_reserve, slot)" },
    { function() p.switch = {} end, "\"switch\" is a method; it cannot be set" },
    { function() d.hostdev = {} end, "device '?': hostdev is part of the tree" },
    { function() d.parent.number = 3 end, "a bus is part of the tree vflaunch keeps" },
    { function() sw.ports = {} end, "switch: ports is part of the tree" },
    { function() sw.upstream = nil end, "switch: upstream is part of the tree" },
    { function() sw.extra = 1 end, "switch: no field \"extra\" to set" },
  } do
    refused(case[2], case[1])
  end
  -- A switch's port list handed out is a copy: changing it does not change the switch.
  sw.ports[1] = nil
  t.eq(#sw.ports, 2, "the switch keeps its ports")
  t.eq(sw:free_port(), sw:port(1), "the first port is still there")
  -- Reads work: what a script (and rehearsal) may look at.
  t.eq(d.parent.owner, p, "parent's owner")
  t.eq(p.below.owner, p, "below's owner")
  t.eq(d.kind, "device", "kind")
  t.eq(p.model, "pcie-root-port", "model")
  t.eq(d.hostdev, nil, "hostdev of an address string")
  t.eq(d.machine, m, "machine")
end

-- D19: with the structure out of reach, a hostile script cannot crash finalize or render.
function T.test_public_fields_broken_do_not_crash()
  local m, errs, msg = t.plan(function(_, mm)
    local p = mm:root_port()
    local d = p:add("0002:81:10.0")
    d.addr = "zz"
    d.host = 7
    d.id = {}
    p.chassis = "x"
    p.slot = 1.5
    p.io_reserve = {}
    pcall(function() p.below = nil end)
  end)
  t.eq(#errs, 6, "errors: " .. msg)
  render.argv(m, "q")
  render.tree(m)
  render.json(m, render.argv(m, "q"))
end

-- D16: switches behind switches, as tests/lua/cascade.lua builds them (the file rehearsal boots).
function T.test_cascaded_switches()
  local m, errs, msg = t.plan(function(_, mm)
    local top = mm:root_port():switch { ports = 2 }
    local below = top.ports[1]:switch { ports = 2 }
    below.ports[1]:add("0002:81:10.0")
    below.ports[2]:switch { ports = 1 }.ports[1]:add("0002:81:10.2")
    top.ports[2]:add("0002:81:10.4")
  end)
  t.eq(#errs, 0, "errors: " .. msg)
  local argv = table.concat(render.argv(m, "q"), "\n")
  assert(argv:find("x3130-upstream,id=up2,bus=dp1,addr=00.0", 1, true), argv)
  assert(argv:find("x3130-upstream,id=up3,bus=dp4,addr=00.0", 1, true), argv)
  assert(argv:find("vfio-pci,host=0002:81:10.2,id=hostdev2,bus=dp5,addr=00.0", 1, true), argv)
  -- bus 0, rp1 1, up1 2, dp1 3, up2 4, dp3 5, dp4 6, up3 7, dp5 8, dp2 9
  t.eq(m.buses_used, 10, "buses")
  t.eq(render.device_facts(m)[2].guest_address, "0000:08:00.0", "the deepest device")
  assert(render.tree(m):find("buses 10/256", 1, true), "tree")
end

function T.test_cascade_example()
  -- The rehearsal example, planned here: its vf.machine makes a machine this test keeps.
  local vf = require "vflaunch"
  local made
  local env = setmetatable({
    require = function(name)
      if name ~= "vflaunch" then return require(name) end
      return setmetatable({ machine = function(spec)
        made = topology.machine(spec)
        return made
      end }, { __index = vf })
    end,
  }, { __index = _G })
  local chunk = assert(loadfile(arg[0]:match("^(.*)/") .. "/cascade.lua", "t", env))
  chunk()
  local profile = machines.profile(made)
  local errors = topology.finalize(made, profile)
  validate.check(made, profile, vf.host, errors)
  t.eq(#errors, 0, "errors: " .. validate.format(errors))
  t.eq(render.budget_line(made), "buses 17/256, root slots 1/31, devices 10", "budget")
  t.eq(render.device_facts(made)[1].guest_address, "0000:07:00.0", "five buses deep")
end

-- D27: an empty list, or one with holes, is an error at the place() line.
function T.test_place_empty_or_holed()
  local vf = require "vflaunch"
  refused("place: the list of devices is empty, so there is nothing to place; check what the " ..
    "filter that made it finds on this host ('vflaunch --list --vfs')", function()
    machine():place(vf.vfs { vendor = 0x15b3 }, { strategy = "flat" })
  end)
  refused("place: the list of devices is empty", function()
    machine():place({}, { strategy = "flat", spare_ports = 2 })
  end)
  local v = vfs(vf, 3)
  refused("place: devices[2] is nil, and devices[3] is not: a list cannot have holes", function()
    machine():place({ v[1], nil, v[3] }, { strategy = "dense" })
  end)
  refused("place: devices must be a list, and it has a key \"x\"", function()
    machine():place({ v[1], x = v[2] }, { strategy = "dense" })
  end)
  -- __len is not believed: a list is what it holds.
  refused("place: devices[1] is nil, and devices[2] is not", function()
    machine():place(setmetatable({ [2] = v[1] }, { __len = function() return 1 << 30 end }),
      { strategy = "flat" })
  end)
end

t.run("calls", T)
