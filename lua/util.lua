-- SPDX-License-Identifier: MIT
-- Shared helpers: where in the user's script a call came from, and errors that carry an exit status.
local M = {}

M.EXIT = { OK = 0, SCRIPT = 1, USAGE = 2, HOST = 3 }

local EMBEDDED = "@lua/" -- chunk names of vflaunch's own modules (build/embedded.c)

-- "file:line" of the innermost Lua frame that is not vflaunch's own code: the user's
-- script line that created an element or made a bad call.
function M.where()
  for level = 2, 64 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.what ~= "C" and info.source:sub(1, #EMBEDDED) ~= EMBEDDED then
      local src = info.source:sub(1, 1) == "@" and info.source:sub(2) or info.short_src
      return src .. ":" .. (info.currentline or 0)
    end
  end
  return "?"
end

-- Raise an error the host reports as one line, exiting with status (default 1).
function M.fail(message, status)
  error({ message = message, status = status or M.EXIT.SCRIPT }, 0)
end

-- Raise an error about a bad call, at the user's line: "big.lua:12: switch: ports must be ..."
function M.usage(message)
  M.fail(M.where() .. ": " .. message, M.EXIT.SCRIPT)
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

return M
