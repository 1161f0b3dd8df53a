-- SPDX-License-Identifier: MIT
-- Where a site script's `require` finds site modules: the script's own directory (its resolved
-- path), each -I DIR, each directory of $VFLAUNCH_PATH, then the absolute entries of
-- package.path — never the working directory. A module is loaded as text only (a binary chunk
-- is refused, as the script is) under its file name, so its errors keep their file:line. As
-- root, a directory searched and the module file found must be root's alone, as the script is;
-- so must a C module (package.cpath, absolute entries only) before Lua loads it.
local _, core = ...
local util = require "vflaunch.util"

local M = {}

-- The directories of $VFLAUNCH_PATH (colon-separated, absolute). nil, message for an entry
-- that would make the working directory a place modules come from.
function M.env_dirs(value)
  local dirs = {}
  if value == nil or value == "" then return dirs end
  for entry in (value .. ":"):gmatch("([^:]*):") do
    if entry:sub(1, 1) ~= "/" then
      return nil, string.format("VFLAUNCH_PATH=%s: %s is not an absolute directory (an empty " ..
        "or relative entry would search the working directory, which vflaunch never does): " ..
        "give absolute directories separated by ':'", value,
        entry == "" and "an empty entry" or ("'" .. entry .. "'"))
    end
    dirs[#dirs + 1] = entry
  end
  return dirs
end

-- The search path of a run: templates ("DIR/?.lua", "DIR/?/init.lua") in order.
function M.templates(script_dir, include, env)
  local t = {}
  local function dir(d)
    d = d:gsub("/+$", "")
    t[#t + 1] = d .. "/?.lua"
    t[#t + 1] = d .. "/?/init.lua"
  end
  if script_dir then dir(script_dir) end
  for _, d in ipairs(include or {}) do dir(d) end
  for _, d in ipairs(env or {}) do dir(d) end
  -- package.path as Lua set it (LUA_PATH_5_4, LUA_PATH or the default), absolute entries only
  -- (the host dropped the others; a script that adds one gets it ignored here).
  for entry in package.path:gmatch("[^;]+") do
    if entry:sub(1, 1) == "/" then t[#t + 1] = entry end
  end
  return t
end

-- As root, refuse a directory or file someone else could change.
local function check_trust(path, name)
  local ok, err = core.fs.trusted(path)
  if not ok then
    util.fail(string.format("refusing to load module '%s' from %s as root: %s", name, path,
      err), util.EXIT.HOST)
  end
end

-- What path is, following links: "file", "dir", "other" or nil.
local function kind(path)
  local k = core.fs.kind(path)
  if k == "link" then k = core.fs.kind(core.fs.realpath(path) or path) end
  return k
end

-- The searcher, in the place of Lua's own (package.searchers[2]).
local function searcher(templates, root)
  return function(name)
    local rel = name:gsub("%.", "/")
    local tried = {}
    for _, t in ipairs(templates) do
      local file = t:gsub("%?", function() return rel end)
      local dir = file:match("^(.*)/[^/]*$")
      if kind(dir) == "dir" then
        -- Checked before a file there is even opened (a FIFO would hang the run).
        if root then check_trust(dir, name) end
        if kind(file) == "file" then
          if root then check_trust(file, name) end
          local chunk, err = loadfile(file, "t")
          if not chunk then
            if err:match("attempt to load a binary chunk") then
              err = file .. ": a compiled (binary) chunk; vflaunch loads Lua source only"
            end
            util.fail(string.format("module '%s': %s", name, err))
          end
          return chunk, file
        end
      end
      tried[#tried + 1] = file
    end
    -- The first line is for the one-line report (main.lua): the directories searched.
    return "\n\tsearched: " .. M.describe(templates) .. "\n\tno file '" ..
      table.concat(tried, "'\n\tno file '") .. "'"
  end
end

-- Lua's C searchers (package.cpath: absolute entries only, as the host left it), as root only
-- after the file they would load, and its directory, passed the same check. nth: 3 looks for
-- the name, 4 (all-in-one) for its first part.
local function c_searcher(orig, nth, root)
  if not root then return orig end
  return function(name)
    local cpath = {}
    for entry in package.cpath:gmatch("[^;]+") do
      if entry:sub(1, 1) == "/" then cpath[#cpath + 1] = entry end
    end
    package.cpath = table.concat(cpath, ";")
    local file = package.searchpath(nth == 4 and name:match("^[^.]*") or name, package.cpath)
    if file then
      check_trust(file:match("^(.*)/[^/]*$"), name)
      check_trust(file, name)
    end
    return orig(name)
  end
end

-- The directories a run searches, for messages: "DIR, DIR, ...".
function M.describe(templates)
  local seen, dirs = {}, {}
  for _, t in ipairs(templates) do
    local d = t:match("^(.-)/%?")
    if d and not seen[d] then
      seen[d] = true
      dirs[#dirs + 1] = d
    end
  end
  return table.concat(dirs, ", ")
end

-- Install the search path for a script at path (ctx.opts.include: -I DIRs, already absolute).
-- Lua's own file searchers go: only the preload of vflaunch's modules and this one search for
-- Lua modules. Returns the templates.
function M.install(path, include)
  local real = core.fs.realpath(path)
  local script_dir = real and real:match("^(.*)/[^/]*$")
  if script_dir == "" then script_dir = "/" end
  local env, err = M.env_dirs(os.getenv("VFLAUNCH_PATH"))
  if not env then util.fail(err, util.EXIT.USAGE) end
  local templates = M.templates(script_dir, include, env)
  local root = core.sys.geteuid() == 0
  package.searchers[2] = searcher(templates, root)
  for nth = 3, 4 do package.searchers[nth] = c_searcher(package.searchers[nth], nth, root) end
  return templates
end

return M
