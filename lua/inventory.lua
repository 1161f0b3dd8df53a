-- SPDX-License-Identifier: MIT
-- The host's PCI devices (from a sysfs tree): lookup by address and by filter. The devices are
-- listed at once and each fact is read when first asked for (launcher/inventory.c), so that a
-- script pays for what it looks at: a filter on vendor reads vendor files, names are looked up
-- in pci.ids only for a run that shows them.
local _, core = ...
local pci = core.pci
local util = require "vflaunch.util"

local M = {}

local Inventory = {}
Inventory.__index = Inventory

-- Methods of each device table; the tables stay plain data (fields from launcher/bind_pci.c).
local Device = {}

-- Inventory -> its C inventory (core.pci), out of scripts' reach as every core is.
local handles = setmetatable({}, { __mode = "k" })

-- Read fact k of d (and whatever the same read gives) into d. False when k is no fact. k may be
-- a list of facts (M.read).
local function fill(d, k)
  local handle, address = handles[rawget(d, "_inventory")], rawget(d, "address")
  if not handle or type(address) ~= "string" then return false end
  local ok, err = handle:fill(address, k, d)
  if ok == nil then
    util.fail("cannot read the host's PCI devices: " .. err ..
      " (give the sysfs root with --sysfs DIR, or use --simulate)", util.EXIT.HOST)
  end
  return ok
end

-- A fact not read yet is read on first use; a method is found as usual.
function Device.__index(d, k)
  local method = Device[k]
  if method ~= nil then return method end
  if type(k) == "string" and fill(d, k) then return rawget(d, k) end
  return nil
end

-- The facts keys (a list of field names) of device d read in one call, for a caller about to
-- show them all (list): read one by one, each costs a metamethod and a call into C. The same
-- reads, in the order of launcher/inventory.h's INV_* bits.
function M.read(d, keys)
  fill(d, keys)
end

-- domain, bus, slot and func come with a device's first fact rather than in every one of the
-- thousands of tables a listing makes (launcher/bind_pci.c): one that a script sets or clears
-- before that stays as the script left it, as when the table was made with them.
local ADDRESS_FIELDS = { domain = true, bus = true, slot = true, func = true }

function Device.__newindex(d, k, v)
  if ADDRESS_FIELDS[k] then fill(d, k) end
  rawset(d, k, v)
end

-- pairs() sees every fact, as it did when they were all read up front.
function Device.__pairs(d)
  fill(d, "*")
  return next, d, nil
end

-- A method called with '.' instead of ':' gets its first argument (or nil) as self: say how to
-- call it, at the script's line.
local function own(self, mt, example)
  if type(self) ~= "table" or not rawequal(getmetatable(self), mt) then
    util.usage(string.format("%s is a method: call it with ':', as in %s",
      example:match(":([%w_]+)"), example))
  end
end

-- The VFs of a PF, in virtfn order, as device tables ({} for a device with none).
function Device:vfs()
  own(self, Device, "pf:vfs()")
  local out, n, by_address = {}, 0, self._inventory.by_address
  for _, addr in ipairs(self.vfs_addresses or {}) do
    local vf = by_address[addr]
    if vf ~= nil then n = n + 1; out[n] = vf end -- a count, not #out: a PF has 127 of them
  end
  return out
end

function Device:pf()
  own(self, Device, "vf:pf()")
  return self.physfn and self._inventory.by_address[self.physfn]
end

-- A PF's VFs after giving it exactly n (see vflaunch.set_vfs; the run installs set_vfs).
function Device:set_vfs(n)
  own(self, Device, "pf:set_vfs(n)")
  return self._inventory.set_vfs(self, n)
end

-- PF -> the set of addresses its virtfnN links name.
local vf_sets = setmetatable({}, { __mode = "k" })

local function lists(pf, address)
  local set = vf_sets[pf]
  if not set then
    set = {}
    for _, a in ipairs(pf.vfs_addresses or {}) do set[a] = true end
    vf_sets[pf] = set
  end
  return set[address]
end

function Device:is_bridge()
  own(self, Device, "dev:is_bridge()")
  -- A VF is an endpoint: SR-IOV gives VFs a type 0 header, and the kernel takes a type 0
  -- header with the bridge class for no class at all. A device that names its PF (physfn)
  -- and that PF lists (virtfnN) is one, known from links a run reads anyway instead of from
  -- class and config (for 1984 VFs, 12,000 system calls of a 60 ms check).
  local pf = self.physfn and self._inventory.by_address[self.physfn]
  if pf and lists(pf, self.address) then return false end
  return (self.class >> 8) == 0x0604 or self.header_type == 1 -- class first: no config read
end

function Device:describe()
  own(self, Device, "dev:describe()")
  local name = self.device_name or string.format("device %04x", self.device)
  local vendor = self.vendor_name or string.format("vendor %04x", self.vendor)
  return vendor .. " " .. name
end

-- List root ("/sys", or a fake or simulated tree). Raises with status 3 when it cannot be read.
function M.scan(root)
  local handle, err = pci.open(root)
  if not handle then
    util.fail("cannot read the host's PCI devices: " .. err ..
      " (give the sysfs root with --sysfs DIR, or use --simulate)", util.EXIT.HOST)
  end
  local inv = setmetatable({ root = root }, Inventory)
  handles[inv] = handle
  inv.devices, inv.by_address = handle:devices(Device, inv)
  return inv
end

-- The device at a canonical or short address ("81:10.0" means domain 0000), or nil.
function Inventory:get(address)
  own(self, Inventory, "vf.host:get(address)")
  if type(address) ~= "string" then
    util.usage("get: expected a PCI address string such as \"0002:81:10.0\", not " ..
      util.show(address))
  end
  local canonical = pci.parse_address(address)
  return canonical and self.by_address[canonical]
end

-- Each filter key and the values it takes; a wrong type would match nothing, silently.
local function integer(v) return math.type(v) == "integer" end
local function string_(v) return type(v) == "string" end
local FILTER = {
  vendor = { integer, "an integer, such as 0x8086" },
  device = { integer, "an integer, such as 0x10fb" },
  class = { integer, "an integer: 0x02, 0x0200 or 0x020000" },
  numa_node = { integer, "an integer" },
  iommu_group = { integer, "an integer" },
  driver = { function(v) return type(v) == "string" or v == false end,
    "a driver name, or false for devices with no driver" },
  address = { string_, "a string, part of an address such as \"0002:81:\"" },
  physfn = { string_, "a PF's address, such as \"0002:81:00.0\"" },
  free = { function(v) return type(v) == "boolean" end, "true or false" },
}

local function check_filter(call, filter)
  if filter == nil then return {} end
  if type(filter) ~= "table" then
    util.usage(call .. ": expected a table of filter fields, got " .. util.show(filter))
  end
  for k, v in pairs(filter) do
    local spec = FILTER[k]
    if not spec then
      local names = {}
      for n in pairs(FILTER) do names[#names + 1] = n end
      table.sort(names)
      util.usage(string.format("%s: unknown filter field %s (known: %s)", call, util.show(k),
        table.concat(names, ", ")))
    end
    if not spec[1](v) then
      util.usage(string.format("%s: %s must be %s, not %s", call, k, spec[2], util.show(v)))
    end
  end
  return filter
end

-- Fields that cost nothing first, then one file each, in the order a script filters by.
local function matches(d, f)
  if f.address and not d.address:find(f.address, 1, true) then return false end
  if f.vendor and d.vendor ~= f.vendor then return false end
  if f.device and d.device ~= f.device then return false end
  if f.class then
    -- 0x02 base class, 0x0200 class, 0x020000 with prog-if: compare as many bytes as given.
    local shift = f.class <= 0xff and 16 or f.class <= 0xffff and 8 or 0
    if d.class >> shift ~= f.class then return false end
  end
  if f.driver ~= nil and (d.driver or false) ~= f.driver then return false end
  if f.physfn and d.physfn ~= f.physfn then return false end
  if f.numa_node and d.numa_node ~= f.numa_node then return false end
  if f.iommu_group and d.iommu_group ~= f.iommu_group then return false end
  return true
end

-- free: whether a device is free, as the host's launch state says: is_free(dev) is installed on
-- the inventory by the driver, which knows the launches that hold devices. Without it, asking
-- for free devices is an error, not an answer that could be wrong.
local function keep_free(self, call, list, free)
  if free == nil then return list end
  local is_free = rawget(self, "is_free")
  if type(is_free) ~= "function" then
    util.usage(call .. ": free devices need the host's launch state (which devices running " ..
      "launches hold), and this run has none; leave free out")
  end
  local out = {}
  for _, d in ipairs(list) do
    if (is_free(d) and true or false) == free then out[#out + 1] = d end
  end
  return out
end

-- Devices matching every field of filter, in address order. driver = false: no driver bound.
-- address: a substring of the canonical address ("0002:81:" selects a bus). free = true: only
-- devices no launch holds (false: only those one does).
function Inventory:find(filter)
  own(self, Inventory, "vf.host:find{...}")
  filter = check_filter("find", filter)
  local out = {}
  for _, d in ipairs(self.devices) do
    if matches(d, filter) then out[#out + 1] = d end
  end
  return keep_free(self, "find", out, filter.free)
end

-- All VFs of the PFs that match filter, PF by PF, each PF's in virtfn order. free applies to the
-- VFs, not to their PFs.
function Inventory:vfs(filter)
  own(self, Inventory, "vf.host:vfs{...}")
  filter = check_filter("vfs", filter)
  local pf_filter = {}
  for k, v in pairs(filter) do
    if k ~= "free" then pf_filter[k] = v end
  end
  -- Only an SR-IOV PF has VFs: the filter is asked of those alone (a device without
  -- sriov_totalvfs costs one failed open, whatever the filter reads), and not of the VFs a
  -- PF already listed (a VF is no PF; they follow their PF in address order).
  local out, n, listed = {}, 0, {}
  for _, pf in ipairs(self.devices) do
    if not listed[pf] and pf.sriov_totalvfs and matches(pf, pf_filter) then
      local vfs = pf:vfs()
      for i = 1, #vfs do -- a list without holes: Device:vfs made it
        local vf = vfs[i]
        n = n + 1; out[n] = vf -- a count, not #out: thousands of VFs
        listed[vf] = true
      end
    end
  end
  return keep_free(self, "vfs", out, filter.free)
end

M.parse_address = pci.parse_address

return M
