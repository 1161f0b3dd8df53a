-- expect 1: ^vflaunch: @:4: switch: unknown option 'port' (known:
local vf = require "vflaunch"
local m = vf.machine { type = "virt" }
m:root_port():switch { port = 8 }
