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

-- "file:line" of the innermost Lua frame that is not vflaunch's own code: the user's
-- script line that created an element or made a bad call.
function M.where(level)
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

function M.hex(n, width)
  return string.format("%0" .. (width or 4) .. "x", n)
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
