-- SPDX-License-Identifier: MIT
-- The scripting API a site script reaches with `local vf = require "vflaunch"` (doc/lua-api.md).
-- One instance per run, bound to the run's context: no state is shared between runs.
local _, core = ...
local topology = require "vflaunch.topology"
local util = require "vflaunch.util"

local M = {}

M.VERSION = core.version

-- A new API table for ctx; also the list the machines the script defines go into.
function M.new(ctx)
  local vf, defined = {}, {}

  -- A new guest machine (see doc/lua-api.md for the fields). A script defines one.
  function vf.machine(spec)
    local m = topology.machine(spec)
    defined[#defined + 1] = m
    return m
  end

  -- The host's PCI devices that match filter (vendor, device, class, driver, address, free...).
  function vf.find(filter)
    return ctx:host():find(filter)
  end

  -- The VFs of every PF that matches filter, PF by PF.
  function vf.vfs(filter)
    return ctx:host():vfs(filter)
  end

  -- Give PF pf exactly n VFs (sriov_numvfs, through 0 when the count changes; new VFs stay off
  -- host drivers), journaled so that a failure gives the old count back. Returns its VFs.
  function vf.set_vfs(pf, n)
    return ctx:host().set_vfs(pf, n)
  end

  vf.version = M.VERSION
  vf.describe = function(e)
    if type(e) ~= "table" or not e.kind then
      util.usage("describe: expected an element of the machine (a port, switch or device)")
    end
    return topology.describe(e)
  end
  vf.EXIT = { OK = 0, SCRIPT = 1, USAGE = 2, HOST = 3 }

  -- Read-only views: vf.host (read on first use) and vf.options.
  setmetatable(vf, {
    __index = function(_, k)
      if k == "host" then
        return ctx:host()
      elseif k == "options" then
        local o = ctx.opts
        return { dry_run = ctx.action == "shell", rehearse = ctx.action == "rehearse",
          simulate = o.simulate or false, verbose = o.verbose or false, quiet = o.quiet or false,
          launch = ctx.action == "launch" }
      end
    end,
  })
  return vf, defined
end

return M
