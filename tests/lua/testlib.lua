-- SPDX-License-Identifier: MIT
-- Test helpers for Lua tests run through the vflaunch binary: assertions and a test runner.
local M = {}

local passed, failed = 0, 0

-- Call f(...) and require it to raise an error whose message contains every given substring.
function M.checkerror(substrings, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error, got none")
  local msg = type(err) == "table" and err.message or tostring(err)
  if type(substrings) == "string" then substrings = { substrings } end
  for _, s in ipairs(substrings) do
    if not msg:find(s, 1, true) then
      error(string.format("error message %q lacks %q", msg, s), 2)
    end
  end
  return msg
end

-- A bad call refused as a script's author sees it: one line, at the calling test file's line,
-- with none of vflaunch's own files in it. Returns the message.
function M.refused(substrings, f, ...)
  local msg = M.checkerror(substrings, f, ...)
  local file = debug.getinfo(2, "S").source:gsub("^@", "")
  local at = msg:sub(1, #file + 1) == file .. ":" and msg:match("^:%d+: ", #file + 1)
  assert(at, "not at the test's line (" .. file .. "): " .. msg)
  assert(not msg:find("\n"), "more than one line: " .. msg)
  assert(not msg:sub(#file + 1):find("lua/%a+%.lua"), "vflaunch's internals leak: " .. msg)
  return msg
end

-- The first n VFs of the simulated host's 82599 ports.
function M.vfs(vf, n)
  return table.move(vf.vfs { vendor = 0x8086, device = 0x10fb }, 1, n, 1, {})
end

function M.eq(got, want, what)
  if got ~= want then
    error(string.format("%s: got %s, want %s", what or "value", tostring(got), tostring(want)), 2)
  end
end

-- Run every function of tests whose name starts with "test_", in name order.
function M.run(name, tests)
  local names = {}
  for k in pairs(tests) do
    if k:match("^test_") then names[#names + 1] = k end
  end
  table.sort(names)
  for _, n in ipairs(names) do
    local ok, err = xpcall(tests[n], debug.traceback)
    if ok then
      passed = passed + 1
    else
      failed = failed + 1
      io.stderr:write(string.format("FAIL %s.%s: %s\n", name,  n,
        type(err) == "table" and err.message or tostring(err)))
    end
  end
  io.stdout:write(string.format("%s: %d passed, %d failed\n", name, passed, failed))
  if failed > 0 then os.exit(1) end
end

-- A finalized and validated machine built by f(vf, m); returns m and the list of problems.
-- The same steps as a run's (vflaunch.compile), on a machine the test makes itself.
function M.plan(f, spec)
  local vf = require "vflaunch"
  local compile = require "vflaunch.compile"
  local topology = require "vflaunch.topology"
  local validate = require "vflaunch.validate"
  -- Not vf.machine: a test builds many machines, and a script may define only one.
  local m = topology.machine(spec or { type = "virt", options = { "gic-version=3" } })
  f(vf, m)
  local _, errors = compile.check(m, vf.host)
  return m, errors, validate.format(errors)
end

return M
