-- Test host script (tests/vm, launches payload): one of two site scripts that share a host. It
-- takes the first 4 VFs no other launch holds (free = true) and puts them behind a PCIe switch of
-- a nested aarch64 virt guest, which reports its PCI functions on a serial log and stays up.
-- Arguments: SERIAL-LOG [LINGER-SECONDS]  (the guest re-reports every 5 s for that long; default 900)
local vf = require "vflaunch"

local log = assert(arg[1], "usage: site-a.lua SERIAL-LOG [LINGER-SECONDS]")
local linger = math.tointeger(tonumber(arg[2] or 900))

local m = vf.machine {
  name = "site-a",
  type = "virt", options = { "gic-version=3" }, accel = "tcg", cpu = "cortex-a57", memory = "256M",
  kernel = os.getenv("VFLAUNCH_REHEARSE_KERNEL"), initrd = os.getenv("VFLAUNCH_REHEARSE_INITRD"),
  append = "console=ttyAMA0 panic=-1 quiet vflaunch.linger=" .. linger .. ",5",
  args = { "-display", "none", "-nodefaults", "-monitor", "none", "-serial", "file:" .. log,
    "-no-reboot" },
}

local vfs = vf.vfs { vendor = 0x1b36, device = 0x0010, free = true }
if #vfs < 4 then
  error(string.format("site-a wants 4 free VFs of the emulated NVMe PFs, the host has %d", #vfs))
end
local sw = m:root_port():switch { ports = 4 }
for i = 1, 4 do sw:free_port():add(vfs[i]) end
-- Two empty root ports: the hot-plug slots `vflaunch attach site-a` fills (launches.sh, 3b).
m:root_port()
m:root_port()
