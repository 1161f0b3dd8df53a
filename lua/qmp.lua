-- SPDX-License-Identifier: MIT
-- A small QMP client over the core's socket transport: the greeting, capabilities negotiation,
-- and commands whose replies are told apart from the events QEMU sends in between. JSON is
-- lua-cjson's. Every wait has a deadline.
local _, core = ...
local json = require "vflaunch.json"

local M = {}
local Session = {}
Session.__index = Session

-- The next message that is not an event; events are kept in self.events.
local function reply(s, timeout)
  local deadline = core.sys.clock() + timeout
  while true do
    local left = deadline - core.sys.clock()
    if left <= 0 then return nil, "QMP: no reply in time" end
    local line, err = s.conn:read_line(left)
    if not line then return nil, err end
    local ok, msg = pcall(core.cjson.decode, line)
    if not ok or type(msg) ~= "table" then return nil, "QMP: not a JSON object: " .. line:sub(1, 200) end
    if msg.event then
      s.events[#s.events + 1] = msg
    else
      return msg
    end
  end
end

-- Connect to the socket at path and negotiate capabilities. Returns a session or nil, why.
function M.connect(path, timeout)
  local conn, err = core.qmp.connect(path, timeout)
  if not conn then return nil, err end
  local s = setmetatable({ conn = conn, events = {} }, Session)
  local greeting
  greeting, err = reply(s, timeout)
  if not greeting then
    conn:close()
    return nil, err
  end
  if type(greeting.QMP) ~= "table" then
    conn:close()
    return nil, "QMP: " .. path .. " did not greet as a QEMU monitor"
  end
  local _, e = s:execute("qmp_capabilities", nil, timeout)
  if e then
    conn:close()
    return nil, e
  end
  return s
end

-- Run a command: its return value, or nil and QEMU's error (or the transport's).
function Session:execute(command, arguments, timeout)
  local msg = { execute = command, arguments = arguments }
  local ok, err = self.conn:write(json.encode(msg) .. "\n")
  if not ok then return nil, err end
  local r
  r, err = reply(self, timeout or 10)
  if not r then return nil, err end
  if r.error then
    return nil, string.format("QMP %s: %s", command, tostring(r.error.desc or r.error.class))
  end
  return r["return"]
end

-- The first event that match(event) accepts, kept or arriving within timeout seconds (others
-- are kept for later); nil, why when none came.
function Session:take_event(match, timeout)
  local deadline = core.sys.clock() + timeout
  while true do
    for i, ev in ipairs(self.events) do
      if match(ev) then return table.remove(self.events, i) end
    end
    local left = deadline - core.sys.clock()
    if left <= 0 then return nil, "QMP: no such event in time" end
    local line, err, errno = self.conn:read_line(left)
    if not line then
      if errno == 110 then return nil, "QMP: no such event in time" end -- ETIMEDOUT
      return nil, err
    end
    local ok, msg = pcall(core.cjson.decode, line)
    if not ok or type(msg) ~= "table" then return nil, "QMP: not a JSON object: " .. line:sub(1, 200) end
    if msg.event then self.events[#self.events + 1] = msg end -- a stray reply is dropped
  end
end

function Session:close()
  self.conn:close()
end
Session.__close = Session.close

return M
