-- A site script that manages a running guest (tests/cli/hotplug.sh):
--   attach-api.lua NAME ADDR...            attach the devices, print their ids
--   attach-api.lua NAME detach DEV|ID...   detach them, print how many left
local vf = require "vflaunch"
local name, verb = arg[1], arg[2]
if verb == "detach" then
  print("detached " .. vf.detach(name, table.move(arg, 3, #arg, 1, {})))
else
  local ids = {}
  for _, d in ipairs(vf.attach(name, table.move(arg, 2, #arg, 1, {}))) do ids[#ids + 1] = d.id end
  print("attached " .. table.concat(ids, " "))
end
