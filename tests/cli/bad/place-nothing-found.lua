-- expect 1: ^vflaunch: @:6: place: the list of devices is empty, so there is nothing to place
local vf = require "vflaunch"
local m = vf.machine { options = { "gic-version=3" } }
-- This host has no ConnectX-5: an empty list, once planned as a guest without devices.
local vfs = vf.vfs { vendor = 0x15b3, device = 0x1017 }
m:place(vfs, { strategy = "flat" })
