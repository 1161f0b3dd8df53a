-- expect 1: ^vflaunch: @:4: machine kernel "/k\\0hidden" has a NUL byte at position 3
local vf = require "vflaunch"
-- --json, --dry-run and exec would each have seen another kernel path.
vf.machine { kernel = "/k\0hidden" }
