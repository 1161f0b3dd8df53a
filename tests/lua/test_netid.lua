-- SPDX-License-Identifier: MIT
-- VF identity in scripts: each key checked where the script gives it, the same keys for m:add,
-- port:add, functions (one value or one per function) and m:place (a table or a function),
-- mac = "auto" stable and documented, and the plan's own rules (a MAC once per guest).
local t = dofile(arg[0]:match("^(.*)/") .. "/testlib.lua")
local compile = require "vflaunch.compile"
local json = require "vflaunch.json"
local netid = require "vflaunch.netid"
local render = require "vflaunch.render"
local vf = require "vflaunch"
local topology = require "vflaunch.topology"

local T = {}
local refused, eq = t.refused, t.eq

local function machine()
  local m = topology.machine { type = "virt", kernel = "/k", options = { "gic-version=3" } }
  return m
end

local function facts(m, name)
  local _, errors = compile.check(m, vf.host, name)
  return render.device_facts(m), errors
end

-- The documented formula, against values computed by an independent implementation
-- (Python: FNV-1a 64 of "NAME/ID", SplitMix64's finalizer, six high bytes, 02 bits).
function T.test_auto_mac_formula()
  eq(netid.auto_mac("g1", "hostdev2"), "8a:3b:d0:19:fa:13", "g1/hostdev2")
  eq(netid.auto_mac("g1", "hostdev3"), "9a:d4:8d:e6:af:44", "g1/hostdev3")
  local seen = {}
  for i = 1, 2000 do
    local mac = netid.auto_mac("big-guest", "hostdev" .. i)
    local first = tonumber(mac:sub(1, 2), 16)
    assert(first & 1 == 0, mac .. " is multicast")
    assert(first & 2 == 2, mac .. " is not locally administered")
    assert(not seen[mac], mac .. " twice")
    seen[mac] = true
  end
end

function T.test_values_refused_at_the_line()
  local dev = t.vfs(vf, 1)[1]
  local function add(opts) machine():add(dev, opts) end
  refused({ "mac 01:00:5e:00:00:01 is a multicast address" }, add, { mac = "01:00:5e:00:00:01" })
  refused("mac 00:00:00:00:00:00 is no address", add, { mac = "00:00:00:00:00:00" })
  refused({ "mac \"52:54:00:12:34\" is not a MAC address" }, add, { mac = "52:54:00:12:34" })
  refused({ "vlan must be an integer from 0 to 4094" }, add, { vlan = 4095 })
  refused({ "qos must be an integer from 0 to 7" }, add, { qos = 8 })
  refused({ "trust must be true or false" }, add, { trust = "yes" })
  refused({ "spoofchk must be true or false" }, add, { spoofchk = 1 })
  refused({ "link must be \"auto\"", "\"up\"" }, add, { link = "up" })
  refused({ "max_rate must be an integer from 0" }, add, { max_rate = -1 })
  refused({ "min_rate must be an integer" }, add, { min_rate = 1.5 })
  refused({ "unknown option 'vlans'" }, add, { vlans = 1 })
end

function T.test_mac_normalized()
  local m = machine()
  local e = m:add(t.vfs(vf, 1)[1], { mac = "52-54-00-AB-CD-EF" })
  eq(e.mac, "52:54:00:ab:cd:ef", "mac as the kernel prints it")
end

function T.test_same_keys_everywhere()
  local d = t.vfs(vf, 8)
  local m = machine()
  m:add(d[1], { mac = "52:54:00:00:00:01", vlan = 5 })
  m:root_port():add(d[2], { trust = true, spoofchk = false, link = "disable", max_rate = 100 })
  m:root_port():functions({ d[3], d[4] }, { vlan = 7, mac = { "auto", "52:54:00:00:00:04" } })
  m:functions({ d[5] }, { qos = 2, vlan = 9 })
  m:place({ d[6], d[7] }, { strategy = "flat",
    net = function(dev, i) return { vlan = 100 + i, mac = dev == d[7] and "auto" or nil } end })
  m:place({ d[8] }, { strategy = "flat", net = { vlan = 42 } })
  local f, errors = facts(m, "g1")
  eq(#errors, 0, "errors: " .. (errors[1] and errors[1].message or ""))
  local by = {}
  for _, x in ipairs(f) do by[x.host] = x end
  eq(by[d[1].address].net.vlan, 5, "m:add")
  eq(by[d[2].address].net.link, "disable", "port:add")
  eq(by[d[2].address].net.trust, true, "port:add trust")
  eq(by[d[3].address].net.vlan, 7, "functions: one value for all")
  eq(by[d[3].address].net.mac, netid.auto_mac("g1", by[d[3].address].id), "auto in functions")
  eq(by[d[4].address].net.mac, "52:54:00:00:00:04", "functions: one per device")
  eq(by[d[5].address].net.qos, 2, "m:functions")
  eq(by[d[6].address].net.vlan, 101, "place net(dev, i)")
  eq(by[d[6].address].net.mac, nil, "place: nil leaves mac out")
  eq(by[d[7].address].net.mac, netid.auto_mac("g1", by[d[7].address].id), "place auto")
  eq(by[d[8].address].net.vlan, 42, "place net table")
  -- The plan's JSON carries them, the tree shows them.
  assert(json.encode(f):find('"vlan":101', 1, true))
  assert(render.tree(m):find("[mac 52:54:00:00:00:01, vlan 5]", 1, true), render.tree(m))
end

function T.test_functions_and_place_misuse()
  local d = t.vfs(vf, 3)
  refused({ "functions: mac lists 1 values for 2 devices" }, function()
    machine():root_port():functions({ d[1], d[2] }, { mac = { "auto" } })
  end)
  refused({ "place: net(dev, 1) returned \"x\"" }, function()
    machine():place({ d[1] }, { strategy = "flat", net = function() return "x" end })
  end)
  refused({ "place: net must be a table" }, function()
    machine():place({ d[1] }, { strategy = "flat", net = 5 })
  end)
  refused({ "place: net of devices[1]: vlan must be" }, function()
    machine():place({ d[1] }, { strategy = "flat", net = { vlan = -2 } })
  end)
  refused({ "place: net of devices[1]: unknown option 'mtu'" }, function()
    machine():place({ d[1] }, { strategy = "flat", net = { mtu = 9000 } })
  end)
end

function T.test_plan_rules()
  local d = t.vfs(vf, 3)
  local m = machine()
  m:add(d[1], { mac = "52:54:00:00:00:01" })
  m:add(d[2], { mac = "52:54:00:00:00:01" })
  m:add(d[3], { max_rate = 100, min_rate = 200 })
  local _, errors = facts(m, "g")
  local text = {}
  for _, e in ipairs(errors) do text[#text + 1] = e.message end
  text = table.concat(text, "\n")
  assert(text:find("mac 52:54:00:00:00:01 is already taken by device 'hostdev1'", 1, true), text)
  assert(text:find("min_rate 200 Mb/s is above max_rate 100 Mb/s", 1, true), text)
end

function T.test_changed_after_creation()
  local m = machine()
  local e = m:add(t.vfs(vf, 1)[1], { vlan = 3 })
  e.vlan = 5000
  local _, errors = facts(m, "g")
  eq(#errors, 1, "errors")
  assert(errors[1].message:find("vlan was changed after creation: vlan must be an integer", 1,
    true), errors[1].message)
end

return t.run("netid", T)
