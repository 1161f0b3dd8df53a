-- SPDX-License-Identifier: MIT
-- Test script: does libvirt's QEMU argv (virsh domxml-to-native of --libvirt-xml's domain) give
-- the guest what vflaunch's own argv gives it? Both are read to a tree of -device entries keyed
-- by guest path (the slot.function of each bridge from pcie.0 down, then the device's own, so
-- that a wrong bus= cannot hide behind a right id) and compared entry by entry: model, id (ua-
-- and vflaunch's), host address, multifunction, chassis, slot, io-reserve, bus-reserve, rombar.
-- Then the machine: type, options, memory, cpus, cpu, accelerator, kernel, initrd, append, name,
-- and the script's extra arguments.
-- Usage: vflaunch -q compare.lua VFLAUNCH_WORDS LIBVIRT_WORDS [tcg]   (NUL-terminated words;
-- libvirt's may start with its VAR=value environment words). "tcg": the domain was converted
-- as type 'qemu' with <cpu mode='maximum'/> because this machine has no KVM, so vflaunch's
-- -accel kvm and -cpu host are expected as tcg and max.
local vf_path, lv_path, mode = arg[1], arg[2], arg[3]

local problems = {}
local function problem(fmt, ...) problems[#problems + 1] = string.format(fmt, ...) end

local function words(path)
  local f = assert(io.open(path, "rb"))
  local out = {}
  for w in f:read("a"):gmatch("(%Z*)%z") do out[#out + 1] = w end
  f:close()
  return out
end

-- A flat JSON object (what libvirt gives -device and -object): strings, numbers, booleans.
local ESC = { n = "\n", t = "\t", r = "\r", b = "\b", f = "\f", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" }
local function json_object(s)
  local out, i = {}, 2
  local function str()
    assert(s:sub(i, i) == '"', "string expected at " .. i .. " of " .. s)
    local buf = {}
    i = i + 1
    while true do
      local c = s:sub(i, i)
      if c == '"' then i = i + 1; return table.concat(buf) end
      if c == "\\" then
        local e = s:sub(i + 1, i + 1)
        if e == "u" then
          buf[#buf + 1] = utf8.char(tonumber(s:sub(i + 2, i + 5), 16)); i = i + 6
        else
          buf[#buf + 1] = assert(ESC[e], "bad escape in " .. s); i = i + 2
        end
      else
        assert(c ~= "", "unterminated string in " .. s)
        buf[#buf + 1] = c; i = i + 1
      end
    end
  end
  while s:sub(i, i) ~= "}" do
    local k = str()
    assert(s:sub(i, i) == ":", "':' expected in " .. s)
    i = i + 1
    local v
    if s:sub(i, i) == '"' then
      v = str()
    else
      local lit = s:match("^[^,}]+", i)
      i = i + #lit
      v = lit == "true" and true or lit == "false" and false or assert(math.tointeger(tonumber(lit)), lit)
    end
    out[k] = v
    if s:sub(i, i) == "," then i = i + 1 end
  end
  return out
end

-- QEMU's key=value list: the first item may be a bare word (the driver, the machine type); ",,"
-- is a comma inside a value.
local function keyval(s, first)
  local out, items, cur = {}, {}, {}
  local i = 1
  while i <= #s do
    local c = s:sub(i, i)
    if c == "," and s:sub(i + 1, i + 1) == "," then
      cur[#cur + 1] = ","; i = i + 2
    elseif c == "," then
      items[#items + 1] = table.concat(cur); cur = {}; i = i + 1
    else
      cur[#cur + 1] = c; i = i + 1
    end
  end
  items[#items + 1] = table.concat(cur)
  for n, item in ipairs(items) do
    local k, v = item:match("^([^=]*)=(.*)$")
    if k then out[k] = v elseif n == 1 and first then out[first] = item else out[item] = "on" end
  end
  return out
end

-- QEMU sizes: bytes, or with a K/M/G/T suffix (powers of 1024); default_unit for a bare number.
local function size(v, default_unit)
  if type(v) == "number" then return v end
  local n, frac, suffix = tostring(v):match("^(%d+)(%.?%d*)([KMGTkmgt]?)[Bb]?$")
  assert(n, "not a size: " .. tostring(v))
  local unit = suffix == "" and default_unit or 1 << (10 * (("KMGT"):find(suffix:upper())))
  return math.floor(tonumber(n .. frac) * unit + 0.5)
end

-- "01.0", "1f" (vflaunch); "0x1", "0x1.0x1" (libvirt) -> "01.0"
local function addr(v)
  v = tostring(v)
  local s, f = v:match("^0x(%x+)%.0x(%x+)$")
  if not s then s, f = v:match("^0x(%x+)$"), "0" end
  if not s then s, f = v:match("^(%x+)%.(%x)$") end
  if not s then s, f = v:match("^(%x+)$"), "0" end
  assert(s, "not an addr: " .. v)
  return string.format("%02x.%x", tonumber(s, 16), tonumber(f, 16))
end

local function onoff(v)
  return v == true or v == "on" or v == "true" or v == "yes" or v == "1" or v == 1
end

-- Properties compared, each normalized; others are an error unless ignored for their side.
local PROPS = {
  host = tostring, chassis = tostring, slot = tostring, rombar = tostring,
  ["bus-reserve"] = tostring,
  ["io-reserve"] = function(v) return tostring(size(v, 1)) end,
  multifunction = function(v) return tostring(onoff(v)) end,
}
-- QEMU's defaults of a port's hot-plug chassis and slot: the XML leaves a slot of 0 unsaid.
local PORT_DEFAULTS = { ["pcie-root-port"] = { chassis = "0", slot = "0" },
  ioh3420 = { chassis = "0", slot = "0" }, ["xio3130-downstream"] = { chassis = "0", slot = "0" } }
-- libvirt always sets a port's PCIe port number (port=slot<<3|function on pcie.0, the slot on
-- a switch); vflaunch leaves QEMU's default 0. It numbers the link in the guest's eyes only.
local IGNORED = { libvirt = { port = true }, vflaunch = {} }

-- An argv read: the options compared, -device entries by guest path, the rest (extra words).
local COMPARED = { ["-machine"] = true, ["-name"] = true, ["-accel"] = true, ["-cpu"] = true,
  ["-smp"] = true, ["-m"] = true, ["-kernel"] = true, ["-initrd"] = true, ["-append"] = true,
  ["-device"] = true }
-- Each side's own options (with a value), and libvirt's own flags. vflaunch's QMP socket is
-- its own; libvirt has its monitor, its secrets, its RAM backend, and so on.
local OWN = {
  vflaunch = { ["-qmp"] = true },
  libvirt = { ["-object"] = true, ["-chardev"] = true, ["-mon"] = true, ["-uuid"] = true,
    ["-overcommit"] = true, ["-display"] = true, ["-rtc"] = true, ["-boot"] = true,
    ["-audiodev"] = true, ["-sandbox"] = true, ["-msg"] = true },
}
local LIBVIRT_FLAGS = { ["-S"] = true, ["-no-user-config"] = true, ["-nodefaults"] = true,
  ["-no-shutdown"] = true, ["-no-acpi"] = true }

local function read_argv(side, w)
  local i = 1
  while w[i] and w[i]:match("^[%u_][%w_]*=") do i = i + 1 end -- libvirt's environment
  local a = { opts = {}, machine = {}, devices = {}, rest = {}, flags = {} }
  local by_id, list = {}, {}
  i = i + 1
  while i <= #w do
    local o, v = w[i], w[i + 1]
    if COMPARED[o] or OWN[side][o] then
      if o == "-device" then
        local d = v:sub(1, 1) == "{" and json_object(v) or keyval(v, "driver")
        list[#list + 1] = d
        if d.id then by_id[d.id] = d end
      elseif o == "-machine" then
        a.machine[#a.machine + 1] = v
      elseif COMPARED[o] then
        a.opts[o] = v
      end
      i = i + 2
    elseif side == "vflaunch" and o == "-nic" and v == "none" then
      -- vflaunch's own "-nic none" for virt (render.argv): libvirt's -nodefaults says the same.
      i = i + 2
    elseif side == "libvirt" and LIBVIRT_FLAGS[o] and not a.flags[o] then
      a.flags[o] = true -- the first is libvirt's; a second comes from the script's args
      i = i + 1
    else
      a.rest[#a.rest + 1] = o
      i = i + 1
    end
  end
  -- Each device's guest path: its bridges' addresses from pcie.0 down, then its own.
  local function path(d, depth)
    assert(depth < 64, "bus loop")
    local here = addr(d.addr)
    if d.bus == "pcie.0" then return here end
    local parent = by_id[d.bus]
    if not parent then
      problem("%s: device %s is on bus %s, which no -device makes", side, tostring(d.id), tostring(d.bus))
      return "?/" .. here
    end
    return path(parent, depth + 1) .. "/" .. here
  end
  for _, d in ipairs(list) do
    if not d.addr then
      problem("%s: device %s has no addr", side, tostring(d.id))
    else
      local p = path(d, 0)
      if a.devices[p] then problem("%s: two devices at %s", side, p) end
      a.devices[p] = d
    end
  end
  return a
end

local vf = read_argv("vflaunch", words(vf_path))
local lv = read_argv("libvirt", words(lv_path))

-- The devices: the same paths, and at each the same model and properties.
local n, ports, hostdevs = 0, 0, 0
local paths = {}
for p in pairs(vf.devices) do paths[#paths + 1] = p end
for p in pairs(lv.devices) do if not vf.devices[p] then paths[#paths + 1] = p end end
table.sort(paths)
for _, p in ipairs(paths) do
  local a, b = vf.devices[p], lv.devices[p]
  if not a then
    problem("at %s libvirt has %s %s, vflaunch has nothing", p, b.driver, tostring(b.host or b.id))
  elseif not b then
    problem("at %s vflaunch has %s %s, libvirt has nothing", p, a.driver, tostring(a.host or a.id))
  else
    n = n + 1
    if a.driver == "vfio-pci" then hostdevs = hostdevs + 1 else ports = ports + 1 end
    if a.driver ~= b.driver then problem("at %s: vflaunch %s, libvirt %s", p, a.driver, b.driver) end
    -- libvirt's user alias is QEMU's id: ua- and vflaunch's id, so QMP names map one to one.
    if b.id ~= "ua-" .. tostring(a.id) then problem("at %s: id %s, libvirt's %s", p, tostring(a.id), tostring(b.id)) end
    for side, d in pairs { vflaunch = a, libvirt = b } do
      for k in pairs(d) do
        if not (PROPS[k] or k == "driver" or k == "id" or k == "bus" or k == "addr" or IGNORED[side][k]) then
          problem("at %s: %s sets %s=%s, which this comparison does not know", p, side, k, tostring(d[k]))
        end
      end
    end
    for k, norm in pairs(PROPS) do
      local x = a[k] ~= nil and norm(a[k]) or nil
      local y = b[k] ~= nil and norm(b[k]) or nil
      if k == "multifunction" then x, y = x or "false", y or "false" end
      if PORT_DEFAULTS[a.driver] and PORT_DEFAULTS[a.driver][k] then
        x, y = x or PORT_DEFAULTS[a.driver][k], y or PORT_DEFAULTS[a.driver][k]
      end
      if x ~= y then problem("at %s (%s): %s is %s in vflaunch's argv, %s in libvirt's", p, a.driver, k, tostring(x), tostring(y)) end
    end
  end
end

-- The machine. libvirt names the versioned type an alias stands for (virt -> virt-7.2).
-- What QEMU takes when the argv says nothing, and libvirt spells out: virt's GICv2 and CPU.
local QEMU_DEFAULTS = { virt = { ["gic-version"] = "2", cpu = "cortex-a15" }, q35 = { cpu = "qemu64" } }
local function machine(list)
  local out = keyval(list[1] or "", "type")
  for i = 2, #list do
    for k, v in pairs(keyval(list[i])) do out[k] = v end
  end
  return out
end
local vm, lm = machine(vf.machine), machine(lv.machine)
local alias = { virt = "^virt%-%d+%.%d+$", q35 = "^pc%-q35%-%d+%.%d+$" }
-- libvirt turns ACPI off unless the domain says <acpi/>, which on aarch64 it allows only with
-- UEFI; a virt guest booted with -kernel reads the device tree. q35's guest needs ACPI.
if lv.flags["-no-acpi"] and not tostring(lm.type):match("^virt") then
  problem("libvirt turned ACPI off (-no-acpi) on %s", tostring(lm.type))
end
if vm.type ~= lm.type and not (alias[vm.type] and tostring(lm.type):match(alias[vm.type])) then
  problem("machine type: vflaunch %s, libvirt %s", tostring(vm.type), tostring(lm.type))
end
-- What libvirt adds of its own: no USB, no core dump of guest RAM, RAM as a memory backend.
local LIBVIRT_MACHINE = { usb = "off", ["dump-guest-core"] = "off", ["memory-backend"] = true }
for k, v in pairs(vm) do
  if k ~= "type" and lm[k] ~= v then problem("machine option %s: vflaunch %s, libvirt %s", k, v, tostring(lm[k])) end
end
local family = (vm.type == "q35" or tostring(vm.type):match("^pc%-q35")) and "q35" or "virt"
local defaults = QEMU_DEFAULTS[family]
for k, v in pairs(lm) do
  if k ~= "type" and vm[k] == nil and not (LIBVIRT_MACHINE[k] == true or LIBVIRT_MACHINE[k] == v or
      defaults[k] == v) then
    problem("machine option %s=%s: libvirt's own, not in vflaunch's argv", k, v)
  end
end
local function same(what, x, y)
  if x ~= y then problem("%s: vflaunch %s, libvirt %s", what, tostring(x), tostring(y)) end
end
same("memory (MiB)", size(vf.opts["-m"] or "128", 1 << 20) >> 20, size(lv.opts["-m"] or "128", 1 << 20) >> 20)
same("cpus", tonumber((vf.opts["-smp"] or "1"):match("^%d+")), tonumber((lv.opts["-smp"] or "1"):match("^%d+")))
local tcg = mode == "tcg"
same("accel", tcg and "tcg" or (vf.opts["-accel"] or "tcg"), lv.opts["-accel"] or "tcg")
local cpu = vf.opts["-cpu"] or defaults.cpu
same("cpu", tcg and cpu == "host" and "max" or cpu, lv.opts["-cpu"])
for _, o in ipairs { "-kernel", "-initrd", "-append" } do same(o, vf.opts[o], lv.opts[o]) end
same("name", vf.opts["-name"], lv.opts["-name"] and lv.opts["-name"]:match("^guest=([^,]*)"))
-- vflaunch's QMP socket is its own (libvirt keeps its monitor); the script's args must come
-- through as one run of words.
local extra = vf.rest
local found = #extra == 0
for i = 1, #lv.rest - #extra + 1 do
  local all = true
  for j = 1, #extra do all = all and lv.rest[i + j - 1] == extra[j] end
  found = found or all
end
if not found then
  problem("extra args: vflaunch's %s are not in libvirt's argv as one run (libvirt's rest: %s)",
    table.concat(extra, " "), table.concat(lv.rest, " "))
end

if #problems > 0 then
  for i = 1, math.min(#problems, 20) do io.stderr:write("compare: ", problems[i], "\n") end
  if #problems > 20 then io.stderr:write(string.format("compare: ... %d more\n", #problems - 20)) end
  os.exit(1)
end
print(string.format("%d devices (%d ports, %d VFs) at the same guest paths with the same " ..
  "properties; machine, memory, cpus, cpu, accel, kernel, initrd, append, name, args agree", n, ports, hostdevs))
