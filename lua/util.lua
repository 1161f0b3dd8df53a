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

function M.hex(n, width)
  return string.format("%0" .. (width or 4) .. "x", n)
end

return M
