-- SPDX-License-Identifier: MIT
-- The command line: subcommands and their options in one table, from which both parsing and
-- --help are made. `vflaunch SCRIPT` is `vflaunch run SCRIPT`; --list and --restore are kept as
-- aliases of the list and restore commands.
local _, core = ...
local M = {}

M.VERSION = core.version

-- For the man page (tools/gendoc.lua makes it, and the README's command line, from this file).
M.SUMMARY = "launch QEMU guests with many PCI passthrough devices from a Lua script"
M.DESCRIPTION = "vflaunch runs a site script, a Lua file that finds devices (SR-IOV VFs) on the " ..
  "host and describes a guest's PCIe tree: root ports, switches, devices, or one call to a " ..
  "planner. It assigns ids, addresses and chassis/slot pairs, checks every rule before anything " ..
  "happens, binds the devices to vfio-pci (journaling what it changed) and execs QEMU; or it " ..
  "prints the command, draws the tree, prints the plan as JSON, or boots the topology under " ..
  "emulation. The scripting API is in vflaunch-lua(7)."

-- Subcommands, in the order --help shows them. module: lua/commands/NAME.lua.
M.COMMANDS = {
  { name = "run", usage = "[run] [OPTIONS] SCRIPT [ARG...]",
    help = "run a site script: launch its guest, or print, draw or rehearse it; ARG... reach " ..
      "the script as `arg`, as with lua(1)" },
  { name = "list", usage = "list [--vfs] [--json]",
    help = "the host's PCI devices: ids, driver, IOMMU group, SR-IOV, whether vfio could take " ..
      "each now" },
  { name = "status", usage = "status [NAME] [--json]",
    help = "the launches on this host: state, pid, uptime, each device (host -> guest " ..
      "address), journal; and the VFs that are free" },
  { name = "stop", usage = "stop NAME [--timeout SECONDS]",
    help = "ask the guest's QEMU to quit (QMP, then SIGTERM after the timeout, default 30), " ..
      "wait, and give back that guest's devices" },
  { name = "attach", usage = "attach NAME DEV... [--port ID] [--timeout SECONDS]",
    help = "bind host devices to vfio-pci and hot-plug them into the running guest NAME, " ..
      "each on a free hot-plug port of its plan (--port ID: all on that port, as the " ..
      "functions of one slot)" },
  { name = "detach", usage = "detach NAME DEV|ID... [--timeout SECONDS]",
    help = "ask the guest NAME to let devices go (with their slot mates), wait until it " ..
      "has (default 30 s), then give each back to its original driver" },
  { name = "restore", usage = "restore [NAME|JOURNAL]",
    help = "give back what a launch changed; refused while its guest runs. Without an " ..
      "argument: every launch whose guest is gone" },
}
local BY_NAME = {}
for _, c in ipairs(M.COMMANDS) do BY_NAME[c.name] = c end

local ALL = { run = true, list = true, status = true, stop = true, restore = true,
  attach = true, detach = true }

-- Options. key: the field of opts it sets; action: what `run` prints or does instead of a
-- launch (one per run); arg: its value's name (optarg: the value is optional, --opt=VALUE).
M.OPTIONS = {
  { short = "n", long = "dry-run", action = "shell", cmds = { run = true },
    help = "validate and print the QEMU command, one option per line, shell-quoted; touch " ..
      "nothing on the host, exec nothing" },
  { short = "t", long = "tree", action = "tree", cmds = { run = true },
    help = "print the guest's PCIe tree and bus budget" },
  { long = "json", key = "json", action = "json", cmds = { run = true, list = true, status = true },
    help = "print one JSON document: the plan (run), the devices (list), the launches (status)" },
  { long = "libvirt-xml", action = "libvirt", cmds = { run = true },
    help = "print the plan as a libvirt domain XML (virsh define FILE): the same ports, " ..
      "devices and guest addresses; VFs as <hostdev managed='no'>" },
  { long = "rehearse", action = "rehearse", cmds = { run = true },
    help = "boot the planned guest under QEMU (TCG) with an emulated stand-in in the place of " ..
      "each passthrough device and compare what it enumerates to the plan" },
  { long = "rehearse-kernel", arg = "FILE", key = "rehearse_kernel", cmds = { run = true },
    help = "the rehearsal guest's kernel (default $VFLAUNCH_REHEARSE_KERNEL, then the script's)" },
  { long = "rehearse-initrd", arg = "FILE", key = "rehearse_initrd", cmds = { run = true },
    help = "the rehearsal guest's initrd (default $VFLAUNCH_REHEARSE_INITRD, then the script's)" },
  { long = "timeout", arg = "SECONDS", key = "timeout",
    cmds = { run = true, stop = true, attach = true, detach = true },
    help = "rehearse: give up on the guest after this long (default 600); stop: wait this " ..
      "long for QEMU to quit before SIGTERM (default 30); attach, detach: wait this long " ..
      "for QEMU and the guest (default 30)" },
  { long = "port", arg = "ID", key = "port", cmds = { attach = true },
    help = "the free hot-plug port of the plan to attach to (ids as 'vflaunch run -t' " ..
      "shows them)" },
  { long = "simulate", optarg = "NAME", key = "simulate", cmds = { run = true, list = true },
    help = "use an embedded simulated host instead of this machine's /sys (default 82599, a " ..
      "dual-port 82599 with 63 VFs per port; --simulate=help lists them); print-only: " ..
      "without -t, --json, --libvirt-xml or --rehearse it prints the command as -n does" },
  { short = "I", long = "include", arg = "DIR", key = "include", many = true, cmds = { run = true },
    help = "look for the script's modules (require) in DIR too, after the script's own " ..
      "directory and before $VFLAUNCH_PATH; may be given more than once" },
  { long = "qemu", arg = "PATH", key = "qemu", cmds = { run = true },
    help = "the QEMU binary (default: the script's, then the machine's)" },
  { long = "bind-group", key = "bind_group", cmds = { run = true },
    help = "bind every member of the devices' IOMMU groups, not only the devices" },
  { long = "force", key = "force", cmds = { run = true },
    help = "bind devices the host is using (an interface that is up, a mount)" },
  { long = "supervise", key = "supervise", cmds = { run = true },
    help = "run QEMU as a child, forward SIGINT/SIGTERM/SIGHUP to it, and give every device " ..
      "back when it exits (exit status below)" },
  { long = "restore-on-exit", key = "supervise", cmds = { run = true }, hidden = true },
  { long = "vfs", key = "vfs", cmds = { list = true },
    help = "list: only SR-IOV PFs and their VFs" },
  { long = "root", arg = "DIR", key = "root", cmds = ALL,
    help = "treat DIR as the host: sysfs DIR/sys, devices DIR/dev, state DIR/run/vflaunch; " ..
      "nothing outside DIR is changed, modprobe is never run, and RLIMIT_MEMLOCK is not " ..
      "checked (no real vfio pins memory there): for test hosts and fixtures" },
  { long = "sysfs", arg = "DIR", key = "sysfs", cmds = { run = true, list = true },
    help = "read the PCI sysfs tree under DIR instead of /sys (print-only and list; a launch " ..
      "against a tree needs --root)" },
  { short = "v", long = "verbose", key = "verbose", cmds = ALL,
    help = "say more (with --rehearse: show the guest's console)" },
  { short = "q", long = "quiet", key = "quiet", cmds = ALL,
    help = "say only what is asked for and errors" },
  { short = "h", long = "help", key = "help", cmds = ALL, help = "this text" },
  { short = "V", long = "version", key = "version", cmds = ALL, help = "the version" },
  -- 0.1's mode flags, kept as aliases of the commands.
  { long = "list", command = "list", hidden = true },
  { long = "restore", command = "restore", hidden = true },
}
local LONG, SHORT = {}, {}
for _, o in ipairs(M.OPTIONS) do
  LONG[o.long] = o
  if o.short then SHORT[o.short] = o end
end

-- The options that choose a print-only output: a script argument spelled like one of these
-- must never turn a print into a launch.
local PRINT_ONLY = { ["-n"] = true, ["--dry-run"] = true, ["-t"] = true, ["--tree"] = true,
  ["--json"] = true, ["--libvirt-xml"] = true, ["--rehearse"] = true, ["--simulate"] = true }

-- What a run reads from its environment, for --help and the man page.
M.ENVIRONMENT = {
  { name = "VFLAUNCH_PATH", help = "directories of site modules for the script's require, " ..
    "separated by ':', each absolute; searched after the script's own directory and -I, " ..
    "before package.path (the working directory never is)" },
  { name = "VFLAUNCH_REHEARSE_KERNEL", help = "the rehearsal guest's kernel, when " ..
    "--rehearse-kernel is not given" },
  { name = "VFLAUNCH_REHEARSE_INITRD", help = "the rehearsal guest's initrd, when " ..
    "--rehearse-initrd is not given" },
}

-- The files a launch keeps, for the man page.
M.FILES = {
  { name = "/run/vflaunch/NAME/", help = "a launch's state: launch.json (QEMU's pid and start " ..
    "time), plan.json (the --json document), journal (what to give back), qmp.sock" },
  { name = "/run/vflaunch/lock", help = "the host lock a launch holds from before its script " ..
    "runs until QEMU has the devices" },
  { name = "/etc/vflaunch/NAME.lua", help = "the script systemctl start vflaunch@NAME runs " ..
    "(the vflaunch@.service unit)" },
}

-- The one paragraph on print options, for --help and the man page.
M.PRINT_TEXT = "-n, -t, --json, --libvirt-xml and --rehearse each choose what a run prints instead of " ..
  "launching: give at most one. vflaunch's options go before SCRIPT; what follows SCRIPT is " ..
  "the script's."

M.EXIT_TEXT = [[
exit status: 0 ok; 1 script or plan error (or a rehearsal the guest did not match, or output
that could not be written); 2 usage; 3 host check or host change failed (what was changed was
given back, or the message says what was not and where it is); 126 QEMU could not be executed;
127 QEMU not found; 128+N a signal N stopped vflaunch (after giving back what it had changed).
With --supervise, once QEMU has run, the status is QEMU's own (0, 1, or 128+N when signal N
ended it), and vflaunch's own failures are 64 + the status above (65 script or plan, 66 usage,
67 host check, or a device that could not be given back after QEMU exited); 126/127 as above.
]]

-- text wrapped at width, the first line after a column of `first` characters already used.
local function wrap(text, indent, width, first)
  local lines, line, used = {}, "", first or #indent
  for word in text:gmatch("%S+") do
    if #line > 0 and used + #line + 1 + #word > width then
      lines[#lines + 1] = line
      line, used = word, #indent
    else
      line = #line > 0 and (line .. " " .. word) or word
    end
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n" .. indent)
end

local COL = 27 -- where help texts start

local function entry(left, text)
  if #left >= COL - 1 then
    return left .. "\n" .. string.rep(" ", COL) .. wrap(text, string.rep(" ", COL), 100)
  end
  return left .. string.rep(" ", COL - #left) .. wrap(text, string.rep(" ", COL), 100)
end

function M.help()
  local out = {}
  for i, c in ipairs(M.COMMANDS) do
    out[#out + 1] = (i == 1 and "usage: " or "       ") .. "vflaunch " .. c.usage
  end
  out[#out + 1] = ""
  for _, c in ipairs(M.COMMANDS) do out[#out + 1] = entry("  " .. c.name, c.help) end
  out[#out + 1] = "\noptions (the commands they go with in brackets; the others go with all):"
  for _, o in ipairs(M.OPTIONS) do
    if not o.hidden then
      local names = (o.short and ("-" .. o.short .. ", ") or "    ") .. "--" .. o.long ..
        (o.arg and (" " .. o.arg) or o.optarg and ("[=" .. o.optarg .. "]") or "")
      local cmds = {}
      for _, c in ipairs(M.COMMANDS) do
        if o.cmds ~= ALL and o.cmds[c.name] then cmds[#cmds + 1] = c.name end
      end
      out[#out + 1] = entry("  " .. names, o.help ..
        (#cmds > 0 and (" [" .. table.concat(cmds, ", ") .. "]") or ""))
    end
  end
  out[#out + 1] = "\nenvironment:"
  for _, e in ipairs(M.ENVIRONMENT) do out[#out + 1] = entry("  " .. e.name, e.help) end
  out[#out + 1] = "\n" .. wrap(M.PRINT_TEXT, "", 95) .. "\n"
  out[#out + 1] = M.EXIT_TEXT
  return table.concat(out, "\n")
end

-- A usage error: the message and status 2, as (nil, message).
local function usage(fmt, ...)
  return nil, string.format(fmt, ...)
end

-- Parse one option word at argv[i] into p. Returns the next index, or nil, message.
local function take_option(argv, i, p)
  local w = argv[i]
  local opts = {}
  if w:sub(1, 2) == "--" then
    local name, value = w:match("^%-%-([^=]+)=(.*)$")
    name = name or w:sub(3)
    local o = LONG[name]
    if not o then return usage("unknown option '%s'", w) end
    if o.arg and not value then
      value = argv[i + 1]
      if value == nil then return usage("%s wants %s", w, o.arg) end
      i = i + 1
    elseif value and not (o.arg or o.optarg) then
      return usage("--%s takes no value ('%s')", name, w)
    end
    opts[1] = { o = o, value = value, word = "--" .. name }
  else
    -- A cluster of short options (-nq); one that takes a value ends it, the value being the
    -- rest of the word or the next word (-Ilib, -I lib).
    local k = 2
    while k <= #w do
      local c = w:sub(k, k)
      local o = SHORT[c]
      if not o then return usage("unknown option '-%s'", c) end
      local value
      if o.arg then
        value = w:sub(k + 1)
        if value == "" then
          value = argv[i + 1]
          if value == nil then return usage("-%s wants %s", c, o.arg) end
          i = i + 1
        end
        k = #w
      end
      opts[#opts + 1] = { o = o, value = value, word = "-" .. c }
      k = k + 1
    end
  end
  for _, x in ipairs(opts) do
    local o = x.o
    p.seen[#p.seen + 1] = x
    if o.command then
      if p.command and p.command ~= o.command then
        return usage("%s and %s are two commands: give one", p.command_word, x.word)
      end
      p.command, p.command_word = o.command, x.word
    elseif o.action and o.key == "json" then
      p.opts.json = true
    elseif o.many then
      p.opts[o.key] = p.opts[o.key] or {}
      table.insert(p.opts[o.key], x.value)
    elseif o.key then
      p.opts[o.key] = x.value or true
    end
  end
  return i + 1
end

local function is_option(w)
  return w:sub(1, 1) == "-" and #w > 1
end

-- Options valid for the command, values checked, actions combined. nil, message on misuse.
local function check(p)
  local cmd = p.command
  local actions = {}
  for _, x in ipairs(p.seen) do
    local o = x.o
    if not o.command and not o.cmds[cmd] then
      return usage("%s goes with %s, not with %s", x.word, (function()
        local names = {}
        for _, c in ipairs(M.COMMANDS) do
          if o.cmds[c.name] then names[#names + 1] = c.name end
        end
        return table.concat(names, " or ")
      end)(), cmd)
    end
    if cmd == "run" and o.action and not actions[o.action] then
      actions[o.action] = true
      actions[#actions + 1] = x
    end
  end
  local o = p.opts
  if #actions > 1 then
    return usage("%s and %s each choose what the run prints: give one (stdout carries one " ..
      "format)", actions[1].word, actions[2].word)
  end
  if o.verbose and o.quiet then return usage("-v and -q contradict each other") end
  if o.timeout ~= nil then
    local t = math.tointeger(tonumber(o.timeout))
    if not t or not tostring(o.timeout):match("^%d+$") or t < 1 or t > 86400 then
      return usage("--timeout wants seconds from 1 to 86400, not '%s'", tostring(o.timeout))
    end
    o.timeout = t
  end
  if o.qemu == "" then return usage("--qemu wants a path, not an empty word") end
  for k, d in ipairs(o.include or {}) do
    -- Resolved now: a relative DIR is the one the user meant where they typed it.
    local real = d ~= "" and core.fs.realpath(d)
    if not real or core.fs.kind(real) ~= "dir" then
      return usage("-I %s: not a directory (-I DIR adds a directory of modules for the " ..
        "script's require)", d == "" and "''" or d)
    end
    o.include[k] = real
  end
  if o.root == "" or o.sysfs == "" then return usage("--root and --sysfs want a directory") end
  if o.root and o.sysfs then return usage("--root DIR already reads DIR/sys: drop --sysfs") end
  if o.simulate and (o.root or o.sysfs) then
    return usage("--simulate brings its own host: drop --%s", o.root and "root" or "sysfs")
  end
  if o.simulate == true then o.simulate = "82599" end
  for _, k in ipairs { "rehearse_kernel", "rehearse_initrd" } do
    if o[k] then
      local f = io.open(o[k], "rb")
      if not f then
        return usage("--%s %s: cannot read it", k:gsub("_", "-"), o[k])
      end
      f:close()
    end
  end
  if cmd == "run" then
    p.action = actions[1] and actions[1].o.action or (o.simulate and "shell") or "launch"
    if o.supervise and p.action ~= "launch" then
      return usage("--supervise goes with a launch on the real host, not with %s",
        actions[1] and actions[1].word or "--simulate")
    end
    if o.sysfs and p.action == "launch" then
      return usage("--sysfs DIR only reads a tree; a launch needs a whole host: --root DIR " ..
        "(DIR/sys, DIR/dev, DIR/run/vflaunch), or print with -n")
    end
    if (o.rehearse_kernel or o.rehearse_initrd) and p.action ~= "rehearse" then
      return usage("--rehearse-kernel and --rehearse-initrd go with --rehearse")
    end
    if o.timeout and p.action ~= "rehearse" then
      return usage("--timeout goes with --rehearse (or with stop)")
    end
  end
  return p
end

-- Split the operands of a command other than run: options anywhere, the rest in order.
local function parse_rest(argv, i, p)
  local operands = {}
  while i <= #argv do
    local w = argv[i]
    if w == "--" then
      table.move(argv, i + 1, #argv, #operands + 1, operands)
      break
    elseif is_option(w) then
      local nexti, err = take_option(argv, i, p)
      if not nexti then return nil, err end
      i = nexti
    else
      operands[#operands + 1] = w
      i = i + 1
    end
  end
  return operands
end

-- argv: the words after the program name. Returns the parsed command line
-- { command, opts, action, script, args, operands, warnings }, or nil, message (a usage error).
function M.parse(argv)
  local p = { opts = {}, seen = {}, warnings = {} }
  local i = 1
  -- Options before the first word that is not one.
  while i <= #argv and is_option(argv[i]) and argv[i] ~= "--" do
    local nexti, err = take_option(argv, i, p)
    if not nexti then return nil, err end
    i = nexti
  end
  if argv[i] == "--" then i = i + 1 end
  if p.opts.help or p.opts.version or p.opts.simulate == "help" then
    return p
  end
  local w = argv[i]
  if not p.command and w and BY_NAME[w] then
    p.command, p.command_word = w, w
    i = i + 1
  end
  p.command = p.command or "run"
  if p.command == "run" then
    if p.command_word == "run" then
      while i <= #argv and is_option(argv[i]) and argv[i] ~= "--" do
        local nexti, err = take_option(argv, i, p)
        if not nexti then return nil, err end
        i = nexti
      end
      if argv[i] == "--" then i = i + 1 end
    end
    if p.opts.help or p.opts.version then return p end
    p.script = argv[i]
    if not p.script then return usage("no SCRIPT given") end
    p.args = table.move(argv, i + 1, #argv, 1, {})
  else
    local operands, err = parse_rest(argv, i, p)
    if not operands then return nil, err end
    p.operands = operands
  end
  if p.opts.help or p.opts.version then return p end
  local ok, err = check(p)
  if not ok then return nil, err end
  if p.command == "run" then
    -- What follows SCRIPT is the script's, as with lua(1). A print-only option there would
    -- otherwise turn a print into a real launch without a word.
    for k, a in ipairs(p.args) do
      local name = a:match("^(%-%-[^=]+)") or a
      if PRINT_ONLY[name] and p.action == "launch" then
        return usage("'%s' after SCRIPT reaches the script as arg[%d], and this run would " ..
          "launch: put it before SCRIPT (vflaunch %s SCRIPT)", a, k, a)
      elseif LONG[name:sub(3)] and name:sub(1, 2) == "--" or (SHORT[a:sub(2)] and #a == 2) then
        p.warnings[#p.warnings + 1] = string.format("'%s' after SCRIPT reaches the script as " ..
          "arg[%d], not vflaunch; vflaunch's options go before SCRIPT", a, k)
      end
    end
  elseif p.command == "stop" then
    if #p.operands ~= 1 then return usage("stop takes one launch NAME") end
  elseif p.command == "attach" or p.command == "detach" then
    if #p.operands < 2 then
      return usage("%s takes a launch NAME and at least one %s", p.command,
        p.command == "attach" and "host device (DEV)" or "device (DEV or ID)")
    end
  elseif p.command == "status" or p.command == "restore" then
    if #p.operands > 1 then
      return usage("%s takes at most one NAME, not '%s' too", p.command, p.operands[2])
    end
  elseif #p.operands > 0 then
    return usage("%s takes no operand ('%s')", p.command, p.operands[1])
  end
  return p
end

return M
