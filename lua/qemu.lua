-- SPDX-License-Identifier: MIT
-- What the QEMU binary a plan names can do, asked of that binary before a launch touches the
-- host: that it runs at all (127/126 before any device is bound, not after), and that it knows
-- the plan's machine type (`-machine help`) and its options (`-machine TYPE,help`). A program
-- that is not named like a QEMU system emulator (a test stand-in) is not asked.
local _, core = ...
local util = require "vflaunch.util"

local M = {}

-- Machine type names from `qemu -machine help`: the first word of each line after the header.
function M.parse_machines(output)
  local names = {}
  for line in output:gmatch("[^\n]+") do
    local name = line:match("^([%w][%w._-]*)%s")
    if name and not line:match("^Supported machines") then names[name] = true end
  end
  return names
end

-- Property names from `qemu -machine TYPE,help`: "  name=<type> - text" lines.
function M.parse_properties(output)
  local names = {}
  for name in output:gmatch("\n  ([%w][%w._-]*)=") do names[name] = true end
  return names
end

-- -machine keys QEMU's vl.c takes itself rather than as machine properties (softmmu/vl.c,
-- qemu_apply_legacy_machine_options); QEMU reads '_' as '-' in them.
local LEGACY = { accel = true, ["igd-passthru"] = true, ["kvm-shadow-mem"] = true,
  ["kernel-irqchip"] = true, memory = true }

-- Every machine option must be a property this QEMU's machine type has: an option from a newer
-- QEMU (virt's highmem-ecam came in 8.0) would otherwise stop QEMU after every device was bound.
local function check_options(plan)
  local m = plan.machine
  if #m.options == 0 then return end
  local res = core.sys.run({ plan.qemu, "-machine", m.type .. ",help" }, 30)
  local props = res and res.status == 0 and M.parse_properties(res.output)
  if not (props and next(props)) then return end -- no list to hold the options to
  local unknown = {}
  for _, opt in ipairs(m.options) do
    local k = opt:match("^([^=]*)=")
    if not props[k] and not LEGACY[k:gsub("_", "-")] then unknown[#unknown + 1] = k end
  end
  if #unknown > 0 then
    util.fail(string.format("%s: machine option %s is not one %s's %s has; see %s -machine %s,help",
      m.where, table.concat(unknown, ", "), plan.qemu, m.type, plan.qemu, m.type))
  end
end

-- Raises (127/126: QEMU cannot run; 1: it does not know the machine type or one of its
-- options) or returns.
function M.check(plan)
  local base = plan.qemu:match("([^/]+)$")
  if not base:match("^qemu%-system%-[%w_]+$") then return end
  local res, err = core.sys.run({ plan.qemu, "-machine", "help" }, 30)
  -- POSIX lets posix_spawn report an exec that failed as a child that exits 127 (qemu-user
  -- does, and so may a libc without CLONE_VFORK): no QEMU ran at all.
  if res and res.status == 127 and res.output == "" then
    res, err = nil, plan.qemu .. ": No such file or directory, or not executable (its process " ..
      "exited 127 before a word, as an exec that failed does)"
  end
  if not res then
    local status = err:match("No such file") and util.EXIT.NOT_FOUND or util.EXIT.NOT_EXECUTABLE
    util.fail(string.format("cannot execute %s; nothing was bound%s", err,
      status == util.EXIT.NOT_FOUND and " (install it: Debian's qemu-system-arm or " ..
      "qemu-system-x86, or name it with --qemu PATH)" or ""), status)
  end
  local names = M.parse_machines(res.output)
  if res.status ~= 0 or not next(names) then
    util.fail(string.format("%s -machine help exited with status %d and listed no machine " ..
      "type: is it a QEMU system emulator?", plan.qemu, res.status), util.EXIT.NOT_EXECUTABLE)
  end
  local m = plan.machine
  if not names[m.type] then
    local same = {}
    for n in pairs(names) do
      if n:sub(1, #m.type:match("^[%a%d]+")) == m.type:match("^[%a%d]+") then same[#same + 1] = n end
    end
    table.sort(same)
    util.fail(string.format("%s: machine type '%s' is not one %s knows%s; pick one it lists " ..
      "(%s -machine help)", m.where, m.type, plan.qemu,
      #same > 0 and (" (it has " .. table.concat(same, ", ", 1, math.min(#same, 8)) ..
      (#same > 8 and ", ..." or "") .. ")") or "", plan.qemu))
  end
  check_options(plan)
end

return M
