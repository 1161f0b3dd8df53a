-- SPDX-License-Identifier: MIT
-- A finalized machine as QEMU's argv, a pastable shell command, a tree picture, and JSON.
local machines = require "vflaunch.machines"
local netid = require "vflaunch.netid"
local topology = require "vflaunch.topology"
local json = require "vflaunch.json"
local util = require "vflaunch.util"

local M = {}

local P = topology.private
local bus_name = topology.bus_name
local concat, find, format = table.concat, string.find, string.format

-- QEMU's option parser splits on ',' and reads ',,' as a literal comma.
function M.qemu_escape(v)
  v = tostring(v)
  if not v:find(",", 1, true) then return v end -- most values: no pattern, no copy
  return (v:gsub(",", ",,"))
end
local qemu_escape = M.qemu_escape

-- "%02x" of each byte and "ss.f" of each slot and function, made once: a plan of 2232
-- elements would otherwise format them some 10,000 times.
local HEX2, ADDR = {}, {}
for i = 0, 255 do HEX2[i] = format("%02x", i) end
for slot = 0, 0x1f do
  ADDR[slot] = {}
  for func = 0, 7 do ADDR[slot][func] = format("%02x.%x", slot, func) end
end

local function addr_text(a)
  local row = ADDR[a.slot]
  return row and row[a.func] or format("%02x.%x", a.slot, a.func)
end

local function hex2(n)
  return HEX2[n] or format("%02x", n)
end

-- Small integers as text, made once: bus, chassis and slot numbers. (An integer's text is the
-- same through tostring, "%d" and JSON.)
local DEC = {}
for i = 0, 255 do DEC[i] = json.number(i) end

local function int_text(v)
  return DEC[v] or json.number(v)
end

-- qemu_escape for a value finalize checked (a string or a number), with one call for the usual
-- value, which has no comma (find reads a number as its text, as qemu_escape's tostring does).
local function esc(v)
  if find(v, ",", 1, true) then return qemu_escape(v) end
  return v
end

-- The -device value of element e (record rec, on the bus named bus): "driver,key=value,...", in
-- one concatenation. The fields are read raw: they are plain fields of the element (finalize
-- checked them), and most are nil, which would ask the element's __index for methods and views.
-- They are walked with next: an element holds three to five, and a call for each of the eight
-- names would cost more.
local function device_value(e, rec, bus, model)
  local host, id, addr, chassis, slot, io, busr, rombar
  for k, v in next, e do
    if k == "id" then id = v
    elseif k == "addr" then addr = v
    elseif k == "host" then host = v
    elseif k == "chassis" then chassis = v
    elseif k == "slot" then slot = v
    elseif k == "io_reserve" then io = v
    elseif k == "bus_reserve" then busr = v
    elseif k == "rombar" then rombar = v
    end
  end
  if rec.kind ~= "device" or model then host = nil end
  -- Each optional part as two operands (a key or "", a value or ""): a part made by a
  -- concatenation of its own would be a string more to make and intern for each element. host,
  -- id and the bus name are strings finalize checked (esc); the rest, mostly absent, may be a
  -- field no checker of the element's kind reads (set with rawset): qemu_escape's tostring.
  return (model or rec.model) ..
    (host ~= nil and ",host=" or "") .. (host ~= nil and esc(host) or "") ..
    (id ~= nil and ",id=" or "") .. (id ~= nil and esc(id) or "") ..
    ",bus=" .. esc(bus) .. ",addr=" .. addr_text(addr) ..
    (rec.multifunction and ",multifunction=on" or "") ..
    (chassis ~= nil and ",chassis=" or "") .. (chassis ~= nil and qemu_escape(chassis) or "") ..
    (slot ~= nil and ",slot=" or "") .. (slot ~= nil and qemu_escape(slot) or "") ..
    (io ~= nil and ",io-reserve=" or "") .. (io ~= nil and qemu_escape(io) or "") ..
    (busr ~= nil and ",bus-reserve=" or "") .. (busr ~= nil and qemu_escape(busr) or "") ..
    (rombar ~= nil and ",rombar=" or "") .. (rombar ~= nil and qemu_escape(rombar) or "")
end

function M.device_value(e, model)
  local rec = P(e)
  return device_value(e, rec, bus_name(rec.parent), model)
end

-- The elements of the tree in depth-first devfn order, parents before children, with their
-- records and the names of the buses they sit on (the same order), for argv, JSON and the tree
-- to read without asking again.
local function walk(m)
  local out, recs, buses, n = {}, {}, {}, 0
  local function visit(bus)
    local sorted, name = bus.sorted, bus_name(bus)
    for i = 1, #sorted do
      local e = sorted[i]
      local rec = P(e)
      n = n + 1
      out[n], recs[n], buses[n] = e, rec, name
      if rec.below then visit(rec.below) end
    end
  end
  visit(P(m).root)
  return out, recs, buses
end

function M.walk(m)
  return (walk(m))
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
-- All the words are looked at at once first (util.all_utf8_without): they hold a NUL or bad
-- UTF-8 exactly when one of them does. Only then, or when a word may be no string (typed =
-- false: M.argv makes each word a string but the command and the script's args), are the
-- words asked one by one which and why.
local NUL = { "\0" }

local function check_argv(a, typed)
  if typed and util.all_utf8_without(a, NUL) then return a end
  for i, w in ipairs(a) do
    local why = util.argv_problem(w)
    if why then util.fail(string.format("argv word %d (after %s) %s", i, tostring(a[i - 1]), why)) end
  end
  return a
end

-- argv for QEMU. device_model(e) may replace a passthrough device's -device value (rehearsal).
function M.argv(m, qemu, device_model)
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
  local es, recs, buses = walk(m)
  local n = #a
  for i = 1, #es do
    local e, rec = es[i], recs[i]
    local v = device_model and rec.kind == "device" and device_model(e)
    a[n + 1], a[n + 2] = "-device", v and tostring(v) or device_value(e, rec, buses[i])
    n = n + 2
  end
  local typed = type(qemu) == "string"
  for _, x in ipairs(m.args) do
    a[#a + 1] = x
    typed = typed and type(x) == "string"
  end
  -- virt's default NIC would take root slot 01 before the plan's port there (machines.virt_nic).
  if P(m).profile.family == "virt" and machines.virt_nic(m) == "none" then
    a[#a + 1], a[#a + 2] = "-nic", "none"
  end
  return check_argv(a, typed)
end

-- A word for sh, quoted only when it needs it, as Python's shlex.quote does: a word of letters,
-- digits and @%+=:,./_- stands bare; any other is single-quoted, ' written as '\'' (an empty
-- word is '').
function M.shell_quote(w)
  if w ~= "" and not w:find("[^%w@%%+=:,./_-]") then return w end
  return "'" .. w:gsub("'", "'\\''") .. "'"
end

-- The bytes that keep a word from standing bare (shell_quote's pattern), for plain finds.
local UNSAFE = util.bytes_of("[^%w@%%+=:,./_-]")

-- The words of argv that shell_quote would quote, as a set of indexes. shell_quote's pattern
-- costs some 250 instructions a byte; a plain find is memchr, well under one. So the words are
-- joined by a byte that stands bare, the text is searched once for each unsafe byte, and each
-- hit marks its word (found by halving) and goes on after it. The empty word is quoted too.
local function unsafe_words(argv)
  local starts, marked, at = {}, {}, 1
  for i = 1, #argv do
    local len = #argv[i]
    if len == 0 then marked[i] = true end
    starts[i] = at
    at = at + len + 1
  end
  local all = concat(argv, ",")
  for _, c in ipairs(UNSAFE) do
    local hit = find(all, c, 1, true)
    while hit do
      local lo, hi = 1, #starts
      while lo < hi do
        local mid = (lo + hi + 1) // 2
        if starts[mid] <= hit then lo = mid else hi = mid - 1 end
      end
      marked[lo] = true
      hit = find(all, c, starts[lo] + #argv[lo], true)
    end
  end
  return marked
end

-- The command as sh reads it: one option and its value per line, backslash continuations.
function M.shell(argv)
  local marked, shell_quote, byte = unsafe_words(argv), M.shell_quote, string.byte
  -- The command word bare with a '=' would be an assignment to sh, not a command.
  local first = marked[1] and shell_quote(argv[1]) or argv[1]
  if first == argv[1] and first:find("=", 1, true) then first = "'" .. first .. "'" end
  local lines, n, i, count = { first }, 1, 2, #argv
  while i <= count do
    local w, v = argv[i], argv[i + 1]
    local qw = marked[i] and shell_quote(w) or w
    n = n + 1
    -- An option and its value stay on one line; a bare word (a flag) stands alone.
    if byte(w, 1) == 45 and v and byte(v, 1) ~= 45 then -- 45: '-'
      lines[n] = "  " .. qw .. " " .. (marked[i + 1] and shell_quote(v) or v)
      i = i + 2
    else
      lines[n] = "  " .. qw
      i = i + 1
    end
  end
  lines[n] = lines[n] .. "\n" -- not on the whole text: a copy of it
  return concat(lines, " \\\n")
end

local function guest_address(e)
  return hex2(P(e).parent.number) .. ":" .. addr_text(e.addr)
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

-- One element's line after prefix (the tree's lines; number: its bus's, as hex), in one
-- concatenation: format's %s would ask each string for a __tostring, and each part made on its
-- own is a string more to make. (finalize keeps ids and hosts strings, chassis and slot integers.)
local function element_line(prefix, number, e, rec)
  local addr = addr_text(e.addr)
  if rec.kind == "device" then
    local id, dev = netid.of(e), rec.hostdev
    return prefix .. number .. ":" .. addr .. " " .. e.id .. " " .. e.host ..
      (dev and "  " or "") .. (dev and dev:describe() or "") ..
      (id and "  [" or "") .. (id and netid.describe(id) or "") .. (id and "]" or "")
  end
  local chassis = e.chassis
  if chassis then -- DEC holds the text of %d for the integers it has
    chassis = " chassis " .. (DEC[chassis] or format("%d", chassis)) .. " slot " ..
      (DEC[e.slot] or format("%d", e.slot))
  end
  return prefix .. number .. ":" .. addr .. " " .. rec.model .. " " .. e.id .. (chassis or "") ..
    (rec.multifunction and " multifunction" or "") ..
    "  [bus " .. hex2(rec.below.number) .. "]"
end

-- The guest's PCIe tree as lspci -t would draw it, with the budget line last.
function M.tree(m)
  local lines, n = { format("pcie.0 (%s, bus 00)", m.type) }, 1
  local function visit(bus, indent)
    local kids = bus.sorted
    local count = #kids
    local branch, next_indent = indent .. "├─ ", indent .. "│  "
    local number = hex2(bus.number)
    for i = 1, count do
      local e = kids[i]
      local rec = P(e)
      local last = i == count
      n = n + 1
      lines[n] = element_line(last and indent .. "└─ " or branch, number, e, rec)
      if rec.below then visit(rec.below, last and indent .. "   " or next_indent) end
    end
  end
  visit(P(m).root, "")
  lines[n + 1] = M.budget_line(m) .. "\n" -- not on the whole text: a copy of it
  return concat(lines, "\n")
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

-- The plan as JSON text, its devices and ports written here directly, keys in sorted order: the
-- generic encoder would build a table for each of them first (2,232 for 1984 devices), then walk
-- and sort each. finalize checked each field's type: ids, hosts and models are strings, bus,
-- chassis and slot numbers integers. Their strings go in as they are, and are looked at all at
-- once after (json.plain); nil when one needs more (or argv holds a word that is no string):
-- then the generic encoder makes it. head: the small objects, for the generic encoder.
local function fixed_json(m, argv, names, head)
  if #argv == 0 then return nil end
  local strs = {}
  for i = 1, #argv do
    local w = argv[i]
    if type(w) ~= "string" then return nil end
    strs[i] = w
  end
  local es, recs, buses = walk(m)
  local devices, ports, nd, np, ns = {}, {}, 0, 0, #strs
  local seen = {} -- names among strs
  local parent, hex, dec -- the bus number of the last element's bus, as hex and as decimal
  for i = 1, #es do
    local e, rec, bus = es[i], recs[i], buses[i]
    if rec.parent ~= parent then
      parent = rec.parent
      hex, dec = hex2(parent.number), int_text(parent.number)
    end
    local id, addr = e.id, addr_text(e.addr)
    if rec.kind == "device" then
      local host, port = e.host, parent.owner
      port = port and port.id
      local name = names ~= false and rec.hostdev and rec.hostdev:describe()
      local net = netid.of(e) -- the VF identity a launch sets
      nd = nd + 1
      devices[nd] = '{"addr":"' .. addr .. '","bus":"' .. bus .. '","guest_address":"0000:' ..
        hex .. ":" .. addr .. '","guest_bus":' .. dec .. ',"host":"' ..
        host .. '","id":"' .. id .. '","name":' ..
        (name and '"' or "") .. (name or "null") .. (name and '"' or "") ..
        ',"net":' .. (net and json.encode(net) or "null") .. ',"port":' ..
        (port and '"' or "") .. (port or "null") .. (port and '"' or "") .. "}"
      -- (bus and port are a port's id, among the strings below, or "pcie.0"; a plan's many
      -- devices of one model share a name, looked at once)
      strs[ns + 1], strs[ns + 2] = id, host
      ns = ns + 2
      if name and not seen[name] then
        seen[name] = true
        ns = ns + 1
        strs[ns] = name
      end
    else
      local chassis, slot = e.chassis, e.slot
      -- (a switch's upstream port has neither checked: one set with rawset is the generic's)
      if chassis and math.type(chassis) ~= "integer" or slot and math.type(slot) ~= "integer" then
        return nil
      end
      np = np + 1
      ports[np] = '{"addr":"' .. addr .. '","bus":"' .. bus .. '","chassis":' ..
        (chassis and int_text(chassis) or "null") .. ',"guest_bus":' .. dec ..
        ',"id":"' .. id .. '","model":"' .. rec.model .. '","secondary_bus":' ..
        int_text(rec.below.number) .. ',"slot":' .. (slot and int_text(slot) or "null") .. "}"
      strs[ns + 1], strs[ns + 2] = id, rec.model
      ns = ns + 2
    end
  end
  if not json.plain(strs) then return nil end
  return '{"argv":["' .. concat(argv, '","') .. '"],"buses":' .. json.encode(head.buses) ..
    ',"devices":[' .. concat(devices, ",") .. '],"machine":' .. json.encode(head.machine) ..
    ',"ports":[' .. concat(ports, ",") .. '],"root_slots":' .. json.encode(head.root_slots) ..
    "}\n"
end

-- The plan as one JSON object (names: see device_facts).
function M.json(m, argv, names)
  local rec = P(m)
  local head = {
    machine = { type = m.type, qemu = argv[1], memory = machines.memory_bytes(m) },
    buses = { used = rec.buses_used, available = rec.profile.bus_limit },
    root_slots = { used = M.root_slots_used(m), available = #rec.profile.root_slots },
  }
  local text = fixed_json(m, argv, names, head)
  if text then return text end
  head.argv, head.devices, head.ports = argv, M.device_facts(m, names), M.ports(m)
  return json.encode(head) .. "\n"
end

return M
