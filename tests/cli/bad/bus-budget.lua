-- expect 1: ^vflaunch: @:3: machine needs 273 buses, virt has 256
local vf = require "vflaunch"
local m = vf.machine { type = "virt", options = { "gic-version=3" } }
local vfs = vf.vfs { vendor = 0x8086 }
-- 8 switches of 32 downstream ports: bus 0 + 8 x (root port + upstream port + 32 ports) = 273.
for s = 1, 8 do
  local sw = m:root_port():switch { ports = 32 }
  sw.ports[1]:add(vfs[s])
end
