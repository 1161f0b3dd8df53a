-- Test host script (tests/vm): pass through function 0 of the two-function NVMe device that the
-- test host has behind one root port. Both functions share an IOMMU group (no ACS between them)
-- and function 1 stays on the host's nvme driver: the group is not viable.
local vf = require "vflaunch"
local m = vf.machine { type = "virt", memory = "256M" }
for _, d in ipairs(vf.find { vendor = 0x1b36, device = 0x0010 }) do
  if not d.sriov_totalvfs and not d.physfn and d.func == 0 and d.driver == "nvme" then
    local mates = vf.find { iommu_group = d.iommu_group }
    if #mates > 1 then
      m:add(d)
      return
    end
  end
end
error("the test host has no multifunction NVMe device sharing an IOMMU group")
