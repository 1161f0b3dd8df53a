-- big-guest.lua: 64 VFs of a dual-port Intel 82599 in one aarch64 guest, past the 31 slots of
-- virt's root bus. A loop places each VF on a downstream port of a PCIe switch, and creates a
-- new switch under a new root port whenever the current one is full — the way a site script
-- grows a topology by hand. Arguments: [COUNT [PORTS_PER_SWITCH]], default 64 and 32.
-- Run: vflaunch --simulate -t big-guest.lua    (or --rehearse to boot it under emulation)
local vf = require "vflaunch"

local count = tonumber(arg[1]) or 64
local ports_per_switch = tonumber(arg[2]) or 32

local m = vf.machine {
  type = "virt", options = { "gic-version=3" },  -- GICv3: GICv2m has only 64 MSIs
  accel = "kvm", cpu = "host", smp = 8, memory = "16G",
  kernel = "/var/lib/vflaunch/Image", initrd = "/var/lib/vflaunch/initrd.img",
  append = "console=ttyAMA0 root=/dev/vda",
  args = { "-nographic" },
}

-- Every VF of both 82599 ports (8086:10fb), port 0's first.
local vfs = vf.vfs { vendor = 0x8086, device = 0x10fb }
if #vfs < count then
  error(string.format("this host has %d 82599 VFs, %d were asked for", #vfs, count))
end

local switch
for i = 1, count do
  if not switch or switch:full() then
    switch = m:root_port():switch { ports = ports_per_switch }
  end
  switch:free_port():add(vfs[i])
end
