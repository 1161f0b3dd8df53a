-- expect 1: ^vflaunch: @:6: device 'hostdev32': pcie.0 is full: virt has 31 slots for devices and root ports (00.0 holds the host bridge
local vf = require "vflaunch"
local m = vf.machine { type = "virt" }
local vfs = vf.vfs { vendor = 0x8086, device = 0x10fb }
for i = 1, 32 do
  m:add(vfs[i])
end
