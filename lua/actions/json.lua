-- SPDX-License-Identifier: MIT
-- Action "json" (--json): the compiled plan as one JSON document — the same document a launch
-- keeps in its state directory (plan.json) for status, stop and restore, there without the
-- devices' names (null: a launch does not load pci.ids for names nothing shows).
local render = require "vflaunch.render"

local M = {}

-- names = false: the devices' names null (a launch's plan.json).
function M.document(plan, names)
  return render.json(plan.machine, plan.argv, names)
end

function M.run(plan, ctx)
  ctx:out(M.document(plan))
  return 0
end

return M
