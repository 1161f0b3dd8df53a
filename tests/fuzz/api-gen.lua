-- SPDX-License-Identifier: MIT
-- Generator of random site scripts for the Lua API fuzzer (tests/fuzz/api-run.sh): each mixes
-- valid calls of the documented API (doc/lua-api.md) with hostile ones: wrong types, nil holes,
-- NUL bytes, huge numbers, NaN, tables whose __len lies, fields changed after construction,
-- methods called with '.', error objects. Scripts run on the default simulated host (82599).
-- A statement the documentation says must be refused ends with "--! invalid: WHY"; a script with
-- one must not exit 0. Usage: vflaunch --simulate -q api-gen.lua SEED N OUTDIR
local seed, count, outdir = tonumber(arg[1]), tonumber(arg[2]), arg[3]
assert(seed and count and outdir, "usage: api-gen.lua SEED N OUTDIR")
math.randomseed(seed)
local R = math.random

local function pick(t) return t[R(#t)] end
local function chance(p) return R() < p end

-- Values that are wrong for any field (or almost any): each is a Lua expression.
local ANY_BAD = {
  "{}", "true", "function() end", "0/0", "math.huge", "-math.huge", "math.mininteger",
  "coroutine.create(function() end)", "io.stdout",
  "setmetatable({}, {__tostring = function() return 'x,y' end})",
  "setmetatable({}, {__index = function() error('trap') end})",
}

-- Per field: valid values, and values the documentation makes invalid (with ANY_BAD added).
-- no_any: ANY_BAD is not wrong for this field; "list": only its values that are not tables
-- (an empty table, whatever its metatable, is an empty list).
local function field(valid, invalid, no_any)
  local bad = {}
  for _, v in ipairs(invalid) do bad[#bad + 1] = v end
  for _, v in ipairs(no_any == true and {} or ANY_BAD) do
    if no_any ~= "list" or not (v:match("^{") or v:match("^setmetatable%({}")) then
      bad[#bad + 1] = v
    end
  end
  return { valid = valid, invalid = bad }
end

local MACHINE = {
  type = field({ "'virt'", "'q35'", "'virt-8.2'", "'pc-q35-7.2'" },
    { "'virt-2.12,highmem=on'", "'virt,x=y'", "42", "'virt\\0'", "'q35\\n'" }),
  qemu = field({ "'qemu-system-aarch64'" },
    { "'qemu-system-aarch64\\n'", "'qemu-system-aarch64\\0x'", "1" }),
  options = field({ "{'gic-version=3'}", "{['gic-version'] = 3}", "{'highmem=off'}", "{}" },
    { "{['a,b'] = 'c'}", "{x = {}}", "{1}", "'gic-version=3'", "{'gic-version=3\\0'}",
      "{['gic-version'] = 0/0}", "{'a', nil, 'b'}" }, "list"),
  accel = field({ "'kvm'", "'tcg'" }, { "7", "'kvm\\0x'" }),
  cpu = field({ "'host'", "'cortex-a57'", "'max,sve=off'" }, { "7", "'host\\0x'" }),
  smp = field({ "1", "8", "4096" },
    { "0", "4097", "-1", "1.5", "'8'", "1 << 40" }),
  memory = field({ "'16G'", "'512M'", "1024", "'4096'" },
    { "'lots'", "-5", "'16G\\0'", "1.5", "'4GB'", "'-1G'", "1 << 62" }),
  kernel = field({ "'/boot/Image'", "'/boot/a,b'", "'/boot/\\xff\\xfe'" }, { "1", "'/k\\0hidden'" }),
  initrd = field({ "'/boot/initrd'" }, { "1", "'/i\\0hidden'" }),
  append = field({ "'console=ttyAMA0 root=/dev/vda'", "'a \"b\" $(c) `d`'" }, { "1", "'x\\0y'" }),
  args = field({ "{'-nographic'}", "{}", "{'-serial', 'mon:stdio'}" },
    { "'-nographic'", "{'-a', nil, '-b'}", "{{}}", "{'-x\\0y'}", "{1}", "{true}",
      "setmetatable({'-a'}, {__len = function() return 3 end})" }, "list"),
  name = field({ "'guest1'" }, { "7" }),
  bind_group = field({ "true", "false" }, { "'no'", "1", "'false'" }),
}
local ROOT_PORT = {
  id = field({ "'rpx'", "'port-1'", "'a.b_c'" }, { "'1bad'", "'a,b'", "''", "'a b'" }),
  chassis = field({ "0", "1", "255" }, { "256", "-1", "'1'", "1.5" }),
  slot = field({ "0", "33", "8191" }, { "8192", "-1", "'3'" }),
  addr = field({ "'01.0'", "'1f.7'", "3", "{slot = 4, func = 1}", "'05'" },
    { "'20.0'", "'01.8'", "{slot = 99}", "-1", "'1.0.0'", "'01.0\\0'" }),
  model = field({ "'pcie-root-port'" }, { "'nope'" }),
  io_reserve = field({ "0", "4096", "'4K'" }, { "-1", "'4k,evil=1'", "1.5" }),
  bus_reserve = field({ "0", "255" }, { "256", "-1" }),
}
local SWITCH = {
  id = ROOT_PORT.id, chassis = ROOT_PORT.chassis,
  ports = field({ "1", "8", "32" }, { "0", "33", "-1", "1.5" }),
  first_slot = field({ "1", "100", "8160" }, { "-1", "8192", "'1'" }),
}
local DEVICE_OPTS = {
  id = ROOT_PORT.id, addr = ROOT_PORT.addr,
  rombar = field({ "0", "1" }, { "2", "-1", "'on'" }),
}
local PLACE = {
  strategy = field({ "'flat'", "'switch'", "'dense'" }, { "'nope'", "'FLAT'" }),
  ports_per_switch = field({ "1", "16", "32" }, { "0", "33" }),
  per_port = field({ "1", "4", "8" }, { "0", "9" }),
  spare_ports = field({ "0", "2" }, { "-1", "1.5" }),
}
local FILTER = {
  vendor = field({ "0x8086", "0x15b3" }, { "'0x8086'", "'8086'" }),
  device = field({ "0x10fb", "0x10ed" }, { "'0x10fb'" }),
  class = field({ "0x02", "0x0200", "0x020000" }, { "'0x02'", "-1" }),
  driver = field({ "false", "'vfio-pci'", "'ixgbe'" }, { "1" }),
  address = field({ "'0002:81:'", "'81:10'" }, { "1", "0x81" }),
  numa_node = field({ "0", "1" }, { "'1'" }),
}

-- One options table for a call: some known keys with valid values; when bad, one of them (or an
-- unknown key) gets a value the documentation refuses. `only` limits the keys (default: all).
-- Returns the source and, when bad, why it must be refused.
local ids = 0
local function options(spec, bad, only, fixed)
  local keys, parts, why = {}, {}, nil
  for k in pairs(spec) do
    if not only or only[k] then keys[#keys + 1] = k end
  end
  table.sort(keys)
  local bad_key = bad and (chance(0.15) and "colour" or pick(keys))
  for _, k in ipairs(keys) do
    if k == bad_key then
      parts[#parts + 1] = k .. " = " .. pick(spec[k].invalid)
      why = k .. " has a value the documentation does not allow"
    elseif fixed and fixed[k] then
      parts[#parts + 1] = k .. " = " .. fixed[k]
    elseif k == "id" and chance(0.35) then
      ids = ids + 1 -- ids must be unique in a machine
      parts[#parts + 1] = "id = 'x" .. ids .. "'"
    elseif k ~= "id" and chance(0.35) then
      parts[#parts + 1] = k .. " = " .. pick(spec[k].valid)
    end
  end
  if bad_key == "colour" then
    parts[#parts + 1] = "colour = 'red'"
    why = "an unknown option"
  end
  return "{ " .. table.concat(parts, ", ") .. " }", why
end

-- A generated script: valid statements, and at most one hostile one (so that the statement
-- that must be refused is not cut short by an earlier one).
local function script(n)
  local lines = { "-- api-gen seed " .. seed .. " script " .. n, 'local vf = require "vflaunch"',
    "local devs = vf.vfs { vendor = 0x8086, device = 0x10fb }",
    "local pfs = vf.find { device = 0x10fb }" }
  local nstat = R(3, 18)
  local bad_at = chance(0.6) and R(nstat) or 0
  local free_ports, used_ports, switches, elems, nvar = {}, {}, {}, {}, 0
  local switch_ports, poisoned = {}, {}
  local nextdev = R(40)
  local has_machine = false
  local function emit(code, why)
    lines[#lines + 1] = why and (code .. " --! invalid: " .. why) or code
  end
  local function var(prefix)
    nvar = nvar + 1
    return prefix .. nvar
  end
  -- k devices not used before: the first index of a run of k VFs (126 in all), or nil.
  local function take(k)
    if nextdev + k - 1 > 126 then return nil end
    nextdev = nextdev + k
    return nextdev - k
  end
  local function device(bad)
    if bad then
      return pick { "nil", "42", "{}", "'0002:81:10.0\\0'", "'zz:zz.z'", "pfs", "devs" }, "not a device"
    end
    local i = take(1)
    return i and ("devs[" .. i .. "]") or "'0002:81:10.0'"
  end
  local function device_list(bad)
    if bad then
      return pick { "{}", "{devs[1], nil, devs[3]}", "'devs'", "{" .. string.rep("devs[1], ", 9) .. "}",
        "setmetatable({}, {__len = function() return 4 end})" }, "not a list of 1 to 8 devices"
    end
    local k = R(8)
    local i = take(k)
    if not i then return "{ '0002:81:10.0' }" end
    local t = {}
    for j = i, i + k - 1 do t[#t + 1] = "devs[" .. j .. "]" end
    return "{ " .. table.concat(t, ", ") .. " }"
  end
  local function a_free_port()
    if #free_ports == 0 then return nil end
    return table.remove(free_ports, R(#free_ports))
  end

  local statements = {
    machine = function(bad)
      local parts, why = {}, nil
      local keys = {}
      for k in pairs(MACHINE) do keys[#keys + 1] = k end
      table.sort(keys)
      local bad_key = bad and not has_machine and pick(keys)
      for _, k in ipairs(keys) do
        if k == bad_key then
          parts[#parts + 1] = k .. " = " .. pick(MACHINE[k].invalid)
          why = "machine " .. k .. " has a value the documentation does not allow"
        elseif chance(0.35) and k ~= "qemu" and (k ~= "type" or chance(0.3)) then
          parts[#parts + 1] = k .. " = " .. pick(MACHINE[k].valid)
        end
      end
      if has_machine then why = "a second machine" end
      emit("local m = vf.machine { " .. table.concat(parts, ", ") .. " }", why)
      has_machine = true
    end,
    root_port = function(bad)
      local opts, why = options(ROOT_PORT, bad, { io_reserve = true, bus_reserve = true, id = true,
        model = true })
      local v = var("rp")
      if opts:find("ioh3420") and opts:find("_reserve") then opts = "{}" ; why = nil end
      emit("local " .. v .. " = m:root_port " .. opts, why)
      free_ports[#free_ports + 1] = v
      used_ports[#used_ports + 1] = v
    end,
    switch = function(bad)
      local port = a_free_port()
      if not port then return end
      if switch_ports[port] and not chance(0.1) then
        free_ports[#free_ports + 1] = port
        return
      end
      local k = pick { 1, 2, 4, 8 }
      local opts, why = options(SWITCH, bad, { ports = true, id = true }, { ports = tostring(k) })
      local v = var("sw")
      emit("local " .. v .. " = " .. port .. ":switch " .. opts, why)
      switches[#switches + 1] = v
      -- A switch behind a switch's port is valid PCIe (D16 today): rarely, so that it does not
      -- end most scripts early.
      for i = 1, k do
        free_ports[#free_ports + 1] = v .. ".ports[" .. i .. "]"
        switch_ports[v .. ".ports[" .. i .. "]"] = true
      end
    end,
    add = function(bad)
      local v = var("d")
      local port = not bad and chance(0.7) and a_free_port()
      if port then
        emit("local " .. v .. " = " .. port .. ":add(" .. device() .. ")")
      elseif bad and chance(0.5) then
        local dev, why = device(true)
        emit("local " .. v .. " = m:add(" .. dev .. ")", why)
      else
        local opts, why = options(DEVICE_OPTS, bad, { rombar = true, id = true })
        emit("local " .. v .. " = m:add(" .. device() .. ", " .. opts .. ")", why)
      end
      elems[#elems + 1] = v
    end,
    functions = function(bad)
      local port = a_free_port()
      local list, why = device_list(bad and chance(0.5))
      if port and chance(0.6) then
        local o = ""
        if bad and not why then o, why = ", { slot = 3 }", "port:functions has no slot option" end
        emit(port .. ":functions(" .. list .. o .. ")", why)
      else
        if port then free_ports[#free_ports + 1] = port end
        local o = chance(0.3) and ", { slot = " .. pick { "'0a'", "10" } .. " }" or ""
        if bad and not why then
          o, why = pick { ", { slot = '03.4' }", ", { ids = 'ab' }", ", 'x'" }, "functions options"
        end
        emit("m:functions(" .. list .. o .. ")", why)
      end
    end,
    place = function(bad)
      local list, why
      local strategy = pick { "flat", "switch", "dense" }
      local only = { flat = { strategy = true, spare_ports = true },
        switch = { strategy = true, ports_per_switch = true, spare_ports = true },
        dense = { strategy = true, per_port = true, spare_ports = true } }
      if bad and chance(0.4) then
        list, why = pick { "{}", "{devs[1], nil, devs[3]}", "nil", "devs[1]" }, "not a list of devices"
        bad = false
      else
        local k = pick { 1, 7, 31, 64 }
        local i = take(k)
        if not i then return end
        list = "table.move(devs, " .. i .. ", " .. (i + k - 1) .. ", 1, {})"
      end
      local opts, owhy = options(PLACE, bad, only[strategy], { strategy = "'" .. strategy .. "'" })
      emit("local " .. var("plan") .. " = m:place(" .. list .. ", " .. opts .. ")", why or owhy)
    end,
    find = function(bad)
      local opts, why = options(FILTER, bad)
      emit("local " .. var("found") .. " = vf." .. pick { "find", "vfs" } .. " " .. opts, why)
    end,
    set_vfs = function(bad)
      if bad then
        emit("pfs[1]:set_vfs(" .. pick { "'63'", "-1", "64", "0/0", "1.5", "{}" } .. ")",
          "set_vfs wants an integer from 0 to sriov_totalvfs")
      else
        emit("pfs[" .. R(2) .. "]:set_vfs(" .. pick { "63", "63", "63", "8" } .. ")")
      end
    end,
    mutate = function(bad)
      local targets = {
        { "m.smp", MACHINE.smp }, { "m.memory", MACHINE.memory }, { "m.args", MACHINE.args },
        { "m.type", MACHINE.type }, { "m.qemu", MACHINE.qemu }, { "m.kernel", MACHINE.kernel },
        { "m.append", MACHINE.append },
      }
      for _, p in ipairs(used_ports) do
        targets[#targets + 1] = { p .. ".chassis", ROOT_PORT.chassis }
        targets[#targets + 1] = { p .. ".io_reserve", ROOT_PORT.io_reserve }
      end
      -- An element's addr is internal ({slot=, func=}) once made: only hostile values for it.
      if bad then
        for _, e in ipairs(elems) do targets[#targets + 1] = { e .. ".addr", ROOT_PORT.addr } end
      end
      local t = pick(targets)
      if not bad and poisoned[t[1]] then return end -- a later good value would undo the bad one
      if bad and chance(0.8) then
        poisoned[t[1]] = true
        emit(t[1] .. " = " .. pick(t[2].invalid), "a field changed after construction to a value the API refuses")
      elseif bad then
        -- (m.options = nil and m.args = nil are the defaults again, not internal fields.)
        emit(pick { "m.elements = nil", "m.root = nil" }, "an internal field removed")
      else
        emit(t[1] .. " = " .. pick(t[2].valid))
      end
    end,
    dot_call = function()
      local calls = { "m.root_port {}", "m.devices()", "m.add(devs[1])", "m.place(devs, { strategy = 'flat' })" }
      for _, p in ipairs(used_ports) do calls[#calls + 1] = p .. ".is_free()"; calls[#calls + 1] = p .. ".add(devs[2])" end
      for _, s in ipairs(switches) do calls[#calls + 1] = s .. ".free_port()" end
      emit(pick(calls), "a method called with '.'")
    end,
    host = function()
      emit("local " .. var("h") .. " = " .. pick { "vf.host:get('0002:81:10.0')", "vf.host:get('81:10.0')",
        "#vf.host.devices", "devs[1]:describe()", "pfs[1]:vfs()[1].address", "devs[1]:pf().address" })
    end,
    raise = function()
      emit("error(" .. pick { "'boom'", "{ status = 0 }", "{ status = 126 }", "{ status = 300 }",
        "{ status = -1 }", "{ message = 'm', status = 1 }", "42", "nil", "{}",
        "setmetatable({}, { __tostring = function() return 'custom' end })" } .. ")", "the script raises")
    end,
  }
  local kinds = { "root_port", "root_port", "switch", "switch", "add", "add", "add", "functions",
    "place", "find", "set_vfs", "mutate", "host" }
  local bad_kinds = { "machine", "root_port", "switch", "add", "functions", "place", "find",
    "set_vfs", "mutate", "mutate", "dot_call", "raise" }

  if bad_at == 1 or chance(0.97) then statements.machine(bad_at == 1 and chance(0.5)) end
  for i = 1, nstat do
    local bad = i == bad_at
    local k = bad and pick(bad_kinds) or pick(kinds)
    if k == "machine" and has_machine then k = "mutate" end
    if not has_machine and k ~= "find" and k ~= "host" and k ~= "set_vfs" then statements.machine() end
    statements[k](bad)
  end
  return table.concat(lines, "\n") .. "\n"
end

for i = 1, count do
  local path = string.format("%s/s%d-%04d.lua", outdir, seed, i)
  local f = assert(io.open(path, "w"))
  f:write(script(i))
  f:close()
end
