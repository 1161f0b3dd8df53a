-- SPDX-License-Identifier: MIT
-- Live changes to a running guest over its QMP monitor: attach host devices onto the plan's
-- free hot-plug ports (each bound to vfio-pci and journaled in the guest's own journal first),
-- and detach them (device_del, then wait until QEMU says the guest let go, then give back).
-- The guest's plan.json is kept true, so status and later attaches see what the guest has.
-- Functions packed into one slot are one unit: PCIe hot-plug adds and removes whole slots.
local _, core = ...
local giveback = require "vflaunch.giveback"
local hostprep = require "vflaunch.hostprep"
local launches = require "vflaunch.launches"
local qmp = require "vflaunch.qmp"
local util = require "vflaunch.util"

local fs, sys = core.fs, core.sys

local M = {}

M.TIMEOUT = 30 -- seconds to wait for QEMU (attach) or for the guest to let a device go (detach)

-- Port models with a hot-plug capable slot below them (QEMU's pcie_cap_slot_init).
local HOTPLUG = { ["pcie-root-port"] = true, ioh3420 = true, ["xio3130-downstream"] = true }

local GiB = 1 << 30

local function fail(fmt, ...)
  util.fail(string.format(fmt, ...), util.EXIT.HOST)
end

-- The launch named name, running, with its plan and its monitor.
local function running(ctx, name)
  local r = launches.open(ctx, name)
  if not r then
    fail("no launch named '%s' in %s ('vflaunch status' lists them)", name, ctx.roots.state)
  end
  if not r:alive() then
    fail("launch '%s' is %s: its guest does not run, so nothing can be attached to it or " ..
      "detached from it ('vflaunch restore %s' gives back what it left)", name, r:state(), name)
  end
  if r.info.state ~= "running" then
    fail("launch '%s' is still starting (%s); try again once it runs", name, r:describe())
  end
  local plan = r:plan()
  if not plan or type(plan.ports) ~= "table" or type(plan.devices) ~= "table" then
    fail("launch '%s' keeps no readable plan (%s/plan.json)", name, r.dir)
  end
  if type(r.info.qmp) ~= "string" then
    fail("launch '%s' has no QMP monitor (its machine says qmp = false): vflaunch cannot " ..
      "change it while it runs", name)
  end
  return r, plan
end

local function connect(r)
  local s, err = qmp.connect(r.info.qmp, 10)
  if not s then fail("launch '%s': cannot reach QEMU's monitor %s: %s", r.name, r.info.qmp, err) end
  return s
end

-- QEMU's PCI devices (query-pci), flattened: { {qdev_id, bus = qdev_id of the bridge above or
-- nil for a root bus, slot, ["function"], vendor, device}, ... }.
local function qemu_devices(s)
  local info, err = s:execute("query-pci", nil, 10)
  if not info then fail("query-pci: %s", err) end
  local out = {}
  local function walk(devices, parent)
    for _, d in ipairs(type(devices) == "table" and devices or {}) do
      local id = type(d.qdev_id) == "string" and d.qdev_id ~= "" and d.qdev_id or nil
      out[#out + 1] = { qdev_id = id, bus = parent, number = math.tointeger(d.bus),
        slot = d.slot, ["function"] = d["function"] }
      if type(d.pci_bridge) == "table" then walk(d.pci_bridge.devices, id or "?") end
    end
  end
  for _, bus in ipairs(type(info) == "table" and info or {}) do walk(bus.devices, nil) end
  return out
end

-- Whether QEMU has device id (realized). query-pci cannot tell: it lists a bridge's devices
-- only once the guest has numbered the bridge's bus.
local function in_qemu(s, id)
  return s:execute("qom-get", { path = "/machine/peripheral/" .. id, property = "realized" }, 5)
    == true
end

local function qemu_has(list, id)
  for _, d in ipairs(list) do
    if d.qdev_id == id then return d end
  end
end

-- The plan's hot-plug ports that have nothing below them, in plan order.
function M.free_ports(plan)
  local used = {}
  for _, d in ipairs(plan.devices) do used[d.bus] = true end
  for _, p in ipairs(plan.ports) do used[p.bus] = true end -- a port with a switch below it
  local out = {}
  for _, p in ipairs(plan.ports) do
    if HOTPLUG[p.model] and not used[p.id] then out[#out + 1] = p end
  end
  return out
end

local function port_named(plan, id)
  for _, p in ipairs(plan.ports) do
    if p.id == id then return p end
  end
end

-- A device id no element of the plan has: hostdevN after the highest N.
local function new_ids(plan, n)
  local top, taken = 0, {}
  for _, list in ipairs { plan.devices, plan.ports } do
    for _, e in ipairs(list) do
      taken[e.id] = true
      top = math.max(top, math.tointeger(tonumber(tostring(e.id):match("^hostdev(%d+)$"))) or 0)
    end
  end
  local out = {}
  while #out < n do
    top = top + 1
    if not taken["hostdev" .. top] then out[#out + 1] = "hostdev" .. top end
  end
  return out
end

local function save_plan(r, plan)
  local ok, err = fs.write(r.dir .. "/plan.json", core.cjson.encode(plan) .. "\n")
  if not ok then
    fail("cannot update %s/plan.json: %s (the guest has the change; status will not show it)",
      r.dir, err)
  end
  r.plan_table = plan
end

-- RLIMIT_MEMLOCK of QEMU (pid): vfio pins the guest's RAM once it has a device.
local function check_qemu_memlock(ctx, r, plan, problem)
  if ctx.opts.root then return end -- a test host: no real vfio pins memory there
  local need = (math.tointeger(plan.machine and plan.machine.memory) or 0) + GiB
  local text = fs.read(string.format("%s/%d/limits", ctx.roots.proc, r.info.pid), 65536)
  local soft = text and text:match("Max locked memory%s+(%S+)")
  if not soft then
    problem("cannot read QEMU's RLIMIT_MEMLOCK (%s/%d/limits)", ctx.roots.proc, r.info.pid)
  elseif soft ~= "unlimited" and (tonumber(soft) or 0) < need then
    problem("QEMU (pid %d) may lock %s bytes (RLIMIT_MEMLOCK) and vfio pins the guest's RAM: " ..
      "it needs %d (memory + 1 GiB); raise it (prlimit --pid %d --memlock=%d:%d)",
      r.info.pid, soft, need, r.info.pid, need, need)
  end
end

-- The stand-in a test build attaches instead of vfio-pci (VFLAUNCH_TEST_STANDIN=1): the
-- rehearsal's emulated NVMe, so that a guest without host devices can prove the QMP path.
local function device_args(u, f)
  local a = { driver = "vfio-pci", host = f.host, bus = u.port.id, id = f.id,
    addr = string.format("00.%d", f.fn), multifunction = f.fn == 0 and #u.devs > 1 }
  if sys.testing and os.getenv("VFLAUNCH_TEST_STANDIN") == "1" then
    a.driver, a.host, a.serial = "nvme", nil, "vflhp-" .. f.id -- nvme wants a serial (<= 20)
  end
  return a
end

-- Host devices -> units: { port = plan port, devs = { {host, hostdev, fn, id}, ... } }.
local function place(r, plan, devs, port_id)
  local units = {}
  local free = M.free_ports(plan)
  if port_id then
    local p = port_named(plan, port_id)
    if not p then
      local names = {}
      for _, f in ipairs(free) do names[#names + 1] = f.id end
      fail("launch '%s' has no port '%s'; its free hot-plug ports: %s", r.name, port_id,
        #names > 0 and table.concat(names, " ") or "none")
    end
    if not HOTPLUG[p.model] then
      fail("port '%s' of launch '%s' is a %s, which has no hot-plug slot (root ports and " ..
        "switch downstream ports have one)", port_id, r.name, p.model)
    end
    local is_free = false
    for _, f in ipairs(free) do is_free = is_free or f == p end
    if not is_free then fail("port '%s' of launch '%s' is not empty", port_id, r.name) end
    if #devs > 8 then
      fail("one slot holds 8 functions, not %d: attach the others to other ports", #devs)
    end
    units[1] = { port = p, devs = devs }
  else
    if #free < #devs then
      fail("launch '%s' has %s and %s to attach; a guest takes devices only on the empty " ..
        "hot-plug ports its plan made: give its script spare ports (m:place(devices, " ..
        "{ spare_ports = N }), or root ports left empty), or detach something first", r.name,
        util.plural(#free, "free hot-plug port"), util.plural(#devs, "device"))
    end
    for i, d in ipairs(devs) do units[i] = { port = free[i], devs = { d } } end
  end
  local ids = new_ids(plan, #devs)
  local k = 0
  for _, u in ipairs(units) do
    for fn, d in ipairs(u.devs) do
      k = k + 1
      d.fn, d.id = fn - 1, ids[k]
    end
  end
  return units
end

-- The journal's closed records of these addresses go: the journal keeps a device's first
-- record, and a closed one would swallow the new one.
local function forget_closed(j, addrs)
  local entries = j:entries()
  for i = #entries, 1, -1 do
    local e = entries[i]
    if addrs[e.addr] and (e.state == "restored" or e.state == "gone") then j:forget(i) end
  end
  local ok, err = j:save()
  if not ok then fail("cannot write the journal: %s", err) end
end

local function wait_until(seconds, check)
  local deadline = sys.clock() + seconds
  while true do
    local v = check()
    if v then return v end
    if sys.clock() > deadline then return nil end
    sys.sleep(0.05)
  end
end

-- What attach and detach refuse before anything: a print-only run, no device. Returns opts.
local function precheck(ctx, what, list, opts)
  if ctx.print_only then
    fail("%s changes a running guest, and a print-only run changes nothing: run it without " ..
      "-n, -t, --json, --rehearse or --simulate", what)
  end
  if #list == 0 then util.fail(what .. ": no device given", util.EXIT.USAGE) end
  return opts or {}
end

-- Attach host devices (addresses) to the running launch `name`. opts: port (one port; the
-- devices become its slot's functions), timeout. Returns the devices attached: { {id, host,
-- port, addr, guest_address}, ... }.
function M.attach(ctx, name, addrs, opts)
  opts = precheck(ctx, "attach", addrs, opts)
  launches.lock(ctx)
  local r, plan = running(ctx, name)
  local host, devs, seen = ctx:host(), {}, {}
  local in_guest = {}
  for _, d in ipairs(plan.devices) do in_guest[d.host] = d end
  for _, a in ipairs(addrs) do
    local d = host:get(a)
    if not d then fail("attach: no PCI device %s on this host ('vflaunch list')", tostring(a)) end
    if seen[d.address] then fail("attach: %s is given twice", d.address) end
    seen[d.address] = true
    if in_guest[d.address] then
      fail("%s is in launch '%s' already, as %s at %s", d.address, name,
        in_guest[d.address].id, tostring(in_guest[d.address].guest_address))
    end
    devs[#devs + 1] = { host = d.address, hostdev = d, where = "attach " .. name }
  end
  local units = place(r, plan, devs, opts.port)
  for _, u in ipairs(units) do
    for _, d in ipairs(u.devs) do
      d.label = string.format("%s (to be %s on %s)", d.host, d.id, u.port.id)
    end
  end

  local s <close> = connect(r)
  local before = qemu_devices(s)
  for _, u in ipairs(units) do
    for _, q in ipairs(before) do
      if q.bus == u.port.id then
        fail("QEMU has a device (%s) on port '%s' that the plan of '%s' does not know; " ..
          "nothing was changed", q.qdev_id or "without an id", u.port.id, name)
      end
    end
  end

  local problems = {}
  local function problem(fmt, ...) problems[#problems + 1] = string.format(fmt, ...) end
  local to_bind, groups = hostprep.check_devices(ctx, devs, problem)
  check_qemu_memlock(ctx, r, plan, problem)
  if #problems > 0 then util.fail(table.concat(problems, "\n"), util.EXIT.HOST) end

  -- The bind, journaled in the launch's own journal; what fails before QEMU has a device
  -- gives back what this attach bound (and nothing of the launch's).
  local j = r:journal(true)
  forget_closed(j, seen)
  local actx = setmetatable({ record = r }, { __index = ctx })
  r.base = #j:entries()
  local done, err = pcall(hostprep.bind, actx, to_bind, groups)
  if not done then
    local report = giveback.run(actx, j, r.base + 1, r)
    local msg = util.status_of(err) and err.message or tostring(err)
    -- A signal keeps its own status (128+N); anything else here is a host failure.
    local status = util.status_of(err)
    if not (status and status > 128) then status = util.EXIT.HOST end
    util.fail(msg .. "\nnothing was attached; " .. (report.ok and ("what was bound is back (" ..
      giveback.summary(report) .. ")") or ("giving back failed: " ..
      table.concat(report.failures, "; ") .. "; run 'vflaunch restore " .. name .. "' once " ..
      "the guest has ended")), status)
  end

  -- Into the guest: a slot's other functions first, function 0 last (its arrival is what
  -- the guest is told about). Signals wait until every unit is in, or out again.
  local held = sys.hold_signals(true)
  local attached, failure = {}, nil
  for _, u in ipairs(units) do
    local added = {}
    for k = #u.devs, 1, -1 do
      local d = u.devs[k]
      local _, e = s:execute("device_add", device_args(u, d), opts.timeout or 10)
      if e then
        failure = string.format("device_add %s (%s) on %s: %s", d.id, d.host, u.port.id, e)
        break
      end
      added[#added + 1] = d
    end
    if failure then
      -- Functions other than 0 that the guest was never told of go at once (QEMU removes them
      -- without asking the guest).
      for _, d in ipairs(added) do s:execute("device_del", { id = d.id }, 5) end
      break
    end
    attached[#attached + 1] = u
  end
  -- QEMU reports each device realized; query-pci shows it on its port once the guest has
  -- numbered the port's bus (a guest that has not booted has not).
  local seen_all = failure == nil and wait_until(opts.timeout or M.TIMEOUT, function()
    for _, u in ipairs(attached) do
      for _, d in ipairs(u.devs) do
        if not in_qemu(s, d.id) then return nil end
      end
    end
    return true
  end)
  if not failure and not seen_all then
    failure = "QEMU did not report the new devices as realized in time (qom-get)"
  end
  -- Only a fact for the record: a query that fails leaves the planned bus numbers.
  local got, now = pcall(qemu_devices, s)
  if failure or not got then now = {} end
  for _, u in ipairs(attached) do
    for _, d in ipairs(u.devs) do
      local q = qemu_has(now, d.id)
      if q and q.bus == u.port.id then d.guest_bus = q.number end
    end
  end
  local out = {}
  for _, u in ipairs(attached) do
    for _, d in ipairs(u.devs) do
      local addr = string.format("00.%d", d.fn)
      local rec = { id = d.id, host = d.host, bus = u.port.id, port = u.port.id, addr = addr,
        guest_bus = d.guest_bus or u.port.secondary_bus, name = d.hostdev:describe(),
        guest_address = string.format("0000:%02x:%s", math.tointeger(d.guest_bus or
          u.port.secondary_bus) or 0, addr) }
      plan.devices[#plan.devices + 1] = rec
      out[#out + 1] = rec
    end
  end
  if #out > 0 then save_plan(r, plan) end
  sys.hold_signals(held)
  if failure then
    -- What QEMU did not take goes back to the host; what it took stays the guest's.
    local back = {}
    for _, u in ipairs(units) do
      local took = false
      for _, a in ipairs(attached) do took = took or a == u end
      if not took then for _, d in ipairs(u.devs) do back[d.host] = true end end
    end
    local report = giveback.run(actx, j, r.base + 1, r, back)
    fail("%s; %s; %s", failure, #out > 0 and (util.plural(#out, "device") .. " did reach the " ..
      "guest and stay") or "nothing was attached", report.ok and ("the others are back (" ..
      giveback.summary(report) .. ")") or ("giving back failed: " ..
      table.concat(report.failures, "; ")))
  end
  return out, units
end

-- The plan's devices that `what` (host addresses or device ids) names, each with the slot
-- mates that go with it. Returns units { port, devs = { plan device records } }.
local function detach_units(ctx, r, plan, what)
  local by, units, unit_of = {}, {}, {}
  for _, d in ipairs(plan.devices) do
    by[d.id] = d
    by[d.host] = d
  end
  local host = ctx:host()
  for _, w in ipairs(what) do
    local d = by[w]
    if not d then
      local h = host:get(w)
      d = h and by[h.address]
    end
    if not d then
      fail("launch '%s' has no device '%s' ('vflaunch status %s' lists its devices)", r.name,
        tostring(w), r.name)
    end
    if not unit_of[d.bus] then
      unit_of[d.bus] = { port = d.bus, devs = {} }
      units[#units + 1] = unit_of[d.bus]
      for _, mate in ipairs(plan.devices) do
        if mate.bus == d.bus then table.insert(unit_of[d.bus].devs, mate) end
      end
    end
  end
  return units
end

-- Detach devices (host addresses or ids) from the running launch `name`, then give them back
-- to their original drivers. Returns the give-back report and the units detached.
function M.detach(ctx, name, what, opts)
  opts = precheck(ctx, "detach", what, opts)
  local r, plan = running(ctx, name)
  local units = detach_units(ctx, r, plan, what)
  for _, u in ipairs(units) do
    if #u.devs > 1 then
      local names = {}
      for _, d in ipairs(u.devs) do names[#names + 1] = d.id .. " (" .. d.host .. ")" end
      ctx:say("%s share the slot of port %s: PCIe hot-plug removes a slot whole, so they " ..
        "are detached together", table.concat(names, ", "), u.port)
    end
  end
  local timeout = opts.timeout or M.TIMEOUT
  local s <close> = connect(r)
  -- device_del of a slot's function 0 asks the guest to let the whole slot go.
  local pending = {}
  for _, u in ipairs(units) do
    for _, d in ipairs(u.devs) do
      if in_qemu(s, d.id) then pending[d.id] = d end
    end
    local first = u.devs[1]
    for _, d in ipairs(u.devs) do
      if d.addr == "00.0" then first = d end
    end
    if pending[first.id] then
      local _, e = s:execute("device_del", { id = first.id }, 10)
      if e and not e:match("already in the process of unplug") then
        fail("device_del %s: %s", first.id, e)
      end
    end
  end
  local t0 = sys.clock()
  local left = wait_until(timeout, function()
    for id in pairs(pending) do
      local ev = s:take_event(function(ev)
        return ev.event == "DEVICE_DELETED" and type(ev.data) == "table" and ev.data.device == id
      end, 0.2)
      if ev then pending[id] = nil end
    end
    return next(pending) == nil
  end)
  if not left then
    local still = {}
    for id, d in pairs(pending) do still[#still + 1] = id .. " (" .. d.host .. ")" end
    table.sort(still)
    fail("the guest of '%s' did not let %s go within %d s (its kernel needs PCIe hot-plug, " ..
      "pciehp or ACPI, and must be running); QEMU still holds %s, on vfio-pci and in the " ..
      "guest: nothing was given back. QEMU may still remove it when the guest answers: run " ..
      "'vflaunch detach %s %s' again then", name, table.concat(still, ", "), timeout,
      #still == 1 and "it" or "them", name, tostring(what[1]))
  end
  ctx:info("the guest let go in %.1f s", sys.clock() - t0)
  -- QEMU closes a group's /dev/vfio/N once its last device is gone.
  local gone = {}
  for _, u in ipairs(units) do for _, d in ipairs(u.devs) do gone[d.host] = true end end
  local inv = ctx:host()
  local holders = wait_until(5, function()
    local h = launches.vfio_holders(ctx)
    for a in pairs(gone) do
      local g = inv.by_address[a] and inv.by_address[a].iommu_group
      if g and h[g] then return nil end
    end
    return true
  end)
  if not holders then
    fail("QEMU has removed the devices but still has their IOMMU groups open; nothing was " ..
      "given back: run 'vflaunch detach %s %s' again", name, tostring(what[1]))
  end
  -- Out of the plan, then back to the host. The plan is read again under the lock: an attach
  -- may have changed it while this waited for the guest.
  launches.lock(ctx)
  r.plan_table = nil
  plan = r:plan() or plan
  local kept = {}
  for _, d in ipairs(plan.devices) do
    if not gone[d.host] then kept[#kept + 1] = d end
  end
  plan.devices = kept
  save_plan(r, plan)
  local j = r:journal()
  local report = giveback.run(ctx, j, nil, r, gone)
  if j then forget_closed(j, gone) end -- what is back is history: a later attach records anew
  return report, units
end

return M
