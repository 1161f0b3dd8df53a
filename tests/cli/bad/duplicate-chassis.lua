-- expect 1: ^vflaunch: @:6: root port 'rp2': chassis 1 slot 5 is already used by root port 'rp1' (@:5)
local vf = require "vflaunch"
local m = vf.machine { type = "virt" }
local vfs = vf.vfs { vendor = 0x8086, device = 0x10fb }
m:root_port { chassis = 1, slot = 5 }:add(vfs[1])
m:root_port { chassis = 1, slot = 5 }:add(vfs[2])
