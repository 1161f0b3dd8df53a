-- SPDX-License-Identifier: MIT
-- vflaunch restore [NAME|JOURNAL]: give back what a launch changed. Refused, before anything is
-- written, while its guest runs or while any of its devices is held (by a live launch, or by a
-- process that has its /dev/vfio group open): a write to unbind would block, or pull a device
-- out of a running guest. A VF count another guest still needs stays recorded for later (see
-- giveback.lua). Without an argument: every launch whose guest is gone.
local _, core = ...
local giveback = require "vflaunch.giveback"
local launches = require "vflaunch.launches"
local util = require "vflaunch.util"

local M = {}

-- Give back one journal after checking that nothing holds what it records. true, or false
-- after saying what is not back.
local function restore_journal(ctx, j, label, record)
  local blockers = giveback.blockers(ctx, j, record)
  if #blockers > 0 then
    util.fail(string.format("%s: nothing was given back, as %s:\n%s", label,
      #blockers == 1 and "a device is still in use" or "devices are still in use",
      table.concat(blockers, "\n")), util.EXIT.HOST)
  end
  local report = giveback.run(ctx, j, nil, record)
  if report.ok then
    ctx:say("%s: %s", label, giveback.summary(report))
    for _, k in ipairs(report.kept) do
      ctx:say("%s: %s; 'vflaunch restore %s' gives it back once that guest is done", label, k,
        record and record.name or j:path())
    end
    return true
  end
  for _, f in ipairs(report.failures) do ctx:say("%s: not given back: %s", label, f) end
  ctx:say("%s: the journal keeps what is not back; run 'vflaunch restore %s' again once the " ..
    "cause is fixed", label, record and record.name or j:path())
  return false
end

-- One launch: refused while it lives.
function M.record(ctx, r)
  if r:alive() then
    util.fail(string.format("launch '%s' is %s (%s): its guest holds the devices; stop it " ..
      "first (vflaunch stop %s)", r.name, r:state(), r:describe(), r.name), util.EXIT.HOST)
  end
  local j = r:journal()
  if not j or j:open_count() == 0 then
    r:remove()
    ctx:info("%s: nothing to give back", r.name)
    return true
  end
  local ok = restore_journal(ctx, j, r.name, r)
  if ok and j:open_count() == 0 then r:remove() end -- a VF count kept for later keeps it
  return ok
end

function M.run(ctx)
  launches.lock(ctx)
  local arg = ctx.operands[1]
  if arg and (arg:find("/", 1, true) or arg:match("%.journal$")) then
    -- A journal file named by path (vflaunch 0.1 kept them as /run/vflaunch/*.journal).
    local j, err = core.journal.open(arg)
    if not j then util.fail("cannot read journal " .. err, util.EXIT.HOST) end
    return restore_journal(ctx, j, arg, nil) and 0 or util.EXIT.HOST
  elseif arg then
    local r = launches.open(ctx, arg)
    if not r then
      util.fail(string.format("no launch named '%s' in %s ('vflaunch status' lists them)",
        arg, ctx.roots.state), util.EXIT.HOST)
    end
    return M.record(ctx, r) and 0 or util.EXIT.HOST
  end
  local status, live, done = 0, {}, 0
  for _, r in ipairs(launches.list(ctx)) do
    if r:alive() then
      live[#live + 1] = r.name
    else
      local ok, res = pcall(M.record, ctx, r)
      if not ok then
        ctx:say("%s", util.status_of(res) and res.message or tostring(res))
        status = util.EXIT.HOST
      elseif not res then
        status = util.EXIT.HOST
      end
      done = done + 1
    end
  end
  if #live > 0 then
    ctx:info("left alone, as their guests run: %s", table.concat(live, ", "))
  end
  if done == 0 then ctx:info("no launch whose guest is gone") end
  return status
end

return M
