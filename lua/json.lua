-- SPDX-License-Identifier: MIT
-- A small JSON encoder: tables with keys 1..n are arrays, others objects with sorted keys (so
-- that the same plan is the same bytes on every run and every machine). Strings are emitted as
-- valid UTF-8, which strict parsers require: a byte that is not part of a UTF-8 sequence
-- (a driver name from sysfs can hold anything) becomes U+FFFD. Decoding is lua-cjson's.
local util = require "vflaunch.util"

local M = {}

M.null = setmetatable({}, { __tojson = function() return "null" end })

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n",
  ["\r"] = "\\r", ["\t"] = "\\t" }

-- s with every byte that does not start a valid UTF-8 sequence replaced by U+FFFD.
local function valid_utf8(s)
  if utf8.len(s) then return s end
  local out, i = {}, 1
  while i <= #s do
    local ok, pos = utf8.len(s, i)
    if ok then
      out[#out + 1] = s:sub(i)
      break
    end
    out[#out + 1] = s:sub(i, pos - 1)
    out[#out + 1] = "\u{FFFD}"
    i = pos + 1
  end
  return table.concat(out)
end

local function escape(c)
  return ESC[c] or string.format("\\u%04x", c:byte())
end

local function string_value(s)
  return '"' .. valid_utf8(s):gsub('[%c"\\]', escape) .. '"'
end

-- The bytes a JSON string cannot hold as they are: control characters, '"' and '\\'.
local SPECIAL = util.bytes_of('[%c"\\]')

-- Whether every string of list goes into JSON as it is between two quotes: valid UTF-8 with no
-- byte to escape (util.all_utf8_without looks at them all at once).
function M.plain(list)
  return util.all_utf8_without(list, SPECIAL)
end

-- Appends string s as JSON after out[n]; returns the new n. When strs is given, s goes in as it
-- is and is added to strs, for M.plain to say afterwards whether that was right. Otherwise most
-- strings (ids, addresses, argv words) still need nothing: one scan says so, and they go in as
-- they are between two quotes, with no new string made for each.
local function put_string(s, out, n, strs)
  if strs then
    strs[#strs + 1] = s
  elseif s:find('[%c"\\\128-\255]') then
    out[n + 1] = string_value(s)
    return n + 1
  end
  out[n + 1], out[n + 2], out[n + 3] = '"', s, '"'
  return n + 3
end

-- '"key":' and ',"key":' for each key seen: a plan repeats a handful of keys thousands of times.
local KEY = setmetatable({}, { __index = function(t, k)
  local text = string_value(k) .. ":"
  t[k] = text
  return text
end })
local NEXT_KEY = setmetatable({}, { __index = function(t, k)
  local text = "," .. KEY[k]
  t[k] = text
  return text
end })

-- The sorted keys of an object, made once per set of keys: a plan's thousands of objects have a
-- handful of shapes. A trie of the keys in the order pairs() gives them leads to the list.
local shapes, sorted_at = {}, {}

local function sorted_keys(v)
  local node = shapes
  for k in pairs(v) do
    local child = node[k]
    if not child then
      child = {}
      node[k] = child
    end
    node = child
  end
  local keys = sorted_at[node]
  if not keys then
    keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    sorted_at[node] = keys
  end
  return keys
end

-- The text of number v.
function M.number(v)
  if v ~= v or v == math.huge or v == -math.huge then error("json: cannot encode " .. v) end
  return math.type(v) == "integer" and tostring(v) or string.format("%.14g", v)
end

-- Appends v's text to out after out[n]; returns the new n. strs: see put_string.
local function encode(v, out, n, strs)
  local t = type(v)
  if t == "string" then -- the most common first
    n = put_string(v, out, n, strs)
  elseif v == M.null or v == nil then
    n = n + 1; out[n] = "null"
  elseif t == "boolean" then
    n = n + 1; out[n] = tostring(v)
  elseif t == "number" then
    n = n + 1; out[n] = M.number(v)
  elseif t == "table" then
    local len = #v
    if len > 0 or next(v) == nil then
      n = n + 1; out[n] = "["
      for i = 1, len do
        if i > 1 then n = n + 1; out[n] = "," end
        n = encode(v[i], out, n, strs)
      end
      n = n + 1; out[n] = "]"
    else
      local keys = sorted_keys(v)
      n = n + 1; out[n] = "{"
      for i, k in ipairs(keys) do
        n = n + 1; out[n] = i > 1 and NEXT_KEY[k] or KEY[k]
        n = encode(v[k], out, n, strs)
      end
      n = n + 1; out[n] = "}"
    end
  else
    error("json: cannot encode a " .. t)
  end
  return n
end

-- The strings go in as they are first, and are looked at all at once (M.plain); only when one
-- needs more is the text made again, each string looked at on its own.
function M.encode(v)
  local out, strs = {}, {}
  local n = encode(v, out, 0, strs)
  if not M.plain(strs) then
    out = {}
    n = encode(v, out, 0)
  end
  return table.concat(out, "", 1, n)
end

return M
