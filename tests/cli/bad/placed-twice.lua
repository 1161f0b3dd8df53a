-- expect 1: ^vflaunch: @:6: device 'hostdev2': host device 0002:81:10.0 is already placed as device 'hostdev1' (@:5)
local vf = require "vflaunch"
local m = vf.machine { type = "virt" }
local first = vf.vfs { vendor = 0x8086 }[1]
m:add(first)
m:root_port():add("0002:81:10.0")
