-- SPDX-License-Identifier: MIT
-- Rendering's fast paths (render.lua, json.lua) give what the plain ones give, byte for byte:
-- the JSON of a plan as the generic encoder makes it from the tables of device_facts and ports,
-- the shell text as a quote of each word on its own, and argv's last-line check refusing the
-- same words with the same message.
local t = dofile(arg[0]:match("^(.*)/") .. "/testlib.lua")
local json = require "vflaunch.json"
local machines = require "vflaunch.machines"
local render = require "vflaunch.render"
local topology = require "vflaunch.topology"

local T = {}

-- The plan's JSON as the generic encoder makes it (what render.json gave before its fixed shapes).
local function generic_json(m, argv, names)
  local rec = topology.private(m)
  return json.encode({
    machine = { type = m.type, qemu = argv[1], memory = machines.memory_bytes(m) },
    argv = argv,
    devices = render.device_facts(m, names),
    ports = render.ports(m),
    buses = { used = rec.buses_used, available = rec.profile.bus_limit },
    root_slots = { used = render.root_slots_used(m), available = #rec.profile.root_slots },
  }) .. "\n"
end

-- Root ports, a switch (its upstream port has no chassis), devices behind each, one on pcie.0,
-- and VF identities.
local function mixed(append)
  return t.plan(function(vf, m)
    local vfs = t.vfs(vf, 8)
    m:root_port():add(vfs[1], { mac = "52:54:00:12:34:56", vlan = 100, trust = true })
    local sw = m:root_port():switch { ports = 2 }
    sw.ports[1]:add(vfs[2])
    sw.ports[2]:add(vfs[3], { rombar = 0 })
    m:add(vfs[4])
  end, { type = "virt", options = { "gic-version=3" }, memory = "1G", append = append })
end

function T.test_json_as_generic()
  for _, append in ipairs { "console=ttyAMA0", 'a="b c" \\d', "tab\there\nnewline", "é ü",
      "del\127" } do
    local m, errors = mixed(append)
    t.eq(#errors, 0, "problems")
    local argv = render.argv(m, "qemu-system-aarch64")
    local got = render.json(m, argv)
    t.eq(got, generic_json(m, argv), "json of " .. append)
    assert(got:find('"chassis":null', 1, true), "the upstream port's chassis")
    assert(got:find('"vlan":100', 1, true), "the VF identity")
    t.eq(render.json(m, argv, false), generic_json(m, argv, false), "json without names")
    -- A word that is no string (argv is the caller's) goes in as the generic encoder has it.
    local odd = table.move(argv, 1, #argv, 1, {})
    odd[#odd + 1] = 5
    t.eq(render.json(m, odd, false), generic_json(m, odd, false), "a number in argv")
  end
end

-- Fields no checker of the element's kind reads, set with rawset, render as they did: argv
-- through tostring, JSON as the generic encoder has them.
function T.test_unchecked_fields()
  local weird = setmetatable({}, { __tostring = function() return "odd" end })
  local m, errors = t.plan(function(vf, mm)
    local sw = mm:root_port():switch { ports = 1 }
    local d = sw.ports[1]:add(t.vfs(vf, 1)[1])
    rawset(d, "chassis", weird)
    rawset(sw, "chassis", "x")
  end)
  t.eq(#errors, 0, "problems")
  local argv = render.argv(m, "q")
  assert(table.concat(argv, " "):find(",addr=00.0,chassis=odd", 1, true), "a device's chassis")
  t.eq(render.json(m, argv), generic_json(m, argv), "json")
end

function T.test_json_strings()
  -- Strings that go in as they are, and ones that need escapes or U+FFFD, in one document:
  -- the fast look at all strings at once fails, and each is made on its own.
  t.eq(json.encode { "plain", 'q"uote', "back\\slash", "nl\n", "del\127", "é", "bad\xff",
      "cut\xc3", { k = "v\1" } },
    '["plain","q\\"uote","back\\\\slash","nl\\n","del\\u007f","é","bad\u{FFFD}",' ..
    '"cut\u{FFFD}",{"k":"v\\u0001"}]', "escapes")
  t.eq(json.encode { b = "é", a = { "x", 1, 1.5, true, json.null } },
    '{"a":["x",1,1.5,true,null],"b":"é"}', "plain")
  t.eq(json.plain { "a", "é" }, true, "plain strings")
  for b = 0, 255 do
    local c = string.char(b)
    local plain = not c:find('[%c"\\]') and b < 0x80
    t.eq(json.plain { "x", "a" .. c .. "b" }, plain, "byte " .. b)
  end
end

-- M.shell as it was: each word quoted on its own.
local function reference_shell(argv)
  local first = render.shell_quote(argv[1])
  if first == argv[1] and first:find("=", 1, true) then first = "'" .. first .. "'" end
  local lines, i = { first }, 2
  while i <= #argv do
    local w = argv[i]
    local line = "  " .. render.shell_quote(w)
    if w:sub(1, 1) == "-" and argv[i + 1] and argv[i + 1]:sub(1, 1) ~= "-" then
      line = line .. " " .. render.shell_quote(argv[i + 1])
      i = i + 1
    end
    lines[#lines + 1] = line
    i = i + 1
  end
  return table.concat(lines, " \\\n") .. "\n"
end

function T.test_shell_every_byte()
  for b = 0, 255 do
    local c = string.char(b)
    local argv = { "q" .. c, "-a", "x" .. c .. "y" .. c, "-flag", "-b", "", "-c", c, "bare",
      "-d", "it's" .. c, "-e" }
    t.eq(render.shell(argv), reference_shell(argv), "byte " .. b)
  end
  local argv = { "/v=1/q", "-a", "plain", "-b", "two words", "-c", "plain,too=1", "-d", "$x" }
  t.eq(render.shell(argv), reference_shell(argv), "mixed")
end

-- argv's last line: each word a NUL-free UTF-8 string, the first bad one named.
function T.test_argv_last_line()
  local m = mixed("console=ttyAMA0")
  t.checkerror({ "argv word 1 (after nil)", "has a NUL byte at position 2" }, render.argv, m,
    "q\0x")
  t.checkerror({ "argv word 1 (after nil)", "is not valid UTF-8 (byte 2)" }, render.argv, m,
    "q\xff")
  local bad = function() return "vfio-pci,\xc3(" end
  t.checkerror({ "(after -device)", "is not valid UTF-8" }, render.argv, m, "q", bad)
end

t.run("render", T)
