-- SPDX-License-Identifier: MIT
-- Action "rehearse" (--rehearse): boot the planned guest under QEMU (TCG) with an emulated
-- stand-in in the place of each passthrough device, and compare what the guest kernel
-- enumerates with the plan. Nothing on the host is touched.
local _, core = ...
local render = require "vflaunch.render"
local topology = require "vflaunch.topology"
local util = require "vflaunch.util"

local sys = core.sys

local M = {}

-- The stand-in for a VF: a PCIe endpoint with no I/O BAR (a VF has none), no backend to set up,
-- and cheap enough for 1984 copies. An NVMe controller without namespaces is all three (one
-- 16 KiB memory BAR, MSI-X); measured at 1984 copies, virtio-rng-pci took 4x its QEMU start-up
-- time and 10x its boot time. The guest kernel has no nvme driver built in: nothing binds.
M.STANDIN = { model = "nvme", id = "1b36:0010" }

-- What the guest should report at each port's address (QEMU's own ids for these models).
local PORT_IDS = { ["pcie-root-port"] = "1b36:000c", ioh3420 = "8086:3420",
  ["x3130-upstream"] = "104c:8232", ["xio3130-downstream"] = "104c:8233" }

-- The -device value of each stand-in. nvme wants a serial number (at most 20 characters): one
-- per device, counted by this rehearsal's own counter.
local function standin_values()
  local serial = 0
  return function(e)
    serial = serial + 1
    return render.device_value(e, M.STANDIN.model) .. ",serial=vfl" .. serial
  end
end

-- Options that only make sense with KVM, or on the real host, are dropped or replaced.
local function rehearsal_machine(m, profile, opts)
  local kernel = opts.rehearse_kernel or os.getenv("VFLAUNCH_REHEARSE_KERNEL")
  local initrd = opts.rehearse_initrd or os.getenv("VFLAUNCH_REHEARSE_INITRD")
  local own = not kernel
  if own then kernel, initrd = m.kernel, m.initrd end
  if not kernel then
    util.fail("--rehearse needs a guest kernel and the script gives none: give " ..
      "--rehearse-kernel FILE --rehearse-initrd FILE, or set VFLAUNCH_REHEARSE_KERNEL and " ..
      "VFLAUNCH_REHEARSE_INITRD ('make guest' builds a reporting guest; then " ..
      "'. tests/guest/env.sh arm64')", util.EXIT.USAGE)
  end
  local options = {}
  for _, o in ipairs(m.options) do
    -- accel= goes (TCG, whatever the script asked); the host's GIC becomes an emulated one.
    if not o:match("^accel=") then
      options[#options + 1] = o == "gic-version=host" and "gic-version=3" or o
    end
  end
  local cpu = m.cpu
  if cpu == nil or cpu:match("^host") or cpu:match("^max") then cpu = profile.rehearse_cpu end
  -- quiet: the console carries the report; panic=-1 with -no-reboot ends QEMU on a panic.
  local append = "console=" .. profile.console .. " panic=-1 quiet"
  if own and m.append then append = m.append .. " " .. append end
  local r = setmetatable({
    -- One vCPU: a nil here would fall through __index to the script's smp, and TCG with the
    -- script's 64 vCPUs boots several times slower than with one.
    options = options, accel = "tcg", cpu = cpu, memory = "1024M", smp = 1,
    kernel = kernel, initrd = initrd, append = append,
    args = { "-nographic", "-nodefaults", "-serial", "stdio", "-no-reboot" },
  }, { __index = m })
  return r, own
end

-- VFLAUNCH-PCI lines from the guest's /init (tests/guest/init): address -> "ven:dev".
local function parse_report(output)
  local seen, count = {}, 0
  for addr, ids in output:gmatch("VFLAUNCH%-PCI (%x+:%x+:%x+%.%x) (%x+:%x+)") do
    seen[addr] = ids
    count = count + 1
  end
  local ended = tonumber(output:match("VFLAUNCH%-END (%d+)"))
  return seen, count, ended
end

local function planned(m)
  local list = {}
  for _, e in ipairs(render.walk(m)) do
    list[#list + 1] = {
      element = e,
      address = string.format("0000:%02x:%02x.%x", render.guest_bus(e), e.addr.slot, e.addr.func),
      ids = e.kind == "device" and M.STANDIN.id or PORT_IDS[e.model],
    }
  end
  return list
end

-- The plan's QEMU binary is the one compile picked (and checked against the machine).
function M.run(plan, ctx)
  require("vflaunch.qemu").check(plan)
  local m, profile, qemu, opts = plan.machine, plan.profile, plan.qemu, ctx.opts
  local r = rehearsal_machine(m, profile, opts)
  local argv = render.argv(r, qemu, standin_values())
  if opts.verbose then io.stderr:write(render.shell(argv)) end
  local t0 = sys.clock()
  local res, err = sys.run(argv, opts.timeout or 600, opts.verbose)
  local elapsed = sys.clock() - t0
  if not res then util.fail("rehearsal: cannot start " .. err, err:match("No such file") and 127 or 126) end
  if res.interrupted then util.fail("rehearsal interrupted", 128 + (sys.pending_signal() or 2)) end

  local seen, count, ended = parse_report(res.output)
  local expected = planned(m)
  local dev_ok, dev_total, port_ok, port_total, missing = 0, 0, 0, 0, {}
  local out = {}
  for _, p in ipairs(expected) do
    local e, got = p.element, seen[p.address]
    local ok = got == p.ids
    if e.kind == "device" then
      dev_total = dev_total + 1
      dev_ok = dev_ok + (ok and 1 or 0)
      if not opts.quiet then
        out[#out + 1] = string.format("  %s  %-10s %-14s %s", p.address, e.id, e.host,
          ok and ("seen " .. got) or ("MISSING" .. (got and (" (found " .. got .. ")") or "")))
      end
    else
      port_total = port_total + 1
      port_ok = port_ok + (ok and 1 or 0)
    end
    if not ok then missing[#missing + 1] = p end
  end
  if not opts.quiet then
    ctx:out("rehearsal: guest address  device     host device    guest saw\n" ..
      table.concat(out, "\n") .. (#out > 0 and "\n" or ""))
  end
  ctx:out(string.format("rehearsal: guest saw %d of %d planned devices and %d of %d " ..
    "ports at their planned addresses (%d PCI functions in all), %.1f s\n", dev_ok, dev_total,
    port_ok, port_total, count, elapsed))
  if not ended then
    local tail = res.output:sub(-1500)
    util.fail(string.format("rehearsal: the guest did not report (%s, status %d); its last " ..
      "output:\n%s", res.timed_out and ("timed out after " .. (opts.timeout or 600) .. " s") or "exited",
      res.status, tail))
  end
  local panic = res.output:match("Kernel panic[^\r\n]*")
  if panic then
    util.fail("rehearsal: the guest kernel panicked: " .. panic)
  end
  if ended ~= count then
    util.fail(string.format("rehearsal: the guest reported %d functions but %d lines arrived",
      ended, count))
  end
  if #missing > 0 then
    local lines = {}
    for i = 1, math.min(#missing, 10) do
      local p = missing[i]
      lines[i] = string.format("%s: %s: planned at %s, %s", p.element.where,
        topology.describe(p.element), p.address,
        seen[p.address] and ("the guest has " .. seen[p.address] .. " there") or
        "the guest has nothing there")
    end
    util.fail("rehearsal: the guest does not match the plan\nvflaunch: " ..
      table.concat(lines, "\nvflaunch: "))
  end
  return 0
end

return M
