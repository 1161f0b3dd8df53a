-- SPDX-License-Identifier: MIT
-- vflaunch --list: the host's PCI devices with what passthrough needs to know about each.
local inventory = require "vflaunch.inventory"
local json = require "vflaunch.json"

local M = {}

-- Could vfio take this device now? "bound", "yes", or "no: why".
local function vfio_state(d, inv)
  if d:is_bridge() then return "no: bridge" end
  if not d.iommu_group then return "no: no IOMMU group" end
  for _, o in ipairs(inv:find { iommu_group = d.iommu_group }) do
    if o ~= d and not o:is_bridge() and o.driver and o.driver ~= "vfio-pci" and
        o.driver ~= "pci-stub" then
      return "no: group " .. d.iommu_group .. " shares " .. o.address .. " (" .. o.driver .. ")"
    end
  end
  return d.driver == "vfio-pci" and "bound" or "yes"
end

local function row(d, inv)
  local rel = ""
  if d.physfn then
    rel = "VF of " .. d.physfn
  elseif d.sriov_totalvfs then
    rel = string.format("PF %d/%d VFs", d.sriov_numvfs, d.sriov_totalvfs)
  end
  return string.format("%s  %04x:%04x  %-10s  group %-4s  node %-2s  %-18s  vfio %-6s  %s",
    d.address, d.vendor, d.device, d.driver or "-", d.iommu_group or "-", d.numa_node or "-",
    rel, vfio_state(d, inv), d:describe())
end

function M.run(opts)
  local inv = inventory.scan(opts.sysfs)
  local list = {}
  for _, d in ipairs(inv.devices) do
    if not opts.vfs or d.physfn or d.sriov_totalvfs then list[#list + 1] = d end
  end
  if opts.json then
    local out = {}
    for i, d in ipairs(list) do
      out[i] = { address = d.address, vendor = d.vendor, device = d.device, class = d.class,
        vendor_name = d.vendor_name or json.null, device_name = d.device_name or json.null,
        driver = d.driver or json.null, iommu_group = d.iommu_group or json.null,
        numa_node = d.numa_node or json.null, physfn = d.physfn or json.null,
        sriov_totalvfs = d.sriov_totalvfs or json.null,
        sriov_numvfs = d.sriov_numvfs or json.null, vfs = d.vfs_addresses or json.null,
        vfio = vfio_state(d, inv) }
    end
    io.stdout:write(json.encode(out), "\n")
  else
    io.stdout:write("address       ids        driver      group       node     SR-IOV" ..
      "              vfio         name\n")
    for _, d in ipairs(list) do io.stdout:write(row(d, inv), "\n") end
  end
  return 0
end

return M
