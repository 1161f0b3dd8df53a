-- expect 1: ^vflaunch: @:4: find: vendor must be an integer, such as 0x8086, not "0x8086"
local vf = require "vflaunch"
-- A string once matched nothing, silently.
local pfs = vf.find { vendor = "0x8086" }
vf.machine {}:add(pfs[1])
