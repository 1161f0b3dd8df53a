-- SPDX-License-Identifier: MIT
-- Build tool, run with the build machine's lua5.4: the man page vflaunch(1), the bash completion
-- and the README's command-line section, all from lua/cli.lua's tables (COMMANDS, OPTIONS,
-- ENVIRONMENT, FILES), the source --help is made from, so that none of them can disagree.
-- It also fits the tables pandoc writes for vflaunch-lua(7) into an 80-column terminal.
-- Usage: lua5.4 tools/gendoc.lua man VERSION | bash | readme README.md | fit-tables <PAGE
local mode, a1 = ...
local top = (arg[0]:match("^(.*)/tools/[^/]*$") or ".")
local cli = assert(loadfile(top .. "/lua/cli.lua", "t"))("vflaunch.cli",
  { version = mode == "man" and a1 or "dev", fs = {} })

local out = {}
local function put(...) for _, x in ipairs { ... } do out[#out + 1] = x end end

-- roff: a backslash, a '-' (an ASCII minus, as options want), a line starting with '.' or '\''.
local function roff(text)
  text = text:gsub("\\", "\\e"):gsub("%-", "\\-")
  return (text:gsub("^([.'])", "\\&%1"):gsub("\n([.'])", "\n\\&%1"))
end

local function option_names(o, bold)
  local b, r = bold and "\\fB" or "", bold and "\\fR" or ""
  local i, ir = bold and "\\fI" or "", bold and "\\fR" or ""
  local names = (o.short and (b .. roff("-" .. o.short) .. r .. ", ") or "") ..
    b .. roff("--" .. o.long) .. r
  if o.arg then
    names = names .. " " .. i .. o.arg .. ir
  elseif o.optarg then
    names = names .. "[=" .. i .. o.optarg .. ir .. "]"
  end
  return names
end

local function commands_of(o)
  local names, all = {}, true
  for _, c in ipairs(cli.COMMANDS) do
    if o.cmds[c.name] then names[#names + 1] = c.name else all = false end
  end
  return all and "" or (" [" .. table.concat(names, ", ") .. "]")
end

local function man(version)
  put('.TH VFLAUNCH 1 "" "vflaunch ' .. version .. '" "User Commands"',
    ".SH NAME", "vflaunch \\- " .. roff(cli.SUMMARY), ".SH SYNOPSIS", ".nf")
  for _, c in ipairs(cli.COMMANDS) do put("\\fBvflaunch\\fR " .. roff(c.usage)) end
  put(".fi", ".SH DESCRIPTION", roff(cli.DESCRIPTION), ".PP", roff(cli.PRINT_TEXT),
    ".SH COMMANDS")
  for _, c in ipairs(cli.COMMANDS) do put(".TP", "\\fB" .. c.name .. "\\fR", roff(c.help)) end
  put(".SH OPTIONS",
    "The commands an option goes with are in brackets; an option without goes with all.")
  for _, o in ipairs(cli.OPTIONS) do
    if not o.hidden then put(".TP", option_names(o, true), roff(o.help .. commands_of(o))) end
  end
  put(".SH ENVIRONMENT")
  for _, e in ipairs(cli.ENVIRONMENT) do put(".TP", "\\fB" .. roff(e.name) .. "\\fR", roff(e.help)) end
  put(".SH FILES")
  for _, f in ipairs(cli.FILES) do put(".TP", "\\fI" .. roff(f.name) .. "\\fR", roff(f.help)) end
  put(".SH EXIT STATUS", roff((cli.EXIT_TEXT:gsub("^exit status: ", ""):gsub("\n", " "))),
    ".SH SEE ALSO", "\\fBvflaunch\\-lua\\fR(7), \\fBqemu\\-system\\-aarch64\\fR(1), " ..
    "\\fBlspci\\fR(8), \\fBsystemctl\\fR(1)")
end

-- The bash completion: subcommands, each one's options, --simulate= names (asked of the
-- vflaunch being completed), scripts (*.lua), launch names (/run/vflaunch/*/).
local function bash()
  local cmds, per, witharg, dirarg, filearg = {}, {}, {}, {}, {}
  for _, c in ipairs(cli.COMMANDS) do
    cmds[#cmds + 1] = c.name
    per[c.name] = {}
  end
  for _, o in ipairs(cli.OPTIONS) do
    if not o.hidden then
      local words = { "--" .. o.long .. (o.optarg and "=" or "") }
      if o.optarg then words[2] = "--" .. o.long end
      if o.short then words[#words + 1] = "-" .. o.short end
      for _, c in ipairs(cli.COMMANDS) do
        if o.cmds[c.name] then table.move(words, 1, #words, #per[c.name] + 1, per[c.name]) end
      end
      if o.arg then
        local names = { "--" .. o.long, o.short and ("-" .. o.short) or nil }
        table.move(names, 1, #names, #witharg + 1, witharg)
        local into = o.arg == "DIR" and dirarg or (o.arg == "FILE" or o.arg == "PATH") and
          filearg or nil
        if into then table.move(names, 1, #names, #into + 1, into) end
      end
    end
  end
  local function case(list) return table.concat(list, "|") end
  put("# bash completion for vflaunch(1): subcommands, their options, --simulate= names, scripts",
    "# and launch names. Generated from lua/cli.lua by tools/gendoc.lua: do not edit.",
    "_vflaunch()", "{",
    "    local cur prev words cword split",
    "    _init_completion -s || return",
    "    local i w cmd= script=",
    "    for ((i = 1; i < cword; i++)); do",
    "        w=${words[i]}",
    "        case $w in",
    "        " .. case(witharg) .. ") ((i++)) ;;",
    "        -*) ;;",
    "        *)  if [[ -z $cmd && " .. "$w =~ ^(" .. case(cmds) .. ")$ ]]; then cmd=$w",
    "            else script=$w; break; fi ;;",
    "        esac",
    "    done",
    "    if [[ -n $script ]]; then _filedir; return; fi  # the script's own arguments",
    "    case $prev in",
    "    " .. case(dirarg) .. ") _filedir -d; return ;;",
    "    " .. case(filearg) .. ") _filedir; return ;;",
    "    --timeout) return ;;",
    "    --simulate)",
    "        if [[ $split ]]; then",
    "            COMPREPLY=($(compgen -W \"help $(\"${words[0]}\" --simulate=help 2>/dev/null |" ..
      " cut -d' ' -f1)\" -- \"$cur\"))",
    "            return",
    "        fi ;;",
    "    esac",
    "    local opts")
  put("    case ${cmd:-run} in")
  for _, c in ipairs(cli.COMMANDS) do
    put("    " .. c.name .. ") opts=\"" .. table.concat(per[c.name], " ") .. "\" ;;")
  end
  put("    esac",
    "    if [[ $cur == -* ]]; then",
    "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))",
    "        [[ ${COMPREPLY-} == *= ]] && compopt -o nospace",
    "        return",
    "    fi",
    "    case $cmd in",
    "    status|stop|restore|attach|detach)",
    "        local names=(/run/vflaunch/*/)",
    "        names=(\"${names[@]%/}\"); names=(\"${names[@]##*/}\")",
    "        [[ ${names[0]} == '*' ]] && names=()",
    "        COMPREPLY=($(compgen -W \"${names[*]}\" -- \"$cur\"))",
    "        [[ $cmd == restore ]] && _filedir ;;",
    "    list) ;;",
    "    *)  [[ -z $cmd ]] && COMPREPLY=($(compgen -W \"" .. table.concat(cmds, " ") ..
      "\" -- \"$cur\"))",
    "        _filedir lua ;;",
    "    esac",
    "} &&",
    "    complete -F _vflaunch vflaunch")
end

-- The README with its command-line section (between the markers) made from --help's text.
local BEGIN = "<!-- cli: made from lua/cli.lua by tools/gendoc.lua (make readme); checked by make check -->"
local END = "<!-- end cli -->"
local function readme(path)
  local f = assert(io.open(path, "r"))
  local text = f:read("a")
  f:close()
  local s, e = text:find(BEGIN, 1, true), select(2, text:find(END, 1, true))
  assert(s and e and e > s, path .. ": no '" .. BEGIN .. "' ... '" .. END .. "' section")
  out[1] = text:sub(1, s - 1) .. BEGIN .. "\n```\n" .. cli.help() .. "```\n" .. END ..
    text:sub(e + 1)
end

-- pandoc sizes the columns of a wide table to 70n in all, wider than the 71n a page indented
-- by 7n has once tbl adds its 3n between columns: scale them to 60n in all.
local function fit_tables()
  local text = io.stdin:read("a")
  out[1] = text:gsub("\n(lw%([%d.]+n%)[^\n]*)%.\n", function(spec)
    local total = 0
    for w in spec:gmatch("lw%(([%d.]+)n%)") do total = total + tonumber(w) end
    return "\n" .. spec:gsub("lw%(([%d.]+)n%)", function(w)
      return string.format("lw(%.1fn)", tonumber(w) * 60 / total)
    end) .. ".\n"
  end)
end

if mode == "man" and a1 then man(a1)
elseif mode == "fit-tables" then fit_tables()
elseif mode == "bash" then bash()
elseif mode == "readme" and a1 then readme(a1)
else
  io.stderr:write("usage: lua5.4 tools/gendoc.lua man VERSION | bash | readme README.md | " ..
    "fit-tables <PAGE\n")
  os.exit(2)
end
io.stdout:write(table.concat(out, "\n"), (mode == "readme" or mode == "fit-tables") and "" or "\n")
