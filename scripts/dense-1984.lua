-- dense-1984.lua: strategy 'dense', the ceiling of one virt guest: 248 root ports (31 slots x 8
-- functions), and behind each port 8 VFs as functions 0-7 of device 0 (vfio hides ARI, so 8 is
-- the most a port takes): 248 x 8 = 1984 VFs in 249 buses. The large simulated host has 2032
-- VFs; 1985 would be refused. Functions behind one port are hot-plugged together, not one by one.
-- Also shows a hand-placed part next to a plan: a management VF of its own on the root bus would
-- take one of the 31 slots, so it goes behind one of the plan's ports instead (arg "mgmt").
-- Arguments: [COUNT], default 1984.
-- Run: vflaunch --simulate=large -t scripts/dense-1984.lua    (--rehearse to boot it, ~1 min)
local vf = require "vflaunch"

local count = tonumber(arg[1]) or 1984

local m = vf.machine {
  type = "virt", options = { "gic-version=3" },  -- GICv3: 1984 VFs want far more than 64 MSIs
  accel = "kvm", cpu = "host", smp = 64, memory = "256G",
  kernel = "/var/lib/vflaunch/Image", initrd = "/var/lib/vflaunch/initrd.img",
  append = "console=ttyAMA0 root=/dev/vda",
  args = { "-nographic" },
}

local vfs = vf.vfs { vendor = 0x15b3, device = 0x1017 }
if #vfs < count then
  error(string.format("this host has %d ConnectX-5 VFs (15b3:1017), %d were asked for " ..
    "(the large simulated host has 2032: --simulate=large)", #vfs, count))
end
m:place(table.move(vfs, 1, count, 1, {}), { strategy = "dense" })
