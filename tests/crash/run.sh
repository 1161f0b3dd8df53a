#!/bin/bash
# SPDX-License-Identifier: MIT
# Crash consistency: a launch killed (SIGKILL) before any one of its sysfs writes, followed by a
# restore, leaves the host exactly as it was: every device's driver and driver_override, every
# PF's sriov_numvfs and sriov_drivers_autoprobe, every VF's MAC, VLAN and other settings (the
# simulated rtnetlink kernel keeps them in the tree, so its writes are played and killed at too).
# The launch (two-pfs.lua: 2 VF counts, 2 VF identities, 4 binds)
# runs under the fake kernel (build/fakekernel.so); a clean launch first counts its writes W,
# then for k = 1..W a fresh host sees the launch killed just before write k, then a restore.
# A clean launch followed by a restore must give the host back too. Both with VFs that keep
# their drivers through an SR-IOV count change, and with VFs that go and come back (FK_SRIOV_VFS).
# Usage: run.sh VFLAUNCH MKSIMHOST FAKEKERNEL.SO   (as root: a launch needs it)
set -eu
VFLAUNCH=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
MKSIMHOST=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
FK_SO=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
dir=$(cd "$(dirname "$0")" && pwd)
. "$dir/../cli/fklib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# A fresh host: the 82599 with the four VFs to bind on ixgbevf (its VFs are on vfio-pci in the
# table), so that each bind has a driver to take the VF from and to give it back to.
host() {
	rm -rf "$1"
	fk_host 82599 "$1" >/dev/null
	for a in 0002:81:10.0 0002:81:10.2 0002:81:10.1 0002:81:10.3; do
		fk_set_driver "$1" "$a" ixgbevf
	done
}

# The host's state: fklib's, and each VF's settings as vflaunch list reads them (core.net).
state() {
	fk_state "$1"
	"$VFLAUNCH" --root "$1" list --vfs --json | jq -c '.[] | select(.net != null) | [.address, .net]'
}

# One case: the launch (killed at write $2, or never with 0), then a restore; compare.
one() {
	local name=$1 k=$2 root=$tmp/$1 rc=0 want=137
	host "$root"
	state "$root" >"$tmp/before"
	: >"$root/log"
	[ "$k" -gt 0 ] || want=0
	FK_KILL_AT=$k FK_COUNT=$root/count FK_LOG=$root/log vfl_launch "$root" "$dir/two-pfs.lua" \
		>"$tmp/launch.out" 2>"$tmp/launch.err" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail=$((fail + 1))
		echo "FAIL: $name: launch exit $rc, want $want"
		sed 's/^/  | /' "$tmp/launch.err" | head -10
		return
	fi
	rc=0
	FK_LOG=$root/log vfl_restore "$root" >"$tmp/restore.out" 2>"$tmp/restore.err" || rc=$?
	state "$root" >"$tmp/after"
	if [ "$rc" -ne 0 ] || ! diff -u "$tmp/before" "$tmp/after" >"$tmp/diff"; then
		fail=$((fail + 1))
		echo "FAIL: $name: restore exit $rc; host state differs from the original:"
		sed 's/^/  | /' "$tmp/diff" | grep '^  | [-+][^-+]' | head -10
		sed 's/^/  | restore: /' "$tmp/restore.err" | head -5
		echo "  writes played (launch, then restore):"
		sed 's/^/  |   /' "$root/log"
		return
	fi
	pass=$((pass + 1))
}

# Each model of SR-IOV in turn: VFs that keep their drivers through a count change (the fake
# kernel's default), and VFs that go with the count and come back probed (FK_SRIOV_VFS=1), as on
# a real host, where a restore must set autoprobe back before the count.
for model in 0 1; do
	export FK_SRIOV_VFS=$model
	# W: the writes of a clean launch.
	host "$tmp/count"
	rc=0
	FK_COUNT=$tmp/count/count vfl_launch "$tmp/count" "$dir/two-pfs.lua" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" -ne 0 ] || [ ! -s "$tmp/count/count" ]; then
		echo "FAIL: FK_SRIOV_VFS=$model: the clean launch did not run (exit $rc)"
		sed 's/^/  | /' "$tmp/err"
		exit 1
	fi
	W=$(cat "$tmp/count/count")
	echo "crash: FK_SRIOV_VFS=$model: a clean launch plays $W sysfs writes"
	# 2 x 3 SR-IOV writes, 2 x 2 identity writes (MAC, VLAN), and 4 binds of 3 writes (2 when
	# the VF came back without a driver)
	[ "$W" -ge 18 ] || { echo "FAIL: fewer writes than 2 x 3 SR-IOV + 2 x 2 identity + 4 x 2 bind steps"; exit 1; }
	one "sriov-vfs-$model-clean" 0
	for k in $(seq 1 "$W"); do one "sriov-vfs-$model-kill-at-$k" "$k"; done
done
echo "crash: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
