-- SPDX-License-Identifier: MIT
-- What vflaunch does with a script: run it, finalize and validate the machine it defined, then
-- print, rehearse, or hand the argv back to the C host to exec (launcher/main.c).
local hostprep = require "vflaunch.hostprep"
local machines = require "vflaunch.machines"
local render = require "vflaunch.render"
local topology = require "vflaunch.topology"
local util = require "vflaunch.util"
local validate = require "vflaunch.validate"

local M = {}

local function say(opts, fmt, ...)
  if not opts.quiet then io.stderr:write("vflaunch: ", string.format(fmt, ...), "\n") end
end

-- Several problems, each on a line of its own, all reported at once.
local function fail_all(lines, status)
  util.fail(table.concat(lines, "\nvflaunch: "), status)
end

-- The QEMU binary must be the one for the machine's architecture.
local function pick_qemu(m, profile, opts)
  local qemu = opts.qemu or m.qemu or profile.qemu
  local arch = qemu:match("qemu%-system%-([%w_]+)$")
  local want = profile.qemu:match("qemu%-system%-([%w_]+)$")
  if arch and arch ~= want then
    util.fail(string.format("%s: machine type '%s' runs on %s, not %s; set qemu = %q or " ..
      "leave it out", m.where, m.type, profile.qemu, qemu, profile.qemu))
  end
  return qemu
end

-- A dry run binds nothing: say, when asked, what a launch would bind.
local function would_bind(m, opts)
  for _, e in ipairs(m:devices()) do
    local d = e.hostdev
    if d and d.driver ~= "vfio-pci" and opts.verbose then
      say(opts, "%s: %s: a launch would bind %s to vfio-pci (now on %s)", e.where,
        topology.describe(e), e.host, d.driver or "no driver")
    end
  end
end

-- vflaunch --restore [JOURNAL]: give back what a journal records.
local function restore(opts)
  local vfio = require "vflaunch.core.vfio"
  local path = opts.journal
  if not path then
    local err
    path, err = vfio.journal_latest(hostprep.journal_dir())
    if not path then
      util.fail("no journal to restore in " .. hostprep.journal_dir() .. ": " .. err, util.EXIT.HOST)
    end
  end
  local entries, err = vfio.journal_read(path)
  if not entries then util.fail("cannot read journal " .. path .. ": " .. err, util.EXIT.HOST) end
  local ok
  ok, err = vfio.journal_restore(path, opts.sysfs)
  if not ok then
    util.fail("restoring " .. path .. ": " .. err .. " (the rest was given back; run " ..
      "--restore again once the cause is fixed)", util.EXIT.HOST)
  end
  say(opts, "%s: %d change%s given back", path, #entries, #entries == 1 and "" or "s")
  return 0
end

-- Run the script. If it fails after changing the host (SR-IOV counts), give the host back.
local function run_script(opts)
  local vf = require "vflaunch"
  vf._configure(opts)
  hostprep.configure(opts)
  _G.arg = opts.arg
  local chunk, err = loadfile(opts.arg[0], "t")
  if not chunk then util.fail(err) end
  local ok, e = pcall(chunk, table.unpack(opts.arg, 1, opts.nargs))
  if not ok then
    if hostprep.journal() then
      local msg = type(e) == "table" and e.message or tostring(e)
      util.fail(msg .. "\nvflaunch: " .. hostprep.rollback(), type(e) == "table" and e.status or nil)
    end
    error(e, 0)
  end
  return vf
end

function M.main(opts)
  if opts.list then return require("vflaunch.list").run(opts) end
  if opts.restore then return restore(opts) end
  local vf = run_script(opts)
  local defined = vf._machines()
  if #defined == 0 then
    if opts.verbose then say(opts, "%s defined no machine: nothing to launch", opts.arg[0]) end
    return 0
  elseif #defined > 1 then
    util.fail(string.format("%s: a second machine (the first is at %s); a script launches one",
      defined[2].where, defined[1].where))
  end
  local m = defined[1]
  local profile = machines.profile(m)
  if not profile then
    util.fail(string.format("%s: machine type '%s' is not one vflaunch knows: %s", m.where,
      m.type, machines.known))
  end
  local qemu = pick_qemu(m, profile, opts)
  local errors = topology.finalize(m, profile)
  validate.check(m, profile, vf.host, errors)
  if #errors > 0 then
    local lines = {}
    for line in validate.format(errors):gmatch("[^\n]+") do lines[#lines + 1] = line end
    lines[#lines + 1] = string.format("%d problem%s in the plan; nothing was started and " ..
      "nothing on the host was changed", #errors, #errors == 1 and "" or "s")
    fail_all(lines)
  end

  local argv = render.argv(m, qemu)
  if opts.tree then io.stdout:write(render.tree(m)) end
  if opts.json then io.stdout:write(render.json(m, argv)) end
  if opts.rehearse then return require("vflaunch.rehearse").run(m, profile, qemu, opts) end
  if opts.dry_run or (opts.simulate and not opts.tree and not opts.json) then
    io.stdout:write(render.shell(argv))
  end
  if opts.dry_run or opts.simulate then
    would_bind(m, opts)
    return 0
  end
  opts.bind_group = opts.bind_group or m.bind_group
  local journal = hostprep.prepare(m, opts)
  if opts.verbose then say(opts, "exec %s (%s)", qemu, render.budget_line(m)) end
  return { argv = argv, journal = journal }
end

return M
