-- expect 1: ^vflaunch: @:3: machine qemu "qemu-system-aarch64\\10" has whitespace or control characters
local vf = require "vflaunch"
vf.machine { qemu = "qemu-system-aarch64\n" }
