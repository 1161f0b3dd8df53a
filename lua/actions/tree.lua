-- SPDX-License-Identifier: MIT
-- Action "tree" (-t, --tree): the guest's PCIe tree as lspci -t draws it, and the bus budget.
local render = require "vflaunch.render"

local M = {}

function M.run(plan, ctx)
  ctx:out(render.tree(plan.machine))
  return 0
end

return M
