-- expect 1: ^vflaunch: @:4: device 'hostdev1': host address '0002:81:20.0' is not a PCI address: device 0x20
local vf = require "vflaunch"
local m = vf.machine { type = "virt" }
m:add("0002:81:20.0")
