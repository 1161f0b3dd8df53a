-- expect 1: ^vflaunch: @:8: place: 240 devices with strategy 'switch' needs 257 buses, virt has 256: use strategy 'flat'
local vf = require "vflaunch"
local m = vf.machine { type = "virt", options = { "gic-version=3" } }
local devs = {}
for i = 0, 239 do
  devs[#devs + 1] = string.format("0003:%02x:%02x.%d", i // 256, (i // 8) % 32, i % 8)
end
m:place(devs, { strategy = "switch" })
