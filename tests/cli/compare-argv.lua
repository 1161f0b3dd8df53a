-- SPDX-License-Identifier: MIT
-- Test script: does the argv in a --json plan equal the words a shell parsed from --dry-run?
-- Usage: vflaunch compare-argv.lua PLAN.json WORDS (WORDS: NUL-terminated words)
local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- Just enough JSON to read {"argv":[...strings...]} back: strings with escapes, in an array.
local function json_strings(text, key)
  local body = assert(text:match('"' .. key .. '":%[(.-[^\\])%]'), "no " .. key .. " array")
  local out, i = {}, 1
  while true do
    local s = body:find('"', i, true)
    if not s then break end
    local j, buf = s + 1, {}
    while true do
      local c = body:sub(j, j)
      if c == '"' then break end
      if c == "\\" then
        local e = body:sub(j + 1, j + 1)
        local map = { n = "\n", t = "\t", r = "\r", b = "\b", f = "\f", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" }
        if e == "u" then
          buf[#buf + 1] = utf8.char(tonumber(body:sub(j + 2, j + 5), 16)); j = j + 6
        else
          buf[#buf + 1] = assert(map[e], "bad escape"); j = j + 2
        end
      else
        buf[#buf + 1] = c; j = j + 1
      end
    end
    out[#out + 1] = table.concat(buf)
    i = j + 1
  end
  return out
end

local want = json_strings(read(arg[1]), "argv")
local got = {}
for w in read(arg[2]):gmatch("(%Z*)%z") do got[#got + 1] = w end
assert(#want > 3, "argv too short")
for i = 1, math.max(#want, #got) do
  if want[i] ~= got[i] then
    error(string.format("word %d: json %q, shell %q", i, tostring(want[i]), tostring(got[i])))
  end
end
print(string.format("argv: %d words equal", #want))
