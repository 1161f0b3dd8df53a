-- flat-248.lua: strategy 'flat', libvirt's way: one VF behind each pcie-root-port, the root ports
-- packed 8 to a root-bus slot as functions 0-7. Every VF sits on a port of its own and stays
-- hot-pluggable; 31 slots x 8 = 248 is as far as it goes on virt (249 buses of 256). Needs the
-- large simulated host (16 ConnectX-5 PFs x 127 VFs). Arguments: [COUNT], default 248.
-- Run: vflaunch --simulate=large -t scripts/flat-248.lua    (--rehearse to boot it)
local vf = require "vflaunch"

local count = tonumber(arg[1]) or 248

local m = vf.machine {
  type = "virt", options = { "gic-version=3" },  -- GICv2m has only 64 MSIs: GICv3
  accel = "kvm", cpu = "host", smp = 16, memory = "32G",
  kernel = "/var/lib/vflaunch/Image", initrd = "/var/lib/vflaunch/initrd.img",
  append = "console=ttyAMA0 root=/dev/vda",
  args = { "-nographic" },
}

-- The VFs of every ConnectX-5 PF (15b3:1017), PF by PF.
local vfs = vf.vfs { vendor = 0x15b3, device = 0x1017 }
if #vfs < count then
  error(string.format("this host has %d ConnectX-5 VFs (15b3:1017), %d were asked for " ..
    "(the large simulated host has 2032: --simulate=large)", #vfs, count))
end
m:place(table.move(vfs, 1, count, 1, {}), { strategy = "flat" })
