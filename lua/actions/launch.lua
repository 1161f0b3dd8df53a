-- SPDX-License-Identifier: MIT
-- Action "launch" (no print option): claim the launch's name, keep its plan, check and prepare
-- the host, then exec QEMU — or, supervised, run it as a child and give every device back when
-- it exits. The host lock is held from before the script ran until QEMU has the devices.
local _, core = ...
local giveback = require "vflaunch.giveback"
local hostprep = require "vflaunch.hostprep"
local json = require "vflaunch.actions.json"
local launches = require "vflaunch.launches"
local qemu = require "vflaunch.qemu"
local render = require "vflaunch.render"
local util = require "vflaunch.util"

local fs, sys = core.fs, core.sys

local M = {}

local function exec_hint(status)
  if status == util.EXIT.NOT_FOUND then
    return "; install it (Debian: qemu-system-arm or qemu-system-x86) or name it with --qemu PATH"
  end
  return ""
end

-- QEMU as our child; when it ends, its devices go back. Returns QEMU's status, or 67 when a
-- device could not be given back (the record keeps the trace; status shows it).
local function supervise(plan, ctx, record)
  local pid, err = sys.spawn(plan.argv)
  if not pid then util.fail("cannot start " .. err, util.EXIT.NOT_EXECUTABLE) end
  local me = sys.getpid()
  record:write_info { state = "running", pid = pid, start = sys.starttime(pid),
    supervisor = me, supervisor_start = sys.starttime(me) }
  ctx.stage = "started"
  ctx.lock:release()
  ctx.lock = nil
  ctx:info("QEMU runs as pid %d; its devices go back when it exits", pid)
  local status = sys.wait(pid)
  -- QEMU is gone: give back, whatever signal comes now.
  sys.hold_signals(true)
  launches.lock(ctx)
  record:write_info { qemu_status = status, ended = sys.time() }
  local report = giveback.run(ctx, record:journal(), nil, record)
  if report.ok then
    record:write_info { state = "exited" }
    ctx:say("QEMU exited (status %d); %s", status, giveback.summary(report))
    for _, k in ipairs(report.kept) do
      ctx:say("%s; 'vflaunch restore %s' gives it back once that guest is done", k, record.name)
    end
    return status
  end
  record:write_info { state = "exited", restore_error = table.concat(report.failures, "; ") }
  ctx:say("QEMU exited (status %d); giving back failed: %s; run 'vflaunch restore %s' once " ..
    "the cause is fixed", status, table.concat(report.failures, "; "), record.name)
  return 64 + util.EXIT.HOST
end

function M.run(plan, ctx)
  qemu.check(plan) -- QEMU runs and knows the machine type, before anything on the host changes
  local record = launches.claim(ctx, plan.name, { qmp = plan.qmp, qemu = plan.qemu })
  local ok, err = fs.write(record.dir .. "/plan.json", json.document(plan, false))
  if not ok then util.fail("cannot keep the plan: " .. err, util.EXIT.HOST) end
  hostprep.prepare(ctx, plan, record)
  if ctx.opts.supervise then return supervise(plan, ctx, record) end
  record:write_info { state = "running" }
  if ctx.opts.verbose then -- the budget walks the whole machine: only for a line that is shown
    ctx:info("exec %s (%s)", plan.qemu, render.budget_line(plan.machine))
  end
  local _, why, status = sys.exec(plan.argv) -- returns only when QEMU could not be executed
  util.fail(why .. exec_hint(status), status)
end

return M
