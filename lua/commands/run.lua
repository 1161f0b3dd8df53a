-- SPDX-License-Identifier: MIT
-- vflaunch run SCRIPT (and vflaunch SCRIPT): compile the script once into a plan, then run the
-- one action the command line chose on it — print the shell command, the tree or JSON,
-- rehearse, or launch. A new output is one file in lua/actions/ and one option in cli.lua.
local compile = require "vflaunch.compile"

local M = {}

-- vflaunch.launches (the host lock, launch records) is loaded where it is used: a print-only
-- run of a script that asks for no free devices never needs it.
function M.run(ctx)
  -- A launch holds the host lock from before the script runs (vf.vfs{free = true} then sees
  -- what no other launch can take meanwhile) until QEMU has the devices.
  if ctx.action == "launch" then require("vflaunch.launches").lock(ctx) end
  local plan = compile.script(ctx)
  if not plan.machine then
    if ctx.record then
      -- The script changed the host (VF counts) and defines no guest: the changes stay, under
      -- the script's name, for restore.
      local r = require("vflaunch.launches").claim(ctx, compile.launch_name(nil, ctx.script),
        { state = "no-guest" })
      ctx:say("%s defined no machine; what it changed stays, recorded as launch '%s' " ..
        "('vflaunch restore %s' gives it back)", ctx.script, r.name, r.name)
    else
      ctx:info("%s defined no machine: nothing to launch", ctx.script)
    end
    return 0
  end
  return require("vflaunch.actions." .. ctx.action).run(plan, ctx)
end

return M
