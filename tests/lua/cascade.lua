-- SPDX-License-Identifier: MIT
-- Rehearsal case: switches behind switches (a valid PCIe and QEMU topology). A root port holds a
-- switch of 4 downstream ports; its first port holds a second switch of 4, whose first port holds
-- a third; every other downstream port holds one VF of the 82599 host: 10 VFs, 17 buses, the last
-- VF five buses deep. tests/lua/test_calls.lua plans this very file; to boot it:
--   . tests/guest/env.sh arm64 && vflaunch --simulate --rehearse tests/lua/cascade.lua
local vf = require "vflaunch"
local m = vf.machine { type = "virt", options = { "gic-version=3" } }
local vfs = vf.vfs { vendor = 0x8086, device = 0x10fb }
local top = m:root_port():switch { ports = 4 }
local middle = top.ports[1]:switch { ports = 4 }
local bottom = middle:port(1):switch { ports = 4 }
local placed = 0
for _, sw in ipairs { top, middle, bottom } do
  for _, port in ipairs(sw.ports) do
    if port:is_free() then
      placed = placed + 1
      port:add(vfs[placed])
    end
  end
end
