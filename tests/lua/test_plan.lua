-- simulate: large
-- SPDX-License-Identifier: MIT
-- The planner (m:place): each strategy's plan for 1 to 1984 devices on the large simulated host
-- (16 ConnectX-5 PFs x 127 VFs), the budget arithmetic, mixing with hand-placed parts, spare
-- ports, and every refusal with its numbers, its way out and the line of the place() call.
local t = dofile(arg[0]:match("^(.*)/") .. "/testlib.lua")
local render = require "vflaunch.render"
local plan = require "vflaunch.plan"

local T = {}
local Q35 = { type = "q35", args = { "-nodefaults" } }

local function vfs(vf, n)
  local list = vf.vfs { vendor = 0x15b3, device = 0x1017 }
  assert(#list >= n, "the large simulated host has " .. #list .. " VFs")
  return table.move(list, 1, n, 1, {})
end

local function ceil(a, b) return (a + b - 1) // b end

local function argv_of(m) return table.concat(render.argv(m, "q"), "\n") end

-- Plan n devices with strategy s; check the errors are none and the budget is as computed here.
local function planned(s, n, want, spec, opts)
  local p
  local m, errs, msg = t.plan(function(vf, m)
    opts = opts or {}
    opts.strategy = s
    p = m:place(vfs(vf, n), opts)
  end, spec)
  t.eq(#errs, 0, s .. " " .. n .. " errors: " .. msg)
  t.eq(#m:devices(), n, s .. " " .. n .. " devices")
  t.eq(#p.devices, n, s .. " " .. n .. " plan.devices")
  t.eq(m.buses_used, want.buses, s .. " " .. n .. " buses")
  t.eq(render.root_slots_used(m), want.slots, s .. " " .. n .. " root slots")
  t.eq(#p.root_ports, want.root_ports, s .. " " .. n .. " root ports")
  t.eq(p.needs.buses + 1, m.buses_used, s .. " " .. n .. " planned buses = finalized buses")
  return m, p
end

local SIZES = { 1, 8, 31, 32, 64, 248, 1984 }

function T.test_flat_sizes()
  for _, n in ipairs(SIZES) do
    if n <= 248 then
      local m, p = planned("flat", n, { buses = n + 1, slots = ceil(n, 8), root_ports = n })
      -- One device at 00.0 behind each root port; root ports are the functions of slots 01...
      for i, d in ipairs(p.devices) do
        assert(d.parent.owner == p.root_ports[i], "device " .. i .. " behind its own port")
        t.eq(d.addr.slot * 8 + d.addr.func, 0, "device address")
        t.eq(d.parent.number, i, "guest bus of device " .. i)
      end
      local last = p.root_ports[n]
      t.eq(last.addr.slot, 1 + (n - 1) // 8, "slot of the last root port")
      t.eq(last.addr.func, (n - 1) % 8, "function of the last root port")
      t.eq(p.root_ports[1].multifunction, n > 1 or nil, "multifunction on 01.0")
      t.eq(last.io_reserve, 0, "io-reserve")
      t.eq(last.model, "pcie-root-port", "model")
      t.eq(#p.spares, 0, "spares")
      local argv = argv_of(m)
      assert(argv:find("pcie-root-port,id=rp1,bus=pcie.0,addr=01.0,", 1, true), argv:sub(1, 400))
    end
  end
end

function T.test_flat_248_fills_virt()
  local m = planned("flat", 248, { buses = 249, slots = 31, root_ports = 248 })
  local argv = argv_of(m)
  assert(argv:find("pcie-root-port,id=rp248,bus=pcie.0,addr=1f.7,chassis=1,slot=248,io-reserve=0",
    1, true), "rp248 at 1f.7")
  local host = vfs(require("vflaunch"), 248)[248].address
  assert(argv:find("vfio-pci,host=" .. host .. ",id=hostdev248,bus=rp248,addr=00.0", 1, true),
    "hostdev248 behind rp248")
  t.eq(render.budget_line(m), "buses 249/256, root slots 31/31, devices 248")
end

function T.test_dense_sizes()
  for _, n in ipairs(SIZES) do
    local ports = ceil(n, 8)
    local m, p = planned("dense", n, { buses = ports + 1, slots = ceil(ports, 8),
      root_ports = ports })
    for i, d in ipairs(p.devices) do
      t.eq(d.addr.slot, 0, "device number behind a port")
      t.eq(d.addr.func, (i - 1) % 8, "function of device " .. i)
      t.eq(d.parent.number, ceil(i, 8), "guest bus of device " .. i)
    end
    t.eq(p.devices[1].multifunction, n > 1 or nil, "multifunction on 00.0 behind rp1")
    if n == 1984 then
      t.eq(render.budget_line(m), "buses 249/256, root slots 31/31, devices 1984")
      local last = p.devices[1984]
      t.eq(render.device_facts(m)[1984].guest_address, "0000:f8:00.7", "guest address of the last")
      t.eq(last.parent.owner.id, "rp248", "port of the last")
      t.eq(last.host, vfs(require("vflaunch"), 1984)[1984].address, "host of the last")
    end
  end
end

function T.test_switch_sizes()
  for _, n in ipairs(SIZES) do
    if n <= 224 then
      local k = ceil(n, 32)
      local m, p = planned("switch", n, { buses = 1 + 2 * k + n, slots = ceil(k, 8),
        root_ports = k })
      t.eq(#p.switches, k, "switches for " .. n)
      -- Full switches of 32, then the rest: no downstream port is made for nothing.
      t.eq(#p.switches[k].ports, n - (k - 1) * 32, "ports of the last switch")
      for i, d in ipairs(p.devices) do
        t.eq(d.parent.owner.kind, "downstream-port", "device " .. i .. " on a downstream port")
      end
      if n == 64 then
        t.eq(m.buses_used, 69, "64 VFs in 2 switches of 32 (bus 0 counted)")
        local argv = argv_of(m)
        assert(argv:find("x3130-upstream,id=up2,bus=rp2,addr=00.0", 1, true), argv)
        assert(argv:find("pcie-root-port,id=rp2,bus=pcie.0,addr=01.1,chassis=1,slot=2", 1, true))
      end
    end
  end
  local m = planned("switch", 224, { buses = 239, slots = 1, root_ports = 7 })
  t.eq(render.budget_line(m), "buses 239/256, root slots 1/31, devices 224")
end

function T.test_switch_smaller_switches_and_largest_fit()
  planned("switch", 64, { buses = 1 + 2 * 8 + 64, slots = 1, root_ports = 8 }, nil,
    { ports_per_switch = 8 })
  -- 239 devices: 7 x 32 + 15 in 8 switches = 1 + 16 + 239 = 256 buses, every one of them.
  planned("switch", 239, { buses = 256, slots = 1, root_ports = 8 })
end

-- The arithmetic per port kind: a root port, an upstream port and each downstream port take a
-- bus; a device takes none; bus 0 is counted.
function T.test_budget_arithmetic()
  t.eq(plan.needs("flat", 10, 0).buses, 10, "flat: a bus per root port")
  t.eq(plan.needs("flat", 10, 2).buses, 12, "flat: spares are root ports")
  t.eq(plan.needs("flat", 17, 0).slots, 3, "flat: 8 root ports per slot")
  t.eq(plan.needs("dense", 17, 0).root_ports, 3, "dense: 8 devices per port")
  t.eq(plan.needs("dense", 17, 0, nil, 4).root_ports, 5, "dense: per_port 4")
  t.eq(plan.needs("dense", 1984, 0).buses, 248, "dense 1984")
  t.eq(plan.needs("switch", 64, 0).buses, 2 * 2 + 64, "switch: root + upstream + ports")
  t.eq(plan.needs("switch", 256, 0).buses + 1, 273, "8 full switches with bus 0")
  t.eq(plan.needs("switch", 65, 3, 32).switches, 3, "switch: spares take downstream ports")
  t.eq(plan.capacity("flat", 0, 31, 255), 248, "flat capacity on virt")
  t.eq(plan.capacity("dense", 0, 31, 255), 1984, "dense capacity on virt")
  t.eq(plan.capacity("switch", 0, 31, 255, 32), 239, "switch capacity on virt")
  t.eq(plan.capacity("flat", 0, 31, 15), 15, "flat capacity on 16 buses")
  t.eq(plan.capacity("dense", 0, 31, 15), 120, "dense capacity on 16 buses")
  t.eq(plan.capacity("switch", 0, 31, 15, 32), 13, "switch capacity on 16 buses")
  t.eq(plan.capacity("flat", 0, 28, 255), 224, "flat capacity on q35 with its defaults")
  t.eq(plan.capacity("flat", 0, 30, 255), 240, "flat capacity on q35 -nodefaults")
  -- Hand-built parts count the same way as planned ones.
  local m = t.plan(function(vf, m)
    local v = vfs(vf, 3)
    m:add(v[1])                                    -- a root-bus device: a slot, no bus
    m:root_port():add(v[2])                        -- a root port: a slot and a bus
    m:root_port():switch { ports = 5 }.ports[1]:add(v[3]) -- 1 + 1 + 5 buses
  end)
  t.eq(m.buses_used, 1 + 1 + 7, "hand-built buses")
  t.eq(render.root_slots_used(m), 3, "hand-built root slots")
end

-- Planned and hand-placed parts share ids, chassis/slot pairs and root slots, either order.
function T.test_mixed_with_hand_placed()
  local p
  local m, errs, msg = t.plan(function(vf, m)
    local v = vfs(vf, 20)
    m:root_port { id = "mgmt", addr = "01.0", chassis = 1, slot = 2 }:add(v[1], { id = "nic0" })
    m:add(v[2])                                    -- next free root slot, after the plan's
    p = m:place(table.move(v, 3, 19, 1, {}), { strategy = "flat" })
    m:root_port():add(v[20])
  end)
  t.eq(#errs, 0, "errors: " .. msg)
  local argv = argv_of(m)
  -- The plan's 17 root ports: rp1..rp17 in slots 03, 04, 05 (01 is the hand-placed port's,
  -- 02 the root-bus device's); chassis 1 slot 2 is skipped, being the user's.
  t.eq(p.root_ports[1].id, "rp1", "first planned id")
  t.eq(p.root_ports[1].addr.slot, 3, "first planned slot")
  t.eq(p.root_ports[17].addr.slot, 5, "last planned slot")
  t.eq(p.root_ports[1].slot, 1, "chassis slot 1")
  t.eq(p.root_ports[2].slot, 3, "chassis slot 2 is the user's")
  assert(argv:find("vfio-pci,host=0000:11:00.2,id=hostdev1,bus=pcie.0,addr=02.0", 1, true), argv)
  assert(argv:find("pcie-root-port,id=rp18,bus=pcie.0,addr=06.0", 1, true), argv)
  t.eq(m.buses_used, 1 + 1 + 17 + 1, "buses")
  -- The planned ports are ordinary ports: a script can hang more on them.
  t.eq(#p.ports, 17, "ports with devices")
end

function T.test_spare_ports()
  local p
  local m, errs = t.plan(function(vf, m)
    p = m:place(vfs(vf, 6), { strategy = "flat", spare_ports = 4 })
  end)
  t.eq(#errs, 0, "errors")
  t.eq(#p.root_ports, 10, "root ports")
  t.eq(#p.spares, 4, "spares")
  for _, s in ipairs(p.spares) do assert(s:is_free(), "a spare port is empty") end
  t.eq(m.buses_used, 11, "buses")
  t.eq(render.root_slots_used(m), 2, "root slots")

  m, errs = t.plan(function(vf, mm)
    p = mm:place(vfs(vf, 30), { strategy = "switch", spare_ports = 4 })
    p.spares[4]:add(vfs(vf, 31)[31]) -- a spare is an ordinary port
  end)
  t.eq(#errs, 0, "errors")
  t.eq(#p.switches, 2, "30 + 4 downstream ports: 2 switches")
  t.eq(#p.switches[2].ports, 2, "the second switch has the 2 left")
  t.eq(#p.spares, 4, "spares")
  t.eq(m.buses_used, 1 + 4 + 34, "buses")

  m, errs = t.plan(function(vf, mm)
    p = mm:place(vfs(vf, 17), { strategy = "dense", spare_ports = 2 })
  end)
  t.eq(#errs, 0, "errors")
  t.eq(#p.root_ports, 5, "3 ports for 17 devices, 2 spare")
  t.eq(#p.spares, 2, "spares")
  t.eq(p.devices[17].parent.owner, p.ports[3], "the last port's one device")
  assert(not p.ports[3]:is_free(), "the last port holds a device")
  t.eq(m.buses_used, 6, "5 root ports")
end

function T.test_dense_per_port()
  local p
  local m, errs = t.plan(function(vf, m)
    p = m:place(vfs(vf, 10), { strategy = "dense", per_port = 4 })
  end)
  t.eq(#errs, 0, "errors")
  t.eq(#p.root_ports, 3, "4 + 4 + 2")
  t.eq(p.devices[5].parent.owner, p.root_ports[2], "5th device on the 2nd port")
  t.eq(m.buses_used, 4, "buses")
end

-- Refusals: before anything is created, at the place() line, with the numbers and a way out.
local function refused(substrings, spec, f)
  local line
  local function mark() line = debug.getinfo(2, "l").currentline end
  local msg = t.checkerror(substrings, function()
    t.plan(function(vf, m) f(vf, m, mark) end, spec)
  end)
  assert(msg:find("test_plan.lua:" .. line .. ": place: ", 1, true),
    "the refusal names the place() line " .. line .. ": " .. msg)
  return msg
end

function T.test_refuse_flat_249()
  local msg = refused({ "place: 249 devices with strategy 'flat' needs 32 root slots for 249 " ..
    "root ports (8 per slot), virt has 31 (00.0 holds the host bridge (gpex))",
    "use strategy 'dense' (fits up to 1984)", "place at most 248 devices this way" }, nil,
    function(vf, m, ln) ln(); m:place(vfs(vf, 249), { strategy = "flat" }) end)
  assert(not msg:find("switch"), "switch fits only 239: not a way out for 249: " .. msg)
end

function T.test_refuse_dense_1985()
  refused({ "place: 1985 devices with strategy 'dense' needs 32 root slots for 249 root ports",
    "place at most 1984 devices this way",
    "split the devices across guests: one virt guest takes at most 1984 (31 root slots x 8 " ..
    "root ports x 8 functions, 256 buses)" }, nil,
    function(vf, m, ln) ln(); m:place(vfs(vf, 1985), { strategy = "dense" }) end)
end

function T.test_refuse_switch_over_budget()
  -- 256 devices in 8 full switches: 273 buses.
  refused({ "place: 256 devices with strategy 'switch' needs 273 buses, virt has 256: " ..
    "use strategy 'dense' (fits up to 1984), or place at most 239 devices this way" }, nil,
    function(vf, m, ln) ln(); m:place(vfs(vf, 256), { strategy = "switch" }) end)
  -- Small switches waste buses on upstream ports: the way out names the parameter.
  refused({ "needs 307 buses, virt has 256", "use ports_per_switch = 32 (fits up to 239)",
    "use strategy 'flat' (fits up to 248)" }, nil,
    function(vf, m, ln)
      ln(); m:place(vfs(vf, 204), { strategy = "switch", ports_per_switch = 4 })
    end)
end

function T.test_refuse_16_buses()
  for _, spec in ipairs {
    { type = "virt", options = { "gic-version=3", "highmem=off" }, why = "highmem or highmem-ecam is off" },
    { type = "virt", options = { "gic-version=3", "highmem-ecam=off" }, why = "highmem-ecam is off" },
    { type = "virt-2.12", options = { "gic-version=3" }, why = "virt-2.12 has no high ECAM" },
  } do
    local why = spec.why
    spec.why = nil
    refused({ "place: 16 devices with strategy 'flat' needs 17 buses, virt", "has 16 (", why,
      "use strategy 'dense' (fits up to 120)", "place at most 15 devices this way",
      "give the machine the high ECAM for 256 buses" }, spec,
      function(vf, m, ln) ln(); m:place(vfs(vf, 16), { strategy = "flat" }) end)
  end
  -- What does fit: 15 flat, 120 dense.
  planned("flat", 15, { buses = 16, slots = 2, root_ports = 15 },
    { type = "virt", options = { "gic-version=3", "highmem=off" } })
  planned("dense", 120, { buses = 16, slots = 2, root_ports = 15 },
    { type = "virt-2.12", options = { "gic-version=3" } })
  -- virt-3.0 has the high ECAM; highmem=on changes nothing.
  planned("flat", 64, { buses = 65, slots = 8, root_ports = 64 },
    { type = "virt-3.0", options = { "gic-version=3", "highmem=on" } })
end

function T.test_q35_reserved_slots()
  -- With QEMU's defaults: 00 (MCH), 01 (VGA), 02 (NIC), 1f (ICH9) taken, 28 slots left.
  local _, p = planned("flat", 64, { buses = 65, slots = 8, root_ports = 64 }, { type = "q35" })
  t.eq(p.root_ports[1].addr.slot, 3, "first root port at 03.0 (01, 02 are the defaults')")
  t.eq(p.root_ports[64].addr.slot, 0x0a, "last at 0a.7")
  refused({ "place: 225 devices with strategy 'flat' needs 29 root slots for 225 root ports " ..
    "(8 per slot), q35 has 28 (00.0 holds the host bridge (MCH); 01.0 holds the default VGA card",
    "1f.x holds the ICH9 functions", "use strategy 'dense' (fits up to 1792)",
    "add '-nodefaults' to the machine's args to free root slots 01 and 02" }, { type = "q35" },
    function(vf, m, ln) ln(); m:place(vfs(vf, 225), { strategy = "flat" }) end)
  -- -nodefaults frees 01 and 02: 30 slots, 240 flat.
  _, p = planned("flat", 240, { buses = 241, slots = 30, root_ports = 240 }, Q35)
  t.eq(p.root_ports[1].addr.slot, 1, "first root port at 01.0 with -nodefaults")
  t.eq(p.root_ports[240].addr.slot, 0x1e, "last at 1e.7")
  refused({ "place: 241 devices with strategy 'flat' needs 31 root slots", "q35 has 30" }, Q35,
    function(vf, m, ln) ln(); m:place(vfs(vf, 241), { strategy = "flat" }) end)
  -- q35 64 in two switches of 32, as was seen in a guest.
  planned("switch", 64, { buses = 69, slots = 1, root_ports = 2 }, Q35)
  planned("dense", 1920, { buses = 241, slots = 30, root_ports = 240 }, Q35)
end

function T.test_refuse_counts_hand_placed_parts()
  refused({ "needs 32 root slots for 248 root ports (8 per slot), virt has 31",
    "and 1 of them are taken by parts placed before", "place at most 240 devices this way" }, nil,
    function(vf, m, ln)
      m:add(vfs(vf, 1)[1])
      ln(); m:place(table.move(vfs(vf, 249), 2, 249, 1, {}), { strategy = "flat" })
    end)
  refused({ "needs 257 buses, virt has 256" }, nil, function(vf, m, ln)
    m:root_port():switch { ports = 10 }
    ln(); m:place(vfs(vf, 244), { strategy = "flat" })
  end)
end

-- Parts placed after a plan are checked when the script returns; the error names the plan too.
function T.test_overflow_after_plan_names_the_plan()
  local line
  local _, errs, msg = t.plan(function(vf, m)
    line = debug.getinfo(1, "l").currentline; m:place(vfs(vf, 240), { strategy = "flat" })
    m:root_port():switch { ports = 32 }
  end)
  t.eq(#errs, 1, "errors")
  assert(msg:find("machine needs 275 buses, virt has 256 (m:place() at " ..
    "tests/lua/test_plan.lua:" .. line .. " takes 240)", 1, true), msg)
end

function T.test_refuse_spares()
  refused({ "place: 248 devices with strategy 'flat' and 1 spare port needs 32 root slots",
    "ask for fewer spare ports (with none, 'flat' fits 248)" }, nil,
    function(vf, m, ln)
      ln(); m:place(vfs(vf, 248), { strategy = "flat", spare_ports = 1 })
    end)
end

-- virt without GICv3: GICv2m's 64 MSIs, counted over devices and root/downstream ports.
function T.test_gicv2_msi_limit()
  local _, errs, msg = t.plan(function(vf, m)
    m:place(vfs(vf, 33), { strategy = "flat" })
  end, { type = "virt" })
  t.eq(#errs, 1, "errors")
  assert(msg:find("machine has 33 devices and 33 ports that take at least one MSI each (66), " ..
    "and GICv2m (virt's default GICv2) has 64 MSI vectors", 1, true), msg)
  assert(msg:find("gic-version=3", 1, true), msg)
  _, errs = t.plan(function(vf, m) m:place(vfs(vf, 32), { strategy = "flat" }) end,
    { type = "virt", options = { "gic-version=2" } })
  t.eq(#errs, 0, "32 devices + 32 ports fit in 64")
  _, errs = t.plan(function(vf, m) m:place(vfs(vf, 64), { strategy = "dense" }) end,
    { type = "virt" })
  t.eq(#errs, 1, "64 devices + 8 ports do not")
  for _, gic in ipairs { "3", "4", "max", "host" } do
    _, errs = t.plan(function(vf, m) m:place(vfs(vf, 64), { strategy = "flat" }) end,
      { type = "virt", options = { "gic-version=" .. gic } })
    t.eq(#errs, 0, "gic-version=" .. gic)
  end
  _, errs = t.plan(function(vf, m) m:place(vfs(vf, 200), { strategy = "flat" }) end, { type = "q35" })
  t.eq(#errs, 0, "q35: no MSI rule")
end

-- A plan is validated like hand-placed parts: the host must have every device.
function T.test_plan_checks_host_presence()
  local _, errs, msg = t.plan(function(vf, m)
    local v = vfs(vf, 2)
    v[3] = "0000:11:1f.7"
    m:place(v, { strategy = "dense" })
  end)
  t.eq(#errs, 1, "errors")
  assert(msg:find("device 'hostdev3': host device 0000:11:1f.7 is not present on this host", 1,
    true), msg)
  assert(msg:find("test_plan.lua:%d+: "), msg)
end

function T.test_bad_calls()
  t.checkerror({ "test_plan.lua:", "place: strategy must be 'flat', 'switch' or 'dense', " ..
    "not 'wide'" }, function()
    t.plan(function(vf, m) m:place(vfs(vf, 1), { strategy = "wide" }) end)
  end)
  t.checkerror("strategy must be 'flat', 'switch' or 'dense', not missing", function()
    t.plan(function(vf, m) m:place(vfs(vf, 1)) end)
  end)
  t.checkerror("place: unknown option 'spares'", function()
    t.plan(function(vf, m) m:place(vfs(vf, 1), { strategy = "flat", spares = 2 }) end)
  end)
  t.checkerror("place: ports_per_switch must be an integer from 1 to 32, not 33", function()
    t.plan(function(vf, m) m:place(vfs(vf, 1), { strategy = "switch", ports_per_switch = 33 }) end)
  end)
  t.checkerror("place: per_port is for strategy 'dense'", function()
    t.plan(function(vf, m) m:place(vfs(vf, 1), { strategy = "flat", per_port = 2 }) end)
  end)
  t.checkerror("place: devices[2] is a number, not a host device or an address", function()
    t.plan(function(vf, m) m:place({ vfs(vf, 1)[1], 7 }, { strategy = "flat" }) end)
  end)
end

-- What --json shows is what rehearsal compares with the guest: guest bus and address per device.
function T.test_json_guest_addresses()
  local m = planned("switch", 33, { buses = 1 + 4 + 33, slots = 1, root_ports = 2 })
  local facts = render.device_facts(m)
  t.eq(facts[1].guest_address, "0000:03:00.0", "first: rp1 -> 01, up1 -> 02, dp1 -> 03")
  t.eq(facts[32].guest_address, "0000:22:00.0", "32nd: dp32 -> 0x22")
  t.eq(facts[33].guest_address, "0000:25:00.0", "33rd: rp2 -> 0x23, up2 -> 0x24, dp33 -> 0x25")
end

t.run("plan", T)
