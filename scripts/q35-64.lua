-- q35-64.lua: an x86_64 q35 guest with 64 VFs of the dual-port 82599. q35's root bus keeps 00.0
-- (MCH) and 1f (ICH9: LPC, AHCI, SMBus) for itself, and without -nodefaults QEMU's VGA card and
-- NIC take 01 and 02: 28 slots are left (30 with -nodefaults) for root ports. The planner knows it and uses them.
-- Arguments: [STRATEGY [COUNT]], default 'switch' (two switches of 32) and 64; 'flat' puts each
-- VF behind a root port of its own (8 slots), 'dense' 8 behind each of 8 root ports (1 slot).
-- Run: vflaunch --simulate -t scripts/q35-64.lua    (--rehearse with '. tests/guest/env.sh amd64')
local vf = require "vflaunch"

local strategy = arg[1] or "switch"
local count = tonumber(arg[2]) or 64

local m = vf.machine {
  type = "q35", qemu = "qemu-system-x86_64",
  accel = "kvm", cpu = "host", smp = 8, memory = "16G",
  kernel = "/var/lib/vflaunch/bzImage", initrd = "/var/lib/vflaunch/initrd.img",
  append = "console=ttyS0 root=/dev/vda",
  args = { "-nographic" },
}

-- Every VF of both 82599 ports (8086:10fb), port 0's first.
local vfs = vf.vfs { vendor = 0x8086, device = 0x10fb }
if #vfs < count then
  error(string.format("this host has %d 82599 VFs (8086:10fb), %d were asked for", #vfs, count))
end
m:place(table.move(vfs, 1, count, 1, {}), { strategy = strategy })
