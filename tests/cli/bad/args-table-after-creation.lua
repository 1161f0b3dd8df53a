-- expect 1: ^vflaunch: @:3: machine: args was changed after creation: args\[1\] must be a string
local vf = require "vflaunch"
local m = vf.machine {}
-- Once a SIGSEGV after binding (a table in argv); now checked again before anything happens.
m.args = { {} }
