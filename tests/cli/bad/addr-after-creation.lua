-- expect 1: ^vflaunch: @:4: device 'hostdev1': addr was changed after creation: addr {slot = 99} is not a slot.function
local vf = require "vflaunch"
local m = vf.machine { options = { "gic-version=3" } }
local d = m:add(vf.vfs { vendor = 0x8086 }[1])
d.addr = { slot = 99 }
