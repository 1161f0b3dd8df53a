-- Test script: a machine with ports and no passthrough device, so a launch needs no vfio, no
-- IOMMU and no locked memory: what is left is validation and the exec itself.
local vf = require "vflaunch"
local m = vf.machine { type = "virt", memory = "256M" }
m:root_port():switch { ports = 2 }
