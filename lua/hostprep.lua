-- SPDX-License-Identifier: MIT
-- The host side of a launch: check everything, then bind every placed device to vfio-pci with
-- each original driver journaled first, giving everything back if any step fails.
local topology = require "vflaunch.topology"
local util = require "vflaunch.util"
local vfio = require "vflaunch.core.vfio"

local M = {}

local GiB = 1 << 30

-- Where journals live; VFLAUNCH_JOURNAL_DIR lets tests keep theirs apart.
function M.journal_dir()
  return os.getenv("VFLAUNCH_JOURNAL_DIR") or "/run/vflaunch"
end

-- QEMU's -m: a number of MiB, or a number with a K/M/G/T suffix.
function M.memory_bytes(mem)
  if mem == nil then return 128 << 20 end -- QEMU's default guest RAM
  local n, unit = tostring(mem):match("^(%d+)([KMGTkmgt]?)[Bb]?$")
  if not n then return nil end
  local shift = ({ k = 10, m = 20, g = 30, t = 40 })[unit:lower()] or 20
  return math.tointeger(tonumber(n)) << shift
end

-- The journal of this run, created on first use: the original state of everything vflaunch is
-- about to change, written once before the first change. Entries are not marked one by one as
-- their change happens: restoring an entry whose change never happened writes nothing (the C side
-- compares first), and one write per launch keeps binding N devices O(N), not N fsyncs.
local journal

local function record(entries)
  if not journal then
    local path, err = vfio.journal_create(M.journal_dir())
    if not path then
      util.fail("cannot create a journal for the host changes: " .. err ..
        " (vflaunch records each original driver before changing anything)", util.EXIT.HOST)
    end
    journal = path
  end
  local ok, err = vfio.journal_add(journal, entries)
  if not ok then util.fail("cannot write the journal " .. journal .. ": " .. err, util.EXIT.HOST) end
end

-- Give back everything this run changed. Returns a sentence for the error that caused it.
function M.rollback()
  if not journal then return "nothing on the host had been changed" end
  local ok, err = vfio.journal_restore(journal, M.root)
  if ok then
    return "every change was given back (journal " .. journal .. ")"
  end
  return "giving back failed: " .. err .. "; run 'vflaunch --restore " .. journal .. "'"
end

function M.journal() return journal end

-- pf:set_vfs(n) for scripts: n VFs on a PF, through 0 when the count changes, new VFs kept off
-- host drivers. A dry run or a simulated host cannot change a count: it must already be n.
function M.set_vfs(pf, n, opts)
  local where = util.where()
  local cur = pf.sriov_numvfs
  if not pf.sriov_totalvfs then
    util.fail(string.format("%s: %s is not an SR-IOV PF (no sriov_totalvfs)", where, pf.address))
  end
  if math.type(n) ~= "integer" or n < 0 or n > pf.sriov_totalvfs then
    util.fail(string.format("%s: %s can have 0 to %d VFs (sriov_totalvfs), not %s", where,
      pf.address, pf.sriov_totalvfs, tostring(n)))
  end
  if cur == n then return false end
  if opts.dry_run or opts.simulate then
    util.fail(string.format("%s: %s has %d VFs and the script asks for %d; a %s changes " ..
      "nothing on the host: run without it (vflaunch sets sriov_numvfs), or set the count " ..
      "first", where, pf.address, cur, n, opts.simulate and "simulated host" or "dry run"),
      util.EXIT.HOST)
  end
  local st, err = vfio.sriov(M.root, pf.address)
  if not st then util.fail(where .. ": " .. err, util.EXIT.HOST) end
  record { { kind = "sriov", addr = pf.address, numvfs = st.numvfs,
    autoprobe = st.autoprobe == nil and -1 or (st.autoprobe and 1 or 0) } }
  local ok
  ok, err = vfio.set_numvfs(M.root, pf.address, n, false)
  if not ok then
    util.fail(string.format("%s: cannot give %s %d VFs: %s; %s", where, pf.address, n, err,
      M.rollback()), util.EXIT.HOST)
  end
  return true
end

-- Every problem that would stop a launch, before anything changes. Returns the devices to bind
-- (addresses, in order) and a list of problem lines.
local function check(m, opts)
  local problems, to_bind, in_plan = {}, {}, {}
  local function problem(fmt, ...) problems[#problems + 1] = string.format(fmt, ...) end
  local devices = m:devices()
  for _, e in ipairs(devices) do in_plan[e.host] = e end

  if not vfio.iommu_present(M.root) then
    problem("the host has no IOMMU (%s/kernel/iommu_groups is empty): turn it on in firmware " ..
      "and on the kernel command line (intel_iommu=on, or amd_iommu=on; arm64 SMMU is on by " ..
      "default)", M.root)
  end
  local groups = {}
  for _, e in ipairs(devices) do
    local d = e.hostdev
    if d.driver ~= "vfio-pci" then to_bind[#to_bind + 1] = e.host end
    if d.iommu_group == nil then
      problem("%s: %s: host device %s has no IOMMU group; vfio cannot pass it through",
        e.where, topology.describe(e), e.host)
    elseif not groups[d.iommu_group] then
      groups[d.iommu_group] = e
      local members, err = vfio.group(M.root, d.iommu_group)
      if not members then
        problem("%s: %s: IOMMU group %d: %s", e.where, topology.describe(e), d.iommu_group, err)
      else
        local blockers = {}
        for _, mem in ipairs(members) do
          if not in_plan[mem.addr] and not mem.viable then
            if opts.bind_group then
              to_bind[#to_bind + 1] = mem.addr
            else
              blockers[#blockers + 1] = string.format("%s (%s)", mem.addr, mem.driver or "no driver")
            end
          end
        end
        if #blockers > 0 then
          problem("%s: %s: IOMMU group %d of %s is not viable: %s %s on a host driver; every " ..
            "member must be on vfio-pci, pci-stub or no driver. Bind the whole group with " ..
            "--bind-group (or bind_group = true in the machine), or leave %s out",
            e.where, topology.describe(e), d.iommu_group, e.host, table.concat(blockers, ", "),
            #blockers == 1 and "is" or "are", e.host)
        end
      end
    end
  end
  if not opts.force then
    for _, addr in ipairs(to_bind) do
      local uses = vfio.in_use(M.root, M.proc, addr) or {}
      for _, u in ipairs(uses) do
        problem("host device %s is in use by the host: %s %s is %s; stop using it, or give " ..
          "--force", addr, u.kind == "net" and "interface" or "block device", u.name, u.why)
      end
    end
  end
  if #to_bind > 0 and not vfio.module_loaded(M.root) then
    if M.is_root() then
      local ok, err = vfio.modprobe()
      if not ok then problem("cannot load the vfio-pci module: %s", err) end
    else
      problem("the vfio-pci module is not loaded and loading it needs root: modprobe vfio-pci")
    end
  end
  if #to_bind > 0 and not M.is_root() then
    problem("binding %d device%s to vfio-pci (%s...) needs root", #to_bind,
      #to_bind == 1 and "" or "s", to_bind[1])
  end
  local bytes = M.memory_bytes(m.memory)
  if not bytes then
    problem("%s: machine: memory %q is not a size QEMU reads (a number of MiB, or 16G)",
      m.where, tostring(m.memory))
  elseif #devices > 0 then
    local ml, err = vfio.memlock(bytes + GiB, true)
    if not ml then
      problem("cannot read RLIMIT_MEMLOCK: %s", err)
    elseif not ml.ok then
      problem("RLIMIT_MEMLOCK is %s bytes (hard limit %s) and vfio pins the guest's RAM: it " ..
        "needs %d (memory + 1 GiB)%s; raise the hard limit (ulimit -Hl, LimitMEMLOCK= in a " ..
        "systemd unit, limits.conf) or give the machine less memory", tostring(ml.current),
        tostring(ml.max), bytes + GiB, M.is_root() and ", and raising it was refused" or "")
    end
  end
  return to_bind, problems, groups
end

function M.is_root()
  return require("vflaunch.core.sys").geteuid() == 0
end

-- Check, then bind. Raises (status 3) with every problem, or after a failed step with the
-- rollback's outcome. Returns the journal path, or nil when nothing had to change.
function M.prepare(m, opts)
  local to_bind, problems, groups = check(m, opts)
  if #problems > 0 then
    problems[#problems + 1] = "nothing was started; " .. M.rollback()
    util.fail(table.concat(problems, "\nvflaunch: "), util.EXIT.HOST)
  end
  if #to_bind > 0 then
    local entries = {}
    for i, addr in ipairs(to_bind) do
      local st, err = vfio.state(M.root, addr)
      if not st then util.fail(addr .. ": " .. err .. "; " .. M.rollback(), util.EXIT.HOST) end
      entries[i] = { kind = "device", addr = addr, driver = st.driver, override = st.override }
    end
    record(entries) -- every original driver is on disk before the first write
    -- Fault injection for the real-kernel tests (tests/vm): the device named here gets a driver
    -- name no driver has, so the kernel unbinds it, its probe binds nothing, and the rollback
    -- must give every device back. Documented in the README's tests section.
    local unbindable = os.getenv("VFLAUNCH_TEST_UNBINDABLE")
    for _, addr in ipairs(to_bind) do
      local ok, err = vfio.bind(M.root, addr, addr == unbindable and "vflaunch-test-none" or nil)
      if not ok then
        util.fail(string.format("cannot bind %s to vfio-pci: %s; nothing was started; %s", addr,
          err, M.rollback()), util.EXIT.HOST)
      end
    end
  end
  for n, e in pairs(groups) do
    local ok, err = vfio.check_dev(n, M.dev)
    if not ok then
      util.fail(string.format("%s: %s: %s; nothing was started; %s", e.where,
        topology.describe(e), err, M.rollback()), util.EXIT.HOST)
    end
  end
  return journal
end

-- Where the host is: sysfs, /proc and /dev roots (tests point them at fake trees).
function M.configure(opts)
  M.root = opts.sysfs
  M.proc = os.getenv("VFLAUNCH_PROC") or "/proc"
  M.dev = os.getenv("VFLAUNCH_DEV") or "/dev"
  journal = nil
end

return M
