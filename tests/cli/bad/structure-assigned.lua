-- expect 1: ^vflaunch: @:4: machine: root is part of the tree vflaunch keeps; it cannot be set$
local vf = require "vflaunch"
local m = vf.machine {}
m.root = 1
