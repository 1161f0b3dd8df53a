-- The guest of tests/rehearse/hotplug.sh: no devices at launch, five empty hot-plug slots (two
-- root ports, a switch of two downstream ports below a third), and the rehearsal kernel, which
-- reports its PCI functions on the serial log every second while it lingers.
-- Arguments: virt|q35 SERIAL-LOG   (kernel and initrd: VFLAUNCH_REHEARSE_KERNEL/_INITRD)
local vf = require "vflaunch"

local kind, log = arg[1], assert(arg[2], "usage: hotplug-guest.lua virt|q35 SERIAL-LOG")
local q35 = kind == "q35"
local m = vf.machine {
  name = "hp-" .. kind, type = kind, options = not q35 and { "gic-version=3" } or nil,
  accel = "tcg", cpu = q35 and "max" or "cortex-a57", memory = "512M",
  kernel = os.getenv("VFLAUNCH_REHEARSE_KERNEL"), initrd = os.getenv("VFLAUNCH_REHEARSE_INITRD"),
  append = "console=" .. (q35 and "ttyS0" or "ttyAMA0") .. " panic=-1 quiet vflaunch.linger=600,1",
  args = { "-display", "none", "-nodefaults", "-monitor", "none", "-serial", "file:" .. log,
    "-no-reboot" },
}
m:root_port()
m:root_port()
m:root_port():switch { ports = 2 }
