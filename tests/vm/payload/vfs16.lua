-- Test host script (tests/vm): 8 VFs from each of the host's two emulated NVMe PFs, 16 in all,
-- behind one PCIe switch of a nested aarch64 virt guest that boots the rehearsal kernel under TCG.
-- Arguments: [VFS_PER_PF [PORTS]] (default 8 and 16). VFLAUNCH_GUEST_KERNEL/_INITRD name the guest.
local vf = require "vflaunch"

local per_pf = tonumber(arg[1]) or 8
local ports = tonumber(arg[2]) or 16

local m = vf.machine {
  type = "virt", options = { "gic-version=3" }, accel = "tcg", cpu = "cortex-a57", memory = "512M",
  kernel = os.getenv("VFLAUNCH_REHEARSE_KERNEL"), initrd = os.getenv("VFLAUNCH_REHEARSE_INITRD"),
  append = "console=ttyAMA0 panic=-1 quiet",
  args = { "-nographic", "-nodefaults", "-serial", "stdio", "-no-reboot" },
}

local placed = {}
for _, pf in ipairs(vf.find { vendor = 0x1b36, device = 0x0010 }) do
  if pf.sriov_totalvfs then
    local vfs = pf:set_vfs(per_pf)
    for i = 1, per_pf do placed[#placed + 1] = vfs[i] end
  end
end

local switch = m:root_port():switch { ports = ports }
for _, dev in ipairs(placed) do
  switch:free_port():add(dev)
end
