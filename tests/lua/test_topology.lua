-- SPDX-License-Identifier: MIT
-- Topology building, automatic assignment, and every validation rule, on the simulated 82599 host.
local t = dofile(arg[0]:match("^(.*)/") .. "/testlib.lua")
local render = require "vflaunch.render"

local T = {}

local function vfs(vf, n)
  local list = vf.vfs { vendor = 0x8086, device = 0x10fb }
  return table.move(list, 1, n, 1, {})
end

function T.test_inventory_of_simulated_host()
  local vf = require "vflaunch"
  local pfs = vf.find { vendor = 0x8086, device = 0x10fb }
  t.eq(#pfs, 2, "PFs")
  t.eq(pfs[1].address, "0002:81:00.0")
  t.eq(pfs[1].driver, "ixgbe")
  t.eq(#pfs[1]:vfs(), 63, "VFs of PF0")
  t.eq(pfs[1]:vfs()[2].address, "0002:81:10.2")
  t.eq(pfs[2]:vfs()[1].address, "0002:81:10.1")
  t.eq(pfs[2]:vfs()[1]:pf(), pfs[2], "VF -> PF")
  t.eq(#vf.vfs { vendor = 0x8086 }, 126, "all VFs")
  t.eq(vf.host:get("0002:81:10.0").driver, "vfio-pci")
  t.eq(vf.host:get("0002:81:10.0").vendor_name, "Intel Corporation")
end

function T.test_two_on_root_bus()
  local m, errs = t.plan(function(vf, m)
    local v = vfs(vf, 2)
    m:add(v[1]); m:add(v[2])
  end)
  t.eq(#errs, 0, "errors")
  local argv = table.concat(render.argv(m, "qemu-system-aarch64"), " ")
  assert(argv:find("-device vfio-pci,host=0002:81:10.0,id=hostdev1,bus=pcie.0,addr=01.0", 1, true), argv)
  assert(argv:find("-device vfio-pci,host=0002:81:10.2,id=hostdev2,bus=pcie.0,addr=02.0", 1, true), argv)
  t.eq(m.buses_used, 1, "buses")
end

function T.test_switch_auto_assignment()
  local m, errs = t.plan(function(vf, m)
    local sw = m:root_port():switch { ports = 4 }
    for _, v in ipairs(vfs(vf, 4)) do sw:free_port():add(v) end
    assert(sw:full())
  end)
  t.eq(#errs, 0, "errors")
  local argv = table.concat(render.argv(m, "q"), "\n")
  assert(argv:find("pcie-root-port,id=rp1,bus=pcie.0,addr=01.0,chassis=1,slot=1,io-reserve=0", 1, true), argv)
  assert(argv:find("x3130-upstream,id=up1,bus=rp1,addr=00.0", 1, true), argv)
  assert(argv:find("xio3130-downstream,id=dp1,bus=up1,addr=00.0,chassis=1,slot=2", 1, true), argv)
  assert(argv:find("xio3130-downstream,id=dp4,bus=up1,addr=03.0,chassis=1,slot=5", 1, true), argv)
  assert(argv:find("vfio-pci,host=0002:81:10.6,id=hostdev4,bus=dp4,addr=00.0", 1, true), argv)
  -- bus 0, rp1 -> 1, up1 -> 2, dp1..dp4 -> 3..6
  t.eq(m.buses_used, 7, "buses")
  t.eq(m:devices()[4].parent.number, 6, "guest bus of the 4th device")
end

function T.test_big_guest_budget()
  local m, errs = t.plan(function(vf, m)
    local sw
    for _, v in ipairs(vfs(vf, 64)) do
      if not sw or sw:full() then sw = m:root_port():switch { ports = 32 } end
      sw:free_port():add(v)
    end
  end)
  t.eq(#errs, 0, "errors")
  t.eq(m.buses_used, 69, "buses")
  t.eq(render.budget_line(m), "buses 69/256, root slots 2/31, devices 64")
end

function T.test_user_ids_and_pairs_are_kept_and_skipped()
  local m, errs = t.plan(function(vf, m)
    local v = vfs(vf, 2)
    m:root_port { id = "rp2", chassis = 1, slot = 1 }:add(v[1], { id = "nic0" })
    m:root_port():add(v[2])
  end)
  t.eq(#errs, 0, "errors")
  local argv = table.concat(render.argv(m, "q"), "\n")
  assert(argv:find("id=rp2,bus=pcie.0,addr=01.0,chassis=1,slot=1", 1, true), argv)
  assert(argv:find("id=rp1,bus=pcie.0,addr=02.0,chassis=1,slot=2", 1, true), argv)
  assert(argv:find("vfio-pci,host=0002:81:10.0,id=nic0,bus=rp2", 1, true), argv)
end

function T.test_multifunction_root_ports()
  local m, errs = t.plan(function(vf, m)
    for i, v in ipairs(vfs(vf, 3)) do
      m:root_port { addr = string.format("01.%d", i - 1) }:add(v)
    end
  end)
  t.eq(#errs, 0, "errors")
  local argv = table.concat(render.argv(m, "q"), "\n")
  assert(argv:find("id=rp1,bus=pcie.0,addr=01.0,multifunction=on", 1, true), argv)
  assert(argv:find("id=rp2,bus=pcie.0,addr=01.1,chassis", 1, true), argv)
  t.eq(render.root_slots_used(m), 1, "root slots")
end

function T.test_functions_behind_port()
  local m, errs = t.plan(function(vf, m)
    m:root_port():functions(vfs(vf, 8))
  end)
  t.eq(#errs, 0, "errors")
  local argv = table.concat(render.argv(m, "q"), "\n")
  assert(argv:find("id=hostdev1,bus=rp1,addr=00.0,multifunction=on", 1, true), argv)
  assert(argv:find("id=hostdev8,bus=rp1,addr=00.7", 1, true), argv)
end

-- Each validation rule: the message names the element, the line, and the fix.
function T.test_error_root_bus_full()
  local _, errs, msg = t.plan(function(vf, m)
    for _, v in ipairs(vfs(vf, 32)) do m:add(v) end
  end)
  t.eq(#errs, 1, "errors")
  assert(msg:find("device 'hostdev32': pcie.0 is full: virt has 31 slots", 1, true), msg)
  assert(msg:find("00.0 holds the host bridge", 1, true), msg)
  assert(msg:find("root ports", 1, true) and msg:find("switch", 1, true), msg)
  assert(msg:find("test_topology.lua:%d+: "), msg)
end

function T.test_error_duplicate_chassis_slot()
  local _, errs, msg = t.plan(function(vf, m)
    local v = vfs(vf, 2)
    m:root_port { chassis = 3, slot = 7 }:add(v[1])
    m:root_port { chassis = 3, slot = 7 }:add(v[2])
  end)
  t.eq(#errs, 1, "errors")
  assert(msg:find("root port 'rp2': chassis 3 slot 7 is already used by root port 'rp1'", 1, true), msg)
end

function T.test_error_nonzero_device_behind_port()
  local _, errs, msg = t.plan(function(vf, m)
    m:root_port():add(vfs(vf, 1)[1], { addr = "01.0" })
  end)
  t.eq(#errs, 1, "errors")
  assert(msg:find("is at 01.0 behind root port 'rp1', and the guest scans only device 0", 1, true), msg)
end

function T.test_error_same_host_device_twice()
  local _, errs, msg = t.plan(function(vf, m)
    local v = vfs(vf, 1)[1]
    m:add(v); m:root_port():add(v.address)
  end)
  t.eq(#errs, 1, "errors")
  assert(msg:find("host device 0002:81:10.0 is already placed as device 'hostdev1'", 1, true), msg)
end

function T.test_error_bad_and_absent_addresses()
  local _, errs, msg = t.plan(function(_, m)
    m:add("0002:81:20.0")
    m:add("0002:81:1f.7")
    m:add("not-an-address")
  end)
  t.eq(#errs, 3, "errors")
  assert(msg:find("host address '0002:81:20.0' is not a PCI address: device 0x20", 1, true), msg)
  assert(msg:find("host device 0002:81:1f.7 is not present on this host", 1, true), msg)
  assert(msg:find("host address 'not-an-address' is not a PCI address", 1, true), msg)
end

function T.test_error_bus_budget()
  local _, errs, msg = t.plan(function(vf, m)
    local all = vf.vfs { vendor = 0x8086 }
    for s = 1, 9 do
      local sw = m:root_port():switch { ports = 32 }
      for p = 1, 14 do sw.ports[p]:add(all[(s - 1) * 14 + p]) end
    end
  end)
  t.eq(#errs, 1, "errors")
  assert(msg:find("machine needs 307 buses, virt has 256", 1, true), msg)
end

function T.test_error_budget_low_ecam()
  local _, errs, msg = t.plan(function(vf, m)
    local sw = m:root_port():switch { ports = 16 }
    sw.ports[1]:add(vfs(vf, 1)[1])
  end, { type = "virt", options = { "highmem=off" } })
  t.eq(#errs, 1, "errors")
  assert(msg:find("needs 19 buses, virt has 16 (highmem or highmem-ecam is off", 1, true), msg)
end

function T.test_error_reserved_root_slot()
  local _, errs, msg = t.plan(function(vf, m)
    m:add(vfs(vf, 1)[1], { addr = "00.0" })
  end)
  t.eq(#errs, 1, "errors")
  assert(msg:find("00.0 on pcie.0 is not free: 00.0 holds the host bridge", 1, true), msg)
end

function T.test_error_bad_calls_name_the_line()
  t.checkerror({ "test_topology.lua:", "root_port: unknown option 'chasis'" }, function()
    t.plan(function(_, m) m:root_port { chasis = 1 } end)
  end)
  t.checkerror({ "switch: ports must be an integer from 1 to 32, not 33" }, function()
    t.plan(function(_, m) m:root_port():switch { ports = 33 } end)
  end)
  t.checkerror({ "id \"1bad\" is not a QEMU id" }, function()
    t.plan(function(_, m) m:root_port { id = "1bad" } end)
  end)
end

t.run("topology", T)
