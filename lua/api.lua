-- SPDX-License-Identifier: MIT
-- The scripting API a site script reaches with `local vf = require "vflaunch"` (doc/lua-api.md).
-- One instance per run, bound to the run's context: no state is shared between runs.
local _, core = ...
local topology = require "vflaunch.topology"
local util = require "vflaunch.util"

local M = {}

M.VERSION = core.version

-- A device list of attach/detach: one device or a list of them, each a host device (a table
-- with an address), an address or an id. Returns the words.
local function device_words(ctx, what, name, devices)
  if ctx.print_only then
    util.usage(what .. " changes a running guest, and a print-only run changes nothing: run " ..
      "the script without -n, -t, --json, --rehearse or --simulate")
  end
  if type(name) ~= "string" or name == "" then
    util.usage(what .. ": expected the launch's name first, got " .. util.show(name))
  end
  if type(devices) ~= "table" or devices.address then devices = { devices } end
  local out = {}
  local n, why = util.list_length(devices, what .. ": devices")
  if not n then util.usage(why) end
  for i = 1, n do
    local d = devices[i]
    if type(d) == "table" and type(d.address) == "string" then d = d.address end
    if type(d) ~= "string" then
      util.usage(string.format("%s: device %d is %s; expected a host device, an address or " ..
        "an id", what, i, util.show(d)))
    end
    out[#out + 1] = d
  end
  if #out == 0 then util.usage(what .. ": no device given") end
  return out
end

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

  -- Hot-plug into a running guest (lua/hotplug.lua): devices are host devices (from vf.vfs,
  -- vf.find) or their addresses; opts: port, timeout. Returns what was attached: { {id, host,
  -- port, guest_address}, ... }.
  function vf.attach(name, devices, opts)
    local addrs = device_words(ctx, "attach", name, devices)
    opts = util.check_keys("attach", opts, { port = true, timeout = true })
    return (require("vflaunch.hotplug").attach(ctx, name, addrs, opts))
  end

  -- Ask the running guest `name` to let devices go (host devices, addresses or ids, with
  -- their slot mates), then give each back. Returns the number of devices detached.
  function vf.detach(name, devices, opts)
    local words = device_words(ctx, "detach", name, devices)
    opts = util.check_keys("detach", opts, { timeout = true })
    local report, units = require("vflaunch.hotplug").detach(ctx, name, words, opts)
    if not report.ok then
      util.fail(util.where() .. ": detach: giving back failed: " ..
        table.concat(report.failures, "; "), util.EXIT.HOST)
    end
    local n = 0
    for _, u in ipairs(units) do n = n + #u.devs end
    return n
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
