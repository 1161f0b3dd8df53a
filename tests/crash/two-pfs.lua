-- Crash-consistency fixture (tests/crash/run.sh): give both 82599 PFs 8 VFs and pass the first
-- two VFs of each through, the first with a MAC and a VLAN: 2 SR-IOV count changes, 2 VF
-- identities (MAC and VLAN, one write each) and 4 binds, each journaled first.
local vf = require "vflaunch"
local m = vf.machine { memory = "1G" }
for _, pf in ipairs(vf.find { device = 0x10fb }) do
  local vfs = pf:set_vfs(8)
  m:add(vfs[1], { mac = "auto", vlan = 10 })
  m:add(vfs[2])
end
