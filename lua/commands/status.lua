-- SPDX-License-Identifier: MIT
-- vflaunch status [NAME] [--json]: every launch on this host — its state, the process that
-- holds its devices, uptime, each device it holds (host address -> guest address), its
-- journal — and the host's VFs that are free (no live launch holds them, no process has them
-- open through /dev/vfio).
local _, core = ...
local json = require "vflaunch.json"
local launches = require "vflaunch.launches"
local netid = require "vflaunch.netid"
local util = require "vflaunch.util"

local sys = core.sys

local M = {}

local function uptime(r)
  local start = r.info.start
  if not r:alive() or math.type(start) ~= "integer" then return nil end
  return math.max(0, math.floor(sys.uptime() - start / sys.clock_ticks()))
end

local function clock(s)
  if not s then return "-" end
  return string.format("%d:%02d:%02d", s // 3600, s // 60 % 60, s % 60)
end

-- The devices a launch holds: the plan's (with guest addresses), then any its journal still
-- records that the plan does not name.
local function devices(r)
  local out, seen = {}, {}
  local plan = r:plan()
  for _, d in ipairs(plan and plan.devices or {}) do
    if type(d.host) == "string" then
      seen[d.host] = true
      out[#out + 1] = { host = d.host, guest = d.guest_address, id = d.id,
        net = type(d.net) == "table" and d.net or nil }
    end
  end
  for _, a in ipairs(r:devices()) do
    if not seen[a] then out[#out + 1] = { host = a } end
  end
  return out
end

local function describe(r)
  local i = r.info
  local state = r:state()
  return {
    name = r.name, state = state, pid = i.pid, supervisor = i.supervisor,
    started = i.started, uptime_s = uptime(r), script = i.script,
    journal = r:journal() and r:journal():path() or json.null,
    open_changes = r:journal() and r:journal():open_count() or 0,
    qemu_status = i.qemu_status, restore_error = i.restore_error,
    devices = devices(r), qmp = i.qmp,
  }
end

local function free_vfs(ctx)
  local out = {}
  for _, d in ipairs(ctx:host().devices) do
    if d.physfn and launches.is_free(ctx, d) then out[#out + 1] = d.address end
  end
  return out
end

local function text(list, free)
  local lines = { string.format("%-20s %-9s %-8s %-9s %-8s %s", "NAME", "STATE", "PID", "UPTIME",
    "DEVICES", "JOURNAL") }
  for _, l in ipairs(list) do
    lines[#lines + 1] = string.format("%-20s %-9s %-8s %-9s %-8d %s", l.name, l.state,
      tostring(l.pid or "-"), clock(l.uptime_s), #l.devices,
      l.journal ~= json.null and l.journal or "-")
    for _, d in ipairs(l.devices) do
      lines[#lines + 1] = string.format("  %s -> %s%s%s", d.host, d.guest or "(in no guest)",
        d.id and ("  " .. d.id) or "", d.net and ("  [" .. netid.describe(d.net) .. "]") or "")
    end
    if l.state == "gone" then
      lines[#lines + 1] = string.format("  its process has ended; %s still applied: " ..
        "'vflaunch restore %s' gives %s back", util.plural(l.open_changes, "change"), l.name,
        l.open_changes == 1 and "it" or "them")
    end
    if l.qemu_status then
      lines[#lines + 1] = string.format("  QEMU exited with status %d%s", l.qemu_status,
        l.restore_error and ("; giving back failed: " .. l.restore_error) or "")
    end
  end
  if #list == 0 then lines[#lines + 1] = "(no launches)" end
  local shown = {}
  for i = 1, math.min(#free, 8) do shown[i] = free[i] end
  lines[#lines + 1] = string.format("free VFs: %d%s", #free,
    #free > 0 and (" (" .. table.concat(shown, " ") .. (#free > 8 and " ..." or "") .. ")") or "")
  return util.printable(table.concat(lines, "\n")):gsub("\\x0a", "\n") .. "\n"
end

function M.run(ctx)
  local name = ctx.operands[1]
  local list = {}
  for _, r in ipairs(launches.list(ctx)) do
    if not name or r.name == name then list[#list + 1] = describe(r) end
  end
  if name and #list == 0 then
    util.fail(string.format("no launch named '%s' in %s", name, ctx.roots.state))
  end
  local free = free_vfs(ctx)
  if ctx.opts.json then
    ctx:out(json.encode({ launches = list, free_vfs = free }) .. "\n")
  else
    ctx:out(text(list, free))
  end
  return 0
end

return M
