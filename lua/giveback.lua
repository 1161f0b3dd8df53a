-- SPDX-License-Identifier: MIT
-- Giving back what a journal records: each device to its original driver and override, each
-- PF to its original VF count, newest first, devices before the counts that would remove them.
-- The C side reads every result back from the kernel; only what it found restored is called
-- given back. Before touching a launch that is not this run's own, nothing is written while
-- any of its devices is held by a live guest or open through /dev/vfio. A PF's VF count is
-- never changed while another guest uses one of its VFs (the change removes every VF of the
-- PF, the kernel then blocks in the unbind and the guest loses them): that record is kept for
-- a later restore, whoever gives back, and the rest goes back.
local _, core = ...
local launches = require "vflaunch.launches"
local util = require "vflaunch.util"

local M = {}

-- Kinds in the order they are given back: a device goes back to its driver and a VF to its
-- identity (MAC, VLAN...) while the VF still exists; a PF's count comes last.
local ORDER = { device = 1, vfnet = 1.5, sriov = 2 }

local function open(e)
  return e.state ~= "restored" and e.state ~= "gone"
end

-- Who uses host device addr now, other than the launch `except`: a sentence, or nil.
local function user_of(ctx, addr, what, held, holders, except)
  local r = held[addr]
  if r and r ~= except and not (except and r.name == except.name) then
    return string.format("%s%s is held by launch '%s' (%s)", addr, what, r.name, r:describe())
  end
  local d = ctx:host().by_address[addr]
  local g = d and d.iommu_group
  if g and holders[g] then
    return string.format("%s%s: its IOMMU group %d is open by %s", addr, what, g,
      launches.describe_holders(holders[g]))
  end
end

-- Why the VF count of PF addr cannot change now (another guest uses one of its VFs): a
-- sentence, or nil. except: the launch giving back (its own VFs are its to remove).
function M.count_in_use(ctx, addr, except)
  local held, holders = launches.held(ctx), launches.vfio_holders(ctx)
  local pf = ctx:host().by_address[addr]
  for _, vf in ipairs(pf and pf:vfs() or {}) do
    local why = user_of(ctx, vf.address, string.format(" (a VF of %s, whose count would " ..
      "change)", addr), held, holders, except)
    if why then return why end
  end
end

-- Why the device entries of journal j cannot be given back now: a list of sentences (empty:
-- none). except: the record whose own journal this is (its own pid is not a holder of its
-- devices). VF counts do not block: run() keeps those another guest needs.
function M.blockers(ctx, j, except)
  local held, holders = launches.held(ctx), launches.vfio_holders(ctx)
  local out = {}
  for _, e in ipairs(j:entries()) do
    if open(e) and e.kind ~= "sriov" then
      out[#out + 1] = user_of(ctx, e.addr, "", held, holders, except)
    end
  end
  return out
end

-- Give back every open entry of j (from entry `first` on; default all; only those of the
-- addresses in the set `only` when given), except the VF counts
-- that another guest than `except` (the launch giving back) still needs. Returns a report: ok
-- (everything given back is back and the journal saved), counts of restored / unchanged
-- (already as before) / gone entries, failures (one sentence each: where the device is now),
-- kept (one sentence per VF count left for later, and why), the journal's path.
function M.run(ctx, j, first, except, only)
  if not j then -- nothing was ever journaled
    return { ok = true, restored = 0, unchanged = 0, gone = 0, devices = 0, counts = 0,
      identities = 0,
      failures = {}, kept = {}, path = "none" }
  end
  local entries, order = j:entries(), {}
  for i = first or 1, #entries do
    if open(entries[i]) and (not only or only[entries[i].addr]) then order[#order + 1] = i end
  end
  table.sort(order, function(a, b)
    local ka, kb = ORDER[entries[a].kind] or 1.5, ORDER[entries[b].kind] or 1.5
    if ka ~= kb then return ka < kb end
    return a > b -- newest first
  end)
  local report = { restored = 0, unchanged = 0, gone = 0, failures = {}, kept = {},
    path = j:path(), devices = 0, counts = 0, identities = 0 }
  -- A give-back runs to its end and is saved: a signal now waits for it.
  local held = core.sys.hold_signals(true)
  for _, i in ipairs(order) do
    local e = entries[i]
    local busy = e.kind == "sriov" and M.count_in_use(ctx, e.addr, except)
    local outcome, why
    if busy then
      outcome = "kept"
      report.kept[#report.kept + 1] = string.format("%s keeps its VF count: %s", e.addr, busy)
    else
      outcome, why = j:restore(i, ctx.roots.sys)
    end
    if outcome == "kept" then
      ctx:info("%s %s: kept", e.kind, e.addr)
    elseif outcome == "failed" then
      report.failures[#report.failures + 1] = why
    else
      report[outcome] = report[outcome] + 1
      if outcome == "restored" then
        if e.kind == "sriov" then report.counts = report.counts + 1
        elseif e.kind == "vfnet" then report.identities = report.identities + 1
        else report.devices = report.devices + 1 end
      end
      ctx:info("%s %s: %s", e.kind, e.addr, outcome)
    end
  end
  local ok, err = true, nil
  if #order > 0 then ok, err = j:save() end
  core.sys.hold_signals(held)
  if not ok then
    -- What is back is back (read from the kernel); only the record of it could not be saved.
    report.failures[#report.failures + 1] = string.format("the journal %s could not be " ..
      "updated (%s), though what it records as back is back; a later restore finds it so",
      j:path(), err)
  end
  report.ok = #report.failures == 0
  return report
end

-- "2 devices back on their drivers, 1 VF count back (journal PATH)".
function M.summary(r)
  local parts = {}
  if r.devices > 0 then
    parts[#parts + 1] = util.plural(r.devices, "device") .. " back on " ..
      (r.devices == 1 and "its driver" or "their drivers")
  end
  if (r.identities or 0) > 0 then
    parts[#parts + 1] = util.plural(r.identities, "VF identity", "VF identities") ..
      " (MAC, VLAN...) back"
  end
  if r.counts > 0 then parts[#parts + 1] = util.plural(r.counts, "VF count") .. " back" end
  if r.unchanged > 0 then parts[#parts + 1] = r.unchanged .. " already as before" end
  if r.gone > 0 then
    parts[#parts + 1] = util.plural(r.gone, "device") .. " no longer on the host"
  end
  if #(r.kept or {}) > 0 then
    parts[#parts + 1] = util.plural(#r.kept, "VF count") .. " kept while another guest uses " ..
      (#r.kept == 1 and "its VFs" or "their VFs")
  end
  if #parts == 0 then parts[1] = "nothing to give back" end
  return table.concat(parts, ", ") .. "; journal " .. r.path
end

return M
