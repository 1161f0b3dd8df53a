-- expect 1: ^vflaunch: @:10: place: 249 devices with strategy 'flat' needs 32 root slots for 249 root ports (8 per slot), virt has 31
local vf = require "vflaunch"
local m = vf.machine { type = "virt", options = { "gic-version=3" } }
-- Addresses, not host devices: the planner refuses on the count alone, before any lookup.
local devs = {}
for i = 0, 248 do
  devs[#devs + 1] = string.format("0003:%02x:%02x.%d", i // 64, (i // 8) % 8, i % 8)
end
-- One too many for one root port per device.
m:place(devs, { strategy = "flat" })
