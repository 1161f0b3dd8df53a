-- Test host script (tests/vm, netid payload, igb host): a nested aarch64 guest that stays up
-- (vflaunch.linger) with one VF of each igb PF, their identity set by vflaunch: the first with a
-- fixed MAC and VLAN 100, the second with mac = "auto" and VLAN 200. The guest loads igbvf and
-- reports each interface's MAC (VFLAUNCH-NET lines) on its serial log, then again every 5 s.
-- Arguments: NAME SERIAL-LOG LINGER-SECONDS MAC ADDRESS-1 ADDRESS-2
local vf = require "vflaunch"

local name, log, linger, mac, a1, a2 = table.unpack(arg)
assert(a2, "usage: netid-live.lua NAME SERIAL-LOG LINGER-SECONDS MAC ADDRESS-1 ADDRESS-2")

local m = vf.machine {
  name = name,
  type = "virt", options = { "gic-version=3" }, accel = "tcg", cpu = "cortex-a57", memory = "512M",
  kernel = os.getenv("VFLAUNCH_REHEARSE_KERNEL"), initrd = os.getenv("VFLAUNCH_REHEARSE_INITRD"),
  append = "console=ttyAMA0 panic=-1 quiet vflaunch.linger=" .. linger .. ",5",
  args = { "-display", "none", "-nodefaults", "-monitor", "none", "-serial", "file:" .. log,
    "-no-reboot" },
}
m:root_port():add(a1, { mac = mac, vlan = 100 })
m:root_port():add(a2, { mac = "auto", vlan = 200 })
