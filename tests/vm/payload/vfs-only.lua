-- Test host script (tests/vm): give each emulated NVMe PF N VFs (argument, default 8) and launch
-- nothing: what a site does before it lists what it has.
local vf = require "vflaunch"
local n = tonumber(arg[1]) or 8
for _, pf in ipairs(vf.find { vendor = 0x1b36, device = 0x0010 }) do
  if pf.sriov_totalvfs then pf:set_vfs(n) end
end
