-- Test host script (tests/vm, netid payload, igb host): pass the VFs named on the command line
-- (host addresses), each behind its own root port, to a nested aarch64 virt guest that loads igbvf
-- and reports each network interface's PCI address and MAC (VFLAUNCH-NET lines on its console).
-- Arguments: ADDRESS...
local vf = require "vflaunch"

local m = vf.machine {
  type = "virt", options = { "gic-version=3" }, accel = "tcg", cpu = "cortex-a57", memory = "512M",
  kernel = os.getenv("VFLAUNCH_REHEARSE_KERNEL"), initrd = os.getenv("VFLAUNCH_REHEARSE_INITRD"),
  append = "console=ttyAMA0 panic=-1 quiet",
  args = { "-nographic", "-nodefaults", "-serial", "stdio", "-no-reboot" },
}

assert(#arg > 0, "usage: netid.lua ADDRESS...")
for _, a in ipairs(arg) do
  local d = assert(vf.host:get(a), "no device " .. a .. " on this host")
  m:root_port():add(d)
end
