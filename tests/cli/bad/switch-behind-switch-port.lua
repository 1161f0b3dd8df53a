-- expect 1: ^vflaunch: @:5: machine needs 299 buses, virt has 256
local vf = require "vflaunch"
-- Switches hang behind a switch's downstream ports (once "attempt to call a table value"), and
-- their buses count: 1 + (1 + 1 + 32) + 8 x (1 + 32) = 299 > 256.
local top = vf.machine { options = { "gic-version=3" } }:root_port():switch { ports = 32 }
for i = 1, 8 do top.ports[i]:switch { ports = 32 } end
