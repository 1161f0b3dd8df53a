-- expect 1: ^vflaunch: @:4: machine type 'virt-2.12,highmem=on' is not one vflaunch knows: .*; give machine options in options
local vf = require "vflaunch"
-- virt-2.12 has 16 buses; "virt-*" once passed, with its options unescaped and a budget of 256.
vf.machine { type = "virt-2.12,highmem=on" }
