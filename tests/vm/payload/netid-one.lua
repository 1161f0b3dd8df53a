-- Test host script (tests/vm, netid payload): one device with the identity given on the command
-- line, for the refusals (a MAC another live guest has; a VLAN on an NVMe VF).
-- Arguments: NAME ADDRESS KEY=VALUE...   (mac=..., vlan=N)
local vf = require "vflaunch"

local name, addr = arg[1], arg[2]
assert(addr, "usage: netid-one.lua NAME ADDRESS KEY=VALUE...")
local net = {}
for i = 3, #arg do
  local k, v = arg[i]:match("^(%w+)=(.*)$")
  net[k] = tonumber(v) or v
end
local m = vf.machine { name = name, type = "virt", memory = "256M" }
m:root_port():add(addr, net)
