-- SPDX-License-Identifier: MIT
-- vflaunch detach NAME DEV|ID...: ask the guest to let the devices go (QMP device_del), wait
-- until QEMU says it did, then give each back to its original driver (lua/hotplug.lua).
local giveback = require "vflaunch.giveback"
local hotplug = require "vflaunch.hotplug"
local util = require "vflaunch.util"

local M = {}

function M.run(ctx)
  local name = ctx.operands[1]
  local what = table.move(ctx.operands, 2, #ctx.operands, 1, {})
  local report, units = hotplug.detach(ctx, name, what, { timeout = ctx.opts.timeout })
  local n = 0
  for _, u in ipairs(units) do n = n + #u.devs end
  if not report.ok then
    util.fail(string.format("%s: %s left the guest, but giving back failed: %s; the journal " ..
      "keeps it: run 'vflaunch restore %s' once the guest has ended, or fix it by hand",
      name, util.plural(n, "device"), table.concat(report.failures, "; "), name), util.EXIT.HOST)
  end
  ctx:say("%s: %s left the guest; %s", name, util.plural(n, "device"), giveback.summary(report))
  return 0
end

return M
