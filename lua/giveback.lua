-- SPDX-License-Identifier: MIT
-- Giving back what a journal records: each device to its original driver and override, each
-- PF to its original VF count, newest first, devices before the counts that would remove them.
-- The C side reads every result back from the kernel; only what it found restored is called
-- given back. Before touching a launch that is not this run's own, nothing is written while
-- any of its devices is held by a live guest or open through /dev/vfio.
local launches = require "vflaunch.launches"
local util = require "vflaunch.util"

local M = {}

-- Kinds in the order they are given back: a device goes back to its driver while its VF
-- still exists; a PF's count comes last.
local ORDER = { device = 1, sriov = 2 }

local function open(e)
  return e.state ~= "restored" and e.state ~= "gone"
end

-- Why entries of journal j cannot be given back now: a list of sentences (empty: none).
-- except: the record whose own journal this is (its own pid is not a holder of its devices).
function M.blockers(ctx, j, except)
  local held, holders = launches.held(ctx), launches.vfio_holders(ctx)
  local inv = ctx:host()
  local out = {}
  local function check(addr, what)
    local r = held[addr]
    if r and r ~= except and not (except and r.name == except.name) then
      out[#out + 1] = string.format("%s%s is held by launch '%s' (%s)", addr, what, r.name,
        r:describe())
      return
    end
    local d = inv.by_address[addr]
    local g = d and d.iommu_group
    if g and holders[g] then
      out[#out + 1] = string.format("%s%s: its IOMMU group %d is open by %s", addr, what, g,
        launches.describe_holders(holders[g]))
    end
  end
  for _, e in ipairs(j:entries()) do
    if open(e) then
      if e.kind == "sriov" then
        local pf = inv.by_address[e.addr]
        for _, vf in ipairs(pf and pf:vfs() or {}) do
          check(vf.address, string.format(" (a VF of %s, whose count would change)", e.addr))
        end
      else
        check(e.addr, "")
      end
    end
  end
  return out
end

-- Give back every open entry of j (from entry `first` on; default all). Returns a report: ok
-- (everything back and the journal saved), counts of restored / unchanged (already as before)
-- / gone entries, failures (one sentence each: where the device is now), the journal's path.
function M.run(ctx, j, first)
  if not j then -- nothing was ever journaled
    return { ok = true, restored = 0, unchanged = 0, gone = 0, devices = 0, counts = 0,
      failures = {}, path = "none" }
  end
  local entries, order = j:entries(), {}
  for i = first or 1, #entries do
    if open(entries[i]) then order[#order + 1] = i end
  end
  table.sort(order, function(a, b)
    local ka, kb = ORDER[entries[a].kind] or 1.5, ORDER[entries[b].kind] or 1.5
    if ka ~= kb then return ka < kb end
    return a > b -- newest first
  end)
  local report = { restored = 0, unchanged = 0, gone = 0, failures = {}, path = j:path(),
    devices = 0, counts = 0 }
  for _, i in ipairs(order) do
    local e = entries[i]
    local outcome, why = j:restore(i, ctx.roots.sys)
    if outcome == "failed" then
      report.failures[#report.failures + 1] = why
    else
      report[outcome] = report[outcome] + 1
      if outcome == "restored" then
        if e.kind == "sriov" then report.counts = report.counts + 1 else
          report.devices = report.devices + 1 end
      end
      ctx:info("%s %s: %s", e.kind, e.addr, outcome)
    end
  end
  local ok, err = true, nil
  if #order > 0 then ok, err = j:save() end
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
  if r.counts > 0 then parts[#parts + 1] = util.plural(r.counts, "VF count") .. " back" end
  if r.unchanged > 0 then parts[#parts + 1] = r.unchanged .. " already as before" end
  if r.gone > 0 then
    parts[#parts + 1] = util.plural(r.gone, "device") .. " no longer on the host"
  end
  if #parts == 0 then parts[1] = "nothing to give back" end
  return table.concat(parts, ", ") .. "; journal " .. r.path
end

return M
