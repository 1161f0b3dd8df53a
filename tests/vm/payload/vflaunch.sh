#!/bin/sh
# SPDX-License-Identifier: MIT
# Payload: vflaunch against the real kernel of the test host (tests/vm/run.sh vflaunch). Checks:
#  1. list shows both SR-IOV PFs; after a script asks for VFs, list shows them with their PF
#     and their own IOMMU groups, and a second run of that script changes nothing;
#  2. --supervise runs QEMU (a stand-in) as a child with the 16 VFs bound, forwards SIGTERM to
#     it, and gives every device back when it exits;
#  3. a non-viable group (a sibling function on the host's nvme driver) is refused, nothing changed;
#  4. a device that cannot be bound (fault injected through the test build, vflaunch-testing)
#     rolls every bind back, nothing changed, while the shipped binary ignores the injection; a
#     QEMU binary that cannot be executed after the binds (127) gives everything back too;
#  5. a launch binds 16 VFs from both PFs and execs the nested aarch64 virt guest, which must
#     enumerate all 16 behind a switch; then restore gives every device back, and a second
#     restore changes nothing.
# Launch state lives under /run/vflaunch/NAME/ (NAME: the script's file name without .lua here).
set -u
P=/payload
S=/run/vflaunch

pass() { echo "VMTEST-PASS $1"; }
fail() { echo "VMTEST-FAIL $*"; }   # no variables: callers keep theirs
now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# Every device's driver and driver_override, and every PF's VF count: what "nothing changed" means.
state() {
	for d in /sys/bus/pci/devices/*; do
		drv=-; [ -e "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
		printf '%s %s %s %s\n' "${d##*/}" "$drv" "$(cat "$d/driver_override" 2>/dev/null)" \
			"$(cat "$d/sriov_numvfs" 2>/dev/null)"
	done
}
# run NAME WANT-STATUS CMD...: output in /tmp/NAME.out, status checked.
run() {
	n=$1 want=$2
	shift 2
	t=$(now)
	"$@" >"/tmp/$n.out" 2>&1
	st=$?
	echo "VMTEST-INFO $n: exit $st in $(elapsed "$t") s: $*"
	if [ "$st" -eq "$want" ]; then pass "$n-status"; else
		fail "$n-status" "exit $st, want $want"; sed 's/^/  | /' "/tmp/$n.out" | tail -n 30
	fi
}
has() { # has NAME PATTERN FILE
	if grep -q -- "$2" "$3"; then pass "$1"; else fail "$1" "no '$2' in $3"; sed 's/^/  | /' "$3" | tail -n 20; fi
}

# 1. inventory
run list 0 vflaunch list --vfs
has list-pfs "PF 0/127 VFs" /tmp/list.out
[ "$(grep -c 'PF 0/127 VFs' /tmp/list.out)" -eq 2 ] && pass list-two-pfs || fail list-two-pfs "$(cat /tmp/list.out)"
run mkvfs 0 vflaunch $P/vfs-only.lua 8
# A script that changes VF counts and defines no guest keeps the changes as launch 'vfs-only'.
has mkvfs-recorded "recorded as launch 'vfs-only'" /tmp/mkvfs.out
run list-vfs 0 vflaunch list --vfs
[ "$(grep -c ' VF of ' /tmp/list-vfs.out)" -eq 16 ] && pass list-16-vfs || fail list-16-vfs "$(cat /tmp/list-vfs.out)"
bad=$(awk '/ VF of /{ g[$5]++ } END { for (k in g) if (g[k] > 1) print k }' /tmp/list-vfs.out)
[ -z "$bad" ] && pass vf-own-groups || fail vf-own-groups "shared groups: $bad"
has list-pf-count "PF 8/127 VFs" /tmp/list-vfs.out
state >/tmp/s1
run mkvfs-again 0 vflaunch $P/vfs-only.lua 8
state >/tmp/s2
cmp -s /tmp/s1 /tmp/s2 && pass mkvfs-idempotent || fail mkvfs-idempotent "$(diff /tmp/s1 /tmp/s2 | head)"
# Give the counts back to 0 so the launches below start from PFs without VFs.
run restore-mkvfs 0 vflaunch restore vfs-only
has restore-mkvfs-message "vfs-only: 2 VF counts back; journal $S/vfs-only/journal" /tmp/restore-mkvfs.out
[ ! -e "$S/vfs-only" ] && pass restore-mkvfs-record-gone || fail restore-mkvfs-record-gone "$S/vfs-only is left"
[ "$(cat /sys/bus/pci/devices/*/sriov_numvfs 2>/dev/null | sort -u)" = 0 ] && pass mkvfs-restored || fail mkvfs-restored "numvfs: $(cat /sys/bus/pci/devices/*/sriov_numvfs)"

# 2. --supervise: QEMU (a stand-in that waits) runs as a child with 16 VFs bound; a SIGTERM to
# vflaunch reaches it, and when it exits every device and VF count is given back.
state >/tmp/before
rm -f /tmp/fake-qemu.*
vflaunch --supervise --qemu $P/fake-qemu.sh $P/vfs16.lua 8 16 >/tmp/roe.out 2>&1 &
pid=$!
i=0
while [ ! -e /tmp/fake-qemu.bound ] && [ "$i" -lt 120 ]; do sleep 1; i=$((i + 1)); done
[ "$(cat /tmp/fake-qemu.bound 2>/dev/null)" = 16 ] && pass roe-bound-16 || fail roe-bound-16 "$(cat /tmp/fake-qemu.bound 2>/dev/null) bound; $(tail -n 5 /tmp/roe.out)"
kill -TERM "$pid"
wait "$pid"
st=$?
[ "$st" -eq 143 ] && pass roe-status || fail roe-status "exit $st, want QEMU's 143"
[ "$(cat /tmp/fake-qemu.signal 2>/dev/null)" = TERM ] && pass roe-signal-forwarded || fail roe-signal-forwarded "the child got no SIGTERM"
has roe-restored "QEMU exited (status 143); 16 devices back on their drivers, 2 VF counts back; journal $S/vfs16/journal" /tmp/roe.out
state >/tmp/after
cmp -s /tmp/before /tmp/after && pass roe-host-as-before || fail roe-host-as-before "$(diff /tmp/before /tmp/after | head)"

# 3. a group that is not viable: refused, nothing changed
state >/tmp/before
run sibling 3 vflaunch $P/sibling.lua
has sibling-message "is not viable: .* (nvme) is on a host driver" /tmp/sibling.out
has sibling-nothing "nothing was started; nothing on the host was changed" /tmp/sibling.out
state >/tmp/after
cmp -s /tmp/before /tmp/after && pass sibling-host-as-before || fail sibling-host-as-before "$(diff /tmp/before /tmp/after | head)"

# 4. the 9th device cannot be bound: the eight before it and the VF counts are given back. Only the
# test build (compiled with -DVFLAUNCH_TESTING) honours the fault injection.
vflaunch $P/vfs-only.lua 8 >/dev/null 2>&1 && vflaunch list --vfs >/tmp/l 2>&1
ninth=$(awk '/ VF of /{ print $1 }' /tmp/l | sed -n 9p)
vflaunch restore vfs-only >/dev/null 2>&1
state >/tmp/before
run unbindable 3 env VFLAUNCH_TEST_UNBINDABLE="$ninth" vflaunch-testing $P/vfs16.lua 8 16
has unbindable-message "cannot bind $ninth to vfio-pci: verify" /tmp/unbindable.out
# The devices bound before it go back, the untouched ones are "already as before", the counts go back.
has unbindable-rollback "nothing was started; every change was given back ([0-9]* devices\{0,1\} back on .*2 VF counts back" /tmp/unbindable.out
state >/tmp/after
cmp -s /tmp/before /tmp/after && pass unbindable-host-as-before || fail unbindable-host-as-before "$(diff /tmp/before /tmp/after | head)"
[ ! -e "$S/vfs16" ] && pass unbindable-no-record || fail unbindable-no-record "$S/vfs16 is left after a launch that never started"
# The shipped binary never honours the test seam: the same launch binds all 16 (QEMU: /bin/true).
run unbindable-ignored 0 env VFLAUNCH_TEST_UNBINDABLE="$ninth" vflaunch --qemu /bin/true $P/vfs16.lua 8 16
d=$(readlink "/sys/bus/pci/devices/$ninth/driver")
[ "${d##*/}" = vfio-pci ] && pass unbindable-ignored-bound || fail unbindable-ignored-bound "$ninth is on '${d##*/}', not vfio-pci"
run unbindable-ignored-restore 0 vflaunch restore vfs16
state >/tmp/after
cmp -s /tmp/before /tmp/after && pass unbindable-ignored-host-as-before || fail unbindable-ignored-host-as-before "$(diff /tmp/before /tmp/after | head)"

# 4b. A QEMU that is not there is found before any bind (vflaunch runs `-machine help` first):
# 127, only the VF counts the script set to give back.
state >/tmp/before
run noqemu 127 vflaunch --qemu /nonexistent/qemu-system-aarch64 $P/vfs16.lua 8 16
has noqemu-before-binding "nothing was bound" /tmp/noqemu.out
has noqemu-given-back "nothing was started; every change was given back (2 VF counts back; " /tmp/noqemu.out
state >/tmp/after
cmp -s /tmp/before /tmp/after && pass noqemu-host-as-before || fail noqemu-host-as-before "$(diff /tmp/before /tmp/after | head)"
# 4c. A program not named like QEMU (a wrapper) is not asked: it fails at exec, after the binds,
# and every device is given back: 127.
state >/tmp/before
run nowrapper 127 vflaunch --qemu /nonexistent/qemu-wrapper $P/vfs16.lua 8 16
has nowrapper-given-back "nothing was started; every change was given back (16 devices back on their drivers, 2 VF counts back; " /tmp/nowrapper.out
state >/tmp/after
cmp -s /tmp/before /tmp/after && pass nowrapper-host-as-before || fail nowrapper-host-as-before "$(diff /tmp/before /tmp/after | head)"

# 5. exec QEMU (vflaunch is gone when it exits), then restore
state >/tmp/before
run exec 0 vflaunch $P/vfs16.lua 8 16
n=$(grep -c 'VFLAUNCH-PCI .* 1b36:0010 010802' /tmp/exec.out)
[ "$n" -eq 16 ] && pass exec-nested-sees-16 || fail exec-nested-sees-16 "saw $n"
bound=$(for d in /sys/bus/pci/devices/*; do [ "$(basename "$(readlink "$d/driver" 2>/dev/null)")" = vfio-pci ] && echo x; done | grep -c x)
[ "$bound" -eq 16 ] && pass exec-left-bound || fail exec-left-bound "$bound on vfio-pci after QEMU exited"
# Without a name: every launch whose guest is gone (the one above).
run restore 0 vflaunch restore
has restore-message "vfs16: 16 devices back on their drivers, 2 VF counts back; journal $S/vfs16/journal" /tmp/restore.out
state >/tmp/after
cmp -s /tmp/before /tmp/after && pass restore-host-as-before || fail restore-host-as-before "$(diff /tmp/before /tmp/after | head)"
run restore-again 0 vflaunch restore
state >/tmp/again
cmp -s /tmp/after /tmp/again && pass restore-idempotent || fail restore-idempotent "$(diff /tmp/after /tmp/again | head)"
