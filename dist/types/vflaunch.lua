---@meta vflaunch
-- SPDX-License-Identifier: MIT
-- Annotations of vflaunch's scripting API for lua-language-server (completion, hover, checks in
-- an editor). Not code: vflaunch never loads this file. doc/lua-api.md is the reference; a test
-- (tests/lua/test_meta.lua) fails when an API function or machine field has no annotation here.
-- Use: add the directory holding this file (make install puts it in PREFIX/share/vflaunch/types)
-- to "workspace.library" in the site's .luarc.json.

---A PCI address, "0002:81:10.0" (or "81:10.0" for domain 0).
---@alias vflaunch.Address string

---A device of the host, as the inventory found it: plain data plus methods.
---@class vflaunch.HostDevice
---@field address vflaunch.Address
---@field domain integer
---@field bus integer
---@field slot integer
---@field func integer
---@field vendor integer vendor id, 0x8086
---@field device integer device id, 0x10ed
---@field class integer 24-bit class code, 0x020000
---@field subsys_vendor? integer
---@field subsys_device? integer
---@field header_type? integer
---@field vendor_name? string pci.ids
---@field device_name? string pci.ids
---@field class_name? string pci.ids
---@field driver? string the bound driver (nil: none)
---@field driver_override? string
---@field iommu_group? integer
---@field numa_node? integer
---@field physfn? vflaunch.Address a VF's PF
---@field sriov_totalvfs? integer a PF's
---@field sriov_numvfs? integer a PF's
---@field sriov_offset? integer a PF's
---@field sriov_stride? integer a PF's
---@field vfs_addresses? vflaunch.Address[] a PF's VFs
local HostDevice = {}

---A PF's VFs, in virtfnN order ({} for a device with none).
---@return vflaunch.HostDevice[]
function HostDevice:vfs() end

---A VF's PF (nil for a device that is no VF).
---@return vflaunch.HostDevice?
function HostDevice:pf() end

---Give this PF exactly n VFs (sriov_numvfs, through 0 when the count changes), journaled so that
---a failure or `vflaunch restore` gives the old count back. Returns its VFs.
---@param n integer
---@return vflaunch.HostDevice[]
function HostDevice:set_vfs(n) end

---@return boolean
function HostDevice:is_bridge() end

---Vendor and device names (pci.ids).
---@return string
function HostDevice:describe() end

---What vf.find and vf.vfs match: every field given must match.
---@class vflaunch.Filter
---@field vendor? integer
---@field device? integer
---@field class? integer as many bytes as given: 0x02, 0x0200, 0x020000
---@field driver? string|false false: devices with no driver
---@field address? string a substring of the address ("0002:81:")
---@field physfn? vflaunch.Address
---@field numa_node? integer
---@field iommu_group? integer
---@field free? boolean true: devices no live launch holds and no process has open

---The host's PCI devices (vf.host).
---@class vflaunch.Host
---@field devices vflaunch.HostDevice[] every device, in address order
local Host = {}

---The device at an address, or nil.
---@param address vflaunch.Address
---@return vflaunch.HostDevice?
function Host:get(address) end

---@param filter? vflaunch.Filter
---@return vflaunch.HostDevice[]
function Host:find(filter) end

---@param filter? vflaunch.Filter
---@return vflaunch.HostDevice[]
function Host:vfs(filter) end

---A device to place: a host device table or its address.
---@alias vflaunch.DeviceRef vflaunch.HostDevice|vflaunch.Address

---A guest address on a bus: "01.0", a slot number, or { slot =, func = }.
---@alias vflaunch.GuestAddr string|integer|{slot: integer, func?: integer}

---The fields of vf.machine{} (every one optional; doc/lua-api.md, "The machine").
---@class vflaunch.MachineSpec
---@field type? string "virt" (default), "virt-X.Y", "q35", "pc-q35-X.Y"
---@field name? string the launch's name and QEMU's -name (default: the script's file name)
---@field qemu? string the QEMU binary (default: the machine's; --qemu overrides)
---@field options? table<string|integer, string|integer|boolean> -machine options: "k=v" strings or { key = value }
---@field accel? string
---@field cpu? string
---@field smp? integer 1 to 4096
---@field memory? string|integer "16G", or MiB
---@field kernel? string
---@field initrd? string
---@field append? string
---@field args? string[] further QEMU arguments, word by word
---@field bind_group? boolean also bind the other members of the devices' IOMMU groups
---@field qmp? boolean false: no QMP socket for this launch

---The guest machine a script builds (vf.machine). Its spec fields can be read and set.
---@class vflaunch.Machine: vflaunch.MachineSpec
---@field where string the script line that made it
---@field root table pcie.0
---@field buses_used integer
local Machine = {}

---@class vflaunch.RootPortOptions
---@field id? string
---@field chassis? integer 0-255
---@field slot? integer 0-8191
---@field addr? vflaunch.GuestAddr
---@field model? "pcie-root-port"|"ioh3420"
---@field io_reserve? string|integer
---@field bus_reserve? integer 0-255

---A root port on pcie.0.
---@param opts? vflaunch.RootPortOptions
---@return vflaunch.Port
function Machine:root_port(opts) end

---A passthrough device on pcie.0.
---@param dev vflaunch.DeviceRef
---@param opts? vflaunch.DeviceOptions
---@return vflaunch.Element
function Machine:add(dev, opts) end

---Up to 8 devices as functions of one pcie.0 slot.
---@param devs vflaunch.DeviceRef[]
---@param opts? {ids?: string[], slot?: integer|string, mac?: string|string[], vlan?: integer|integer[], qos?: integer|integer[], trust?: boolean|boolean[], spoofchk?: boolean|boolean[], link?: string|string[], max_rate?: integer|integer[], min_rate?: integer|integer[]}
---@return vflaunch.Element[]
function Machine:functions(devs, opts) end

---VF identity (doc/lua-api.md, "VF identity"): set on the PF before the VF is bound.
---@class vflaunch.Identity
---@field mac? string "52:54:00:12:34:56", or "auto"
---@field vlan? integer 0-4094
---@field qos? integer 0-7
---@field trust? boolean
---@field spoofchk? boolean
---@field link? "auto"|"enable"|"disable"
---@field max_rate? integer Mb/s, 0 none
---@field min_rate? integer Mb/s, 0 none

---@class vflaunch.DeviceOptions: vflaunch.Identity
---@field id? string
---@field addr? vflaunch.GuestAddr
---@field rombar? integer

---@class vflaunch.PlaceOptions
---@field strategy "flat"|"switch"|"dense"
---@field ports_per_switch? integer "switch": 1-32, default 32
---@field per_port? integer "dense": 1-8, default 8
---@field spare_ports? integer empty hot-plug ports after the devices, default 0
---@field net? vflaunch.Identity|fun(dev: vflaunch.DeviceRef, i: integer): vflaunch.Identity?

---Place devices with the planner (doc/lua-api.md, "Placing devices with the planner").
---@param devs vflaunch.DeviceRef[]
---@param opts vflaunch.PlaceOptions
---@return vflaunch.Plan
function Machine:place(devs, opts) end

---Every passthrough device placed so far.
---@return vflaunch.Element[]
function Machine:devices() end

---What m:place() made.
---@class vflaunch.Plan
---@field devices vflaunch.Element[] in the order given
---@field ports vflaunch.Port[] the ports holding them
---@field spares vflaunch.Port[] the empty ports
---@field root_ports vflaunch.Port[]
---@field switches vflaunch.Switch[]
---@field strategy string
---@field needs {root_ports: integer, slots: integer, buses: integer, switches: integer}

---An element of the tree: a port, a switch's upstream port or a passthrough device.
---@class vflaunch.Element
---@field kind string "root-port", "upstream-port", "downstream-port", "device"
---@field model string
---@field where string the script line that made it
---@field id? string
---@field addr? vflaunch.GuestAddr
---@field host? vflaunch.Address a device's
---@field rombar? integer a device's
---@field mac? string a device's VF identity (and vlan, qos, trust, spoofchk, link, max_rate, min_rate)
---@field multifunction? boolean
---@field machine vflaunch.Machine

---A root port or a switch's downstream port.
---@class vflaunch.Port: vflaunch.Element
---@field chassis? integer
---@field slot? integer
---@field io_reserve? string|integer
---@field bus_reserve? integer
local Port = {}

---The device behind this port, at 00.0.
---@param dev vflaunch.DeviceRef
---@param opts? vflaunch.DeviceOptions
---@return vflaunch.Element
function Port:add(dev, opts) end

---Up to 8 devices behind this port, as functions 00.0-00.7.
---@param devs vflaunch.DeviceRef[]
---@param opts? {ids?: string[], mac?: string|string[], vlan?: integer|integer[], qos?: integer|integer[], trust?: boolean|boolean[], spoofchk?: boolean|boolean[], link?: string|string[], max_rate?: integer|integer[], min_rate?: integer|integer[]}
---@return vflaunch.Element[]
function Port:functions(devs, opts) end

---True while nothing is behind the port.
---@return boolean
function Port:is_free() end

---A switch behind this port: an x3130-upstream port and `ports` xio3130-downstream ports.
---@param opts? {ports?: integer, id?: string, chassis?: integer, first_slot?: integer}
---@return vflaunch.Switch
function Port:switch(opts) end

---A switch (port:switch{}).
---@class vflaunch.Switch
---@field upstream vflaunch.Element
---@field ports vflaunch.Port[] a copy of its downstream ports
---@field where string
local Switch = {}

---Its i-th downstream port.
---@param i integer
---@return vflaunch.Port
function Switch:port(i) end

---The first empty downstream port (nil when full).
---@return vflaunch.Port?
function Switch:free_port() end

---@return boolean
function Switch:full() end

---How the script runs (vf.options).
---@class vflaunch.Options
---@field launch boolean
---@field dry_run boolean
---@field rehearse boolean
---@field simulate string|false the simulated host's name
---@field verbose boolean
---@field quiet boolean

---The API: `local vf = require "vflaunch"`.
---@class vflaunch
---@field version string
---@field host vflaunch.Host the host's devices (read on first use)
---@field options vflaunch.Options
---@field EXIT {OK: 0, SCRIPT: 1, USAGE: 2, HOST: 3}
local vf = {}

---The guest machine (a script defines one).
---@param spec? vflaunch.MachineSpec
---@return vflaunch.Machine
function vf.machine(spec) end

---The host's devices matching every field of filter, in address order.
---@param filter? vflaunch.Filter
---@return vflaunch.HostDevice[]
function vf.find(filter) end

---The VFs of every PF matching filter, PF by PF (free applies to the VFs).
---@param filter? vflaunch.Filter
---@return vflaunch.HostDevice[]
function vf.vfs(filter) end

---pf:set_vfs(n).
---@param pf vflaunch.HostDevice|vflaunch.Address
---@param n integer
---@return vflaunch.HostDevice[]
function vf.set_vfs(pf, n) end

---A device attach put into a running guest.
---@class vflaunch.Attached
---@field id string the QEMU id (hostdevN)
---@field host vflaunch.Address
---@field port string the port it is on
---@field addr string its slot.function on that port ("00.0")
---@field guest_address string

---Hot-plug host devices into the running launch `name` (as `vflaunch attach`).
---@param name string
---@param devices vflaunch.HostDevice|vflaunch.Address|(vflaunch.HostDevice|vflaunch.Address)[]
---@param opts? {port?: string, timeout?: integer}
---@return vflaunch.Attached[]
function vf.attach(name, devices, opts) end

---Detach devices (host devices, addresses or ids, with their slot mates) from the running
---launch `name` and give them back (as `vflaunch detach`). Returns how many left the guest.
---@param name string
---@param devices vflaunch.HostDevice|string|(vflaunch.HostDevice|string)[]
---@param opts? {timeout?: integer}
---@return integer
function vf.detach(name, devices, opts) end

---"root port 'rp1'": an element as messages name it.
---@param e vflaunch.Element|vflaunch.Switch
---@return string
function vf.describe(e) end

return vf
