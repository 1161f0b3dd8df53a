-- expect 1: ^vflaunch: @:3: machine type 'pseries' is not one vflaunch knows
local vf = require "vflaunch"
vf.machine { type = "pseries" }
