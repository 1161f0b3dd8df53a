-- Test host script (tests/vm, bench): place the first N VFs (argument) of the first emulated NVMe
-- PF behind switches of 32 ports, so that a launch binds N devices. The binding benchmark runs it
-- with --qemu /bin/true: vflaunch checks, journals and binds, then execs a QEMU that does nothing.
local vf = require "vflaunch"
local n = assert(tonumber(arg[1]), "usage: bind-n.lua N")
local m = vf.machine { type = "virt", options = { "gic-version=3" }, memory = "64M" }
local vfs = {}
for _, pf in ipairs(vf.find { vendor = 0x1b36, device = 0x0010 }) do
  if pf.sriov_totalvfs and #vfs == 0 then vfs = pf:vfs() end
end
assert(#vfs >= n, "the first PF has " .. #vfs .. " VFs, " .. n .. " asked")
local sw
for i = 1, n do
  if not sw or sw:full() then sw = m:root_port():switch { ports = 32 } end
  sw:free_port():add(vfs[i])
end
