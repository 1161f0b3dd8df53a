-- expect 1: ^vflaunch: @:4: device 'hostdev1': host device 0002:80:02.0 is a bridge, not an endpoint; pass its devices through instead$
local vf = require "vflaunch"
local m = vf.machine { type = "virt" }
m:add(vf.host:get("0002:80:02.0"))
