-- SPDX-License-Identifier: MIT
-- Action "json" (--json): the compiled plan as one JSON document — the same document a launch
-- keeps in its state directory (plan.json) for status, stop and restore.
local render = require "vflaunch.render"

local M = {}

function M.document(plan)
  return render.json(plan.machine, plan.argv)
end

function M.run(plan, ctx)
  ctx:out(M.document(plan))
  return 0
end

return M
