-- SPDX-License-Identifier: MIT
-- Plan + render of N devices, in process: build the machine, m:place(), finalize, validate, render
-- argv, tree and JSON; REPEAT times, after the host's inventory was read (not timed).
-- Run through vflaunch on the large simulated host (bench/plan.sh does):
--   vflaunch --simulate=large -q bench/plan.lua STRATEGY N [REPEAT]
-- Prints one line: "plan STRATEGY N: median MS ms, min MS ms, lua heap KIB KiB (allocated, the
-- collector stopped), state KIB KiB (what the plan keeps after a full collection: the machine,
-- its elements and argv), argv WORDS words", then the median of each phase (place; check:
-- finalize, mac = "auto" and validate; then each rendering) and the sum of what a launch does.
local vf = require "vflaunch"
local compile = require "vflaunch.compile"
local render = require "vflaunch.render"
local topology = require "vflaunch.topology"
local validate = require "vflaunch.validate"

local strategy, n, repeats = arg[1] or "dense", tonumber(arg[2]) or 1984, tonumber(arg[3]) or 5
local all = vf.vfs { vendor = 0x15b3, device = 0x1017 }
local devs = table.move(all, 1, n, 1, {})
assert(#devs == n, "the host has " .. #all .. " VFs")

local PHASES = { "place", "check", "argv", "shell", "tree", "json" }
local clock = os.clock

-- One plan and every rendering of it; phase[name] gets each step's time (ms) when given.
local function once(phase)
  local t = { clock() }
  local m = topology.machine { type = "virt", options = { "gic-version=3" } }
  if n > 0 then m:place(devs, { strategy = strategy }) end -- 0: the baseline, an empty machine
  t[2] = clock()
  local _, errors = compile.check(m, vf.host) -- finalize, mac = "auto", validate
  assert(#errors == 0, validate.format(errors))
  t[3] = clock()
  local argv = render.argv(m, "qemu-system-aarch64")
  t[4] = clock()
  local shell = render.shell(argv)
  t[5] = clock()
  local tree = render.tree(m)
  t[6] = clock()
  local json = render.json(m, argv)
  t[7] = clock()
  if phase then
    for i, name in ipairs(PHASES) do phase[name][#phase[name] + 1] = (t[i + 1] - t[i]) * 1000 end
  end
  return m, argv, #shell + #tree + #json
end

-- Once untimed: the host's facts the plan shows are read on first use, and belong to the
-- inventory, not to the plan.
if n > 0 then once() end
collectgarbage()
local base = collectgarbage("count")
local times, heap, words, bytes = {}, 0, 0, 0
local phase = {}
for _, name in ipairs(PHASES) do phase[name] = {} end
for i = 1, repeats do
  collectgarbage()
  collectgarbage("stop") -- the heap a plan takes, not what the collector left of it
  local t0 = os.clock()
  local _, argv, size = once(phase)
  times[i] = (os.clock() - t0) * 1000
  heap = math.max(heap, collectgarbage("count") - base)
  words, bytes = #argv, size
  collectgarbage("restart")
end
table.sort(times)
local function median(list)
  table.sort(list)
  return list[(#list + 1) // 2]
end
-- What one plan keeps alive (the machine and argv; the output strings are let go).
collectgarbage()
local kept_m, kept_argv = once()
collectgarbage()
collectgarbage()
local state = collectgarbage("count") - base
assert(kept_m and kept_argv) -- alive until here
print(string.format("plan %s %d: median %.1f ms, min %.1f ms, lua heap %.0f KiB, state %.0f KiB " ..
  "(%.0f bytes per device), argv %d words, output %d bytes", strategy, n, times[(#times + 1) // 2],
  times[1], heap, state, n > 0 and state * 1024 / n or 0, words, bytes))
local parts = {}
for _, name in ipairs(PHASES) do parts[#parts + 1] = string.format("%s %.1f", name, median(phase[name])) end
print("  phases, median ms: " .. table.concat(parts, ", ") .. string.format(
  "; what a launch does (place, check, argv, JSON): %.1f ms", median(phase.place) +
  median(phase.check) + median(phase.argv) + median(phase.json)))
