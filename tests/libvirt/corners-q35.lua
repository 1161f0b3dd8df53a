-- SPDX-License-Identifier: MIT
-- libvirt export case: q35 with -nodefaults and no cpu (QEMU's default, which libvirt spells
-- out), VFs straight on its root bus (alone and as functions of one slot, around the ICH9 slot
-- 1f the planner keeps free), an ioh3420 and a dense plan, and machine memory as a plain MiB
-- count.
local vf = require "vflaunch"
local m = vf.machine { type = "q35", smp = 2, memory = 2048, args = { "-nodefaults" } }
local vfs = vf.vfs { vendor = 0x8086, device = 0x10fb }
m:add(vfs[1], { addr = "1e.0" })
m:functions({ vfs[2], vfs[3] }, { slot = 4 })
m:root_port { model = "ioh3420" }:add(vfs[4])
m:place(table.move(vfs, 5, 20, 1, {}), { strategy = "dense" })
