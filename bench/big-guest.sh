#!/bin/sh
# SPDX-License-Identifier: MIT
# The hand-written shell wrapper vflaunch replaces, doing what scripts/big-guest.lua does and no
# more: find the dual-port 82599's PFs (8086:10fb) in sysfs, take their VFs in virtfnN order, check
# each is bound to vfio-pci, lay them out on switches of 32 downstream ports under root ports (same
# ids, addresses and chassis/slot pairs as vflaunch), and exec QEMU. Written to be quick: one
# readlink for all of a PF's VFs, no fork per device. The peer of vflaunch in bench/plan.sh.
# Usage: big-guest.sh SYSFS QEMU [COUNT [PORTS_PER_SWITCH]]   (PRINT=1: print, do not exec;
# QMP=SOCKET: a QMP monitor there, as vflaunch gives every launch)
set -eu
sys=$1 qemu=$2 count=${3:-64} per=${4:-32}
devs=$sys/bus/pci/devices

vfs=
for d in "$devs"/*; do
	read -r v <"$d/vendor"; read -r p <"$d/device"
	[ "$v" = 0x8086 ] && [ "$p" = 0x10fb ] && [ -e "$d/virtfn0" ] || continue
	links='' i=0
	while [ -e "$d/virtfn$i" ]; do links="$links $d/virtfn$i"; i=$((i + 1)); done
	# shellcheck disable=SC2086
	vfs="$vfs $(readlink $links | sed 's,.*/,,' | tr '\n' ' ')"
done
set -- $vfs
[ $# -ge "$count" ] || { echo "big-guest.sh: this host has $# 82599 VFs, $count were asked for" >&2; exit 1; }

# Every VF must be on vfio-pci already, or QEMU fails to open it.
drivers=
for a in $(printf '%s\n' "$@" | head -n "$count"); do drivers="$drivers $devs/$a/driver"; done
# shellcheck disable=SC2086
bad=$(readlink $drivers | grep -vn '/vfio-pci$' | head -n 1) || true
[ -z "$bad" ] || { echo "big-guest.sh: VF number ${bad%%:*} is not bound to vfio-pci" >&2; exit 3; }

# The same layout and names as vflaunch: rpN in slots 01.., chassis 1, slots numbered in creation order.
vflist=$*
set -- -machine virt,gic-version=3 -name big-guest -accel kvm -cpu host -smp 8 -m 16G \
	-kernel /var/lib/vflaunch/Image -initrd /var/lib/vflaunch/initrd.img \
	-append "console=ttyAMA0 root=/dev/vda"
i=0 sw=0 cslot=0 dp=0
for a in $vflist; do
	[ "$i" -lt "$count" ] || break
	if [ $((i % per)) -eq 0 ]; then
		sw=$((sw + 1)) cslot=$((cslot + 1))
		set -- "$@" -device "pcie-root-port,id=rp$sw,bus=pcie.0,addr=$(printf %02x "$sw").0,chassis=1,slot=$cslot,io-reserve=0" \
			-device "x3130-upstream,id=up$sw,bus=rp$sw,addr=00.0"
		k=0
	fi
	dp=$((dp + 1)) cslot=$((cslot + 1)) i=$((i + 1))
	set -- "$@" -device "xio3130-downstream,id=dp$dp,bus=up$sw,addr=$(printf %02x "$k").0,chassis=1,slot=$cslot" \
		-device "vfio-pci,host=$a,id=hostdev$i,bus=dp$dp,addr=00.0"
	k=$((k + 1))
done
set -- "$@" -nographic -nic none
[ -z "${QMP:-}" ] || set -- "$@" -qmp "unix:$QMP,server=on,wait=off"
if [ "${PRINT:-0}" = 1 ]; then printf '%s\n' "$qemu" "$@"; exit 0; fi
exec "$qemu" "$@"
