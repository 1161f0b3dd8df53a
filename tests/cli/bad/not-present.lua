-- expect 1: ^vflaunch: @:4: device 'hostdev1': host device 0002:81:1f.7 is not present on this host
local vf = require "vflaunch"
local m = vf.machine { type = "virt" }
m:add("0002:81:1f.7")
