-- SPDX-License-Identifier: MIT
-- libvirt export case: what the example scripts do not use. An ioh3420 root port, a root port
-- with io_reserve "4K" and bus_reserve, explicit chassis/slot pairs (and a chassis 0 slot 0
-- port, QEMU's default pair), rombar on and off, multifunction devices on pcie.0 and behind a
-- port, a switch, a -machine option libvirt has no element for, a cpu with QEMU feature options,
-- memory with a fraction, and XML's special characters in the kernel path, append and args.
local vf = require "vflaunch"
local m = vf.machine {
  type = "virt", options = { "gic-version=3", "highmem-ecam=on" }, accel = "tcg",
  cpu = "cortex-a57,pmu=off", smp = 3, memory = "1.5G",
  kernel = "/boot/Image&<'\">", initrd = "/boot/initrd",
  append = [[console=ttyAMA0 a='x&y' b="<z>" c=]] .. "\u{e9}",
  args = { "-global", "virtio-mmio.force-legacy=false", "-nographic" },
}
local vfs = vf.vfs { vendor = 0x8086, device = 0x10fb }
m:add(vfs[1], { id = "mgmt", rombar = 0 })
m:functions({ vfs[2], vfs[3], vfs[4] }, { ids = { "f0", "f1", "f2" } })
m:root_port { model = "ioh3420", chassis = 7, slot = 300 }:add(vfs[5], { rombar = 1 })
m:root_port { io_reserve = "4K", bus_reserve = 3 }:functions({ vfs[6], vfs[7] })
m:root_port { chassis = 0, slot = 0 }:add(vfs[8])
local sw = m:root_port { chassis = 9 }:switch { ports = 3, chassis = 9, first_slot = 20 }
sw:port(1):add(vfs[9])
sw:port(3):functions({ vfs[10], vfs[11], vfs[12], vfs[13] })
