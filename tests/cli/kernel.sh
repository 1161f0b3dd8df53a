# SPDX-License-Identifier: MIT
# Sourced by run.sh: launches, rollbacks and restores under the fake kernel (build/fakekernel.so,
# an LD_PRELOAD shim that plays sysfs writes as the kernel would; tests/cli/fklib.sh), where a
# bind really moves a device from its driver. Nothing is called given back unless it is: every
# case compares the tree with its state before.
[ -n "$fakekernel" ] || { bad "kernel: no fake kernel given (run.sh VFLAUNCH MKSIMHOST FAKEKERNEL.so)"; return; }

# A host whose VFs 10.0, 10.2 (PF 00.0) and 10.1, 10.3 (PF 00.1) sit on ixgbevf, their native
# driver, so that a launch has something to bind and a restore something to give back.
khost() {
	rm -rf "$1"
	fk_host 82599 "$1" >/dev/null
	for a in 0002:81:10.0 0002:81:10.2 0002:81:10.1 0002:81:10.3; do fk_set_driver "$1" "$a" ixgbevf; done
}
kscript() { # kscript FILE NAME ADDR...: a machine NAME with those devices
	f=$1 n=$2
	shift 2
	{ printf 'local vf = require "vflaunch"\nlocal m = vf.machine{ name = "%s", memory = "256M" }\n' "$n"
	  for a in "$@"; do printf 'm:root_port():add("%s")\n' "$a"; done; } >"$f"
}
# klaunch ROOT ARGS...: a launch on the fake host (QEMU: /bin/true unless ARGS say otherwise);
# krun ROOT ARGS...: any command there. $KENV: more fake-kernel knobs (FK_REFUSE=...).
KENV=
klaunch() { r=$1; shift; fk_env "$r" env $KENV "$vf" --root "$r" --qemu /bin/true "$@"; }
krun() { r=$1; shift; fk_env "$r" env $KENV "$vf" --root "$r" "$@"; }

K=$tmp/k
kscript "$tmp/k2.lua" k2 0002:81:10.0 0002:81:10.2

# A clean launch: both VFs bound, the launch "gone" once QEMU (/bin/true) ended, its devices
# still bound and shown so; restore gives the host back exactly.
khost "$K"; fk_state "$K" >"$tmp/k.before"
expect "kernel: launch" 0 "" klaunch "$K" "$tmp/k2.lua"
[ "$(fk_state "$K" | grep -c 'driver=vfio-pci')" -ge 2 ] && ok || bad "kernel: launch: the VFs are not on vfio-pci"
expect "kernel: status gone" 0 "" krun "$K" status k2
grep -q "^k2 *gone" "$tmp/out" && grep -q "2 changes still applied: 'vflaunch restore k2'" "$tmp/out" && ok || { bad "kernel: status of an ended launch"; cat "$tmp/out"; }
expect "kernel: restore" 0 "k2: 2 devices back on their drivers" krun "$K" restore k2
fk_state "$K" >"$tmp/k.after"
check "kernel: restore gives the host back" cmp -s "$tmp/k.before" "$tmp/k.after"
expect "kernel: restore again" 3 "no launch named 'k2'" krun "$K" restore k2

# D1: the original driver does not take the device back: not "given back". The rollback after
# a failed bind says where each device is, exits 3, and leaves the journal open for the next
# restore, which gives everything back once the driver binds again.
khost "$K"; fk_state "$K" >"$tmp/k.before"
KENV="FK_FAIL=drivers_probe:1:1 FK_REFUSE=ixgbevf"
expect "D1: rollback with a refusing driver" 3 "giving back failed: .*0002:81:10.0 has no driver, not ixgbevf" \
	klaunch "$K" "$tmp/k2.lua"
KENV=
! grep -q "every change was given back" "$tmp/err" && ok || bad "D1: a failed rollback claimed success"
grep -q "run 'vflaunch restore k2'" "$tmp/err" && ok || bad "D1: no way out named"
check "D1: the journal entry stays open" grep -q "state=recorded" "$K/run/vflaunch/k2/journal"
KENV=FK_REFUSE=ixgbevf
expect "D1: restore with the driver still refusing" 3 "0002:81:10.0 has no driver, not ixgbevf" krun "$K" restore k2
KENV=
expect "D1: restore once the driver binds" 0 "" krun "$K" restore k2
fk_state "$K" >"$tmp/k.after"
check "D1: the host is back after all" cmp -s "$tmp/k.before" "$tmp/k.after"

# D6: a plan error, or os.exit, after pf:set_vfs(): the VF count goes back and the message says so.
khost "$K"; fk_state "$K" >"$tmp/k.before"
printf 'local vf = require "vflaunch"\nvf.find{device = 0x10fb}[1]:set_vfs(8)\nvf.machine{}:add("0002:99:00.0")\n' >"$tmp/d6.lua"
expect "D6: plan error after set_vfs" 1 "nothing was started; every change was given back (1 VF count back" klaunch "$K" "$tmp/d6.lua"
fk_state "$K" >"$tmp/k.after"
check "D6: the VF count is back" cmp -s "$tmp/k.before" "$tmp/k.after"
printf 'local vf = require "vflaunch"\nvf.find{device = 0x10fb}[1]:set_vfs(8)\nos.exit(0)\n' >"$tmp/d6b.lua"
expect "D6: os.exit after set_vfs" 0 "every change was given back (1 VF count back" klaunch "$K" "$tmp/d6b.lua"
fk_state "$K" >"$tmp/k.after"
check "D6: os.exit: the VF count is back" cmp -s "$tmp/k.before" "$tmp/k.after"
check "D6: nothing left in the state directory" test -z "$(ls "$K/run/vflaunch" | grep -v '^lock')"
# A script that only sets VF counts keeps them, recorded for restore.
printf 'local vf = require "vflaunch"\nvf.find{device = 0x10fb}[1]:set_vfs(8)\n' >"$tmp/counts.lua"
expect "set_vfs alone" 0 "recorded as launch 'counts'" klaunch "$K" "$tmp/counts.lua"
expect "set_vfs alone: restore" 0 "counts: 1 VF count back" krun "$K" restore
fk_state "$K" >"$tmp/k.after"
check "set_vfs alone: restore gives the count back" cmp -s "$tmp/k.before" "$tmp/k.after"

# D23: SIGTERM while devices are being bound: the bind under way completes, every change is
# given back, and the status is the signal's.
kscript "$tmp/k4.lua" k4 0002:81:10.0 0002:81:10.2 0002:81:10.1 0002:81:10.3
khost "$K"; fk_state "$K" >"$tmp/k.before"
# (env execs vflaunch: $! is vflaunch's pid, which a function in the background would not be)
env LD_PRELOAD="$FK_SO" FK_ROOT="$K" FK_MEMLOCK=unlimited FK_SLOW=300 "$vf" --root "$K" \
	--qemu /bin/true "$tmp/k4.lua" >"$tmp/out" 2>"$tmp/err" &
p=$!
sleep 1.5
kill -TERM "$p"
wait "$p"
st=$?
[ "$st" -eq 143 ] && ok || { bad "D23: SIGTERM during binding: exit $st, want 143"; cat "$tmp/err"; }
grep -q "interrupted by SIGTERM" "$tmp/err" && grep -q "every change was given back" "$tmp/err" && ok || { bad "D23: no word on the give-back"; cat "$tmp/err"; }
fk_state "$K" >"$tmp/k.after"
check "D23: the host is back" cmp -s "$tmp/k.before" "$tmp/k.after"

# D5: two launches at once on the same devices: the second waits for the lock; the first's
# originals are what the second's journal carries on (not the half-bound state), and one restore
# gives the host back exactly.
kscript "$tmp/k2b.lua" k2b 0002:81:10.0 0002:81:10.2
khost "$K"; fk_state "$K" >"$tmp/k.before"
fk_env "$K" env FK_SLOW=300 "$vf" --root "$K" --qemu /bin/true "$tmp/k2.lua" >"$tmp/a.out" 2>"$tmp/a.err" &
p=$!
sleep 0.4
expect "D5: a second launch waits" 0 "waiting for another vflaunch" klaunch "$K" "$tmp/k2b.lua"
wait "$p" && ok || bad "D5: the first launch failed"
check "D5: the second carries the originals" grep -q "device 0002:81:10.0 driver=ixgbevf override= " "$K/run/vflaunch/k2b/journal"
check "D5: the first's record gave them up" test ! -s "$K/run/vflaunch/k2/journal" -o -z "$(grep '^device' "$K/run/vflaunch/k2/journal")"
expect "D5: restore all" 0 "" krun "$K" restore
fk_state "$K" >"$tmp/k.after"
check "D5: the host is back" cmp -s "$tmp/k.before" "$tmp/k.after"

# D1, D22: hostile journals given by path are refused whole, clearly, and fast.
mkdir -m 0700 -p "$tmp/j"
printf 'vflaunch-journal 1\ndevice 0002:81:10.0 driver=..%%2F..%%2Fetc override= state=applied\n' >"$tmp/j/dotdot.journal"
expect "hostile journal: a driver that is a path" 3 "dotdot.journal:2: driver is not a kernel driver name" krun "$K" restore "$tmp/j/dotdot.journal"
printf 'vflaunch-journal 1\ndevice 0002:81:10.0 driver=ixgbevf override=vfio-pci%%0Aevil state=applied\n' >"$tmp/j/nl.journal"
expect "hostile journal: an override with a newline" 3 "nl.journal:2: override is not a kernel driver name" krun "$K" restore "$tmp/j/nl.journal"
expect "hostile journal: /dev/zero" 3 "not a regular file" krun "$K" restore /dev/zero
ln -s "$tmp/j/nl.journal" "$tmp/j/link.journal"
expect "hostile journal: a symlink" 3 "" krun "$K" restore "$tmp/j/link.journal"

# Supervised: when the give-back after QEMU fails, the exit status is vflaunch's own (67, not
# QEMU's), and status keeps the trace until a restore succeeds.
khost "$K"; fk_state "$K" >"$tmp/k.before"
KENV=FK_REFUSE=ixgbevf
expect "supervised: give-back fails" 67 "QEMU exited (status 0); giving back failed: .*has no driver, not ixgbevf" \
	klaunch "$K" --supervise "$tmp/k2.lua"
KENV=
expect "supervised: the trace in status" 0 "" krun "$K" status k2
grep -q "QEMU exited with status 0; giving back failed: .*not ixgbevf" "$tmp/out" && ok || { bad "supervised: status shows no trace"; cat "$tmp/out"; }
expect "supervised: restore" 0 "" krun "$K" restore
fk_state "$K" >"$tmp/k.after"
check "supervised: the host is back" cmp -s "$tmp/k.before" "$tmp/k.after"
