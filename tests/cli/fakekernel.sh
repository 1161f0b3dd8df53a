#!/bin/bash
# SPDX-License-Identifier: MIT
# Tests of the LD_PRELOAD fake kernel (build/fakekernel.so) with the real binary: each knob does
# what tests/tools/fakekernel.c says, so that CLI, crash and fuzz tests built on it can be trusted.
# Usage: fakekernel.sh VFLAUNCH MKSIMHOST FAKEKERNEL.SO   (as root: a launch needs it)
set -eu
VFLAUNCH=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
MKSIMHOST=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
FK_SO=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
dir=$(cd "$(dirname "$0")" && pwd)
. "$dir/fklib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() {
	fail=$((fail + 1))
	echo "FAIL: $*"
	for f in "$tmp/out" "$tmp/err" "$T/log"; do
		[ -s "$f" ] && { echo "  $(basename "$f"):"; sed 's/^/  | /' "$f" | head -20; }
	done
	return 0
}
# check NAME COMMAND...: the command (a test) succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok; else bad "$name"; fi
}
# run CMD...: status into $rc, output into $tmp/out and $tmp/err; never stops the script.
run() {
	rc=0
	"$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
}
driver() { local l="$T/sys/bus/pci/devices/$1/driver"; [ -L "$l" ] && basename "$(readlink "$l")" || echo -; }
attr() { cat "$T/sys/bus/pci/devices/$1/$2"; }
fresh() { T=$tmp/$1; fk_host shared-group "$T"; }
same_log() { printf '%s\n' "$@" | diff -u - "$T/log" >"$tmp/diff"; }

# 0000:03:10.6 (VF 3 of the shared-group host) is alone in group 13 on ixgbevf: a launch binds it.
VF=0000:03:10.6 PF=0000:03:00.0
printf 'local vf = require "vflaunch"\nlocal m = vf.machine{}\nm:add("%s")\n' "$VF" >"$tmp/one.lua"

# A launch plays override, unbind, probe (FK_LOG, exact); a separate restore process agrees on
# the native driver through fk-native: the probe with the override cleared binds ixgbevf, not
# the vfio-pci the tree holds by then.
fresh plain
FK_LOG=$T/log run vfl_launch "$T" "$tmp/one.lua"
check "launch exits 0 (exit $rc)" [ "$rc" -eq 0 ]
check "launch binds the VF to vfio-pci" [ "$(driver $VF)" = vfio-pci ]
check "launch: the write sequence" same_log "$VF/driver_override=vfio-pci" "drivers/ixgbevf/unbind=$VF" "drivers_probe=$VF"
check "fk-native records the original driver" grep -qx "$VF=ixgbevf" "$T/fk-native"
: >"$T/log"
FK_LOG=$T/log run vfl_restore "$T"
check "restore exits 0 (exit $rc)" [ "$rc" -eq 0 ]
check "restore gives the native driver back" [ "$(driver $VF)" = ixgbevf ]
check "restore clears the override" [ "$(attr $VF driver_override)" = "(null)" ]
check "restore: the write sequence" same_log "$VF/driver_override=\\n" "drivers/vfio-pci/unbind=$VF" "drivers_probe=$VF"

# FK_REFUSE: the probe write succeeds and binds nothing.
fresh refuse
run vfl_launch "$T" "$tmp/one.lua"
FK_REFUSE=ixgbevf FK_LOG=$T/log run vfl_restore "$T"
check "FK_REFUSE: the device has no driver after the probe" [ "$(driver $VF)" = - ]
check "FK_REFUSE: the probe write itself succeeded" grep -qx "drivers_probe=$VF" "$T/log"

# FK_FAIL: the matching write fails with the errno and changes nothing (O_TRUNC dropped: the
# override keeps its old text); the launch rolls back. An address with ':' in the SUBSTRING.
fresh fail
FK_FAIL=drivers_probe:0:1:EBUSY FK_LOG=$T/log run vfl_launch "$T" "$tmp/one.lua"
check "FK_FAIL probe: launch exits 3 (exit $rc)" [ "$rc" -eq 3 ]
check "FK_FAIL probe: the errno reaches the message" grep -q "drivers_probe: .*Device or resource busy" "$tmp/err"
check "FK_FAIL probe: logged as failed, then the rollback" same_log "$VF/driver_override=vfio-pci" \
	"drivers/ixgbevf/unbind=$VF" "drivers_probe=$VF !fail" "$VF/driver_override=\\n" "drivers_probe=$VF"
check "FK_FAIL probe: rolled back to ixgbevf" [ "$(driver $VF)" = ixgbevf ]
fresh fail2
FK_FAIL=$VF/driver_override:0:1:EACCES FK_LOG=$T/log run vfl_launch "$T" "$tmp/one.lua"
check "FK_FAIL with an address: exit 3 (exit $rc)" [ "$rc" -eq 3 ]
check "FK_FAIL with an address: EACCES" grep -q "driver_override: .*Permission denied" "$tmp/err"
check "FK_FAIL: a failed write leaves the attribute as it was" [ "$(attr $VF driver_override)" = "(null)" ]
check "FK_FAIL: one write, failed" same_log "$VF/driver_override=vfio-pci !fail"
fresh fail3
FK_FAIL=unbind:0:1:short FK_LOG=$T/log run vfl_launch "$T" "$tmp/one.lua"
check "FK_FAIL short: a short write is EIO (exit $rc)" grep -q "unbind: .*Input/output error" "$tmp/err"
fresh fail4
FK_FAIL=drivers_probe:1 FK_LOG=$T/log run vfl_launch "$T" "$tmp/one.lua"
check "FK_FAIL SKIP: the first probe is let through" same_log "$VF/driver_override=vfio-pci" \
	"drivers/ixgbevf/unbind=$VF" "drivers_probe=$VF"
check "FK_FAIL SKIP: launch exits 0 (exit $rc)" [ "$rc" -eq 0 ]

# The kernel's own refusals, through dash (its echo is one write(2) after an open with O_TRUNC;
# it reports every errno as "I/O error", so the log and the state tell what happened).
fresh sriov
numvfs=$T/sys/bus/pci/devices/$PF/sriov_numvfs
FK_LOG=$T/log run fk_env "$T" dash -c "echo 3 > $numvfs"
check "sriov_numvfs 4 -> 3 fails (EBUSY)" [ "$rc" -ne 0 ] && check "sriov_numvfs keeps 4" [ "$(attr $PF sriov_numvfs)" = 4 ]
FK_LOG=$T/log run fk_env "$T" dash -c "echo 9 > $numvfs"
check "sriov_numvfs above totalvfs fails (ERANGE)" [ "$rc" -ne 0 ] && check "sriov_numvfs still 4" [ "$(attr $PF sriov_numvfs)" = 4 ]
FK_LOG=$T/log run fk_env "$T" dash -c "echo 0 > $numvfs && echo 2 > $numvfs"
check "sriov_numvfs through 0 (exit $rc)" [ "$rc" -eq 0 ] && check "sriov_numvfs is 2" [ "$(attr $PF sriov_numvfs)" = 2 ]
FK_LOG=$T/log run fk_env "$T" dash -c "echo $VF > $T/sys/bus/pci/drivers/vfio-pci/unbind"
check "unbind from a driver the device is not on fails (ENODEV)" [ "$rc" -ne 0 ]
check "sriov and unbind: the log" same_log "$PF/sriov_numvfs=3\\n !fail" "$PF/sriov_numvfs=9\\n !fail" \
	"$PF/sriov_numvfs=0\\n" "$PF/sriov_numvfs=2\\n" "drivers/vfio-pci/unbind=$VF\\n !fail"

# FK_SRIOV_VFS: a count of 0 unbinds the PF's VFs; a count from 0 with autoprobe on probes the
# first n with their native drivers, with autoprobe off none.
fresh sriovvfs
numvfs=$T/sys/bus/pci/devices/$PF/sriov_numvfs
FK_SRIOV_VFS=1 run fk_env "$T" dash -c "echo 0 > $numvfs"
check "FK_SRIOV_VFS: count 0 leaves VF 3 without a driver" [ "$(driver $VF)" = - ]
check "FK_SRIOV_VFS: count 0 leaves VF 0 without a driver" [ "$(driver 0000:03:10.0)" = - ]
FK_SRIOV_VFS=1 run fk_env "$T" dash -c "echo 4 > $numvfs"
check "FK_SRIOV_VFS: count 4 with autoprobe probes VF 3 (ixgbevf)" [ "$(driver $VF)" = ixgbevf ]
check "FK_SRIOV_VFS: count 4 with autoprobe probes VF 0 (vfio-pci)" [ "$(driver 0000:03:10.0)" = vfio-pci ]
FK_SRIOV_VFS=1 run fk_env "$T" dash -c "echo 0 > $numvfs; echo 0 > $T/sys/bus/pci/devices/$PF/sriov_drivers_autoprobe; echo 2 > $numvfs"
check "FK_SRIOV_VFS: with autoprobe off a new VF stays without a driver" [ "$(driver 0000:03:10.0)" = - ]

# FK_SLOW: three writes of 300 ms take at least 0.9 s.
fresh slow
t0=$(date +%s%N)
FK_SLOW=300 run vfl_launch "$T" "$tmp/one.lua"
ms=$((($(date +%s%N) - t0) / 1000000))
check "FK_SLOW=300: launch of 3 writes took ${ms} ms" [ "$ms" -ge 900 ]

# FK_COUNT: the running count across processes (launch 3, restore 3 more).
fresh count
FK_COUNT=$T/count run vfl_launch "$T" "$tmp/one.lua"
check "FK_COUNT after a launch is 3" [ "$(cat "$T/count")" = 3 ]
FK_COUNT=$T/count run vfl_restore "$T"
check "FK_COUNT runs on across processes: 6" [ "$(cat "$T/count")" = 6 ]

# FK_KILL_AT: SIGKILL just before the N-th write; the journal on disk lets a restore give
# everything back. With FK_COUNT, N counts on from the file.
fresh kill
before=$(fk_state "$T")
FK_KILL_AT=2 FK_LOG=$T/log run vfl_launch "$T" "$tmp/one.lua"
check "FK_KILL_AT=2: killed by SIGKILL (exit $rc)" [ "$rc" -eq 137 ]
check "FK_KILL_AT=2: exactly one write was played" same_log "$VF/driver_override=vfio-pci"
run vfl_restore "$T"
check "FK_KILL_AT=2: restore after the kill exits 0 (exit $rc)" [ "$rc" -eq 0 ]
check "FK_KILL_AT=2: restore gives the original state back" [ "$(fk_state "$T")" = "$before" ]
fresh killcount
echo 1 >"$T/count"
FK_COUNT=$T/count FK_KILL_AT=3 FK_LOG=$T/log run vfl_launch "$T" "$tmp/one.lua"
check "FK_KILL_AT with FK_COUNT: killed (exit $rc)" [ "$rc" -eq 137 ]
check "FK_KILL_AT with FK_COUNT: one write played (count 1 -> 2)" same_log "$VF/driver_override=vfio-pci"
check "FK_KILL_AT with FK_COUNT: the count says 2" [ "$(cat "$T/count")" = 2 ]

# FK_MEMLOCK: RLIMIT_MEMLOCK as the process sees it (sh's ulimit -l shows KiB).
check "FK_MEMLOCK=1048576 seen as 1024 KiB" [ "$(LD_PRELOAD=$FK_SO FK_MEMLOCK=1048576 sh -c 'ulimit -l')" = 1024 ]
check "FK_MEMLOCK can be raised in the process" \
	[ "$(LD_PRELOAD=$FK_SO FK_MEMLOCK=1048576 bash -c 'ulimit -l 4096; ulimit -l')" = 4096 ]

# Without FK_ROOT, nothing is played: a write under the tree is a plain file write.
fresh passthrough
run env LD_PRELOAD="$FK_SO" sh -c "printf 3 > $T/sys/bus/pci/devices/$PF/sriov_numvfs"
check "no FK_ROOT: plain writes (exit $rc)" [ "$rc" -eq 0 ] && check "no FK_ROOT: the file holds 3" [ "$(attr $PF sriov_numvfs)" = 3 ]

echo "fakekernel: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
