-- two-vfs.lua: the smallest useful guest. Two VFs of the first 82599 port, straight on the root
-- bus pcie.0 — what a hand-written command line does, and where it stops: virt's root bus has 31
-- free slots. Run: vflaunch --simulate -t two-vfs.lua
local vf = require "vflaunch"

local m = vf.machine {
  type = "virt", options = { "gic-version=3" },
  accel = "kvm", cpu = "host", smp = 4, memory = "4G",
  kernel = "/var/lib/vflaunch/Image", append = "console=ttyAMA0 root=/dev/vda",
  args = { "-nographic" },
}

-- The first PF of the dual-port 82599 (8086:10fb), and its first two VFs.
local pf = vf.find { vendor = 0x8086, device = 0x10fb }[1]
if not pf then error("this host has no Intel 82599 (8086:10fb)") end
local vfs = pf:vfs()
if #vfs < 2 then
  error(string.format("the 82599 at %s has %d VFs, 2 are needed: give it some with " ..
    "pf:set_vfs(2)", pf.address, #vfs))
end
m:add(vfs[1])
m:add(vfs[2])
