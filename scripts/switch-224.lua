-- switch-224.lua: strategy 'switch', the seed's way made by the planner: PCIe switches (an
-- x3130-upstream port and 32 xio3130-downstream ports each) under root ports, one VF on each
-- downstream port. 7 switches x 32 = 224 VFs in 239 buses; an 8th full switch would need 273 of
-- virt's 256 buses, and place() refuses it. Needs the large simulated host.
-- Arguments: [COUNT [PORTS_PER_SWITCH [SPARE_PORTS]]], default 224, 32 and 0.
-- Run: vflaunch --simulate=large -t scripts/switch-224.lua    (--rehearse to boot it)
local vf = require "vflaunch"

local count = tonumber(arg[1]) or 224
local ports_per_switch = tonumber(arg[2]) or 32
local spare_ports = tonumber(arg[3]) or 0

local m = vf.machine {
  type = "virt", options = { "gic-version=3" },
  accel = "kvm", cpu = "host", smp = 16, memory = "32G",
  kernel = "/var/lib/vflaunch/Image", initrd = "/var/lib/vflaunch/initrd.img",
  append = "console=ttyAMA0 root=/dev/vda",
  args = { "-nographic" },
}

local vfs = vf.vfs { vendor = 0x15b3, device = 0x1017 }
if #vfs < count then
  error(string.format("this host has %d ConnectX-5 VFs (15b3:1017), %d were asked for " ..
    "(the large simulated host has 2032: --simulate=large)", #vfs, count))
end
m:place(table.move(vfs, 1, count, 1, {}), {
  strategy = "switch", ports_per_switch = ports_per_switch, spare_ports = spare_ports,
})
