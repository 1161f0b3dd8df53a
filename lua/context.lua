-- SPDX-License-Identifier: MIT
-- The per-run context: one table passed to every step instead of module state. It holds the
-- parsed command line, where the host is (sysfs, /dev, /proc, the state directory), the
-- inventory, the host lock, and the journal of what this run changed, so that a failure at
-- any step can give the host back.
local _, core = ...
local util = require "vflaunch.util"

local M = {}
local Context = {}
Context.__index = Context

-- parsed: what cli.parse returned.
function M.new(parsed)
  local o = parsed.opts
  local ctx = setmetatable({
    command = parsed.command, opts = o, action = parsed.action, script = parsed.script,
    args = parsed.args, operands = parsed.operands, argv0 = parsed.argv0,
    warnings = parsed.warnings, stage = "start",
  }, Context)
  -- Print-only runs can change nothing: the C core refuses every host write from here on.
  ctx.print_only = parsed.command == "run" and parsed.action ~= "launch" or
    parsed.command == "list" or parsed.command == "status"
  ctx.roots = {
    sys = o.sysfs or (o.root and o.root .. "/sys") or "/sys",
    dev = o.root and o.root .. "/dev" or "/dev",
    proc = "/proc", -- processes are this machine's, whatever the tree
    state = o.root and o.root .. "/run/vflaunch" or "/run/vflaunch",
  }
  -- The real machine: only then does vflaunch load modules (modprobe) or need root.
  ctx.real_host = not (o.root or o.sysfs or o.simulate)
  return ctx
end

---------------------------------------------------------------------------------------------
-- Saying things. stderr for people, stdout for what was asked for.

function Context:say(fmt, ...)
  if not self.opts.quiet then
    io.stderr:write("vflaunch: ", util.printable(string.format(fmt, ...)), "\n")
  end
end

function Context:info(fmt, ...)
  if self.opts.verbose then self:say(fmt, ...) end
end

function Context:warn(fmt, ...)
  if not self.opts.quiet then
    io.stderr:write("vflaunch: warning: ", util.printable(string.format(fmt, ...)), "\n")
  end
end

-- Write what the run was asked to print; a write that fails (a full disk, a closed stdout)
-- fails the run rather than "succeeding" with nothing written.
function Context.out(_, text)
  local ok, err = io.stdout:write(text)
  if ok then ok, err = io.stdout:flush() end
  if not ok then
    util.fail("cannot write the output: " .. tostring(err), util.EXIT.SCRIPT)
  end
end

---------------------------------------------------------------------------------------------
-- The host.

-- The host's PCI devices, read once per run.
function Context:host()
  if not self.inventory then
    -- vflaunch.inventory loaded by the first command that reads the host, not by every run
    self.inventory = require("vflaunch.inventory").scan(self.roots.sys)
    local ctx = self
    self.inventory.set_vfs = function(pf, n) return require("vflaunch.hostprep").set_vfs(ctx, pf, n) end
    self.inventory.is_free = function(dev) return require("vflaunch.launches").is_free(ctx, dev) end
  end
  return self.inventory
end

-- Read the host again (after a change of VF counts).
function Context:rescan()
  self.inventory = nil
  return self:host()
end

---------------------------------------------------------------------------------------------
-- Running a command, and failing.

function Context:run()
  for _, w in ipairs(self.warnings or {}) do self:warn("%s", w) end
  if self.opts.simulate then
    local dir, err = core.sim.build(self.opts.simulate)
    if not dir then
      util.fail(err .. "; --simulate=help lists them", util.EXIT.USAGE)
    end
    self.roots.sys = dir
  end
  if self.print_only then core.sys.forbid_writes() end
  return require("vflaunch.commands." .. self.command).run(self)
end

-- Give back what this run changed, at once, whatever the caller was doing. Returns the
-- sentence that says so (nil when nothing had changed), and whether everything is back.
function Context:rollback()
  local r = self.record
  if not r then return nil, true end
  local j = r:journal()
  local first = (r.base or 0) + 1 -- entries before it were a dead launch's, carried on
  if not j or #j:entries() < first then
    if not j or j:open_count() == 0 then r:done() end
    return nil, true
  end
  local giveback = require "vflaunch.giveback"
  local report = giveback.run(self, j, first, r)
  local sentence
  if report.ok and #report.kept > 0 then
    sentence = "its changes were given back except what another guest still uses (" ..
      giveback.summary(report) .. "): " .. table.concat(report.kept, "; ") ..
      "; 'vflaunch restore " .. r.name .. "' gives " .. (#report.kept == 1 and "it" or "them") ..
      " back once that guest is done"
  elseif report.ok then
    sentence = "every change was given back (" .. giveback.summary(report) .. ")"
    if j:open_count() == 0 then r:done() end
  else
    sentence = "giving back failed: " .. table.concat(report.failures, "; ") ..
      "; the journal keeps what is not back: run 'vflaunch restore " .. r.name .. "'"
  end
  return sentence, report.ok
end

-- Report a failed run (rec from main's message handler) and return its exit status.
function Context:fail(rec)
  local status, lines = rec.status, {}
  for line in (rec.message or ""):gmatch("[^\n]+") do lines[#lines + 1] = line end
  local launching = self.command == "run" and self.action == "launch"
  if launching and self.stage ~= "started" then
    local done, sentence, ok = pcall(self.rollback, self)
    if not done then -- the give-back itself failed: say so, never claim anything
      sentence, ok = "giving back failed: " .. (util.status_of(sentence) and sentence.message or
        tostring(sentence)) .. "; run 'vflaunch restore'", false
    end
    lines[#lines + 1] = "nothing was started; " .. (sentence or "nothing on the host was changed")
    if not ok then status = util.EXIT.HOST end
  end
  for _, line in ipairs(lines) do io.stderr:write("vflaunch: ", util.printable(line), "\n") end
  if self.opts.verbose and not rec.own and rec.traceback then
    io.stderr:write(rec.traceback, "\n")
  end
  if self.opts.supervise and self.stage ~= "started" and status >= 1 and status <= 3 then
    status = 64 + status -- supervised: QEMU's own 1 is not vflaunch's 1
  end
  return status
end

-- The end of every run, however it went.
function Context:close()
  if self.lock then self.lock:release() end
  core.sim.remove()
end

return M
