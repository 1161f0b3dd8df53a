-- Rehearsal case: 31 VFs straight on pcie.0, every free slot of virt's root bus (00.0 holds the
-- host bridge). One more is the "pcie.0 is full" error of tests/cli/bad/root-bus-full.lua.
local vf = require "vflaunch"
local m = vf.machine { type = "virt", options = { "gic-version=3" } }
local vfs = vf.vfs { vendor = 0x8086, device = 0x10fb }
for i = 1, 31 do m:add(vfs[i]) end
