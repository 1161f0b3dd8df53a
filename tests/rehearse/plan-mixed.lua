-- Rehearsal case: the three strategies and hand-placed parts in one virt guest, sharing one space
-- of ids, root slots and chassis/slot pairs: a VF on the root bus at 01.0 and one behind a
-- hand-made root port, then 20 VFs 'flat' with 2 spare root ports, 40 'dense' (5 ports of 8),
-- 30 on 'switch' with 2 spare downstream ports, and a VF on a root port made after the plans.
-- 92 VFs of the 82599 host; the guest must see each at its planned address.
local vf = require "vflaunch"
local m = vf.machine { type = "virt", options = { "gic-version=3" } }
local vfs = vf.vfs { vendor = 0x8086, device = 0x10fb }
local function take(first, n) return table.move(vfs, first, first + n - 1, 1, {}) end
m:add(vfs[1], { addr = "01.0", id = "mgmt" })
m:root_port { id = "rp-hand" }:add(vfs[2])
m:place(take(3, 20), { strategy = "flat", spare_ports = 2 })
m:place(take(23, 40), { strategy = "dense" })
m:place(take(63, 29), { strategy = "switch", ports_per_switch = 16, spare_ports = 2 })
m:root_port():add(vfs[92])
