-- expect 1: ^vflaunch: @:3: machine: memory was changed after creation: memory "lots" is not what QEMU's -m reads
local vf = require "vflaunch"
local m = vf.machine { memory = "4G" }
m.memory = "lots"
