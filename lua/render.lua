-- SPDX-License-Identifier: MIT
-- A finalized machine as QEMU's argv, a pastable shell command, a tree picture, and JSON.
local machines = require "vflaunch.machines"
local netid = require "vflaunch.netid"
local topology = require "vflaunch.topology"
local json = require "vflaunch.json"
local util = require "vflaunch.util"

local M = {}

local P = topology.private

-- QEMU's option parser splits on ',' and reads ',,' as a literal comma.
function M.qemu_escape(v)
  v = tostring(v)
  if not v:find(",", 1, true) then return v end -- most values: no pattern, no copy
  return (v:gsub(",", ",,"))
end

local function addr_text(a)
  return string.format("%02x.%x", a.slot, a.func)
end

-- The -device value of one element: "driver,key=value,...".
local function add(p, k, v)
  if v ~= nil then p[#p + 1] = k .. "=" .. M.qemu_escape(v) end
end

-- The fields are read raw: they are plain fields of the element (finalize checked them), and
-- most are nil, which would ask the element's __index for methods and views on each.
function M.device_value(e, model)
  local rec = P(e)
  local p = { model or rec.model }
  if rec.kind == "device" and not model then add(p, "host", rawget(e, "host")) end
  add(p, "id", rawget(e, "id"))
  add(p, "bus", topology.bus_name(rec.parent))
  add(p, "addr", addr_text(rawget(e, "addr")))
  if rec.multifunction then add(p, "multifunction", "on") end
  add(p, "chassis", rawget(e, "chassis"))
  add(p, "slot", rawget(e, "slot"))
  add(p, "io-reserve", rawget(e, "io_reserve"))
  add(p, "bus-reserve", rawget(e, "bus_reserve"))
  add(p, "rombar", rawget(e, "rombar"))
  return table.concat(p, ",")
end

-- The elements of the tree in depth-first devfn order, parents before children.
function M.walk(m)
  local out = {}
  local function visit(bus)
    for _, e in ipairs(bus.sorted) do
      out[#out + 1] = e
      local below = P(e).below
      if below then visit(below) end
    end
  end
  visit(P(m).root)
  return out
end

-- The machine options ("key=value", checked by machines.lua), keys and values escaped.
local function machine_value(m)
  local p = { m.type }
  for _, opt in ipairs(m.options) do
    local k, v = opt:match("^([^=]*)=(.*)$")
    p[#p + 1] = M.qemu_escape(k) .. "=" .. M.qemu_escape(v)
  end
  return table.concat(p, ",")
end

-- Every word of argv must reach QEMU as the plan shows it: machines.lua and topology.lua check
-- each value a script gives; this is the last line, so that no other value can slip through.
local function check_argv(a)
  for i, w in ipairs(a) do
    local why = util.argv_problem(w)
    if why then util.fail(string.format("argv word %d (after %s) %s", i, tostring(a[i - 1]), why)) end
  end
  return a
end

-- argv for QEMU. device_model(e) may replace a passthrough device's -device value (rehearsal).
function M.argv(m, qemu, device_value)
  local a = { qemu }
  local function opt(k, v) if v ~= nil then a[#a + 1] = k; a[#a + 1] = tostring(v) end end
  opt("-machine", machine_value(m))
  opt("-name", m.name)
  opt("-accel", m.accel)
  opt("-cpu", m.cpu)
  opt("-smp", m.smp)
  opt("-m", m.memory)
  opt("-kernel", m.kernel)
  opt("-initrd", m.initrd)
  opt("-append", m.append)
  for _, e in ipairs(M.walk(m)) do
    opt("-device", device_value and P(e).kind == "device" and device_value(e) or
      M.device_value(e))
  end
  for _, x in ipairs(m.args) do a[#a + 1] = x end
  -- virt's default NIC would take root slot 01 before the plan's port there (machines.virt_nic).
  if P(m).profile.family == "virt" and machines.virt_nic(m) == "none" then
    a[#a + 1], a[#a + 2] = "-nic", "none"
  end
  return check_argv(a)
end

-- A word for sh, quoted only when it needs it, as Python's shlex.quote does: a word of letters,
-- digits and @%+=:,./_- stands bare; any other is single-quoted, ' written as '\'' (an empty
-- word is '').
function M.shell_quote(w)
  if w ~= "" and not w:find("[^%w@%%+=:,./_-]") then return w end
  return "'" .. w:gsub("'", "'\\''") .. "'"
end

-- The command as sh reads it: one option and its value per line, backslash continuations.
function M.shell(argv)
  -- The command word bare with a '=' would be an assignment to sh, not a command.
  local first = M.shell_quote(argv[1])
  if first == argv[1] and first:find("=", 1, true) then first = "'" .. first .. "'" end
  local lines, i = { first }, 2
  while i <= #argv do
    local w = argv[i]
    local line = "  " .. M.shell_quote(w)
    -- An option and its value stay on one line; a bare word (a flag) stands alone.
    if w:sub(1, 1) == "-" and argv[i + 1] and argv[i + 1]:sub(1, 1) ~= "-" then
      line = line .. " " .. M.shell_quote(argv[i + 1])
      i = i + 1
    end
    lines[#lines + 1] = line
    i = i + 1
  end
  return table.concat(lines, " \\\n") .. "\n"
end

local function guest_address(e)
  return string.format("%02x:%s", P(e).parent.number, addr_text(e.addr))
end

-- The guest's bus number of the bus element e sits on (after finalize).
function M.guest_bus(e)
  return P(e).parent.number
end

-- Guest-visible facts of each passthrough device, for JSON and rehearsal. names = false: each
-- device's name is null (names come from pci.ids, which costs more to load than the rest of a
-- launch; a launch keeps its plan for programs, and shows no name).
function M.device_facts(m, names)
  local out = {}
  for _, e in ipairs(M.walk(m)) do
    local rec = P(e)
    if rec.kind == "device" then
      local port = rec.parent.owner
      out[#out + 1] = {
        id = e.id, host = e.host, bus = topology.bus_name(rec.parent), addr = addr_text(e.addr),
        guest_bus = rec.parent.number, guest_address = "0000:" .. guest_address(e),
        port = port and port.id or json.null,
        name = names ~= false and rec.hostdev and rec.hostdev:describe() or json.null,
        net = netid.of(e) or json.null, -- the VF identity a launch sets
      }
    end
  end
  return out
end

function M.root_slots_used(m)
  local used = {}
  for _, e in ipairs(P(m).root.children) do
    if e.addr then used[e.addr.slot] = true end
  end
  local n = 0
  for _ in pairs(used) do n = n + 1 end
  return n
end

function M.budget_line(m)
  local rec = P(m)
  return string.format("buses %d/%d, root slots %d/%d, devices %d", rec.buses_used,
    rec.profile.bus_limit, M.root_slots_used(m), #rec.profile.root_slots, #m:devices())
end

local function element_line(e)
  local a, rec = guest_address(e), P(e)
  if rec.kind == "device" then
    local id = netid.of(e)
    return string.format("%s %s %s%s%s", a, e.id, e.host,
      rec.hostdev and ("  " .. rec.hostdev:describe()) or "",
      id and ("  [" .. netid.describe(id) .. "]") or "")
  end
  local s = string.format("%s %s %s", a, rec.model, e.id)
  if e.chassis then s = s .. string.format(" chassis %d slot %d", e.chassis, e.slot) end
  if rec.multifunction then s = s .. " multifunction" end
  return s .. string.format("  [bus %02x]", rec.below.number)
end

-- The guest's PCIe tree as lspci -t would draw it, with the budget line last.
function M.tree(m)
  local lines = { string.format("pcie.0 (%s, bus 00)", m.type) }
  local function visit(bus, indent)
    local kids = bus.sorted
    for i, e in ipairs(kids) do
      local last = i == #kids
      lines[#lines + 1] = indent .. (last and "└─ " or "├─ ") .. element_line(e)
      local below = P(e).below
      if below then visit(below, indent .. (last and "   " or "│  ")) end
    end
  end
  visit(P(m).root, "")
  lines[#lines + 1] = M.budget_line(m)
  return table.concat(lines, "\n") .. "\n"
end

-- Every port of the machine (bridges and switch ports), as JSON and hot-plug see them.
function M.ports(m)
  local ports = {}
  for _, e in ipairs(M.walk(m)) do
    local rec = P(e)
    if rec.kind ~= "device" then
      ports[#ports + 1] = { id = e.id, model = rec.model, bus = topology.bus_name(rec.parent),
        addr = addr_text(e.addr), chassis = e.chassis or json.null, slot = e.slot or json.null,
        guest_bus = rec.parent.number, secondary_bus = rec.below.number }
    end
  end
  return ports
end

-- The plan as one JSON object (names: see device_facts).
function M.json(m, argv, names)
  return json.encode({
    machine = { type = m.type, qemu = argv[1], memory = machines.memory_bytes(m) },
    argv = argv,
    devices = M.device_facts(m, names),
    ports = M.ports(m),
    buses = { used = P(m).buses_used, available = P(m).profile.bus_limit },
    root_slots = { used = M.root_slots_used(m), available = #P(m).profile.root_slots },
  }) .. "\n"
end

return M
