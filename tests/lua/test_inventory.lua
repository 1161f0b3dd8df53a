-- SPDX-License-Identifier: MIT
-- The inventory's calls: filters whose values have the wrong type are errors that say what is
-- wanted (they once matched nothing, silently), free devices through the driver's is_free, and
-- methods called with '.' instead of ':'.
local t = dofile(arg[0]:match("^(.*)/") .. "/testlib.lua")

local T = {}

local refused = t.refused

-- D15: filter values of the wrong type are errors that say what is wanted; free devices.
function T.test_find_filter_types()
  local vf = require "vflaunch"
  for _, case in ipairs {
    { { vendor = "0x8086" }, "find: vendor must be an integer, such as 0x8086, not \"0x8086\"" },
    { { device = 4347.0 }, "find: device must be an integer" },
    { { class = "02" }, "find: class must be an integer" },
    { { numa_node = "1" }, "find: numa_node must be an integer" },
    { { iommu_group = true }, "find: iommu_group must be an integer" },
    { { driver = true }, "find: driver must be a driver name, or false for devices with no " ..
      "driver, not true" },
    { { address = 2 }, "find: address must be a string" },
    { { physfn = {} }, "find: physfn must be a PF's address" },
    { { free = "yes" }, "find: free must be true or false" },
    { { vendr = 1 }, "find: unknown filter field \"vendr\"" },
    { "x", "find: expected a table of filter fields" },
  } do
    refused(case[2], function() local r = vf.find(case[1]) return r end)
  end
  refused("vfs: vendor must be an integer", function()
    local r = vf.vfs { vendor = "0x8086" }
    return r
  end)
  local none = 0
  for _, d in ipairs(vf.host.devices) do none = none + (d.driver and 0 or 1) end
  t.eq(#vf.find { driver = false }, none, "driver = false")
end

function T.test_find_free()
  local vf = require "vflaunch"
  -- The run installs is_free: on the simulated host no launch holds anything.
  t.eq(#vf.vfs { vendor = 0x8086, device = 0x10fb, free = true }, 126, "free VFs, no launch")
  -- Here a stand-in says odd-numbered functions are taken.
  local host = vf.host
  local saved = host.is_free
  host.is_free = function(d) return d.func % 2 == 0 end
  local ok, err = pcall(function()
    local free = vf.vfs { vendor = 0x8086, device = 0x10fb, free = true }
    t.eq(#free, 63, "VFs at even functions")
    for _, d in ipairs(free) do t.eq(d.func % 2, 0, d.address) end
    t.eq(#vf.vfs { vendor = 0x8086, free = false }, 63, "the others")
    t.eq(#vf.find { vendor = 0x8086, device = 0x10fb, free = true }, 1, "the PF at 00.0")
  end)
  host.is_free = saved
  if not ok then error(err, 0) end
end

-- D19: methods called with '.' instead of ':'.
function T.test_methods_called_with_a_dot()
  local vf = require "vflaunch"
  local pf = vf.find { vendor = 0x8086 }[1]
  for _, case in ipairs {
    { function() pf.vfs() end, "vfs is a method: call it with ':', as in pf:vfs()" },
    { function() pf.pf() end, "as in vf:pf()" },
    { function() pf.describe() end, "as in dev:describe()" },
    { function() pf.is_bridge() end, "as in dev:is_bridge()" },
    { function() pf.set_vfs(8) end, "as in pf:set_vfs(n)" },
    { function() vf.host.get("0002:81:10.0") end, "get is a method: call it with ':', as in " ..
      "vf.host:get(address)" },
    { function() vf.host.find {} end, "as in vf.host:find{...}" },
    { function() vf.host.vfs {} end, "as in vf.host:vfs{...}" },
    { function() vf.host:get(7) end, "get: expected a PCI address string" },
  } do
    refused(case[2], case[1])
  end
  t.eq(vf.host:get("81:10.0"), nil, "domain 0 has no such device")
  t.eq(vf.host:get("0002:81:10.0").address, "0002:81:10.0", "get")
end

-- is_bridge: a root port is one (its class says so), a PF is not (nor are class and header),
-- and neither is a VF (known from the links between it and its PF, without reading class and
-- config); a plan that places a bridge is refused.
function T.test_is_bridge()
  local vf = require "vflaunch"
  t.eq(vf.host:get("0002:80:02.0"):is_bridge(), true, "root port")
  t.eq(vf.host:get("0000:00:17.0"):is_bridge(), false, "SATA controller")
  local pf = vf.host:get("0002:81:00.0")
  t.eq(pf:is_bridge(), false, "PF")
  local v = pf:vfs()[1]
  t.eq(v:is_bridge(), false, "VF")
  t.eq(rawget(v, "header_type"), nil, "the VF's config was not read")
  t.eq(v.header_type, 0, "the VF's header type, read when asked for")
  local _, errs, msg = t.plan(function(_, m) m:add("0002:80:02.0") end)
  t.eq(#errs, 1, "errors")
  assert(msg:find("host device 0002:80:02.0 is a bridge, not an endpoint", 1, true), msg)
end

-- A fact read for another device's sake reaches that device too: a VF's physfn check reads its
-- PF's SR-IOV counts in C, and the PF's table once kept sriov_totalvfs nil after that.
function T.test_facts_read_for_another()
  local vf = require "vflaunch"
  local v = vf.host:get("0002:81:10.0")
  t.eq(v:is_bridge(), false, "VF")
  local pf = vf.host:get("0002:81:00.0")
  t.eq(pf.sriov_totalvfs, 63, "the PF's sriov_totalvfs after its VF's physfn was checked")
  t.eq(pf.sriov_numvfs, 63, "and its sriov_numvfs")
end

-- Facts are read when first asked for, and pairs() still sees every one.
function T.test_facts_on_demand()
  local vf = require "vflaunch"
  local d = vf.host:get("0002:81:10.0")
  t.eq(rawget(d, "driver"), nil, "nothing read yet")
  t.eq(d.driver, "vfio-pci", "driver")
  t.eq(rawget(d, "driver"), "vfio-pci", "kept")
  local seen = {}
  for k in pairs(vf.host:get("0002:81:00.1")) do seen[k] = true end
  for _, k in ipairs { "vendor", "device", "class", "subsys_vendor", "header_type", "vendor_name",
    "device_name", "class_name", "driver", "iommu_group", "numa_node", "sriov_totalvfs",
    "sriov_numvfs", "vfs_addresses" } do
    assert(seen[k], "pairs() lacks " .. k)
  end
  -- What reads them is a C core, which no script reaches.
  for k, v in pairs(vf.host) do assert(type(v) ~= "userdata", "vf.host." .. k .. " is a core") end
end

t.run("inventory", T)
