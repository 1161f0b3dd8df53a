-- net-vfs.lua: network VFs with their identity set on the host before QEMU starts: a tenant's
-- 8 VFs of the 82599's first port on VLAN 100 with stable MACs (mac = "auto": the same on every
-- launch of this guest), and 2 of the second port with fixed MACs, trusted (the guest may add
-- MACs and enter promiscuous mode) and rate-limited. vflaunch checks it all, journals what each
-- VF had, sets it over rtnetlink, reads it back, then binds; stop/restore give it back.
-- Run: vflaunch --simulate -t scripts/net-vfs.lua    (list --vfs shows the VFs' settings)
local vf = require "vflaunch"

local m = vf.machine {
  name = "tenant-a", type = "virt", options = { "gic-version=3" },
  accel = "kvm", cpu = "host", smp = 4, memory = "8G",
  kernel = "/var/lib/vflaunch/Image", initrd = "/var/lib/vflaunch/initrd.img",
  append = "console=ttyAMA0 root=/dev/vda",
  args = { "-nographic" },
}

local port0 = vf.vfs { vendor = 0x8086, device = 0x10fb, address = "0002:81:00.0", free = true }
local port1 = vf.vfs { vendor = 0x8086, device = 0x10fb, address = "0002:81:00.1", free = true }
if #port0 < 8 or #port1 < 2 then
  error(string.format("this host has %d and %d free VFs on the 82599's ports, 8 and 2 were " ..
    "asked for", #port0, #port1))
end

m:place(table.move(port0, 1, 8, 1, {}), { strategy = "flat",
  net = { mac = "auto", vlan = 100, spoofchk = true } })

for i = 1, 2 do
  m:root_port():add(port1[i], { mac = string.format("52:54:00:0a:00:%02x", i), trust = true,
    max_rate = 2000 })
end
