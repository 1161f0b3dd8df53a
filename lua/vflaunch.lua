-- SPDX-License-Identifier: MIT
-- The scripting API a site script reaches with `local vf = require "vflaunch"` (doc/lua-api.md).
local inventory = require "vflaunch.inventory"
local topology = require "vflaunch.topology"
local util = require "vflaunch.util"

local M = {}

-- The driver's settings and what the script created; never touched by scripts directly.
local state = { options = {}, machines = {}, inventory = nil }

-- A new guest machine (see doc/lua-api.md for the fields). A script defines one.
function M.machine(spec)
  local m = topology.machine(spec)
  state.machines[#state.machines + 1] = m
  return m
end

-- The host's PCI devices that match filter (vendor, device, class, driver, address, ...).
function M.find(filter)
  return M.host:find(filter)
end

-- The VFs of every PF that matches filter, PF by PF.
function M.vfs(filter)
  return M.host:vfs(filter)
end

-- Give PF pf exactly n VFs (sriov_numvfs, through 0 when the count changes; new VFs stay off
-- host drivers), journaled so that a failure gives the old count back. Returns the PF's VFs.
function M.set_vfs(pf, n)
  if type(pf) ~= "table" or not pf.address then util.usage("set_vfs: expected a PF from vflaunch.host") end
  if require("vflaunch.hostprep").set_vfs(pf, n, state.options) then
    state.inventory = inventory.scan(state.options.sysfs or "/sys")
  end
  local fresh = M.host.by_address[pf.address]
  return fresh:vfs()
end

-- Read-only views: vf.host (scanned on first use) and vf.options.
setmetatable(M, {
  __index = function(_, k)
    if k == "host" then
      state.inventory = state.inventory or inventory.scan(state.options.sysfs or "/sys")
      return state.inventory
    elseif k == "options" then
      local o = state.options
      return { dry_run = o.dry_run or false, rehearse = o.rehearse or false,
        simulate = o.simulate or false, verbose = o.verbose or false, quiet = o.quiet or false }
    end
  end,
})

-- For the driver: settings in, machines out.
function M._configure(options)
  state.options, state.machines, state.inventory = options, {}, nil
end

function M._machines()
  return state.machines
end

M.version = "0.1.0"

-- Strings a script may want for messages.
M.describe = topology.describe
M.EXIT = util.EXIT

return M
