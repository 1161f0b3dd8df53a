-- SPDX-License-Identifier: MIT
-- vflaunch list: the host's PCI devices with what passthrough needs to know about each.
-- Names and drivers come from sysfs and pci.ids: they are shown escaped, never raw. --json
-- gives ids as lspci -nn and libvirt do, hex strings ("0x8086"), not numbers.
local _, core = ...
local acs = require "vflaunch.acs"
local inventory = require "vflaunch.inventory"
local netid = require "vflaunch.netid"
local util = require "vflaunch.util"

local json -- vflaunch.json, loaded for --json alone

local M = {}

-- The facts a row shows, read in one call per device (inventory.read): a VF's SR-IOV counts
-- are read after its row, when net() asks, as they always were.
local ROW_FACTS = { "vendor", "device", "driver", "numa_node", "sriov_totalvfs", "vendor_name" }
local VF_ROW_FACTS = { "vendor", "device", "driver", "numa_node", "vendor_name" }
-- ... and those of a --json record after its net(), in the order the record reads them.
local RECORD_FACTS = { "vendor", "device", "class", "subsys_vendor", "vendor_name", "driver",
  "numa_node", "vfs_addresses" }

-- The network side of PFs (netdev, link) and VFs (identity), from the kernel through core.net,
-- one read per PF that has a network interface. (d) -> table, or nil, or { error = why }.
local function net_reader(ctx)
  local cache = {}
  local function pf_info(pf)
    if cache[pf] == nil then
      cache[pf] = false
      if netid.netdev(ctx.roots.sys, pf) then
        local info, err = core.net.get(ctx.roots.sys, pf)
        cache[pf] = info or { error = err }
      end
    end
    return cache[pf] or nil
  end
  return function(d)
    if d.sriov_totalvfs then
      local info = pf_info(d.address)
      if not info or info.error then return info end
      return { ifname = info.ifname, operstate = info.operstate, up = info.up,
        speed = info.speed }
    elseif d.physfn then
      local info = pf_info(d.physfn)
      if not info or info.error then return info end
      if not info.index then -- VF address -> its number + 1, once per PF
        info.index = {}
        local pf = d:pf()
        for i, a in ipairs(pf and pf.vfs_addresses or {}) do info.index[a] = i end
      end
      local v = info.vfs[info.index[d.address] or 0]
      if not v then return nil end
      local out = {}
      for _, k in ipairs(netid.KEYS) do out[k] = v[k] end
      return out
    end
  end
end

-- The continuation line under a device with a network side.
local function net_line(n)
  if n.error then return "    net: " .. n.error end
  if n.ifname then
    return string.format("    net %s, %s%s", n.ifname, n.up == false and
      "down (administratively)" or n.operstate or "state unknown",
      math.type(n.speed) == "integer" and n.speed > 0 and (", " .. n.speed .. " Mb/s") or "")
  end
  local shown = {}
  for _, k in ipairs(netid.KEYS) do
    if n[k] == nil then shown[k] = "?" else shown[k] = n[k] end
  end
  -- No rate limit is the common case: rates are shown when one is set.
  if shown.max_rate == 0 then shown.max_rate = nil end
  if shown.min_rate == 0 then shown.min_rate = nil end
  return "    " .. netid.describe(shown)
end

-- IOMMU group -> its members, built once (a lookup per device made --list quadratic).
local function group_index(inv)
  local groups = {}
  for _, d in ipairs(inv.devices) do
    if d.iommu_group then
      groups[d.iommu_group] = groups[d.iommu_group] or {}
      table.insert(groups[d.iommu_group], d)
    end
  end
  return groups
end

-- Could vfio take this device now? "bound", "yes", or "no: why" (a bridge's ACS from bridges).
local function vfio_state(d, groups, bridges)
  if d:is_bridge() then
    local b = bridges and bridges[d.address]
    local text = b and acs.column(b.st)
    return "no: bridge" .. (text and ", " .. text or "")
  end
  if not d.iommu_group then return "no: no IOMMU group" end
  for _, o in ipairs(groups[d.iommu_group]) do
    if o ~= d and not o:is_bridge() and o.driver and o.driver ~= "vfio-pci" and
        o.driver ~= "pci-stub" then
      return "no: group " .. d.iommu_group .. " shares " .. o.address .. " (" .. o.driver .. ")"
    end
  end
  return d.driver == "vfio-pci" and "bound" or "yes"
end

local function relation(d)
  if d.physfn then return "VF of " .. d.physfn end
  if d.sriov_totalvfs then return string.format("PF %d/%d VFs", d.sriov_numvfs, d.sriov_totalvfs) end
  return ""
end

-- A row's columns are put together as string.format("%-10s") would pad them, without it: its
-- padding goes through snprintf item by item, a tenth of a listing of 2,000 VFs.
local PAD = {}
for n = 0, 18 do PAD[n] = string.rep(" ", n) end

-- v as a string, left-justified in width w (never cut), as %-Ws gives it.
local function left(v, w)
  v = tostring(v)
  local n = #v
  return n < w and v .. PAD[w - n] or v
end

-- "vvvv:dddd", made once per pair of ids: a host's thousands of VFs share a few.
local ids_text = {}
local function ids(vendor, device)
  local by_device = ids_text[vendor]
  if not by_device then
    by_device = {}
    ids_text[vendor] = by_device
  end
  local text = by_device[device]
  if not text then
    text = string.format("%04x:%04x", vendor, device)
    by_device[device] = text
  end
  return text
end

local function row(d, groups, bridges)
  inventory.read(d, d.physfn and VF_ROW_FACTS or ROW_FACTS)
  return d.address .. "  " .. ids(d.vendor, d.device) .. "  " .. left(d.driver or "-", 10) ..
    "  group " .. left(d.iommu_group or "-", 4) .. "  node " .. left(d.numa_node or "-", 2) ..
    "  " .. left(relation(d), 18) .. "  vfio " .. left(vfio_state(d, groups, bridges), 6) ..
    "  " .. d:describe()
end

-- An id as lspci -nn and libvirt's XML write it, a hex string: "0x8086", "0x020000".
local function hex(v, digits)
  if v == nil then return json.null end
  return string.format("0x%0" .. digits .. "x", v)
end

-- A bridge's ACS for --json: null without the capability, the registers and what is off, or
-- why it could not be read.
local function acs_record(b)
  if not b or b.st == false then return json.null end
  if b.st == nil then return { error = b.err } end
  return { capability = hex(b.st.cap, 4), control = hex(b.st.ctrl, 4),
    off = b.st.off } -- an empty table is []
end

local function record(d, groups, bridges, net)
  local n = net(d)
  inventory.read(d, RECORD_FACTS)
  local r = { address = d.address, vendor = hex(d.vendor, 4), device = hex(d.device, 4),
    net = n or json.null, -- a PF's interface and link, or a VF's identity
    class = hex(d.class, 6), subsys_vendor = hex(d.subsys_vendor, 4),
    subsys_device = hex(d.subsys_device, 4),
    vendor_name = d.vendor_name or json.null, device_name = d.device_name or json.null,
    driver = d.driver or json.null, iommu_group = d.iommu_group or json.null,
    numa_node = d.numa_node or json.null, physfn = d.physfn or json.null,
    sriov_totalvfs = d.sriov_totalvfs or json.null,
    sriov_numvfs = d.sriov_numvfs or json.null, vfs = d.vfs_addresses or json.null,
    vfio = vfio_state(d, groups, bridges) }
  if d:is_bridge() then r.acs = acs_record(bridges[d.address]) end
  return r
end

-- Every bridge's ACS (lua/acs.lua), and a note on stderr when some have it switched off: the
-- devices below may share IOMMU groups they need not share, and how to get out of that.
local function bridge_acs(ctx, inv)
  local bridges, off, unread = {}, {}, nil
  for _, d in ipairs(inv.devices) do
    if d:is_bridge() then
      local st, err = acs.bridge(ctx.roots.sys, d.address)
      bridges[d.address] = { st = st, err = err }
      if st and #st.off > 0 then off[#off + 1] = st end
      if st == nil then unread = unread or err end
    end
  end
  if #off > 0 then
    ctx:say("note: %s %s %s ACS but %s it switched off: the kernel cannot tell the devices " ..
      "below apart and may put them in one IOMMU group; %s", #off == 1 and "bridge" or "bridges",
      acs.names(off), #off == 1 and "supports" or "support", #off == 1 and "has" or "have",
      acs.ways_out(off))
  end
  if unread then ctx:say("note: the ACS of bridges was not read: %s", unread) end
  return bridges
end

function M.run(ctx)
  local inv = ctx:host()
  local groups = group_index(inv)
  local bridges = bridge_acs(ctx, inv)
  local list = {}
  for _, d in ipairs(inv.devices) do
    if not ctx.opts.vfs or d.physfn or d.sriov_totalvfs then list[#list + 1] = d end
  end
  if ctx.opts.json then
    json = require "vflaunch.json"
    local out = {}
    local net = net_reader(ctx)
    for i, d in ipairs(list) do out[i] = record(d, groups, bridges, net) end
    ctx:out(json.encode(out) .. "\n")
    return 0
  end
  local lines = { "address       ids        driver      group       node     SR-IOV" ..
    "              vfio         name" }
  local net = net_reader(ctx)
  for _, d in ipairs(list) do
    lines[#lines + 1] = row(d, groups, bridges)
    local n = net(d)
    if n then lines[#lines + 1] = net_line(n) end
  end
  -- Names and drivers come from sysfs and pci.ids: shown escaped (util.printable), which all
  -- but always leaves every line as it is, as one look at them all tells.
  if not util.all_printable(lines) then
    for i, line in ipairs(lines) do lines[i] = util.printable(line) end
  end
  lines[#lines + 1] = ""
  ctx:out(table.concat(lines, "\n"))
  return 0
end

return M
