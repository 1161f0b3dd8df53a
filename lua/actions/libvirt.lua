-- SPDX-License-Identifier: MIT
-- Action "libvirt" (--libvirt-xml): the compiled plan as a libvirt domain XML that libvirt turns
-- into the same PCI topology. Every port is a <controller type='pci'> whose index is its
-- secondary bus number (libvirt names a bus by its controller's index, and the depth-first
-- numbering gives every bus a larger index than the bus it sits on, as libvirt requires);
-- every VF a <hostdev managed='no'>. Every address is explicit: without one libvirt places
-- devices itself (one root port each) and adds controllers. What the schema cannot say goes
-- through <qemu:override> (properties of one -device, libvirt 8.2 and later) or
-- <qemu:commandline>. Tested against libvirt 9.0 (Debian 12) by tests/libvirt/run.sh.
local machines = require "vflaunch.machines"
local render = require "vflaunch.render"
local topology = require "vflaunch.topology"
local util = require "vflaunch.util"

local P = topology.private

local M = {}

local ARCH = { virt = "aarch64", q35 = "x86_64" }

-- libvirt's controller model and its <model name=> for each QEMU port model.
local CONTROLLER = {
  ["pcie-root-port"] = "pcie-root-port", ioh3420 = "pcie-root-port",
  ["x3130-upstream"] = "pcie-switch-upstream-port",
  ["xio3130-downstream"] = "pcie-switch-downstream-port",
}

-- libvirt's <gic version=> values; any other gic-version goes to QEMU as a -machine option.
local GIC = { ["2"] = true, ["3"] = true, host = true }

local ESCAPE = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ["'"] = "&apos;", ['"'] = "&quot;" }

-- Text or an attribute value for XML. XML 1.0 has no way to write most control characters,
-- not even as &#N;: such a plan is refused rather than written so that libvirt rejects it.
function M.escape(s)
  s = tostring(s)
  local bad = s:find("[%z\1-\8\11\12\14-\31]")
  if bad then
    util.fail(string.format("--libvirt-xml: %s has control character 0x%02x at position %d, " ..
      "which XML cannot carry", util.show(s), s:byte(bad), bad))
  end
  return (s:gsub("[&<>'\"]", ESCAPE))
end

-- <tag a='1' b='2'/> from a list of {name, value} pairs (nil values left out).
local function tag(name, attrs, close)
  local out = { "<", name }
  for _, a in ipairs(attrs or {}) do
    if a[2] ~= nil then out[#out + 1] = string.format(" %s='%s'", a[1], M.escape(a[2])) end
  end
  out[#out + 1] = close == false and ">" or "/>"
  return table.concat(out)
end

local function pci_address(bus, addr, multifunction, domain)
  return tag("address", {
    { "type", not domain and "pci" or nil }, { "domain", string.format("0x%04x", domain or 0) },
    { "bus", string.format("0x%02x", bus) }, { "slot", string.format("0x%02x", addr.slot) },
    { "function", string.format("0x%x", addr.func) },
    { "multifunction", multifunction and "on" or nil } })
end

-- The -device properties libvirt's XML has no word for, as <qemu:property> entries. QEMU's
-- `slot` of a port (with chassis, the hot-plug slot QEMU keeps unique): libvirt sets chassis
-- and port only, and QEMU's default slot is 0.
local function overrides(e)
  local props = {}
  local function add(name, v)
    if v ~= nil then props[#props + 1] = { name, v } end
  end
  if e.slot and e.slot ~= 0 then add("slot", e.slot) end
  if e.io_reserve ~= nil then
    add("io-reserve", math.type(e.io_reserve) == "integer" and e.io_reserve or
      machines.parse_size(e.io_reserve, 0))
  end
  add("bus-reserve", e.bus_reserve)
  return props
end

-- Every element of the tree: its XML and its overrides (alias -> props).
local function devices(m, lines, override)
  for _, e in ipairs(render.walk(m)) do
    local rec = P(e)
    local alias = "ua-" .. e.id -- a user alias: QEMU's id is then ua-ID, its bus= too
    local where = pci_address(rec.parent.number, e.addr, rec.multifunction)
    if rec.kind == "device" then
      local d, b, s, f = e.host:match("^(%x+):(%x+):(%x+)%.(%x)$")
      lines[#lines + 1] = "    <hostdev mode='subsystem' type='pci' managed='no'>"
      lines[#lines + 1] = "      <driver name='vfio'/>"
      lines[#lines + 1] = "      <source>" .. pci_address(tonumber(b, 16),
        { slot = tonumber(s, 16), func = tonumber(f, 16) }, false, tonumber(d, 16)) .. "</source>"
      lines[#lines + 1] = "      " .. tag("alias", { { "name", alias } })
      if e.rombar ~= nil then
        lines[#lines + 1] = "      " .. tag("rom", { { "bar", e.rombar == 1 and "on" or "off" } })
      end
      lines[#lines + 1] = "      " .. where
      lines[#lines + 1] = "    </hostdev>"
    else
      local model = CONTROLLER[rec.model] or
        util.fail("--libvirt-xml: no libvirt controller model is known for " .. rec.model)
      lines[#lines + 1] = "    " .. tag("controller", { { "type", "pci" },
        { "index", rec.below.number }, { "model", model } }, false)
      lines[#lines + 1] = "      " .. tag("model", { { "name", rec.model } })
      if e.chassis then lines[#lines + 1] = "      " .. tag("target", { { "chassis", e.chassis } }) end
      lines[#lines + 1] = "      " .. tag("alias", { { "name", alias } })
      lines[#lines + 1] = "      " .. where
      lines[#lines + 1] = "    </controller>"
      local props = overrides(e)
      if #props > 0 then override[#override + 1] = { alias = alias, props = props } end
    end
  end
end

-- <cpu>: host and max as libvirt's modes, a plain model name as that model exactly. A model
-- with QEMU feature options ("cortex-a57,pmu=off") has no one libvirt spelling: -cpu as given.
local function cpu_xml(cpu, commandline)
  if cpu == nil then return nil end
  if cpu == "host" then return "  <cpu mode='host-passthrough'/>" end
  if cpu == "max" then return "  <cpu mode='maximum'/>" end
  if cpu:find(",", 1, true) then
    commandline[#commandline + 1] = "-cpu"
    commandline[#commandline + 1] = cpu
    return nil
  end
  return "  <cpu mode='custom' match='exact'><model fallback='forbid'>" .. M.escape(cpu) ..
    "</model></cpu>"
end

-- The domain's <memory> in KiB. libvirt has no -m maxmem/slots without NUMA cells: refused.
local function memory_kib(m)
  if m.memory == nil then return machines.DEFAULT_MEMORY >> 10 end
  local mem = assert(machines.parse_memory(m.memory)) -- checked at compile
  if mem.maxmem or mem.slots then
    util.fail(string.format("%s: machine: --libvirt-xml: memory %s has maxmem or slots, which " ..
      "libvirt expresses only with NUMA cells (<maxMemory> and <numa>); give the size alone",
      m.where, util.show(m.memory)))
  end
  return (mem.size + 1023) >> 10
end

-- The program's absolute path (libvirt wants one): a bare name is looked up in PATH.
local function emulator(qemu)
  if qemu:find("/", 1, true) then return qemu end
  for dir in (os.getenv("PATH") or ""):gmatch("[^:]+") do
    local f = io.open(dir .. "/" .. qemu, "rb")
    if f then
      f:close()
      return dir .. "/" .. qemu
    end
  end
  return "/usr/bin/" .. qemu
end

function M.document(plan)
  local m = plan.machine
  local family = machines.family(m.type)
  local commandline, override = {}, {}
  local accel = m.accel
  local gic
  for _, opt in ipairs(m.options) do
    local k, v = opt:match("^([^=]*)=(.*)$")
    if k == "gic-version" and GIC[v] and family == "virt" then
      gic = v
    elseif k == "accel" and accel == nil then
      accel = v
    else
      commandline[#commandline + 1] = "-machine"
      commandline[#commandline + 1] = render.qemu_escape(k) .. "=" .. render.qemu_escape(v)
    end
  end
  if accel ~= nil and accel ~= "kvm" and accel ~= "tcg" then
    util.fail(string.format("%s: machine: --libvirt-xml: accel %s: libvirt's QEMU domains are " ..
      "type 'kvm' or 'qemu' (TCG)", m.where, util.show(accel)))
  end
  local l = {
    string.format("<domain type='%s' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>",
      accel == "kvm" and "kvm" or "qemu"),
    "  <name>" .. M.escape(plan.name) .. "</name>",
    string.format("  <memory unit='KiB'>%d</memory>", memory_kib(m)),
    string.format("  <vcpu>%d</vcpu>", m.smp or 1),
    "  <os>",
    string.format("    <type arch='%s' machine='%s'>hvm</type>", ARCH[family], M.escape(m.type)),
  }
  if m.kernel then l[#l + 1] = "    <kernel>" .. M.escape(m.kernel) .. "</kernel>" end
  if m.initrd then l[#l + 1] = "    <initrd>" .. M.escape(m.initrd) .. "</initrd>" end
  if m.append then l[#l + 1] = "    <cmdline>" .. M.escape(m.append) .. "</cmdline>" end
  l[#l + 1] = "  </os>"
  -- QEMU turns ACPI on by default; libvirt turns it off unless told. q35 needs it (the guest
  -- finds PCIe's extended config space through ACPI's MCFG). On aarch64 libvirt allows ACPI
  -- only with UEFI firmware, and a guest booted with -kernel uses the device tree.
  if family == "q35" or gic then
    l[#l + 1] = "  <features>" .. (family == "q35" and "<acpi/>" or "") ..
      (gic and tag("gic", { { "version", gic } }) or "") .. "</features>"
  end
  l[#l + 1] = cpu_xml(m.cpu, commandline)
  l[#l + 1] = "  <devices>"
  l[#l + 1] = "    <emulator>" .. M.escape(emulator(plan.qemu)) .. "</emulator>"
  -- Without these libvirt adds a USB controller and a virtio balloon, each on a root port of
  -- its own on q35: devices and buses the plan does not have.
  l[#l + 1] = "    <controller type='usb' model='none'/>"
  l[#l + 1] = "    <controller type='pci' index='0' model='pcie-root'/>"
  devices(m, l, override)
  l[#l + 1] = "    <memballoon model='none'/>"
  l[#l + 1] = "  </devices>"
  for _, a in ipairs(m.args) do
    commandline[#commandline + 1] = a
  end
  if #commandline > 0 then
    l[#l + 1] = "  <qemu:commandline>"
    for _, a in ipairs(commandline) do
      l[#l + 1] = "    " .. tag("qemu:arg", { { "value", a } })
    end
    l[#l + 1] = "  </qemu:commandline>"
  end
  if #override > 0 then
    l[#l + 1] = "  <qemu:override>"
    for _, o in ipairs(override) do
      l[#l + 1] = "    " .. tag("qemu:device", { { "alias", o.alias } }, false) .. "<qemu:frontend>"
      for _, p in ipairs(o.props) do
        l[#l + 1] = "      " .. tag("qemu:property", { { "name", p[1] }, { "type", "unsigned" },
          { "value", p[2] } })
      end
      l[#l + 1] = "    </qemu:frontend></qemu:device>"
    end
    l[#l + 1] = "  </qemu:override>"
  end
  l[#l + 1] = "</domain>"
  return table.concat(l, "\n") .. "\n"
end

function M.run(plan, ctx)
  ctx:out(M.document(plan))
  return 0
end

return M
