-- SPDX-License-Identifier: MIT
-- Test script: a machine with nothing on it, for the planner's budget (--json: buses and root
-- slots available). Arguments: TYPE [OPTION...], where an OPTION "-nodefaults" goes to args and
-- "key=value" to the machine options.
local vf = require "vflaunch"
local options, args = {}, {}
for i = 2, #arg do
  if arg[i] == "-nodefaults" then args[#args + 1] = arg[i] else options[#options + 1] = arg[i] end
end
vf.machine { type = arg[1], options = options, args = args }
