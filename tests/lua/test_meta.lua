-- Test: the editor annotations (dist/types/vflaunch.lua, a ---@meta file for
-- lua-language-server) name every function of the API a script reaches — vf.*, the host's
-- inventory, host devices, the machine, ports, switches — and every field vf.machine{} takes,
-- and nothing that is not there; and the file is Lua that compiles. A new API function without
-- an annotation fails here.
local t = dofile(arg[0]:match("^(.*)/") .. "/testlib.lua")
local vf = require "vflaunch"
local machines = require "vflaunch.machines"
local topology = require "vflaunch.topology"

local T = {}
local problems = {}
local function check(cond, msg)
  if not cond then problems[#problems + 1] = msg end
end
local function none(what)
  if #problems > 0 then
    local list = table.concat(problems, "; ")
    problems = {}
    error(what .. ": " .. list, 2)
  end
end

local file = arg[0]:match("^(.*)/") .. "/../../dist/types/vflaunch.lua"
local f = assert(io.open(file, "r"))
local text = f:read("a")
f:close()

-- The declarations: class -> set of names.
local declared = {}
for line in text:gmatch("[^\n]+") do
  local class, name = line:match("^function ([%w_]+)[.:]([%w_]+)%(")
  if class then
    declared[class] = declared[class] or {}
    declared[class][name] = true
  end
end
-- The fields of each class: the ---@field lines right below its ---@class line.
local fields, current = {}, nil
for line in text:gmatch("[^\n]*") do
  local class = line:match("^%-%-%-@class ([%w_.]+)")
  if class then
    current = {}
    fields[class] = current
  elseif current and line:match("^%-%-%-@field ") then
    current[line:match("^%-%-%-@field ([%w_]+)")] = true
  elseif not line:match("^%-%-%-") then
    current = nil
  end
end

local function functions_of(tbl)
  local names = {}
  for k, v in pairs(tbl) do
    if type(v) == "function" and type(k) == "string" and not k:match("^__") then names[k] = true end
  end
  return names
end

-- runtime (name -> true) against declared[class]: both ways.
local function same(class, runtime)
  local have = declared[class] or {}
  for name in pairs(runtime) do
    check(have[name], string.format("%s.%s is in the API but not annotated in %s", class, name,
      file))
  end
  for name in pairs(have) do
    check(runtime[name], string.format("%s.%s is annotated but not in the API", class, name))
  end
end

function T.test_every_function_annotated()
local host = vf.host
same("vf", functions_of(vf))
same("Host", functions_of(getmetatable(host).__index))
-- A device's facts are read on first use: its __index is a function, its methods are in the
-- metatable itself.
local dmt = getmetatable(host.devices[1])
same("HostDevice", functions_of(type(dmt.__index) == "table" and dmt.__index or dmt))
for class, methods in pairs(topology.METHODS) do same(class, functions_of(methods)) end
check(next(topology.METHODS.Machine) and next(topology.METHODS.Port),
  "topology.METHODS lists no methods")
none("functions")
end

-- vf's other fields, and every field of vf.machine{}.
function T.test_every_field_annotated()
for _, k in ipairs { "version", "host", "options", "EXIT" } do
  check(vf[k] ~= nil, "vf." .. k .. " is annotated but not in the API")
  check(fields.vflaunch and fields.vflaunch[k], "vf." .. k .. " is not annotated")
end
for k, v in pairs(vf) do
  if type(v) ~= "function" then
    check(fields.vflaunch and fields.vflaunch[k], "vf." .. k .. " is not annotated")
  end
end
local spec = fields["vflaunch.MachineSpec"] or {}
for _, field in ipairs(machines.FIELDS) do
  check(spec[field.name], "vf.machine{} field '" .. field.name .. "' is not annotated")
end
for name in pairs(spec) do
  local known = false
  for _, field in ipairs(machines.FIELDS) do known = known or field.name == name end
  check(known, "machine field '" .. name .. "' is annotated but vf.machine{} refuses it")
end
none("fields")
end

-- It is Lua (luac -p in make lint too), and a meta file: it says so on its first line.
function T.test_compiles()
check(loadfile(file, "t"), "the annotation file does not compile")
check(text:match("^%-%-%-@meta vflaunch\n"), "the annotation file does not start with ---@meta")
none("file")
end

t.run("meta", T)
