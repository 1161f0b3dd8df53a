-- SPDX-License-Identifier: MIT
-- ACS (PCIe Access Control Services) on the bridges above a device: why the kernel may have put
-- devices that could be apart into one IOMMU group. Linux tells the devices below a bridge apart
-- only when the bridge has Source Validation, P2P Request Redirect, P2P Completion Redirect and
-- Upstream Forwarding on (pci_acs_enabled; a bit the bridge does not implement counts as on). A
-- bridge that implements them and has them off is a kernel's or firmware's choice, not the
-- hardware's: Linux 6.1 booted with a device tree (an arm64 host without UEFI/ACPI) enables ACS
-- only after it has scanned the root ports, and removing and rescanning them turns it on.
local _, core = ...

local M = {}

-- The bits pci_acs_enabled asks of a bridge, with the names lspci -vv gives them.
local NEEDED = { { 0x01, "SrcValid" }, { 0x04, "ReqRedir" }, { 0x08, "CmpltRedir" },
  { 0x10, "UpstreamFwd" } }

-- M.bridge(root, address) -> { address, cap, ctrl, off = { name... } } | false when the device
-- has no ACS capability | nil, message when its config space could not be read that far.
function M.bridge(root, address)
  local cap, ctrl = core.pci.acs(root, address)
  if cap == nil then return nil, ctrl end
  if not cap then return false end
  local off = {}
  for _, b in ipairs(NEEDED) do
    if cap & b[1] ~= 0 and ctrl & b[1] == 0 then off[#off + 1] = b[2] end
  end
  return { address = address, cap = cap, ctrl = ctrl, off = off }
end

-- M.upstream(root, address) -> the bridges above a device, nearest first: the PCI addresses
-- among the directories of its sysfs path (devices/pci0000:00/0000:00:01.0/0000:01:00.0).
-- A VF's directory is its PF's sibling, so a VF's bridges are its PF's.
function M.upstream(root, address)
  local real = core.fs.realpath(root .. "/bus/pci/devices/" .. address)
  if not real then return {} end
  local parts = {}
  for p in real:gmatch("[^/]+") do parts[#parts + 1] = p end
  local out = {}
  for i = #parts - 1, 1, -1 do
    if not parts[i]:match("^%x%x%x%x:%x%x:%x%x%.%x$") then break end
    out[#out + 1] = parts[i]
  end
  return out
end

-- M.host_off(ctx) -> the host's bridges with needed ACS bits off (M.bridge's tables, in address
-- order), and the first message of those whose ACS could not be read.
function M.host_off(ctx)
  local off, unread = {}, nil
  for _, d in ipairs(ctx:host().devices) do
    if d:is_bridge() then
      local st, err = M.bridge(ctx.roots.sys, d.address)
      if st and #st.off > 0 then
        off[#off + 1] = st
      elseif st == nil then
        unread = unread or err
      end
    end
  end
  return off, unread
end

-- "0000:00:01.0 (SrcValid ReqRedir off), ..." for a message.
function M.names(bridges)
  local out = {}
  for i, b in ipairs(bridges) do
    out[i] = string.format("%s (%s off)", b.address, table.concat(b.off, " "))
  end
  return table.concat(out, ", ")
end

-- The ways out, as a user types them. Every bridge with ACS off goes at once: a kernel that
-- numbers the buses itself (a device-tree boot) renumbers them on the rescan, and a bridge
-- rescanned alone beside the others came back with its devices under another (seen on Linux 6.1).
function M.ways_out(bridges)
  local cmds = {}
  for _, b in ipairs(bridges) do
    cmds[#cmds + 1] = "echo 1 > /sys/bus/pci/devices/" .. b.address .. "/remove"
  end
  cmds[#cmds + 1] = "echo 1 > /sys/bus/pci/rescan"
  return "boot the host through UEFI/ACPI (Linux booted with a device tree, 6.1 among them, " ..
    "enables ACS only after it has scanned the root ports), or remove every bridge with ACS " ..
    "off at once and rescan, with nothing below them in use (" .. table.concat(cmds, "; ") ..
    "), or run a newer kernel"
end

-- M.explain(ctx, addresses) -> a sentence on why the group of these devices may be shared (a
-- bridge above them with ACS off, or ACS that could not be read), or nil.
function M.explain(ctx, addresses)
  local above, seen = {}, {}
  for _, a in ipairs(addresses) do
    for _, b in ipairs(M.upstream(ctx.roots.sys, a)) do
      if not seen[b] then
        seen[b] = true
        local st, err = M.bridge(ctx.roots.sys, b)
        if st == nil then
          return "Whether a bridge above has ACS switched off is not known: " .. err
        elseif st and #st.off > 0 then
          above[#above + 1] = st
        end
      end
    end
  end
  if #above == 0 then return nil end
  return string.format("The kernel cannot tell these devices apart: %s %s %s ACS but %s it " ..
    "switched off; %s", #above == 1 and "bridge" or "bridges", M.names(above),
    #above == 1 and "supports" or "support", #above == 1 and "has" or "have",
    M.ways_out((M.host_off(ctx))))
end

-- M.column(st) -> what list shows of a bridge's ACS (st from M.bridge): "ACS on", "ACS off (bits)",
-- "ACS unread", or nil for a bridge without the capability.
function M.column(st)
  if st == nil then return "ACS unread" end
  if not st then return nil end
  if #st.off == 0 then return "ACS on" end
  return "ACS off (" .. table.concat(st.off, " ") .. ")"
end

return M
