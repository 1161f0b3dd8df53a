-- SPDX-License-Identifier: MIT
-- A launch's script for bench/scale.sh: N VFs of the PFs with the given ids, placed with a
-- strategy, on whatever host the run reads. Arguments: STRATEGY N VENDOR DEVICE
--   vflaunch --sysfs TREE -n bench/scale.lua dense 64 0x15b3 0x1017
local vf = require "vflaunch"

local strategy, n = arg[1], tonumber(arg[2])
local vendor, device = math.tointeger(tonumber(arg[3])), math.tointeger(tonumber(arg[4]))
local m = vf.machine {
  type = "virt", options = { "gic-version=3" }, accel = "kvm", cpu = "host", smp = 8,
  memory = "16G", kernel = "/var/lib/vflaunch/Image", append = "console=ttyAMA0",
  args = { "-nographic" },
}
local vfs = vf.vfs { vendor = vendor, device = device }
assert(#vfs >= n, "the host has " .. #vfs .. " such VFs")
m:place(table.move(vfs, 1, n, 1, {}), { strategy = strategy })
