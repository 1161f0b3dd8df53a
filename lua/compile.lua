-- SPDX-License-Identifier: MIT
-- Compile once: run a site script and turn the machine it defined into a plan — the machine,
-- its profile, the QEMU binary, the argv, the launch's name — which every action (print,
-- draw, JSON, rehearse, launch) then uses as it is. Tests and benchmarks use the same steps.
local _, core = ...
local machines = require "vflaunch.machines"
local modules = require "vflaunch.modules"
local netid = require "vflaunch.netid"
local render = require "vflaunch.render"
local topology = require "vflaunch.topology"
local util = require "vflaunch.util"
local validate = require "vflaunch.validate"

local M = {}

-- The QEMU binary must be the one for the machine's architecture.
local function pick_qemu(m, profile, opts)
  local qemu = opts.qemu or m.qemu or profile.qemu
  if type(qemu) ~= "string" or qemu == "" or qemu:find("[%c]") then
    util.fail(string.format("%s: machine: qemu must be a path or a program name without " ..
      "control characters, not %q", m.where, tostring(qemu)))
  end
  local arch = qemu:match("qemu%-system%-([%w_]+)$")
  local want = profile.qemu:match("qemu%-system%-([%w_]+)$")
  if arch and arch ~= want then
    util.fail(string.format("%s: machine type '%s' runs on %s, not %s; set qemu = %q or " ..
      "leave it out", m.where, m.type, profile.qemu, qemu, profile.qemu))
  end
  return qemu
end

-- Finalize and validate a machine: (profile, errors). Errors are { where=, element=, message= }.
-- machines.profile first: it re-checks every machine field the script may have changed since
-- vf.machine{} (and raises with all of them), so nothing below reads an unchecked value.
-- name: the launch's (for mac = "auto"); default as a launch from a script "guest.lua" would.
function M.check(m, inventory, name)
  local profile = machines.profile(m)
  local errors = topology.finalize(m, profile)
  -- mac = "auto" stands for a MAC from the launch's name and the device's id, both known now.
  name = name or M.launch_name(m, "guest")
  local devices = m:devices()
  for i = 1, #devices do
    local e = devices[i]
    if rawget(e, "mac") == "auto" then rawset(e, "mac", netid.auto_mac(name, e.id)) end
  end
  validate.check(m, profile, inventory, errors)
  return profile, errors
end

-- A launch's name: the machine's, else the script's file name without ".lua", made into a name
-- (letters, digits, '.', '_', '-'; others become '-'; at most 64, starting with a letter or digit).
function M.default_name(script)
  local base = (script:match("([^/]+)$") or script):gsub("%.lua$", "")
  local name = base:gsub("[^A-Za-z0-9_.-]", "-"):gsub("^[^A-Za-z0-9]+", ""):sub(1, 64)
  return name ~= "" and name or "guest"
end

-- The name of machine m (nil: a script that defines none) launched from script.
function M.launch_name(m, script)
  if m and m.name ~= nil then return m.name end
  return M.default_name(script)
end

-- The plan of machine m: raises with every problem at once.
function M.machine(ctx, m, script)
  local name = M.launch_name(m, script)
  local profile, errors = M.check(m, ctx:host(), name)
  if #errors > 0 then
    local lines = {}
    for line in validate.format(errors):gmatch("[^\n]+") do lines[#lines + 1] = line end
    lines[#lines + 1] = string.format("%s in the plan", util.plural(#errors, "problem"))
    util.fail(table.concat(lines, "\n"))
  end
  local qemu = pick_qemu(m, profile, ctx.opts)
  -- QEMU's -name carries the launch's name, unless the script gave its own in args.
  local own_name = false
  for _, a in ipairs(m.args) do own_name = own_name or a == "-name" end
  if not own_name then m.name = name end
  local plan = { machine = m, profile = profile, qemu = qemu, name = name, script = script }
  plan.argv = render.argv(m, qemu)
  if m.qmp ~= false then
    plan.qmp = ctx.roots.state .. "/" .. plan.name .. "/qmp.sock"
    if #plan.qmp > 107 then -- sizeof(sun_path) - 1
      util.fail(string.format("%s: machine: the QMP socket %s is longer than a unix socket " ..
        "address holds (107 bytes): use a shorter name, or qmp = false", m.where, plan.qmp))
    end
    local n = #plan.argv
    plan.argv[n + 1], plan.argv[n + 2] = "-qmp", "unix:" .. render.qemu_escape(plan.qmp) ..
      ",server=on,wait=off"
  end
  return plan
end

-- Run ctx.script with ctx.args and compile the machine it defines. A script that defines none
-- gives a plan without a machine (it may have only set VF counts).
function M.script(ctx)
  local path = ctx.script
  if core.sys.geteuid() == 0 then
    local ok, err = core.fs.trusted(path)
    if not ok and core.fs.kind(path) then
      util.fail("refusing to run " .. path .. " as root: " .. err, util.EXIT.HOST)
    end
  end
  local chunk, err = loadfile(path, "t")
  if not chunk then
    if err:match("attempt to load a binary chunk") then
      err = path .. ": a compiled (binary) chunk; vflaunch runs Lua source only"
    end
    util.fail(err)
  end
  -- Site modules: the script's directory, -I, $VFLAUNCH_PATH (doc/lua-api.md).
  modules.install(path, ctx.opts.include)
  local api, defined = require("vflaunch.api").new(ctx)
  package.loaded.vflaunch = api
  -- As lua(1) gives it: arg[0] the script, arg[1..] its arguments, vflaunch's at negative
  -- indices. The global is the script's to change.
  _G.arg = { [0] = path }
  for i, a in ipairs(ctx.args) do _G.arg[i] = a end
  _G.arg[-1] = ctx.argv0 or "vflaunch"
  -- os.exit would end the process without giving back what the script changed: it ends the
  -- run instead, through the same path as an error.
  os.exit = function(code) -- luacheck: ignore 122
    local status = code == nil or code == true and 0 or code == false and 1 or
      math.tointeger(code)
    if not status or status < 0 or status > 255 then status = util.EXIT.SCRIPT end
    util.fail(status ~= 0 and string.format("%s: the script called os.exit(%s)", util.where(),
      tostring(code)) or "", status)
  end
  ctx.stage = "script"
  chunk(table.unpack(ctx.args))
  ctx.stage = "plan"
  if #defined == 0 then return { script = path } end
  if #defined > 1 then
    util.fail(string.format("%s: a second machine (the first is at %s); a script launches one",
      defined[2].where, defined[1].where))
  end
  return M.machine(ctx, defined[1], path)
end

return M
