-- SPDX-License-Identifier: MIT
-- Shared helpers: where in the user's script a call came from, errors that carry an exit status
-- a script cannot forge, and text that is safe to show on a terminal.
local M = {}

M.EXIT = { OK = 0, SCRIPT = 1, USAGE = 2, HOST = 3, NOT_EXECUTABLE = 126, NOT_FOUND = 127 }

-- vflaunch's own modules are loaded with chunk names "=lua/x.lua" (tools/embed.c); a file a
-- user runs is always "@path", so no user file can be mistaken for vflaunch's code.
local function own_code(source)
  return source:sub(1, 1) == "="
end

-- Set by M.at while one script call does its work: the line where() answers.
local pinned

-- "file:line" of the innermost Lua frame that is not vflaunch's own code: the user's
-- script line that created an element or made a bad call.
function M.where(level)
  if pinned then return pinned end
  for lv = level or 2, 200 do
    local info = debug.getinfo(lv, "Sl")
    if not info then break end
    if info.what ~= "C" and not own_code(info.source) then
      local src = info.source:sub(1, 1) == "@" and info.source:sub(2) or info.short_src
      return src .. ":" .. (info.currentline or 0)
    end
  end
  return "?"
end

-- f(...) with where() answering `where` (the line of the script's call) until f returns or
-- raises: the thousands of elements one m:place() makes were all made at that line, and walking
-- the stack for each cost a quarter of the planner's time. Nothing of the script runs in f.
function M.at(where, f, ...)
  local saved = pinned
  pinned = where
  local _ <close> = setmetatable({}, { __close = function() pinned = saved end })
  return f(...)
end

-- Errors vflaunch raises are tables whose exit status lives here, keyed by the error object:
-- a script can catch and rethrow one, but cannot make one up or change its status.
local issued = setmetatable({}, { __mode = "k" })

local Error = {}
Error.__index = Error
Error.__tostring = function(e) return e.message end

-- Raise an error the run reports as one line (or several, one per problem), exiting with
-- status (default 1).
function M.fail(message, status)
  local e = setmetatable({ message = message }, Error)
  issued[e] = status or M.EXIT.SCRIPT
  error(e, 0)
end

-- Raise an error about a bad call, at the user's line: "big.lua:12: switch: ports must be ..."
function M.usage(message)
  M.fail(M.where() .. ": " .. message, M.EXIT.SCRIPT)
end

-- The status vflaunch gave an error it raised, or nil for anything else.
function M.status_of(e)
  return issued[e]
end

-- Check an option table against the keys a call knows, so a typo is an error, not a no-op.
function M.check_keys(what, t, known)
  if t == nil then return {} end
  if type(t) ~= "table" then M.usage(what .. ": expected a table of options, got " .. type(t)) end
  for k in pairs(t) do
    if not known[k] then
      local names = {}
      for n in pairs(known) do names[#names + 1] = n end
      table.sort(names)
      M.usage(string.format("%s: unknown option '%s' (known: %s)", what, tostring(k),
        table.concat(names, ", ")))
    end
  end
  return t
end

-- A value as an error message shows it: strings quoted on one line (control characters, and the
-- bytes of a string that is not UTF-8, as \ddd escapes), small tables by their fields.
function M.show(v, depth)
  if type(v) == "string" then
    local bad = utf8.len(v) and '[%c"\\]' or '[%c"\\\128-\255]'
    return '"' .. v:gsub(bad, function(c) return string.format("\\%d", c:byte()) end) .. '"'
  elseif type(v) == "table" and not getmetatable(v) and (depth or 0) < 1 then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    if #keys > 4 then return "a table" end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for i, k in ipairs(keys) do
      keys[i] = (type(k) == "string" and k:match("^[%a_][%w_]*$") and k or "[" .. M.show(k, 1) .. "]")
        .. " = " .. M.show(v[k], 1)
    end
    return "{" .. table.concat(keys, ", ") .. "}"
  elseif type(v) == "table" then
    return "a table"
  end
  return tostring(v)
end

-- Why s cannot be a word of QEMU's argv, or nil when it can. A NUL ends a C string, so QEMU
-- would see less than the plan shows; bytes that are not UTF-8 cannot go into the JSON plan,
-- which must carry exactly the argv that is executed.
function M.argv_problem(s)
  if type(s) ~= "string" then return "must be a string, not " .. (type(s) == "table" and "a table" or M.show(s)) end
  local nul = s:find("\0", 1, true)
  if nul then
    return string.format("%s has a NUL byte at position %d; QEMU would see only what comes before it", M.show(s), nul)
  end
  local ok, at = utf8.len(s)
  if not ok then
    return string.format("%s is not valid UTF-8 (byte %d); give the text as UTF-8", M.show(s), at)
  end
  return nil
end

-- The length of list t, or nil and why it is not a list: a key other than 1..n, or a hole (a nil
-- before the last element, which # and ipairs would silently cut the list at).
function M.list_length(t, what)
  if type(t) ~= "table" then
    return nil, string.format("%s must be a list (a table), not %s", what, type(t) == "string"
      and ("the string " .. M.show(t)) or M.show(t))
  end
  -- Raw access: a list's own entries count, not what a metatable's __len or __index claims.
  local n, max = 0, 0
  for k in next, t do
    if math.type(k) ~= "integer" or k < 1 then
      return nil, string.format("%s must be a list, and it has a key %s", what, M.show(k))
    end
    n = n + 1
    if k > max then max = k end
  end
  if n ~= max then
    local hole = 1
    while rawget(t, hole) ~= nil do hole = hole + 1 end
    return nil, string.format("%s[%d] is nil, and %s[%d] is not: a list cannot have holes " ..
      "(a nil in a list constructor, or a variable that was never set)", what, hole, what, max)
  end
  return n
end

-- Several problems as one error, one line each (the host prefixes every line with "vflaunch: ").
function M.fail_all(lines, status)
  M.fail(table.concat(lines, "\nvflaunch: "), status)
end

function M.hex(n, width)
  return string.format("%0" .. (width or 4) .. "x", n)
end

-- Each byte that pattern class matches, as a one-byte string for a plain find.
function M.bytes_of(class)
  local out = {}
  for b = 0, 255 do
    local c = string.char(b)
    if c:find(class) then out[#out + 1] = c end
  end
  return out
end

-- Whether the strings of list are valid UTF-8 and hold none of bytes (from M.bytes_of). They
-- are joined by a space (which neither starts nor continues a UTF-8 sequence, so that no two
-- halves of one make a valid one) and looked at once, a plain find (memchr) per byte: a
-- pattern such as "[%c\128-\255]" costs some 50 to 250 instructions a byte of text, a plain
-- find well under one, utf8.len some 20. JSON and `list` look at thousands of strings so.
function M.all_utf8_without(list, bytes)
  local all = table.concat(list, " ")
  for i = 1, #bytes do
    if all:find(bytes[i], 1, true) then return false end
  end
  return utf8.len(all) ~= nil
end

local CONTROL = M.bytes_of("%c")

-- Whether M.printable leaves every string of list as it is: no control character, valid UTF-8.
function M.all_printable(list)
  return M.all_utf8_without(list, CONTROL)
end

-- Text from sysfs, a script or a file, made safe for a terminal: control characters
-- (escape sequences, newlines that would forge a row) and bytes that are not UTF-8 are shown
-- as \xNN; everything else is kept.
function M.printable(s)
  s = tostring(s)
  if not s:find("[%c\128-\255]") then return s end
  local out, i, n = {}, 1, #s
  while i <= n do
    local c = s:byte(i)
    if c < 0x20 or c == 0x7f then
      out[#out + 1] = string.format("\\x%02x", c)
      i = i + 1
    elseif c < 0x80 then
      local j = s:find("[%c\128-\255]", i) or n + 1
      out[#out + 1] = s:sub(i, j - 1)
      i = j
    else
      -- One UTF-8 sequence, if it is one: utf8.len checks it strictly (no overlongs).
      local len = c >= 0xf0 and 4 or c >= 0xe0 and 3 or c >= 0xc2 and 2 or 0
      local seq = len > 0 and s:sub(i, i + len - 1)
      if seq and #seq == len and utf8.len(seq) == 1 then
        out[#out + 1] = seq
        i = i + len
      else
        out[#out + 1] = string.format("\\x%02x", c)
        i = i + 1
      end
    end
  end
  return table.concat(out)
end

-- A byte count as people read it: "16 GiB", "512 MiB", "4096 bytes".
function M.size(bytes)
  for _, u in ipairs { { 40, "TiB" }, { 30, "GiB" }, { 20, "MiB" }, { 10, "KiB" } } do
    if bytes >= (1 << u[1]) and bytes % (1 << u[1]) == 0 then
      return string.format("%d %s", bytes >> u[1], u[2])
    end
  end
  return string.format("%d bytes", bytes)
end

function M.plural(n, word, words)
  return string.format("%d %s", n, n == 1 and word or (words or word .. "s"))
end

return M
