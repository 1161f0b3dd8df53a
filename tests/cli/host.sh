# SPDX-License-Identifier: MIT
# Sourced by run.sh: launches against a host tree (--root DIR): exec with 0/126/127, launches
# refused with every problem at once and nothing changed, and --root never touching the real
# host (no modprobe, no /dev outside DIR).

fk_host 82599 "$tmp/h1"
expect "exec" 0 "" "$vf" --root "$tmp/h1" --qemu /bin/echo tests/cli/ports-only.lua
grep -q -- "-device xio3130-downstream,id=dp2,bus=up1,addr=01.0,chassis=1,slot=3" "$tmp/out" && ok || bad "exec: echo did not get the argv"
grep -q -- "-qmp unix:$tmp/h1/run/vflaunch/ports-only/qmp.sock,server=on,wait=off" "$tmp/out" && ok || bad "exec: no QMP socket in the argv"
check "exec: the launch kept its plan" test -s "$tmp/h1/run/vflaunch/ports-only/plan.json"
check "exec: the plan is one JSON document" is_json "$tmp/h1/run/vflaunch/ports-only/plan.json"
expect "exec not found" 127 "cannot execute /nonexistent/qemu-system-aarch64" "$vf" --root "$tmp/h1" --qemu /nonexistent/qemu-system-aarch64 tests/cli/ports-only.lua
grep -q "nothing was started; nothing on the host was changed" "$tmp/err" && ok || bad "exec not found: no word on the host"
expect "exec not executable" 126 "cannot execute /etc/hostname" "$vf" --root "$tmp/h1" --qemu /etc/hostname tests/cli/ports-only.lua
check "exec failed: no record left" test ! -e "$tmp/h1/run/vflaunch/ports-only/launch.json"
# The QEMU a launch names is asked first: does it run, does it know the machine type?
printf 'local vf = require "vflaunch"\nvf.machine{ type = "virt-9.9" }\n' >"$tmp/v99.lua"
expect "machine type QEMU does not know" 1 "v99.lua:2: machine type 'virt-9.9' is not one qemu-system-aarch64 knows (it has virt" \
	"$vf" --root "$tmp/h1" "$tmp/v99.lua"
check "machine type QEMU does not know: no record" test ! -e "$tmp/h1/run/vflaunch/v99"
! grep -q "Supported machines" "$tmp/err" && ok || bad "QEMU's -machine help was echoed to stderr"
# ... and the machine options: highmem-ecam came in QEMU 8.0; no QEMU has this one.
printf 'local vf = require "vflaunch"\nvf.machine{ options = { "gic-version=3", "no-such-option=on" } }\n' >"$tmp/opt.lua"
expect "machine option QEMU does not know" 1 "opt.lua:2: machine option no-such-option is not one qemu-system-aarch64's virt has" \
	"$vf" --root "$tmp/h1" "$tmp/opt.lua"
check "machine option QEMU does not know: no record" test ! -e "$tmp/h1/run/vflaunch/opt"
expect "qemu for another arch" 1 "machine type 'virt' runs on qemu-system-aarch64, not qemu-system-x86_64" "$vf" --simulate --qemu qemu-system-x86_64 scripts/two-vfs.lua

# Refused before any change, every problem at once, the tree unchanged, nothing journaled.
printf 'local vf = require "vflaunch"\nlocal m = vf.machine{}\nm:add(vf.find{device = 0x10fb}[1]:vfs()[1])\n' >"$tmp/one.lua"
vfdir=$(readlink -f "$tmp/h1/sys/bus/pci/devices/0002:81:10.0")
mkdir -p "$tmp/h1/sys/bus/pci/drivers/ixgbevf" &&
	ln -sfn "$(realpath --relative-to="$vfdir" "$tmp/h1/sys/bus/pci/drivers/ixgbevf")" "$vfdir/driver"
# An interface of the device is up with an address (the tree names this machine's loopback,
# which is), and, with its groups gone, no IOMMU.
mkdir -p "$vfdir/net/lo"
fk_state "$tmp/h1" >"$tmp/h1.before"
expect "device in use" 3 "host device 0002:81:10.0 is in use by the host: interface lo is up with address" \
	"$vf" --root "$tmp/h1" --qemu /bin/echo "$tmp/one.lua"
grep -q "nothing was started; nothing on the host was changed" "$tmp/err" && ok || bad "device in use: no word on the host"
[ ! -s "$tmp/out" ] && ok || bad "device in use: QEMU was run anyway"
mv "$tmp/h1/sys/kernel/iommu_groups" "$tmp/h1/sys/kernel/iommu_groups.off" && mkdir "$tmp/h1/sys/kernel/iommu_groups"
expect "no IOMMU" 3 "the host has no IOMMU" "$vf" --root "$tmp/h1" --qemu /bin/echo "$tmp/one.lua"
grep -q "is in use by the host" "$tmp/err" && ok || bad "no IOMMU: the other problem was not reported with it"
rmdir "$tmp/h1/sys/kernel/iommu_groups" && mv "$tmp/h1/sys/kernel/iommu_groups.off" "$tmp/h1/sys/kernel/iommu_groups"
rm -r "$vfdir/net"
fk_state "$tmp/h1" >"$tmp/h1.after"
check "refused launches: the tree is unchanged" cmp -s "$tmp/h1.before" "$tmp/h1.after"
check "refused launches: no journal" test ! -e "$tmp/h1/run/vflaunch/one/journal"

# D11: --root never loads a module or looks at the real /dev: a tree without vfio-pci is a
# problem to report, and a missing DIR/dev/vfio/N is named under DIR.
fk_host 82599 "$tmp/h2"
vfdir=$(readlink -f "$tmp/h2/sys/bus/pci/devices/0002:81:10.0")
mkdir -p "$tmp/h2/sys/bus/pci/drivers/ixgbevf" &&
	ln -sfn "$(realpath --relative-to="$vfdir" "$tmp/h2/sys/bus/pci/drivers/ixgbevf")" "$vfdir/driver"
mv "$tmp/h2/sys/bus/pci/drivers/vfio-pci" "$tmp/h2/sys/bus/pci/drivers/vfio-pci.off"
rm -rf "$tmp/h2/sys/module/vfio_pci"
expect "root: no modprobe" 3 "vfio-pci is not loaded in $tmp/h2/sys; vflaunch loads modules only on the real host" \
	"$vf" --root "$tmp/h2" --qemu /bin/echo "$tmp/one.lua"
mv "$tmp/h2/sys/bus/pci/drivers/vfio-pci.off" "$tmp/h2/sys/bus/pci/drivers/vfio-pci"
g=$(basename "$(readlink "$tmp/h2/sys/bus/pci/devices/0002:81:10.2/iommu_group")")
rm "$tmp/h2/dev/vfio/$g"
printf 'local vf = require "vflaunch"\nlocal m = vf.machine{}\nm:add("0002:81:10.2")\n' >"$tmp/two.lua"
expect "root: /dev under DIR" 3 "vfio group device: $tmp/h2/dev/vfio/$g: No such file or directory" \
	"$vf" --root "$tmp/h2" --qemu /bin/echo "$tmp/two.lua"

# A group with a member on a host driver: refused, naming the member, nothing changed.
fk_host shared-group "$tmp/sg"
printf 'local vf = require "vflaunch"\nlocal m = vf.machine{}\nm:add("0000:03:10.4")\n' >"$tmp/grp.lua"
expect "group not viable" 3 \
	"grp.lua:3: device 'hostdev1': IOMMU group 12 of 0000:03:10.4 is not viable: 0000:04:00.0 (e1000e) is on a host driver" \
	"$vf" --root "$tmp/sg" --qemu /bin/echo "$tmp/grp.lua"
grep -q "nothing was started; nothing on the host was changed" "$tmp/err" && ok || bad "group not viable: no word on the host"
check "group not viable: no journal" test ! -e "$tmp/sg/run/vflaunch/grp/journal"
expect "list" 0 "" "$vf" list --sysfs "$tmp/sg/sys"
grep -q "^0000:03:10.4 .*vfio no: group 12 shares 0000:04:00.0 (e1000e)" "$tmp/out" && ok || bad "list: group verdict missing"
expect "list --vfs --json" 0 "" "$vf" --list --vfs --json --sysfs "$tmp/sg/sys"
grep -q '"physfn":"0000:03:00.0"' "$tmp/out" && ! grep -q '"address":"0000:04:00.0"' "$tmp/out" && ok || bad "list --vfs --json"
expect "restore with nothing to do" 0 "" "$vf" --root "$tmp/sg" restore
expect "restore an unknown name" 3 "no launch named 'nope'" "$vf" --root "$tmp/sg" restore nope
