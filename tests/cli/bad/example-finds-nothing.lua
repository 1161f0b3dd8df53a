-- expect 1: ^vflaunch: scripts/flat-248.lua:[0-9]*: this host has 0 ConnectX-5 VFs (15b3:1017), 248 were asked for
-- The example scripts say what they looked for and how many they found (this host has no
-- ConnectX-5), instead of planning a guest without a device.
dofile("scripts/flat-248.lua")
