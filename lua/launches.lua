-- SPDX-License-Identifier: MIT
-- Launches that last. Each launch keeps its state in a directory of the state root
-- (/run/vflaunch/NAME/), so that later commands find it instead of guessing:
--   launch.json  who holds the devices: pid and start time (QEMU's, which is vflaunch's before
--                exec), the supervising vflaunch if any, the state, times, QEMU's exit status
--   plan.json    the compiled plan (the --json document)
--   journal      what the launch changed on the host (core.journal), to give back
--   qmp.sock     QEMU's monitor
-- A run that changes the host before its name is known (pf:set_vfs in the script) keeps its
-- journal in a pending directory ".run-PID" until the launch claims its name. The state root
-- also holds "lock", the host-wide lock every launch, restore and stop holds while it works.
local _, core = ...
local util = require "vflaunch.util"

local fs, sys, cjson = core.fs, core.sys, core.cjson

local M = {}

local Record = {}
Record.__index = Record

-- A journal write that failed ends the run (its failure path gives back what was changed).
local function must(ok, err)
  if not ok then util.fail("cannot write the journal: " .. err, util.EXIT.HOST) end
end

local LOCK_WAIT = 60 -- seconds a launch waits for another vflaunch to finish with the host

-- The state root, made private (0700, ours) when missing; refused when anyone else could
-- change it.
function M.root(ctx, create)
  local dir = ctx.roots.state
  if create and ctx.opts.root and not fs.kind(ctx.opts.root .. "/run") then
    local ok, err = fs.private_dir(ctx.opts.root .. "/run", true)
    if not ok then util.fail(err, util.EXIT.HOST) end
  end
  local ok, err = fs.private_dir(dir, create)
  if not ok then
    if not create and not fs.kind(dir) then return nil end
    util.fail(err, util.EXIT.HOST)
  end
  return dir
end

-- The host lock, held until the run ends (or QEMU has the devices). Waits for another vflaunch
-- that holds it, saying so once, up to LOCK_WAIT seconds.
function M.lock(ctx)
  if ctx.lock then return ctx.lock end
  local path = M.root(ctx, true) .. "/lock"
  local t0, said = sys.clock(), false
  while true do
    local lock, err, errno = fs.lock(path)
    if lock then
      -- Who holds it, for the next one who waits (the lock file's content is only a hint).
      fs.write(path .. ".owner", string.format("pid %d, %s %s\n", sys.getpid(), ctx.command,
        ctx.script or table.concat(ctx.operands or {}, " ")))
      ctx.lock = lock
      return lock
    end
    if errno ~= 11 then util.fail(err, util.EXIT.HOST) end -- EWOULDBLOCK: someone holds it
    local owner = (fs.read(path .. ".owner", 4096) or "another vflaunch\n"):gsub("\n$", "")
    if sys.clock() - t0 > LOCK_WAIT then
      util.fail(string.format("another vflaunch (%s) has held the host lock %s for %d s; " ..
        "try again when it is done", util.printable(owner), path, LOCK_WAIT), util.EXIT.HOST)
    end
    if not said then
      ctx:say("waiting for another vflaunch (%s) to finish with the host", owner)
      said = true
    end
    sys.sleep(0.05)
  end
end

---------------------------------------------------------------------------------------------
-- Records

-- lua-cjson reads every number as a float: pids, start times and statuses are integers.
local function integers(t)
  for k, v in pairs(t) do
    if type(v) == "number" then t[k] = math.tointeger(v) or v
    elseif type(v) == "table" then integers(v) end
  end
  return t
end

local function decode(text, what)
  local ok, v = pcall(cjson.decode, text)
  if not ok or type(v) ~= "table" then return nil, what .. ": not valid JSON" end
  return integers(v)
end

function M.open(ctx, name)
  local dir = ctx.roots.state .. "/" .. name
  if fs.kind(dir) ~= "dir" then return nil end
  local r = setmetatable({ ctx = ctx, name = name, dir = dir }, Record)
  local text = fs.read(dir .. "/launch.json", 1 << 20)
  r.info = text and decode(text, dir .. "/launch.json") or {}
  return r
end

-- Every record, pending ones too, sorted by name.
function M.list(ctx)
  local out = {}
  if not M.root(ctx, false) then return out end
  local names = fs.list(ctx.roots.state) or {}
  table.sort(names)
  for _, n in ipairs(names) do
    local r = n ~= "lock" and M.open(ctx, n)
    if r then out[#out + 1] = r end
  end
  return out
end

function Record:write_info(fields)
  for k, v in pairs(fields) do self.info[k] = v end
  local ok, err = fs.write(self.dir .. "/launch.json", cjson.encode(self.info) .. "\n")
  if not ok then util.fail("cannot write the launch state: " .. err, util.EXIT.HOST) end
end

-- The journal (core.journal object); created when create is set and it does not exist.
function Record:journal(create)
  if self.j then return self.j end
  local path = self.dir .. "/journal"
  local j, err
  if fs.kind(path) then
    j, err = core.journal.open(path)
  elseif create then
    j, err = core.journal.create(path)
  else
    return nil
  end
  if not j then util.fail("journal: " .. err, util.EXIT.HOST) end
  self.j = j
  return j
end

-- The compiled plan the launch was started with, or nil.
function Record:plan()
  if self.plan_table == nil then
    local text = fs.read(self.dir .. "/plan.json")
    self.plan_table = text and decode(text, self.dir .. "/plan.json") or false
  end
  return self.plan_table or nil
end

-- Alive: QEMU (or the vflaunch still preparing it) runs, or its supervisor does.
function Record:alive()
  local i = self.info
  local function up(pid, start)
    return math.type(pid) == "integer" and math.type(start) == "integer" and pid > 0 and
      sys.alive(pid, start)
  end
  return up(i.pid, i.start) or up(i.supervisor, i.supervisor_start)
end

-- "starting", "running", "gone" (its process ended, changes still applied), "exited" (ended,
-- nothing left to give back).
function Record:state()
  if self:alive() then
    return self.info.state == "running" and "running" or "starting"
  end
  local j = self:journal()
  return (j and j:open_count() > 0) and "gone" or "exited"
end

-- "pid 1234, since 2026-11-25 10:00:00" for messages.
function Record:describe()
  local i = self.info
  local since = math.type(i.started) == "integer" and os.date("%Y-%m-%d %H:%M:%S", i.started)
  return string.format("pid %s%s", tostring(i.pid or "?"), since and (", since " .. since) or "")
end

-- The host devices this launch holds: those in its plan and those its journal still records.
function Record:devices()
  local out, seen = {}, {}
  local plan = self:plan()
  for _, d in ipairs(plan and plan.devices or {}) do
    if type(d.host) == "string" and not seen[d.host] then
      seen[d.host] = true
      out[#out + 1] = d.host
    end
  end
  local j = self:journal()
  for _, e in ipairs(j and j:entries() or {}) do
    if e.kind == "device" and e.state ~= "restored" and e.state ~= "gone" and not seen[e.addr] then
      seen[e.addr] = true
      out[#out + 1] = e.addr
    end
  end
  return out
end

-- Remove the record: everything it changed is back (or it never changed anything).
function Record:remove()
  for _, f in ipairs(fs.list(self.dir) or {}) do fs.remove(self.dir .. "/" .. f) end
  local ok, err = fs.remove(self.dir)
  if not ok then self.ctx:warn("cannot remove %s: %s", self.dir, err) end
end

-- The end of a record whose changes were all given back: a launch whose QEMU never ran leaves
-- nothing; one that ran stays as "exited" for status until the next restore or launch.
function Record:done()
  if self.info.qemu_status ~= nil then
    self:write_info { state = "exited" }
  else
    self:remove()
  end
end

---------------------------------------------------------------------------------------------
-- A run's own record

local function self_info(ctx, extra)
  local pid = sys.getpid()
  local info = { pid = pid, start = assert(sys.starttime(pid)), started = sys.time(),
    vflaunch = pid, script = ctx.script, state = "starting" }
  for k, v in pairs(extra or {}) do info[k] = v end
  return info
end

-- Journal entries for this run's host changes, saved before the change is made: the run's
-- record is made on first use (pending until the launch claims its name).
function M.record_changes(ctx, entries)
  M.lock(ctx)
  if not ctx.record then
    local name = ".run-" .. sys.getpid()
    local dir = M.root(ctx, true) .. "/" .. name
    local stale = M.open(ctx, name) -- a reused pid's leftover: its own process is gone
    if stale and not stale:alive() and stale:state() == "exited" then stale:remove() end
    local ok, err = fs.private_dir(dir, true)
    if not ok then util.fail(err, util.EXIT.HOST) end
    ctx.record = setmetatable({ ctx = ctx, name = name, dir = dir, info = {}, pending = true },
      Record)
    ctx.record:write_info(self_info(ctx))
  end
  must(ctx.record:journal(true):add(entries))
end

-- Give the run's record its name: refused while a launch of that name lives; a dead one's
-- record is carried on (its journal keeps the originals of what it left changed).
function M.claim(ctx, name, extra)
  M.lock(ctx)
  local old = M.open(ctx, name)
  if old and old:alive() then
    util.fail(string.format("a launch named '%s' is %s (%s); stop it first (vflaunch stop %s), " ..
      "or give this machine another name (vf.machine{ name = ... })", name, old:state(),
      old:describe(), name), util.EXIT.HOST)
  end
  local mine = ctx.record
  if old then
    -- What the dead launch left changed stays its record to give back; this run's own
    -- changes start after it (a failed run gives back only those). What it gave back is
    -- history and goes: the journal keeps a device's first record, so a closed one would
    -- swallow this run's record of the same device, and nothing would give that back.
    local oj = old:journal()
    if oj then
      local entries = oj:entries()
      for i = #entries, 1, -1 do
        if entries[i].state == "restored" or entries[i].state == "gone" then oj:forget(i) end
      end
      must(oj:save())
    end
    old.base = oj and #oj:entries() or 0
    if mine then -- the pending journal's records join the old one's, the old ones first
      local j = mine:journal()
      if j and j:open_count() > 0 then
        must(old:journal(true):add(j:entries()))
      end
      mine:remove()
    end
    old.info = {}
    for _, f in ipairs { "plan.json", "qmp.sock" } do fs.remove(old.dir .. "/" .. f) end
    ctx.record = old
  elseif mine then
    local dir = ctx.roots.state .. "/" .. name
    local ok, err = fs.rename(mine.dir, dir)
    if not ok then util.fail(err, util.EXIT.HOST) end
    mine.name, mine.dir, mine.pending = name, dir, nil
    if mine.j then -- the journal object keeps the path it was opened with
      mine.j = nil
    end
  else
    local dir = ctx.roots.state .. "/" .. name
    local ok, err = fs.private_dir(dir, true)
    if not ok then util.fail(err, util.EXIT.HOST) end
    ctx.record = setmetatable({ ctx = ctx, name = name, dir = dir, info = {} }, Record)
  end
  ctx.record.info = {}
  ctx.record:write_info(self_info(ctx, extra))
  return ctx.record
end

-- Entries of dead launches' journals for devices (the machine's, in a plan) and their PFs
-- move into this launch's journal: the originals stay recorded, and no later restore of the
-- dead launch can pull a device out of this guest.
function M.adopt(ctx, devices, record)
  local wanted
  for _, other in ipairs(M.list(ctx)) do
    local oj = other.name ~= record.name and not other:alive() and other:journal()
    if oj then
      -- Made only when a dead launch left a journal: it asks the host for every VF's PF.
      if not wanted then
        wanted = {}
        for _, e in ipairs(devices) do
          wanted[e.host] = true
          if e.hostdev and e.hostdev.physfn then wanted[e.hostdev.physfn] = true end
        end
      end
      local moved, idx = {}, {}
      for i, e in ipairs(oj:entries()) do
        if wanted[e.addr] and e.state ~= "restored" and e.state ~= "gone" then
          moved[#moved + 1], idx[#idx + 1] = e, i
        end
      end
      if #moved > 0 then
        must(record:journal(true):add(moved))
        for k = #idx, 1, -1 do oj:forget(idx[k]) end
        must(oj:save())
        ctx:info("took over %s of launch '%s' (it has ended)", util.plural(#moved, "record"),
          other.name)
      end
    end
  end
end

---------------------------------------------------------------------------------------------
-- Who holds what

-- Host device address -> the live launch (other than this run) that holds it.
function M.held(ctx)
  local out = {}
  for _, r in ipairs(M.list(ctx)) do
    if r ~= ctx.record and r:alive() and not (ctx.record and r.name == ctx.record.name) then
      for _, a in ipairs(r:devices()) do out[a] = r end
    end
  end
  return out
end

-- IOMMU group number -> the processes that have /dev/vfio/N open.
function M.vfio_holders(ctx)
  local prefix = ctx.roots.dev .. "/vfio/"
  local out = {}
  for _, h in ipairs(sys.holders(prefix) or {}) do
    local g = math.tointeger(tonumber(h.target:sub(#prefix + 1)))
    if g then
      out[g] = out[g] or {}
      table.insert(out[g], h.pid)
    end
  end
  return out
end

function M.describe_holders(pids)
  local out = {}
  for i, pid in ipairs(pids) do
    if i > 3 then out[#out + 1] = "..."; break end
    out[#out + 1] = string.format("pid %d (%s)", pid, util.printable(sys.comm(pid)))
  end
  return table.concat(out, ", ")
end

-- Free: no live launch holds the device and no process has its group open.
function M.is_free(ctx, dev)
  if not ctx.free_cache then
    ctx.free_cache = { held = M.held(ctx), holders = M.vfio_holders(ctx) }
  end
  local c = ctx.free_cache
  return not c.held[dev.address] and not (dev.iommu_group and c.holders[dev.iommu_group])
end

return M
