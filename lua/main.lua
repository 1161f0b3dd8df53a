-- SPDX-License-Identifier: MIT
-- The entry point (launcher/main.c calls main(argv)): parse the command line, run the command
-- with a per-run context, and turn whatever goes wrong into one report and an exit status,
-- after giving back every host change the failed run made.
local _, core = ...
local cli = require "vflaunch.cli"
local util = require "vflaunch.util"

local M = {}

local SIGNAME = { [1] = "SIGHUP", [2] = "SIGINT", [15] = "SIGTERM" }

-- The message handler: runs on the failing stack, so it can still name the user's line.
local function capture(e)
  local status = util.status_of(e)
  local rec = { status = status or util.EXIT.SCRIPT, traceback = debug.traceback(nil, 2) }
  if status then
    rec.message = e.message
    rec.own = true
  elseif type(e) == "string" then
    rec.message = e
    -- A Lua error inside vflaunch's own modules: say where in the script it was called, and
    -- that it is vflaunch's fault (or something the script changed that vflaunch owns).
    local at, module = e:match("^(.-)module '(.-)' not found:")
    if module then -- one line, not the sixteen paths Lua lists
      rec.message = string.format("%smodule '%s' not found: vflaunch's own modules are built " ..
        "in, a site's are looked for in the script's directory, -I DIRs, $VFLAUNCH_PATH and " ..
        "package.path (%s), never in the working directory", at, module,
        e:match("\n\tsearched: ([^\n]*)") or package.path)
    elseif e:match("^lua/[%w_/]+%.lua:%d+: ") then
      rec.message = string.format("%s: vflaunch could not carry out this call: %s (a bug in " ..
        "vflaunch, or the script changed something vflaunch owns)", util.where(2), e)
    end
  else
    local ok, text = pcall(tostring, e)
    if ok and type(text) == "string" and not text:match("^table: 0x") then
      rec.message = util.where(2) .. ": " .. text
    else
      rec.message = string.format("%s: the script raised a %s as its error, with no message",
        util.where(2), type(e))
    end
  end
  return rec
end

local function interrupt(sig)
  util.fail(string.format("interrupted by %s", SIGNAME[sig] or ("signal " .. sig)), 128 + sig)
end

-- argv: vflaunch's arguments (argv[0] is the program). Returns the exit status.
function M.main(argv)
  local words = table.move(argv, 1, #argv, 1, {})
  local parsed, err = cli.parse(words)
  if not parsed then
    io.stderr:write("vflaunch: ", util.printable(err), "\nTry 'vflaunch --help'.\n")
    return util.EXIT.USAGE
  end
  if parsed.opts.help then
    io.stdout:write(cli.help())
    return 0
  elseif parsed.opts.version then
    io.stdout:write("vflaunch ", cli.VERSION, " (", _VERSION, ")\n")
    return 0
  elseif parsed.opts.simulate == "help" then
    io.stdout:write(core.sim.hosts())
    return 0
  end
  parsed.argv0 = argv[0]
  -- Loaded here, not at the top: --version and --help need no context, nor the inventory.
  local ctx = require("vflaunch.context").new(parsed)
  core.sys.catch_signals(interrupt)
  local ok, status = xpcall(ctx.run, capture, ctx)
  if not ok then status = ctx:fail(status) end
  ctx:close()
  return status
end

return M
