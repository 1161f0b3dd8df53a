-- SPDX-License-Identifier: MIT
-- The host's PCI devices (read by libpci from a sysfs tree): lookup by address and by filter.
local _, core = ...
local pci = core.pci
local util = require "vflaunch.util"

local M = {}

local Inventory = {}
Inventory.__index = Inventory

-- Methods of each device table; the tables stay plain data (fields from launcher/bind_pci.c).
local Device = {}
Device.__index = Device

-- The VFs of a PF, in virtfn order, as device tables ({} for a device with none).
function Device:vfs()
  local out = {}
  for _, addr in ipairs(self.vfs_addresses or {}) do
    out[#out + 1] = self._inventory.by_address[addr]
  end
  return out
end

function Device:pf()
  return self.physfn and self._inventory.by_address[self.physfn]
end

-- A PF's VFs after giving it exactly n (see vflaunch.set_vfs; the run installs set_vfs).
function Device:set_vfs(n)
  return self._inventory.set_vfs(self, n)
end

function Device:is_bridge()
  return self.header_type == 1 or (self.class >> 8) == 0x0604
end

function Device:describe()
  local name = self.device_name or string.format("device %04x", self.device)
  local vendor = self.vendor_name or string.format("vendor %04x", self.vendor)
  return vendor .. " " .. name
end

-- Scan root ("/sys", or a fake or simulated tree). Raises with status 3 when it cannot be read.
function M.scan(root)
  local devices, err = pci.scan(root)
  if not devices then
    util.fail("cannot read the host's PCI devices: " .. err ..
      " (give the sysfs root with --sysfs DIR, or use --simulate)", util.EXIT.HOST)
  end
  local inv = setmetatable({ root = root, devices = devices, by_address = {} }, Inventory)
  for _, d in ipairs(devices) do
    -- `vfs` is the method; the list of addresses keeps its own name.
    d.vfs_addresses, d.vfs = d.vfs, nil
    d._inventory = inv
    setmetatable(d, Device)
    inv.by_address[d.address] = d
  end
  return inv
end

-- The device at a canonical or short address ("81:10.0" means domain 0000), or nil.
function Inventory:get(address)
  local canonical = pci.parse_address(address)
  return canonical and self.by_address[canonical]
end

local FILTER = { vendor = true, device = true, class = true, driver = true, address = true,
  physfn = true, numa_node = true, iommu_group = true }

local function matches(d, f)
  if f.vendor and d.vendor ~= f.vendor then return false end
  if f.device and d.device ~= f.device then return false end
  if f.class then
    -- 0x02 base class, 0x0200 class, 0x020000 with prog-if: compare as many bytes as given.
    local shift = f.class <= 0xff and 16 or f.class <= 0xffff and 8 or 0
    if d.class >> shift ~= f.class then return false end
  end
  if f.driver ~= nil and (d.driver or false) ~= f.driver then return false end
  if f.address and not d.address:find(f.address, 1, true) then return false end
  if f.physfn and d.physfn ~= f.physfn then return false end
  if f.numa_node and d.numa_node ~= f.numa_node then return false end
  if f.iommu_group and d.iommu_group ~= f.iommu_group then return false end
  return true
end

-- Devices matching every field of filter, in address order. driver = false: no driver bound.
-- address: a substring of the canonical address ("0002:81:" selects a bus).
function Inventory:find(filter)
  util.check_keys("find", filter, FILTER)
  local out = {}
  for _, d in ipairs(self.devices) do
    if matches(d, filter or {}) then out[#out + 1] = d end
  end
  return out
end

-- All VFs of the PFs that match filter, PF by PF, each PF's in virtfn order.
function Inventory:vfs(filter)
  local out = {}
  for _, pf in ipairs(self:find(filter)) do
    for _, vf in ipairs(pf:vfs()) do out[#out + 1] = vf end
  end
  return out
end

M.parse_address = pci.parse_address

return M
