-- expect 1: ^vflaunch: @:4: root_port: io_reserve "4k,evil=1" is not a size QEMU reads
local vf = require "vflaunch"
local m = vf.machine {}
m:root_port { io_reserve = "4k,evil=1" }
