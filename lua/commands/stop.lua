-- SPDX-License-Identifier: MIT
-- vflaunch stop NAME: ask the guest's QEMU to quit over QMP (SIGTERM after the grace period),
-- wait until it is gone, then give back that guest's devices and nothing else. A supervised
-- launch gives its devices back itself; stop then reports what it did.
local _, core = ...
local launches = require "vflaunch.launches"
local qmp = require "vflaunch.qmp"
local restore = require "vflaunch.commands.restore"
local util = require "vflaunch.util"

local sys = core.sys

local M = {}

local SIGTERM = 15

local function wait_gone(r, seconds)
  local deadline = sys.clock() + seconds
  while r:alive() do
    if sys.clock() > deadline then return false end
    sys.sleep(0.1)
  end
  return true
end

-- Ask QEMU to quit: QMP "quit" when it has a monitor, else (or when that fails) SIGTERM.
local function ask_to_quit(ctx, r, grace)
  local sock = r.info.qmp
  if type(sock) == "string" then
    local s, err = qmp.connect(sock, 5)
    if s then
      local _, e = s:execute("quit", nil, 5)
      s:close()
      if not e or e:match("closed") then
        ctx:info("%s: QEMU was asked to quit over QMP", r.name)
        if wait_gone(r, grace) then return true end
        ctx:say("%s: QEMU (pid %d) did not quit within %d s: sending SIGTERM", r.name,
          r.info.pid, grace)
      else
        ctx:say("%s: QMP quit failed (%s): sending SIGTERM", r.name, e)
      end
    else
      ctx:say("%s: cannot reach QEMU's monitor (%s): sending SIGTERM", r.name, err)
    end
  end
  if math.type(r.info.pid) == "integer" and sys.alive(r.info.pid, r.info.start) then
    sys.kill(r.info.pid, SIGTERM)
  end
  if wait_gone(r, grace) then return true end
  return false
end

function M.run(ctx)
  local name = ctx.operands[1]
  local r = launches.open(ctx, name)
  if not r then
    util.fail(string.format("no launch named '%s' in %s ('vflaunch status' lists them)",
      name, ctx.roots.state), util.EXIT.HOST)
  end
  local grace = ctx.opts.timeout or 30
  if r:alive() then
    if not ask_to_quit(ctx, r, grace) then
      util.fail(string.format("%s: QEMU (%s) is still running %d s after SIGTERM; nothing " ..
        "was given back. Kill it (kill -KILL %d), then 'vflaunch restore %s'", name,
        r:describe(), grace, r.info.pid, name), util.EXIT.HOST)
    end
    ctx:say("%s: QEMU has exited", name)
  else
    ctx:info("%s: its guest had already ended", name)
  end
  launches.lock(ctx)
  r = launches.open(ctx, name) -- a supervisor may have given everything back meanwhile
  if not r then return 0 end
  return restore.record(ctx, r) and 0 or util.EXIT.HOST
end

return M
