-- SPDX-License-Identifier: MIT
-- What each QEMU machine type allows (root-bus slots, bus-number budget, binary, rehearsal cpu),
-- and the machine's own fields: one checker per field, used when the machine is made and again
-- before it is used (a script may change a field in between).
local util = require "vflaunch.util"

local M = {}

---------------------------------------------------------------------------------------------
-- Sizes and memory, as QEMU reads them

local SHIFT = { b = 0, k = 10, m = 20, g = 30, t = 40, p = 50, e = 60 }

-- A size as QEMU's qemu_strtosz reads it (util/cutils.c): digits, an optional fraction, and one
-- optional suffix B, K, M, G, T, P or E in either case (powers of 1024). A number without a suffix
-- is in units of 2^default_shift bytes. A fraction needs a suffix other than B (QEMU refuses a
-- fraction of a byte). Hex, exponents, signs and spaces, which QEMU's strtod would also take, are
-- refused: a plan says sizes one way. Returns bytes (an integer), or nil and why.
function M.parse_size(s, default_shift)
  local int, frac, suffix = s:match("^(%d+)(%.?%d*)(%a?)$")
  if not int then
    return nil, "digits, an optional fraction and one optional suffix (B, K, M, G, T, P, E) are wanted"
  end
  local shift = suffix == "" and default_shift or SHIFT[suffix:lower()]
  if not shift then
    return nil, "'" .. suffix .. "' is not a size suffix (B, K, M, G, T, P, E)"
  end
  local fraction = frac ~= "" and tonumber("0" .. frac) ~= 0
  if fraction and (suffix == "" or shift == 0) then
    return nil, "a fraction needs a suffix (K, M, G, ...): QEMU refuses a fraction of a byte"
  end
  -- QEMU's limit is 2^64 - 1024; a Lua integer stops at 2^63, and no guest needs the rest.
  local bytes
  if fraction then
    local v = tonumber(int .. frac) * 2.0 ^ shift
    bytes = v < 2.0 ^ 63 and math.tointeger(math.floor(v)) or nil
  else
    local n = math.tointeger(tonumber(int))
    bytes = n and n <= (math.maxinteger >> shift) and n << shift or nil
  end
  if not bytes then return nil, "it is more than 8 EiB" end
  return bytes
end

local MEMORY_FORM = "give [size=]N[K|M|G|T] (a number without a suffix is MiB: 4096, \"16G\", " ..
  "\"1.5G\"), optionally followed by \",slots=N,maxmem=SIZE\", or an integer number of MiB"

-- QEMU's -m (softmmu/vl.c parse_memory_options, hw/core/machine.c machine_set_mem):
-- [size=]SIZE[,slots=N][,maxmem=SIZE]. size without a suffix is MiB (QEMU appends "M"); maxmem
-- without a suffix is bytes, as QEMU reads it. An integer is a number of MiB. Size 0 is refused:
-- QEMU would silently take its default instead. Returns {size=, maxmem=, slots=} (bytes), or nil
-- and why.
function M.parse_memory(mem)
  if math.type(mem) == "integer" then
    if mem < 1 or mem > (math.maxinteger >> 20) then
      return nil, string.format("memory %d is not a number of MiB from 1 up; %s", mem, MEMORY_FORM)
    end
    return { size = mem << 20 }
  end
  if type(mem) ~= "string" then
    return nil, string.format("memory %s is not a size; %s", util.show(mem), MEMORY_FORM)
  end
  local function bad(why)
    return nil, string.format("memory %s is not what QEMU's -m reads: %s; %s", util.show(mem), why,
      MEMORY_FORM)
  end
  local out, first = {}, true
  for item in (mem .. ","):gmatch("([^,]*),") do
    local k, v = item:match("^(%a+)=(.*)$")
    if not k and first then k, v = "size", item end
    first = false
    if not k then return bad("\"" .. item .. "\" is not key=value") end
    if out[k] ~= nil then return bad(k .. " is given twice") end
    local why
    if k == "size" then
      out.size, why = M.parse_size(v, 20)
    elseif k == "maxmem" then
      out.maxmem, why = M.parse_size(v, 0)
    elseif k == "slots" then
      out.slots = v:match("^%d+$") and math.tointeger(tonumber(v))
      why = "slots must be a number"
    else
      return bad("'" .. k .. "' is not one of size, slots, maxmem")
    end
    if not out[k] then return bad(k .. " " .. util.show(v) .. ": " .. why) end
  end
  if not out.size then return bad("the size is missing") end
  if out.size == 0 then return bad("size 0 makes QEMU take its default size; leave memory out for that") end
  if out.maxmem and out.maxmem < out.size then
    return bad("maxmem is less than the size (maxmem without a suffix is bytes)")
  end
  if out.slots and not out.maxmem then return bad("slots needs maxmem") end
  if out.slots and out.slots > 0 and out.maxmem == out.size then
    return bad("slots needs a maxmem larger than the size")
  end
  return out
end

M.DEFAULT_MEMORY = 128 << 20 -- QEMU's default RAM for virt and q35 (default_ram_size)

-- The bytes of guest RAM that vfio pins for machine m: maxmem when given (memory plugged in later
-- is pinned too), else the size; QEMU's default when memory is left out. nil and why for a memory
-- QEMU would not read (the machine's checks refuse those first).
function M.memory_bytes(m)
  if m.memory == nil then return M.DEFAULT_MEMORY end
  local mem, why = M.parse_memory(m.memory)
  if not mem then return nil, why end
  return mem.maxmem or mem.size
end

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

-- Without -nodefaults QEMU gives virt a NIC (virtio-net-pci) at the first free root slot, 01,
-- before any -device is placed, and a plan's port there would not start. What the script's args
-- say of NICs: nil (-nodefaults, or -nic none / -net none: no default NIC), "own" (a -nic or -net
-- of its own: QEMU puts it at 01, which the plan then leaves free), or "none" (nothing said:
-- render.argv adds "-nic none", so that all 31 slots are the plan's).
function M.virt_nic(m)
  local own, none = false, false
  for i, a in ipairs(m.args) do
    if a == "-nodefaults" then return nil end
    if a == "-nic" or a == "-net" then
      if m.args[i + 1] == "none" then none = true else own = true end
    end
  end
  if own then return "own" end
  if none then return nil end
  return "none"
end

M.known = "virt (virt-X.Y) or q35 (pc-q35-X.Y)"

-- The family of a machine type: exactly virt, virt-X.Y, q35 or pc-q35-X.Y. Machine options go in
-- options, never after a comma here: the budget depends on the type, and QEMU would read them.
function M.family(t)
  if type(t) ~= "string" then return nil end
  if t == "virt" or t:match("^virt%-%d+%.%d+$") then return "virt" end
  if t == "q35" or t:match("^pc%-q35%-%d+%.%d+$") then return "q35" end
  return nil
end

---------------------------------------------------------------------------------------------
-- The machine's fields. Each checker takes a value and returns true and the value to keep
-- (normalized), or false and why, worded after the field's name.

local function check_type(v)
  if v == nil then return true, "virt" end
  if M.family(v) then return true, v end
  local shown = type(v) == "string" and v:match("^[%w%p ]*$") and ("'" .. v .. "'") or util.show(v)
  return false, string.format("type %s is not one vflaunch knows: %s%s", shown, M.known,
    type(v) == "string" and v:find(",", 1, true) and "; give machine options in options = { ... }" or "")
end

-- A string that goes into QEMU's argv as is; optional, and not empty when `nonempty`.
local function argv_string(name, nonempty)
  return function(v)
    if v == nil then return true, nil end
    local why = util.argv_problem(v)
    if why then return false, name .. " " .. why end
    if nonempty and v == "" then return false, name .. " is empty; leave it out instead" end
    return true, v
  end
end

local function check_qemu(v)
  local ok, why = argv_string("qemu", true)(v)
  if not ok then return false, why end
  if v and v:find("[%c%s]") then
    return false, string.format("qemu %s has whitespace or control characters; give the binary's " ..
      "name or path alone (qemu-system-aarch64, /usr/bin/qemu-system-x86_64)", util.show(v))
  end
  return true, v
end

-- QEMU's -name, and the name of a launch (its state under /run/vflaunch/NAME): a file name.
local function check_name(v)
  if v == nil then return true, nil end
  if type(v) ~= "string" or #v > 64 or not v:match("^[A-Za-z0-9][A-Za-z0-9_.%-]*$") then
    return false, string.format("name %s is not a launch name: 1 to 64 letters, digits, '_', '.' " ..
      "or '-', starting with a letter or digit (as in \"big-guest\" or \"nfv.1\")", util.show(v))
  end
  return true, v
end

local PROPERTY = "^[a-z][a-z0-9._%-]*$" -- QEMU property names, as in gic-version, highmem-ecam

-- One -machine option from a key and a value: why not, or nil and the "key=value" text.
local function option_text(k, v)
  if type(k) ~= "string" or not k:match(PROPERTY) then
    return nil, string.format("options key %s is not a QEMU property name (lower-case letters, " ..
      "digits, '.', '_', '-', as in gic-version)", util.show(k))
  end
  if k == "type" then
    return nil, "options cannot set type: give the machine type as type = \"...\""
  end
  if type(v) == "boolean" then
    v = v and "on" or "off"
  elseif math.type(v) == "integer" then
    v = tostring(v)
  elseif type(v) ~= "string" then
    return nil, string.format("options value of %s must be a string, an integer or a boolean, " ..
      "not %s", k, util.show(v))
  end
  local why = util.argv_problem(v)
  if why then return nil, "options value of " .. k .. " " .. why end
  return k .. "=" .. v
end

-- -machine options: a list of "key=value" strings, a map { ["gic-version"] = 3 }, or both.
-- Kept as a list of "key=value" strings: the list's first, then the map's in key order.
local function check_options(t)
  if t == nil then return true, {} end
  if type(t) ~= "table" then
    return false, string.format("options must be a table of \"key=value\" strings or " ..
      "{ key = value }, not %s", util.show(t))
  end
  local list, keys = {}, {}
  for k in next, t do
    if math.type(k) == "integer" then list[#list + 1] = k else keys[#keys + 1] = k end
  end
  table.sort(list)
  for i, k in ipairs(list) do
    if k ~= i then
      return false, string.format("options[%d] is nil, and options[%d] is not: a list cannot " ..
        "have holes", i, k)
    end
  end
  for _, k in ipairs(keys) do
    if type(k) ~= "string" then
      return false, string.format("options key %s is not a QEMU property name", util.show(k))
    end
  end
  table.sort(keys)
  local out, seen = {}, {}
  local function add(k, v, what)
    local text, why = option_text(k, v)
    if not text then return false, why end
    if seen[k] then return false, string.format("options give %s twice (%s)", k, what) end
    seen[k] = true
    out[#out + 1] = text
    return true
  end
  for i = 1, #list do
    local v = t[i]
    local k, val
    if type(v) == "string" then k, val = v:match("^([^=]*)=(.*)$") end
    if not k then
      return false, string.format("options[%d] must be a \"key=value\" string, not %s", i,
        util.show(v))
    end
    local ok, why = add(k, val, "options[" .. i .. "]")
    if not ok then return false, why end
  end
  for _, k in ipairs(keys) do
    local ok, why = add(k, t[k], "in the list and as a key")
    if not ok then return false, why end
  end
  return true, out
end

local function check_memory(v)
  if v == nil then return true, nil end
  local mem, why = M.parse_memory(v)
  if not mem then return false, why end
  return true, v
end

local function check_smp(v)
  if v == nil or (math.type(v) == "integer" and v >= 1 and v <= 4096) then return true, v end
  return false, "smp must be an integer from 1 to 4096, not " .. util.show(v)
end

-- Further QEMU arguments, word by word: a list of strings (a string alone would be one word
-- that QEMU splits nowhere, and was once silently dropped).
local function check_args(t)
  if t == nil then return true, {} end
  local n, why = util.list_length(t, "args")
  if not n then return false, why end
  local out = {}
  for i = 1, n do
    local problem = util.argv_problem(t[i])
    if problem then return false, string.format("args[%d] %s", i, problem) end
    out[i] = t[i]
  end
  return true, out
end

local function boolean(name, default)
  return function(v)
    if v == nil then return true, default end
    if type(v) == "boolean" then return true, v end
    return false, string.format("%s must be true or false, not %s", name, util.show(v))
  end
end

-- In the order problems are reported. bind_group: also bind the other members of the devices'
-- IOMMU groups. qmp: false opts out of the QMP socket a launch gets.
M.FIELDS = {
  { name = "type", check = check_type },
  { name = "qemu", check = check_qemu },
  { name = "name", check = check_name },
  { name = "options", check = check_options },
  { name = "accel", check = argv_string("accel", true) },
  { name = "cpu", check = argv_string("cpu", true) },
  { name = "smp", check = check_smp },
  { name = "memory", check = check_memory },
  { name = "kernel", check = argv_string("kernel", true) },
  { name = "initrd", check = argv_string("initrd", true) },
  { name = "append", check = argv_string("append") },
  { name = "args", check = check_args },
  { name = "bind_group", check = boolean("bind_group", false) },
  { name = "qmp", check = boolean("qmp", true) },
}

-- Every field of machine m checked again, normalized values written back. A problem here is a
-- field changed after vf.machine{} checked it: one line each, at the line that made the machine.
function M.recheck(m)
  local problems = {}
  for _, f in ipairs(M.FIELDS) do
    local ok, v = f.check(rawget(m, f.name))
    if ok then
      rawset(m, f.name, v)
    else
      problems[#problems + 1] = string.format("%s: machine: %s was changed after creation: %s",
        m.where, f.name, v)
    end
  end
  return problems
end

-- The profile of machine m (a topology machine): family, qemu, root slots and reservations.
-- Everything after the script reads the machine's fields, starting here: they are checked again
-- first, and a field the script broke after vf.machine{} is an error at the machine's line.
function M.profile(m)
  local problems = M.recheck(m)
  if #problems > 0 then util.fail_all(problems) end
  local p
  local family = M.family(m.type)
  if family == "virt" then
    p = setmetatable({}, { __index = virt })
    if M.virt_nic(m) == "own" then
      p.root_slots = slots(0x02, 0x1f)
      p.root_reserved = { [0] = virt.root_reserved[0], [0x01] = "01.0 holds the NIC that -nic " ..
        "or -net in args adds (QEMU places it before any -device)" }
    end
  else
    p = setmetatable({}, { __index = q35 })
    p.root_slots, p.root_reserved = q35_slots(m)
  end
  p.bus_limit, p.bus_limit_why = p.buses(m)
  return p
end

return M
