-- SPDX-License-Identifier: MIT
-- The host side of a launch: check everything, then bind every placed device to vfio-pci with
-- each original driver journaled first. A failure anywhere raises; the run's failure path
-- (context.lua) gives back everything the journal records.
local _, core = ...
local acs = require "vflaunch.acs"
local giveback = require "vflaunch.giveback"
local launches = require "vflaunch.launches"
local machines = require "vflaunch.machines"
local netid = require "vflaunch.netid"
local topology = require "vflaunch.topology"
local util = require "vflaunch.util"

local vfio, sys = core.vfio, core.sys

local M = {}

local GiB = 1 << 30

-- How messages name a device: its element of the machine, or what an attach calls it.
local function label(e)
  return e.label or topology.describe(e)
end

local function is_root()
  return sys.geteuid() == 0
end

-- pf:set_vfs(n) for scripts: n VFs on a PF, through 0 when the count changes, new VFs kept off
-- host drivers, the old count journaled first. Returns the PF's VFs as the host has them now.
function M.set_vfs(ctx, pf, n)
  local where = util.where()
  if type(pf) ~= "table" or type(pf.address) ~= "string" then
    util.usage("set_vfs: expected a PF from vf.find{...} (call it as pf:set_vfs(n))")
  end
  if not pf.sriov_totalvfs then
    util.fail(string.format("%s: %s is not an SR-IOV PF (no sriov_totalvfs)", where, pf.address))
  end
  if math.type(n) ~= "integer" or n < 0 or n > pf.sriov_totalvfs then
    util.fail(string.format("%s: set_vfs: %s can have 0 to %d VFs (sriov_totalvfs), not %s%s",
      where, pf.address, pf.sriov_totalvfs, type(n) == "string" and "the string " or "",
      type(n) == "string" and string.format("%q", n) or tostring(n)))
  end
  if pf.sriov_numvfs ~= n then
    if ctx.print_only then
      util.fail(string.format("%s: %s has %d VFs and the script asks for %d; a %s changes " ..
        "nothing on the host: run without it (vflaunch sets sriov_numvfs), or set the count " ..
        "first", where, pf.address, pf.sriov_numvfs, n,
        ctx.opts.simulate and "simulated host" or "print-only run"), util.EXIT.HOST)
    end
    -- The count goes through 0, which removes every VF of the PF: never under a guest.
    launches.lock(ctx)
    local busy = pf.sriov_numvfs > 0 and giveback.count_in_use(ctx, pf.address, ctx.record)
    if busy then
      util.fail(string.format("%s: set_vfs: %s has %d VFs and changing the count removes them " ..
        "all, but %s; stop that guest first, or leave the count as it is", where, pf.address,
        pf.sriov_numvfs, busy), util.EXIT.HOST)
    end
    local st, err = vfio.sriov(ctx.roots.sys, pf.address)
    if not st then util.fail(where .. ": " .. err, util.EXIT.HOST) end
    launches.record_changes(ctx, { { kind = "sriov", addr = pf.address, numvfs = st.numvfs,
      autoprobe = st.autoprobe == nil and -1 or (st.autoprobe and 1 or 0) } })
    local ok
    ok, err = vfio.set_numvfs(ctx.roots.sys, pf.address, n, false)
    if not ok then
      util.fail(string.format("%s: cannot give %s %d VFs: %s", where, pf.address, n, err),
        util.EXIT.HOST)
    end
    ctx:info("%s: %s now has %d VFs (it had %d)", where, pf.address, n, st.numvfs)
  end
  return ctx:rescan().by_address[pf.address]:vfs()
end

-- IOMMU group viability: every member on vfio-pci, pci-stub or no driver, or a bridge.
local function check_group(ctx, e, g, in_plan, to_bind, problem)
  local members, err = vfio.group(ctx.roots.sys, g)
  if not members then
    return problem("%s: %s: IOMMU group %d: %s", e.where, label(e), g, err)
  end
  local blockers, addrs = {}, { e.host }
  for _, mem in ipairs(members) do
    if not in_plan[mem.addr] and not mem.viable then
      if ctx.opts.bind_group then
        to_bind[#to_bind + 1] = mem.addr
      else
        blockers[#blockers + 1] = string.format("%s (%s)", mem.addr, mem.driver or "no driver")
        addrs[#addrs + 1] = mem.addr
      end
    end
  end
  if #blockers > 0 then
    -- A bridge above with ACS switched off is why such a group can be shared: say so.
    local why = acs.explain(ctx, addrs)
    problem("%s: %s: IOMMU group %d of %s is not viable: %s %s on a host driver; every " ..
      "member must be on vfio-pci, pci-stub or no driver. Bind the whole group with " ..
      "--bind-group (or bind_group = true in the machine), or leave %s out%s",
      e.where, label(e), g, e.host, table.concat(blockers, ", "),
      #blockers == 1 and "is" or "are", e.host, why and ". " .. why or "")
  end
end

-- Devices another live launch holds, or a process has open through /dev/vfio.
local function check_held(ctx, devices, problem)
  local held, holders = launches.held(ctx), launches.vfio_holders(ctx)
  for _, e in ipairs(devices) do
    local r = held[e.host]
    if r then
      problem("%s: %s: host device %s is held by launch '%s' (%s); stop it first (vflaunch " ..
        "stop %s), or choose devices no launch holds (vf.vfs{..., free = true})", e.where,
        label(e), e.host, r.name, r:describe(), r.name)
    end
    local g = e.hostdev and e.hostdev.iommu_group
    if not r and g and holders[g] then
      problem("%s: %s: IOMMU group %d of %s is open by %s; a guest holds it", e.where,
        label(e), g, e.host, launches.describe_holders(holders[g]))
    end
  end
end

-- The vfio-pci module: loaded when missing, but only on the real host and as root.
local function check_module(ctx, problem)
  if vfio.module_loaded(ctx.roots.sys) then return end
  if not ctx.real_host then
    problem("vfio-pci is not loaded in %s; vflaunch loads modules only on the real host " ..
      "(never for --root or --sysfs)", ctx.roots.sys)
  elseif is_root() then
    local ok, err = vfio.modprobe()
    if not ok then problem("cannot load the vfio-pci module: %s", err) end
  else
    problem("the vfio-pci module is not loaded and loading it needs root: modprobe vfio-pci")
  end
end

-- vfio pins the guest's RAM against RLIMIT_MEMLOCK. A --root host has no real vfio, and this
-- process's limit is not the tree's: there it is not checked.
local function check_memlock(ctx, m, ndevices, problem)
  if ctx.opts.root then return end
  local bytes = machines.memory_bytes(m)
  if ndevices == 0 then
    -- No device yet, but empty hot-plug ports: QEMU inherits this limit, and an attach later
    -- needs it. Raised if it can be; a launch that needs none now is not refused for it.
    local render = require "vflaunch.render"
    local free = require("vflaunch.hotplug").free_ports { ports = render.ports(m),
      devices = render.device_facts(m) }
    if #free == 0 then return end
    local ml = vfio.memlock(bytes + GiB, true)
    if not (ml and ml.ok) then
      ctx:warn("RLIMIT_MEMLOCK is %s bytes and cannot be raised to %d (memory + 1 GiB): an " ..
        "attach to this guest will be refused until QEMU's limit is raised (prlimit)",
        tostring(ml and ml.current), bytes + GiB)
    end
    return
  end
  local ml, err = vfio.memlock(bytes + GiB, true)
  if not ml then
    problem("cannot read RLIMIT_MEMLOCK: %s", err)
  elseif not ml.ok then
    problem("RLIMIT_MEMLOCK is %s bytes (hard limit %s) and vfio pins the guest's RAM: it " ..
      "needs %d (memory + 1 GiB)%s; raise the hard limit (ulimit -Hl, LimitMEMLOCK= in a " ..
      "systemd unit, limits.conf) or give the machine less memory", tostring(ml.current),
      tostring(ml.max), bytes + GiB, is_root() and ", and raising it was refused" or "")
  end
end

-- Every problem with devices (entries of a machine, or of an attach: host, hostdev, where),
-- before anything changes, each reported through problem(fmt, ...). Returns the devices to bind
-- (addresses, in order) and the IOMMU groups involved (number -> first entry).
function M.check_devices(ctx, devices, problem)
  local to_bind, in_plan, groups = {}, {}, {}
  for _, e in ipairs(devices) do in_plan[e.host] = e end

  if not vfio.iommu_present(ctx.roots.sys) then
    problem("the host has no IOMMU (%s/kernel/iommu_groups is empty): turn it on in firmware " ..
      "and on the kernel command line (intel_iommu=on, or amd_iommu=on; arm64 SMMU is on by " ..
      "default)", ctx.roots.sys)
  end
  for _, e in ipairs(devices) do
    local d = e.hostdev
    if d.driver ~= "vfio-pci" then to_bind[#to_bind + 1] = e.host end
    if d.iommu_group == nil then
      problem("%s: %s: host device %s has no IOMMU group; vfio cannot pass it through",
        e.where, label(e), e.host)
    elseif not groups[d.iommu_group] then
      groups[d.iommu_group] = e
      check_group(ctx, e, d.iommu_group, in_plan, to_bind, problem)
    end
  end
  check_held(ctx, devices, problem)
  if not ctx.opts.force then
    for _, addr in ipairs(to_bind) do
      for _, u in ipairs(vfio.in_use(ctx.roots.sys, ctx.roots.proc, addr) or {}) do
        problem("host device %s is in use by the host: %s %s is %s; stop using it, or give " ..
          "--force", addr, u.kind == "net" and "interface" or "block device", u.name, u.why)
      end
    end
  end
  if #to_bind > 0 then check_module(ctx, problem) end
  if #to_bind > 0 and ctx.real_host and not is_root() then
    problem("binding %s to vfio-pci (%s...) needs root", util.plural(#to_bind, "device"),
      to_bind[1])
  end
  return to_bind, groups
end

-- Every problem that would stop a launch of machine m, whose devices are devices. Returns
-- to_bind, groups, problems.
local function check(ctx, m, devices)
  local problems = {}
  local function problem(fmt, ...) problems[#problems + 1] = string.format(fmt, ...) end
  local to_bind, groups = M.check_devices(ctx, devices, problem)
  netid.check(ctx, devices, problem)
  check_memlock(ctx, m, #devices, problem)
  return to_bind, groups, problems
end

-- Fault injection for the real-kernel tests (a test build only): the device named in
-- VFLAUNCH_TEST_UNBINDABLE gets a driver name no driver has, so the kernel unbinds it, its
-- probe binds nothing, and the rollback must give every device back.
local function bind_driver(addr)
  if sys.testing and addr == os.getenv("VFLAUNCH_TEST_UNBINDABLE") then
    return "vflaunch-test-none"
  end
end

-- Check, then bind, all under the host lock the launch holds. Raises (status 3) with every
-- problem, or after a failed step; the run's failure path gives back what was changed.
function M.prepare(ctx, plan, record)
  ctx.stage = "host"
  -- The machine's devices listed once: m:devices() walks every element of the tree.
  local devices = plan.machine:devices()
  local to_bind, groups, problems = check(ctx, plan.machine, devices)
  if #problems > 0 then util.fail(table.concat(problems, "\n"), util.EXIT.HOST) end
  launches.adopt(ctx, devices, record)
  netid.apply(ctx, devices) -- on the PF, while the VF is still the host's
  M.bind(ctx, to_bind, groups)
end

-- Bind to_bind to vfio-pci, every original journaled (in ctx.record) before the first write,
-- then check that each group's /dev/vfio/N is there.
function M.bind(ctx, to_bind, groups)
  if #to_bind > 0 then
    local entries = {}
    for i, addr in ipairs(to_bind) do
      local st, err = vfio.state(ctx.roots.sys, addr)
      if not st then util.fail(addr .. ": " .. err, util.EXIT.HOST) end
      entries[i] = { kind = "device", addr = addr, driver = st.driver, override = st.override }
    end
    launches.record_changes(ctx, entries) -- every original is on disk before the first write
    for i, addr in ipairs(to_bind) do
      -- From the state just journaled: bind does not read the device a second time.
      local ok, err = vfio.bind(ctx.roots.sys, addr, bind_driver(addr), entries[i])
      if not ok then
        util.fail(string.format("cannot bind %s to vfio-pci: %s", addr, err), util.EXIT.HOST)
      end
      ctx:info("%s: bound to vfio-pci", addr)
    end
  end
  for n, e in pairs(groups) do
    local ok, err = vfio.check_dev(n, ctx.roots.dev)
    if not ok then
      util.fail(string.format("%s: %s: %s", e.where, label(e), err), util.EXIT.HOST)
    end
  end
end

return M
