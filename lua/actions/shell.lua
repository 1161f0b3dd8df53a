-- SPDX-License-Identifier: MIT
-- Action "shell" (-n, --dry-run, and --simulate's default): the QEMU command a launch would
-- exec, one option per line, as sh reads it back. Nothing on the host is touched.
local netid = require "vflaunch.netid"
local render = require "vflaunch.render"
local topology = require "vflaunch.topology"

local M = {}

function M.run(plan, ctx)
  ctx:out(render.shell(plan.argv))
  -- With -v, what a launch would set and bind (each device's driver link read only then).
  if not ctx.opts.verbose then return 0 end
  for _, e in ipairs(plan.machine:devices()) do
    local d = e.hostdev
    local id = netid.of(e)
    if id then
      ctx:info("%s: %s: a launch would give VF %s (through its PF %s) %s", e.where,
        topology.describe(e), e.host, d and d.physfn or "?", netid.describe(id))
    end
    if d and d.driver ~= "vfio-pci" then
      ctx:info("%s: %s: a launch would bind %s to vfio-pci (now on %s)", e.where,
        topology.describe(e), e.host, d.driver or "no driver")
    end
  end
  return 0
end

return M
