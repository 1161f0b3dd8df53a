-- expect 1: ^vflaunch: @:4: root_port is a method: call it with ':', as in m:root_port{...}$
local vf = require "vflaunch"
local m = vf.machine {}
m.root_port { chassis = 2 }
