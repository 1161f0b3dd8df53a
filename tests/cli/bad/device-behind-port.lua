-- expect 1: ^vflaunch: @:5: device 'hostdev1': is at 03.0 behind root port 'rp1', and the guest scans only device 0
local vf = require "vflaunch"
local m = vf.machine { type = "virt" }
local port = m:root_port()
port:add(vf.vfs { vendor = 0x8086 }[1], { addr = "03.0" })
