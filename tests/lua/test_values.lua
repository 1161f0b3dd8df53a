-- SPDX-License-Identifier: MIT
-- Values that reach QEMU: every argv string is NUL-free UTF-8, every size, type, option, name and
-- port number is one QEMU reads as the plan means it, and a field changed after it was checked is
-- checked again before anything is rendered.
local t = dofile(arg[0]:match("^(.*)/") .. "/testlib.lua")
local machines = require "vflaunch.machines"
local render = require "vflaunch.render"
local topology = require "vflaunch.topology"

local T = {}

local vfs = t.vfs

local refused = t.refused

-- Not a tail call: the error must name this file's line, not testlib's.
local function machine(spec)
  local m = topology.machine(spec)
  return m
end

local function argv_of(m)
  return table.concat(render.argv(m, "qemu-system-aarch64"), "\n")
end

-- D12: a NUL in any argv string, and bytes that are not UTF-8.
function T.test_nul_and_utf8_refused()
  for _, field in ipairs { "kernel", "initrd", "append", "cpu", "accel", "qemu" } do
    refused({ "machine " .. field, "has a NUL byte at position 3" }, machine,
      { [field] = "/k\0hidden" })
    refused({ "machine " .. field, "is not valid UTF-8" }, machine, { [field] = "/k\xffx" })
  end
  refused({ "machine args[2] ", "NUL byte" }, machine, { args = { "-a", "-x\0y" } })
  refused({ "machine args[1] ", "not valid UTF-8" }, machine, { args = { "\xc3(" } })
  refused({ "options value of dumpdtb", "NUL byte" }, machine, { options = { dumpdtb = "/a\0b" } })
  refused({ "options value of dumpdtb", "NUL byte" }, machine, { options = { "dumpdtb=/a\0b" } })
  refused({ "add: host address", "NUL byte" }, function()
    machine {}:add("0002:81:10.0\0x")
  end)
  -- UTF-8 is fine, and so are quotes and spaces (the shell quoting test covers them).
  local m = t.plan(function() end, { append = "console=ttyAMA0 label=\"é ü\"" })
  t.eq(render.argv(m, "q")[5], "console=ttyAMA0 label=\"é ü\"", "UTF-8 append")
end

function T.test_nul_changed_after_creation()
  t.checkerror({ "machine: kernel was changed after creation: kernel",
    "NUL byte at position 3" }, t.plan, function(_, m) m.kernel = "/k\0hidden" end)
  t.checkerror({ "machine: args was changed after creation: args[2]", "NUL" }, t.plan,
    function(_, m) m.args[1] = "-a"; m.args[2] = "-x\0y" end)
end

-- D14: io_reserve is a size QEMU reads, rendered as given.
function T.test_io_reserve()
  for _, good in ipairs { 0, 4096, "4K", "4k", "1.5K", "64K", "2M", "0",
      "1B" } do
    local m = t.plan(function(_, mm) mm:root_port { io_reserve = good } end)
    local dev, want = argv_of(m):match("pcie%-root%-port[^\n]*"), "io-reserve=" .. tostring(good)
    t.eq(dev:sub(-#want), want, "rendered as given")
  end
  for _, bad in ipairs { -1, "4k,evil=1", {}, "-4K", "4KB", "1.5", "1.5B", "0x10", "4 K", "",
      1.5, "1e3", "99999999999999999999", "16E" } do
    refused({ "root_port: io_reserve", "is not a size QEMU reads" }, function()
      machine {}:root_port { io_reserve = bad }
    end)
  end
  refused("root_port: io_reserve is a property of pcie-root-port only, not of ioh3420", function()
    machine {}:root_port { model = "ioh3420", io_reserve = 0 }
  end)
end

-- D14: machine types exactly, and the budget follows the type given.
function T.test_machine_types()
  for _, good in ipairs { "virt", "virt-2.12", "virt-7.2", "q35", "pc-q35-7.2" } do
    t.eq(machine { type = good }.type, good, good)
  end
  for _, bad in ipairs { "virt-2.12,highmem=on", "virt,highmem=off", "virt-", "virt-foo",
      "pc-q35", "pc-q35-7", "q35 ", "pseries", "virt-2.12\n", 3 } do
    refused({ "machine type ", "is not one vflaunch knows" }, machine, { type = bad })
  end
  refused("give machine options in options = { ... }", machine, { type = "virt-2.12,highmem=on" })
end

-- D14: option keys are QEMU property names, values strings, integers or booleans; both escaped.
function T.test_machine_options()
  local m = machine { options = { "gic-version=3", "dumpdtb=/tmp/a,b", highmem = false,
    ["highmem-ecam"] = true, ["x.y_z"] = 7 } }
  t.eq(table.concat(m.options, " "), "gic-version=3 dumpdtb=/tmp/a,b highmem=off " ..
    "highmem-ecam=on x.y_z=7", "options")
  local profile = machines.profile(m)
  topology.finalize(m, profile)
  t.eq(render.argv(m, "q")[3], "virt,gic-version=3,dumpdtb=/tmp/a,,b,highmem=off," ..
    "highmem-ecam=on,x.y_z=7", "-machine")
  t.eq(profile.bus_limit, 16, "highmem = false is highmem=off")
  for _, case in ipairs {
    { { ["a,b"] = "c" }, "options key \"a,b\" is not a QEMU property name" },
    { { Highmem = "on" }, "is not a QEMU property name" },
    { { ["1x"] = "on" }, "is not a QEMU property name" },
    { { "a,b=c" }, "options key \"a,b\" is not a QEMU property name" },
    { { gic = {} }, "options value of gic must be a string, an integer or a boolean, not {}" },
    { { gic = 1.5 }, "options value of gic must be" },
    { { "highmem" }, "options[1] must be a \"key=value\" string" },
    { { 7 }, "options[1] must be a \"key=value\" string" },
    { { "a=1", nil, "b=2" }, "options[2] is nil, and options[3] is not" },
    { { "highmem=off", highmem = true }, "options give highmem twice" },
    { { type = "q35" }, "options cannot set type" },
    { { "type=q35" }, "options cannot set type" },
    { "gic-version=3", "options must be a table" },
  } do
    refused({ "machine options", case[2] }, machine, { options = case[1] })
  end
end

-- D14: memory as QEMU's -m reads it; machines.memory_bytes for the host's checks.
function T.test_memory()
  local G, M = 1 << 30, 1 << 20
  for _, case in ipairs {
    { nil, 128 * M }, { 4096, 4096 * M }, { "4096", 4096 * M }, { "16G", 16 * G },
    { "16g", 16 * G }, { "1.5G", 3 * G // 2 }, { "size=4G", 4 * G }, { "512M", 512 * M },
    { "size=4G,slots=2,maxmem=8G", 8 * G }, { "4G,maxmem=8G", 8 * G }, { "1T", 1 << 40 },
    { "4G,maxmem=4G", 4 * G }, { "2097152K", 2 * G }, { "4G,slots=0,maxmem=4G", 4 * G },
  } do
    local m = machine { memory = case[1] }
    t.eq(machines.memory_bytes(m), case[2], "bytes of " .. tostring(case[1]))
    if case[1] then
      assert(argv_of(t.plan(function() end, { memory = case[1] })):find("\n-m\n" ..
        tostring(case[1]), 1, true), "rendered as given")
    end
  end
  for _, bad in ipairs { "4GB", "lots", -5, 0, "0", "0G", "1.5", "4G,slots=2", "4G,maxmem=8192",
      "4G,maxmem=4G,slots=1", "4G,size=8G", "4G,foo=1", "4G,", "", "-4G", " 4G", "4G ",
      {}, 1.5, "1e3", "0x100", "4G,slots=x,maxmem=8G", "99999999999999999999G" } do
    refused({ "machine memory" }, machine, { memory = bad })
  end
  t.checkerror("machine memory \"4GB\" is not what QEMU's -m reads: size \"4GB\"", machine,
    { memory = "4GB" })
  t.checkerror("slots needs maxmem", machine, { memory = "4G,slots=2" })
  t.checkerror("maxmem is less than the size (maxmem without a suffix is bytes)", machine,
    { memory = "4G,maxmem=8192" })
  t.checkerror("size 0 makes QEMU take its default size", machine, { memory = "0G" })
end

-- D14: a switch's downstream ports keep their slots within 0..8191.
function T.test_switch_slots()
  refused("switch: first_slot 8190 with 32 ports gives the last port slot 8221, and slots go " ..
    "up to 8191; use first_slot 8160 or lower", function()
    machine {}:root_port():switch { ports = 32, first_slot = 8190 }
  end)
  local m = t.plan(function(_, mm) mm:root_port():switch { ports = 32, first_slot = 8160 } end)
  assert(argv_of(m):find("chassis=1,slot=8191", 1, true), "last slot 8191")
end

-- D14: the QEMU binary is a name or a path, nothing else.
function T.test_qemu_binary()
  for _, bad in ipairs { "qemu-system-aarch64\n", "qemu-system-aarch64 -S", "\tqemu", "", {} } do
    refused("machine qemu", machine, { qemu = bad })
  end
  t.eq(machine { qemu = "/opt/qemu/bin/qemu-system-aarch64" }.qemu,
    "/opt/qemu/bin/qemu-system-aarch64", "a path")
end

-- D14: fields changed after creation are checked again before anything is rendered: reported at
-- the line that created the element, naming it, and that the field changed; the value checked at
-- creation is kept, so the rest of the plan still works.
function T.test_element_fields_changed_after_creation()
  local line
  local m, errs, msg = t.plan(function(vf, m)
    line = debug.getinfo(1, "l").currentline; local d = m:add(vfs(vf, 1)[1])
    d.addr = { slot = 99 }
  end)
  t.eq(#errs, 1, "errors")
  assert(msg:find("tests/lua/test_values.lua:" .. line .. ": device 'hostdev1': addr was " ..
    "changed after creation: addr {slot = 99} is not a slot.function", 1, true), msg)
  assert(argv_of(m):find("addr=01.0", 1, true), "the value checked at creation is kept")
  for _, case in ipairs {
    { function(p) p.chassis = 300 end, "root port 'rp1': chassis was changed after creation: " ..
      "chassis must be an integer from 0 to 255, not 300" },
    { function(p) p.slot = -1 end, "slot was changed after creation" },
    { function(p) p.io_reserve = "4k,evil=1" end, "io_reserve was changed after creation: " ..
      "io_reserve \"4k,evil=1\" is not a size" },
    { function(p) p.bus_reserve = {} end, "bus_reserve was changed after creation" },
    { function(p) p.id = "1bad" end, "id was changed after creation: id \"1bad\" is not a QEMU id" },
    { function(p) p:add("0002:81:10.0").host = {} end, "device 'hostdev1': host was changed " ..
      "after creation: expected a host device" },
    { function(p) p:add("0002:81:10.0").rombar = 2 end, "rombar was changed after creation" },
    { function(p) p:add("0002:81:10.0").addr.func = 9 end, "addr was changed after creation" },
    { function(p) p:add("0002:81:10.0").addr = nil end, "addr was changed after creation: addr " ..
      "cannot be left out behind a port" },
    { function(p) p:switch { ports = 2 }.ports[1].addr = nil end, "port 'dp1': addr was changed" },
    { function(p) p:switch { ports = 2 }.ports[2].slot = 9000 end, "port 'dp2': slot was " ..
      "changed after creation" },
    { function(p) p:switch { ports = 2 }.upstream.addr = "zz" end, "switch 'up1': addr was " ..
      "changed after creation" },
  } do
    local _, e, text = t.plan(function(_, mm) case[1](mm:root_port()) end)
    t.eq(#e, 1, case[2] .. ": " .. text)
    assert(text:find(case[2], 1, true), text)
  end
  -- A valid change is taken, normalized.
  m, errs = t.plan(function(vf, mm) mm:add(vfs(vf, 1)[1]).addr = "05.0" end)
  t.eq(#errs, 0, "errors")
  assert(argv_of(m):find("addr=05.0", 1, true), "changed address")
end

function T.test_machine_fields_changed_after_creation()
  for _, case in ipairs {
    { function(m) m.smp = "a b" end, "machine: smp was changed after creation: smp must be an " ..
      "integer from 1 to 4096, not \"a b\"" },
    { function(m) m.memory = {} end, "machine: memory was changed after creation: memory {} is not " ..
      "a size" },
    { function(m) m.memory = "lots" end, "memory was changed after creation" },
    { function(m) m.type = "x" end, "machine: type was changed after creation: type 'x' is not " ..
      "one vflaunch knows" },
    { function(m) m.type = "virt-2.12,highmem=on" end, "type was changed after creation" },
    { function(m) m.options = { ["a,b"] = "c" } end, "options was changed after creation" },
    { function(m) m.options[#m.options + 1] = {} end, "options was changed after creation" },
    { function(m) m.qemu = {} end, "qemu was changed after creation" },
    { function(m) m.qemu = "qemu-system-aarch64\n" end, "qemu was changed after creation" },
    { function(m) m.args = "-nographic" end, "args was changed after creation: args must be a " ..
      "list (a table), not the string \"-nographic\"" },
    { function(m) m.args = { {} } end, "args was changed after creation: args[1] must be a string" },
    { function(m) m.bind_group = "no" end, "bind_group was changed after creation" },
    { function(m) m.name = "a b" end, "name was changed after creation" },
  } do
    local line = debug.getinfo(1, "l").currentline + 1
    local m = topology.machine { options = { "gic-version=3" } }
    case[1](m)
    -- machines.profile is the first step after the script: it checks the machine again.
    local msg = t.checkerror(case[2], machines.profile, m)
    assert(msg:find("^tests/lua/test_values.lua:" .. line .. ": machine: "),
      "at the line that made the machine: " .. msg)
    t.checkerror(case[2], topology.finalize, m)
  end
  -- Valid changes are taken; memory_bytes reads the machine as it is now.
  local m = t.plan(function(_, m) m.memory = "8G"; m.smp = 4; m.options = { "gic-version=3" } end)
  t.eq(machines.memory_bytes(m), 8 << 30, "memory")
  assert(argv_of(m):find("-smp\n4\n-m\n8G", 1, true), argv_of(m))
end

-- Named launches: -name NAME right after -machine; qmp is a boolean, kept.
function T.test_name_and_qmp()
  local m = t.plan(function() end, { name = "nfv-1.a_b", options = { "gic-version=3" } })
  local argv = render.argv(m, "q")
  t.eq(argv[2], "-machine", "argv 2")
  t.eq(argv[4], "-name", "-name after -machine")
  t.eq(argv[5], "nfv-1.a_b", "the name")
  t.eq(m.qmp, true, "qmp defaults to true")
  assert(not table.concat(render.argv(t.plan(function() end), "q"), " "):find("-name"),
    "no -name without a name")
  t.eq(machine { qmp = false }.qmp, false, "qmp = false")
  for _, bad in ipairs { "", "-x", ".x", "a b", "a,b", "a/b", string.rep("a", 65), "é", 7 } do
    refused({ "machine name ", "is not a launch name", "as in \"big-guest\"" }, machine,
      { name = bad })
  end
  t.eq(machine { name = string.rep("a", 64) }.name, string.rep("a", 64), "64 characters")
  refused("machine qmp must be true or false, not \"no\"", machine, { qmp = "no" })
end

-- util.all_printable(list) is true exactly when util.printable leaves every string of the list
-- as it is (list shows its lines through the one, or through the other line by line): every
-- byte alone, every pair, UTF-8 split across two strings, and lines joined as list joins them.
function T.test_all_printable()
  local util = require "vflaunch.util"
  local function same(list)
    for _, s in ipairs(list) do
      if util.printable(s) ~= s then return false end
    end
    return true
  end
  local function check(list, what)
    t.eq(util.all_printable(list), same(list), what)
  end
  for a = 0, 255 do
    check({ string.char(a) }, "byte " .. a)
    check({ "row " .. string.char(a) .. " end", "next" }, "byte " .. a .. " in a line")
    for b = 0x80, 0xbf, 0x3f do check({ string.char(a, b) }, "pair " .. a .. " " .. b) end
  end
  check({ "\xc3", "\xa9" }, "a sequence split across two lines")
  check({ "caf\xc3\xa9", "\xe2\x82\xac 5" }, "whole sequences")
  check({ "\xed\xa0\x80" }, "a surrogate")
  check({ "\xf4\x90\x80\x80" }, "above U+10FFFF")
  check({ "a\nb" }, "a newline inside a line")
  check({ "plain", "" }, "plain lines")
end

t.run("values", T)
