-- SPDX-License-Identifier: MIT
-- vflaunch attach NAME DEV... [--port ID]: bind host devices to vfio-pci (journaled in the
-- guest's journal) and hot-plug them into the running guest NAME over QMP (lua/hotplug.lua).
local hotplug = require "vflaunch.hotplug"

local M = {}

function M.run(ctx)
  local name = ctx.operands[1]
  local devs = table.move(ctx.operands, 2, #ctx.operands, 1, {})
  local out, units = hotplug.attach(ctx, name, devs, { port = ctx.opts.port,
    timeout = ctx.opts.timeout })
  for _, u in ipairs(units) do
    if #u.devs > 1 then
      ctx:say("%d devices went in together as the functions of one slot on %s", #u.devs,
        u.port.id)
    end
  end
  for _, d in ipairs(out) do
    ctx:say("%s: %s is %s on %s, guest address %s", name, d.host, d.id, d.port, d.guest_address)
  end
  return 0
end

return M
