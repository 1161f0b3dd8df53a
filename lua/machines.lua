-- SPDX-License-Identifier: MIT
-- What each QEMU machine type allows: root-bus slots, bus-number budget, binary, rehearsal cpu.
local M = {}

local function slots(first, last, except)
  local out = {}
  for s = first, last do
    if not (except and except[s]) then out[#out + 1] = s end
  end
  return out
end

-- QEMU reads a bool option as on/off, yes/no, true/false or y/n.
local OFF = { off = true, no = true, ["false"] = true, n = true }

local function has_option(m, key, value)
  for _, opt in ipairs(m.options) do
    local k, v = opt:match("^([^=]+)=(.*)$")
    if k == key and (value == nil or v == value or (value == "off" and OFF[v])) then return true end
  end
  return false
end

local function option(m, key)
  local found
  for _, opt in ipairs(m.options) do
    local k, v = opt:match("^([^=]+)=(.*)$")
    if k == key then found = v end
  end
  return found
end

-- aarch64 virt: the generic host bridge holds 00.0, so slots 01-1f are free (qemu gpex).
-- Buses = ECAM size / 1 MiB: 256 with the high ECAM, 16 with the low one.
local virt = {
  family = "virt",
  qemu = "qemu-system-aarch64",
  root_slots = slots(0x01, 0x1f),
  root_reserved = { [0] = "00.0 holds the host bridge (gpex)" },
  rehearse_cpu = "cortex-a57",
  console = "ttyAMA0",
}

function virt.buses(m)
  local major = tonumber(m.type:match("^virt%-(%d+)%.%d+$"))
  if has_option(m, "highmem", "off") or has_option(m, "highmem-ecam", "off") then
    return 16, "highmem or highmem-ecam is off: the low ECAM has room for 16 buses"
  end
  if major and major < 3 then
    return 16, m.type .. " has no high ECAM (virt-3.0 and later do): 16 buses"
  end
  return 256
end

-- virt's default GIC is v2, whose MSIs go through GICv2m: 64 SPIs for every MSI in the guest
-- (qemu hw/arm/virt.c, NUM_GICV2M_SPIS). GICv3's ITS has no such limit. nil: no limit.
function virt.msi_limit(m)
  local gic = option(m, "gic-version")
  if gic == "3" or gic == "4" or gic == "max" or gic == "host" then return nil end
  return 64, "GICv2m (virt's default GICv2) has 64 MSI vectors"
end

-- x86_64 q35: the MCH holds 00.0 and ICH9 slot 1f (LPC, AHCI, SMBus). Without -nodefaults
-- QEMU adds a VGA card and a NIC, which take slots 01 and 02.
local q35 = {
  family = "q35",
  qemu = "qemu-system-x86_64",
  rehearse_cpu = "qemu64",
  console = "ttyS0",
}

function q35.buses() return 256 end

local function q35_slots(m)
  local nodefaults = false
  for _, a in ipairs(m.args) do
    if a == "-nodefaults" then nodefaults = true end
  end
  local reserved = { [0] = "00.0 holds the host bridge (MCH)",
    [0x1f] = "1f.x holds the ICH9 functions (LPC, AHCI, SMBus)" }
  if not nodefaults then
    reserved[0x01] = "01.0 holds the default VGA card (add '-nodefaults' to args to free it)"
    reserved[0x02] = "02.0 holds the default NIC (add '-nodefaults' to args to free it)"
  end
  local except = {}
  for s in pairs(reserved) do except[s] = true end
  return slots(0x00, 0x1f, except), reserved
end

-- The profile of machine m (a topology machine): family, qemu, root slots and reservations.
function M.profile(m)
  local p
  if m.type == "virt" or m.type:match("^virt%-") then
    p = setmetatable({}, { __index = virt })
  elseif m.type == "q35" or m.type:match("^pc%-q35") then
    p = setmetatable({}, { __index = q35 })
    p.root_slots, p.root_reserved = q35_slots(m)
  else
    return nil
  end
  p.bus_limit, p.bus_limit_why = p.buses(m)
  return p
end

-- Bytes of guest RAM vfio pins: QEMU's -m as a number of MiB or with a K/M/G/T suffix.
function M.memory_bytes(m)
  local mem = m.memory
  if mem == nil then return 128 << 20 end -- QEMU's default guest RAM
  local n, unit = tostring(mem):match("^(%d+)([KMGTkmgt]?)$")
  if not n then return 0 end
  local shift = ({ k = 10, m = 20, g = 30, t = 40 })[unit:lower()] or 20
  return math.tointeger(tonumber(n)) << shift
end

M.known = "virt (virt-X.Y) or q35 (pc-q35-X.Y)"

return M
