-- expect 1: ^vflaunch: @:3: machine args must be a list (a table), not the string "-nographic"
local vf = require "vflaunch"
vf.machine { args = "-nographic" }
