-- expect 1: ^vflaunch: @:8: place: 1985 devices with strategy 'dense'
local vf = require "vflaunch"
local m = vf.machine { type = "virt", options = { "gic-version=3" } }
local devs = {}
for i = 0, 1984 do
  devs[#devs + 1] = string.format("0003:%02x:%02x.%d", i // 256, (i // 8) % 32, i % 8)
end
m:place(devs, { strategy = "dense" })
