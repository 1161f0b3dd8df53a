-- SPDX-License-Identifier: MIT
-- VF identity: the MAC, VLAN, QoS, trust, spoof check, link state and rates a network VF gets
-- from its PF before it is bound to vfio-pci (as `ip link set PF vf N ...` and libvirt's
-- <interface type='hostdev'> do). The script's values are checked where the script gives them;
-- the host's side (a network PF, what its driver reports, the link speed, MACs of live
-- guests) before anything changes; every original is journaled (kind "vfnet") before the first
-- write, and each value set is read back from the kernel (core.net).
local _, core = ...
local util = require "vflaunch.util"

local net, fs = core.net, core.fs

local M = {}

-- The keys, in the order messages and plans show them.
M.KEYS = { "mac", "vlan", "qos", "trust", "spoofchk", "link", "max_rate", "min_rate" }
M.KEY_SET = {}
for _, k in ipairs(M.KEYS) do M.KEY_SET[k] = true end

local LINK = { auto = true, enable = true, disable = true }
local RATE_MAX = 0xffffffff -- Mb/s: the kernel's field is a u32

-- A MAC as the kernel prints it: six pairs of lower-case hex digits. nil when s is none.
local function parse_mac(s)
  if type(s) ~= "string" then return nil end
  local o = { s:match("^(%x%x):(%x%x):(%x%x):(%x%x):(%x%x):(%x%x)$") }
  if #o ~= 6 then o = { s:match("^(%x%x)%-(%x%x)%-(%x%x)%-(%x%x)%-(%x%x)%-(%x%x)$") } end
  if #o ~= 6 then return nil end
  return table.concat(o, ":"):lower(), tonumber(o[1], 16)
end
M.parse_mac = parse_mac

local function check_mac(v)
  if v == nil or v == "auto" then return true, v end
  local mac, first = parse_mac(v)
  if not mac then
    return false, string.format("mac %s is not a MAC address (six hex pairs, as in " ..
      "\"52:54:00:12:34:56\"), nor \"auto\"", util.show(v))
  end
  if first & 1 == 1 then
    return false, string.format("mac %s is a multicast address (the first octet's lowest bit " ..
      "is set); a VF needs a unicast MAC, such as one starting 52:54:00 or 02:", mac)
  end
  if mac == "00:00:00:00:00:00" then
    return false, "mac 00:00:00:00:00:00 is no address (a VF's zero MAC means \"none set\"); " ..
      "leave mac out to keep what the VF has"
  end
  return true, mac
end

local function int_check(name, lo, hi, unit)
  return function(v)
    if v == nil or (math.type(v) == "integer" and v >= lo and v <= hi) then return true, v end
    return false, string.format("%s must be an integer from %d to %d%s, not %s", name, lo, hi,
      unit or "", util.show(v))
  end
end

local function bool_check(name, what)
  return function(v)
    if v == nil or type(v) == "boolean" then return true, v end
    return false, string.format("%s must be true or false (%s), not %s", name, what,
      util.show(v))
  end
end

local function check_link(v)
  if v == nil or LINK[v] then return true, v end
  return false, string.format("link must be \"auto\" (follow the PF's link), \"enable\" or " ..
    "\"disable\", not %s", util.show(v))
end

-- Checkers for topology's device fields: { name, check(v) -> true, value | false, why }.
M.FIELDS = {
  { "mac", check_mac },
  { "vlan", int_check("vlan", 0, 4094, " (0: no VLAN)") },
  { "qos", int_check("qos", 0, 7, " (the 802.1p priority of the VLAN tag)") },
  { "trust", bool_check("trust", "whether the VF may change its MAC and enter promiscuous " ..
    "modes") },
  { "spoofchk", bool_check("spoofchk", "whether the PF drops frames with another source MAC") },
  { "link", check_link },
  { "max_rate", int_check("max_rate", 0, RATE_MAX, " Mb/s (0: no limit)") },
  { "min_rate", int_check("min_rate", 0, RATE_MAX, " Mb/s (0: no guarantee)") },
}

---------------------------------------------------------------------------------------------
-- mac = "auto": stable across launches, from the launch's name and the device's id.
-- The 64-bit FNV-1a hash of the bytes "NAME/ID", mixed by SplitMix64's finalizer (FNV alone
-- changes mostly low bits for a change in the last byte, and ids differ there); the MAC is the
-- six high bytes, big-endian, with the first octet made locally administered and unicast
-- (bit 1 set, bit 0 clear). Documented in doc/lua-api.md; tests check known values.

local FNV_OFFSET, FNV_PRIME = 0xcbf29ce484222325, 0x100000001b3 -- Lua wraps hex literals

function M.auto_mac(name, id)
  local h = FNV_OFFSET
  local s = name .. "/" .. id
  for i = 1, #s do
    h = (h ~ s:byte(i)) * FNV_PRIME -- wraps modulo 2^64, as FNV wants
  end
  h = (h ~ (h >> 30)) * 0xbf58476d1ce4e5b9 -- >> is a logical shift in Lua
  h = (h ~ (h >> 27)) * 0x94d049bb133111eb
  h = h ~ (h >> 31)
  local o = {}
  for i = 0, 5 do o[i + 1] = (h >> (56 - 8 * i)) & 0xff end
  o[1] = (o[1] & 0xfc) | 0x02
  return string.format("%02x:%02x:%02x:%02x:%02x:%02x", table.unpack(o))
end

-- The identity element e asks for ({ mac=, vlan=, ... }), or nil for none. (After compile,
-- mac = "auto" has become the MAC it stands for.)
-- The element's own fields are walked (next: raw, as script-facing __index must not answer):
-- an element holds a few, fewer than the eight names to ask, and render asks this of every
-- device of a plan.
function M.of(e)
  local out
  for k, v in next, e do
    if M.KEY_SET[k] then
      out = out or {}
      out[k] = v
    end
  end
  return out
end

-- Why host device d cannot take a VF identity (a sentence), or nil when it can as far as
-- sysfs tells: it must be a VF whose PF has a network interface.
function M.not_network_vf(sysroot, d)
  if not d.physfn then
    return string.format("%s is not a VF (%s), and mac, vlan and the other VF identity keys " ..
      "are set on a VF through its PF; leave them out for this device", d.address,
      d.sriov_totalvfs and "it is a PF" or "no physfn")
  end
  if not M.netdev(sysroot, d.physfn) then
    local pf = d:pf()
    return string.format("%s is not a network VF: its PF %s has no network interface " ..
      "(driver %s), so it has no MAC or VLAN to set; leave mac, vlan and the other VF " ..
      "identity keys out for it", d.address, d.physfn, pf and pf.driver or "none")
  end
end

-- A PF's network interface name from sysfs (the first of its net/ entries), or nil.
function M.netdev(sysroot, pf)
  local names = fs.list(sysroot .. "/bus/pci/devices/" .. pf .. "/net")
  if type(names) ~= "table" or #names == 0 then return nil end
  table.sort(names)
  return names[1]
end

---------------------------------------------------------------------------------------------
-- The host's side, for a launch: check, then set.

-- The kernel's view of PF pf's VFs (core.net.get's table), read once per run and PF.
local function pf_info(ctx, pf)
  ctx.netinfo = ctx.netinfo or {}
  local c = ctx.netinfo[pf]
  if c == nil then
    local info, err = net.get(ctx.roots.sys, pf)
    c = info or { err = err }
    ctx.netinfo[pf] = c
  end
  if c.err then return nil, c.err end
  return c
end

-- The VF number of VF d on its PF (virtfnN), or nil. index: PF -> { VF address -> number },
-- built once per PF (a guest of 1984 VFs would otherwise scan each PF's list per VF).
local function vf_number(d, index)
  local pf = d:pf()
  if not pf then return nil end
  local numbers = index[pf]
  if not numbers then
    numbers = {}
    for i, a in ipairs(pf.vfs_addresses or {}) do numbers[a] = i - 1 end
    index[pf] = numbers
  end
  return numbers[d.address]
end

-- MAC -> "launch 'NAME' (device ID)" for every live launch other than this run's.
local function live_macs(ctx)
  local launches = require "vflaunch.launches"
  local out = {}
  for _, r in ipairs(launches.list(ctx)) do
    local mine = ctx.record and r.name == ctx.record.name
    local plan = not mine and r:alive() and r:plan()
    for _, d in ipairs(plan and plan.devices or {}) do
      local mac = type(d.net) == "table" and d.net.mac
      if type(mac) == "string" then
        out[mac] = string.format("launch '%s' (%s, host device %s)", r.name, tostring(d.id),
          tostring(d.host))
      end
    end
  end
  return out
end

-- The devices with an identity to set: { e=, d= (host device), pf=, vf= (number), id= }.
local function wanted(devices)
  local out, index = {}, {}
  for _, e in ipairs(devices) do
    local id = M.of(e)
    if id and e.hostdev then
      out[#out + 1] = { e = e, d = e.hostdev, pf = e.hostdev.physfn,
        vf = vf_number(e.hostdev, index),
        id = id, label = e.label or require("vflaunch.topology").describe(e) }
    end
  end
  return out
end

-- Every problem with the VF identities of devices, before anything changes, each through
-- problem(fmt, ...): a device that is no network VF, a PF whose VF settings cannot be read or
-- that is down, a setting its driver does not report (so it cannot be checked), a rate above
-- the PF's link speed, a MAC a live guest uses.
function M.check(ctx, devices, problem)
  local list = wanted(devices)
  if #list == 0 then return end
  local macs, down_said = live_macs(ctx), {}
  for _, w in ipairs(list) do
    local e, id = w.e, w.id
    local why = M.not_network_vf(ctx.roots.sys, w.d)
    local info, err
    if why then
      problem("%s: %s: %s", e.where, w.label, why)
    else
      info, err = pf_info(ctx, w.pf)
      if not info then
        problem("%s: %s: cannot read the VF settings of %s's PF %s: %s", e.where, w.label,
          w.d.address, w.pf, err)
      end
    end
    -- igb and ixgbe hand a VF its MAC only while the PF is up: with the PF down the VF's
    -- driver finds the PF "in reset" and takes a random MAC (seen with igbvf on Linux 6.1).
    if info and info.up == false and not down_said[w.pf] then
      down_said[w.pf] = true
      problem("%s: %s: %s (%s's PF) is down: its VFs' drivers get no MAC or VLAN from it " ..
        "until it is up; bring it up first (ip link set %s up)", e.where, w.label, info.ifname,
        w.d.address, info.ifname)
    end
    local cur = info and w.vf and info.vfs[w.vf + 1]
    if info and not cur then
      problem("%s: %s: the kernel reports no VF %s on %s (%s has %d); its driver (%s) may not " ..
        "report VF settings", e.where, w.label, tostring(w.vf), info.ifname, w.pf,
        info.num_vf or 0, (w.d:pf() or {}).driver or "none")
    end
    for _, k in ipairs { "trust", "spoofchk" } do
      if cur and id[k] ~= nil and cur[k] == nil then
        problem("%s: %s: %s's driver (%s) does not report %s for its VFs, so vflaunch could " ..
          "neither check it nor give it back; leave %s out for this device", e.where, w.label,
          info.ifname, (w.d:pf() or {}).driver or "none", k, k)
      end
    end
    local speed = info and info.speed
    for _, k in ipairs { "max_rate", "min_rate" } do
      if info and id[k] and math.type(speed) == "integer" and speed > 0 and id[k] > speed then
        problem("%s: %s: %s %d Mb/s is above the link speed of %s (%d Mb/s)", e.where, w.label,
          k, id[k], info.ifname, speed)
      end
    end
    if id.mac and macs[id.mac] then
      problem("%s: %s: mac %s is in use by %s; each guest's MACs must be its own (mac = " ..
        "\"auto\" derives one from this launch's name)", e.where, w.label, id.mac, macs[id.mac])
    end
  end
end

local LINK_NUMBER = { auto = 0, enable = 1, disable = 2 }
local function tri(b) return b == nil and -1 or (b and 1 or 0) end

-- Set every identity devices ask for, each original journaled first (kind "vfnet", one record
-- per VF, given back by restore/stop and by the failure path of this run). core.net reads
-- every value back and fails on a difference; the first failure raises (status 3).
function M.apply(ctx, devices)
  local list = wanted(devices)
  if #list == 0 then return end
  ctx.netinfo = nil -- the originals journaled are read now, not when the checks ran
  local entries, by_pf, order = {}, {}, {}
  for _, w in ipairs(list) do
    local info, err = pf_info(ctx, w.pf)
    local cur = info and info.vfs[w.vf + 1]
    if not cur then
      util.fail(string.format("%s: cannot read VF %s of %s: %s", w.d.address, tostring(w.vf),
        w.pf, err or "the kernel reports no such VF"), util.EXIT.HOST)
    end
    entries[#entries + 1] = { kind = "vfnet", addr = w.d.address, mac = cur.mac,
      vlan = cur.vlan, qos = cur.qos, spoofchk = tri(cur.spoofchk), trust = tri(cur.trust),
      link = LINK_NUMBER[cur.link] or 0, max_rate = cur.max_rate, min_rate = cur.min_rate }
    local change = { vf = w.vf }
    for k, v in pairs(w.id) do change[k] = v end
    -- VLAN and priority are one tag: a VLAN without qos has priority 0. A rate given alone
    -- keeps the other as it is.
    if change.vlan or change.qos then
      change.vlan, change.qos = change.vlan or 0, change.qos or 0
    end
    if change.max_rate or change.min_rate then
      change.max_rate = change.max_rate or cur.max_rate
      change.min_rate = change.min_rate or cur.min_rate
    end
    if not by_pf[w.pf] then by_pf[w.pf] = {}; order[#order + 1] = w.pf end
    table.insert(by_pf[w.pf], change)
  end
  require("vflaunch.launches").record_changes(ctx, entries) -- originals on disk first
  for _, pf in ipairs(order) do
    ctx.netinfo[pf] = nil -- what was read is no longer so
    local ok, err = net.set(ctx.roots.sys, pf, by_pf[pf])
    if not ok then util.fail(err, util.EXIT.HOST) end
  end
  for _, w in ipairs(list) do
    ctx:info("%s: VF %d of %s: %s (read back)", w.d.address, w.vf,
      M.netdev(ctx.roots.sys, w.pf) or w.pf, M.describe(w.id))
  end
end

-- "mac 52:54:00:12:34:56, vlan 100, trust on", for messages and plans.
function M.describe(id)
  local parts = {}
  for _, k in ipairs(M.KEYS) do
    local v = id[k]
    if v ~= nil then
      if type(v) == "boolean" then v = v and "on" or "off" end
      if k == "max_rate" or k == "min_rate" then v = v .. " Mb/s" end
      parts[#parts + 1] = k .. " " .. tostring(v)
    end
  end
  return table.concat(parts, ", ")
end

return M
