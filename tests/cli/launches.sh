# SPDX-License-Identifier: MIT
# Sourced by run.sh: launches that last. Named launches keep their state under DIR/run/vflaunch;
# status shows them; a second launch of a name, or of a held device, is refused naming the
# first; restore refuses a live guest before writing anything; stop ends one guest only; the
# host lock makes a second vflaunch wait. QEMU is tests/cli/fake-qemu.sh (it holds /dev/vfio/N
# like QEMU), or a real QEMU for the QMP stop.

fk_host 82599 "$tmp/lh"
export FAKE_QEMU_ROOT="$tmp/lh" FAKE_QEMU_LOG="$tmp/fq.log"
state=$tmp/lh/run/vflaunch
guest() { # guest NAME ADDR...: a script for a machine NAME with those devices
	f=$tmp/$1.lua n=$1
	shift
	{ printf 'local vf = require "vflaunch"\nlocal m = vf.machine{ name = "%s", memory = "256M" }\n' "$n"
	  for a in "$@"; do printf 'm:root_port():add("%s")\n' "$a"; done; } >"$f"
}
guest guest-a 0002:81:10.0 0002:81:10.2
guest guest-b 0002:81:10.2 0002:81:10.4
fk_state "$tmp/lh" >"$tmp/lh.before"

"$vf" --root "$tmp/lh" --qemu tests/cli/fake-qemu.sh "$tmp/guest-a.lua" >"$tmp/a.out" 2>&1 &
apid=$!
check "launch a: QEMU started" wait_for "$FAKE_QEMU_LOG" "started $apid"

expect "status" 0 "" "$vf" --root "$tmp/lh" status
grep -q "^guest-a *running *$apid " "$tmp/out" && ok || { bad "status: guest-a not running as $apid"; cat "$tmp/out"; }
grep -q "^  0002:81:10.0 -> 0000:0[0-9a-f]:00.0  hostdev1" "$tmp/out" && ok || bad "status: no host -> guest address"
grep -q "^free VFs: 124 " "$tmp/out" && ok || { bad "status: free VFs"; tail -n 1 "$tmp/out"; }
expect "status --json" 0 "" "$vf" --root "$tmp/lh" status --json
check "status --json is one document" is_json "$tmp/out"
[ "$(jq -r '.launches[0].state' "$tmp/out")" = running ] && ok || bad "status --json: state"
[ "$(jq -r '.launches[0].devices | length' "$tmp/out")" = 2 ] && ok || bad "status --json: devices"
expect "status NAME" 0 "" "$vf" --root "$tmp/lh" status guest-a
expect "status unknown" 1 "no launch named 'zz'" "$vf" --root "$tmp/lh" status zz

# One live launch per name; a device held by a live launch is refused, naming it.
expect "name clash" 3 "a launch named 'guest-a' is running (pid $apid, since " \
	"$vf" --root "$tmp/lh" --qemu tests/cli/fake-qemu.sh "$tmp/guest-a.lua"
expect "device held" 3 "host device 0002:81:10.2 is held by launch 'guest-a' (pid $apid" \
	"$vf" --root "$tmp/lh" --qemu tests/cli/fake-qemu.sh "$tmp/guest-b.lua"
# Even with no launch record, a group another process has open is refused.
mv "$state/guest-a" "$tmp/guest-a.hidden"
expect "group open by a process" 3 "IOMMU group [0-9]* of 0002:81:10.2 is open by pid $apid (fake-qemu.sh)" \
	"$vf" --root "$tmp/lh" --qemu tests/cli/fake-qemu.sh "$tmp/guest-b.lua"
mv "$tmp/guest-a.hidden" "$state/guest-a"

# restore refuses a live guest at once and writes nothing; without a name it leaves it alone.
expect "restore live" 3 "launch 'guest-a' is running (pid $apid" "$vf" --root "$tmp/lh" restore guest-a
expect "restore all leaves the live one" 0 "" "$vf" --root "$tmp/lh" restore
check "restore: guest-a still runs" kill -0 "$apid"
check "restore: its record stays" test -e "$state/guest-a/launch.json"

# A pid that lives but is another process now (its start time differs) is not the guest.
mkdir -m 0700 "$state/ghost"
printf '{"name":"ghost","pid":%d,"start":1,"state":"running","started":1}\n' "$$" >"$state/ghost/launch.json"
expect "status of a reused pid" 0 "" "$vf" --root "$tmp/lh" status ghost
grep -q "^ghost *exited" "$tmp/out" && ok || { bad "reused pid taken for a live guest"; cat "$tmp/out"; }
expect "restore of a reused pid" 0 "" "$vf" --root "$tmp/lh" restore ghost
check "restore ghost: its record is gone" test ! -e "$state/ghost"

# free = true: devices no live launch holds.
printf 'local vf = require "vflaunch"\nlocal m = vf.machine{ name = "guest-c", memory = "256M" }\nlocal f = vf.vfs{ vendor = 0x8086, free = true }\nm:root_port():add(f[1])\nm:root_port():add(f[2])\n' >"$tmp/guest-c.lua"
expect "free = true" 0 "" "$vf" --root "$tmp/lh" -n "$tmp/guest-c.lua"
! grep -q "host=0002:81:10.0\|host=0002:81:10.2" "$tmp/out" && grep -q "host=0002:81:10.4," "$tmp/out" && grep -q "host=0002:81:10.6," "$tmp/out" && ok || { bad "free = true took a held VF"; grep host= "$tmp/out"; }

# stop ends guest-a (no monitor on the stand-in: SIGTERM) and gives back only its devices.
expect "stop" 0 "guest-a: QEMU has exited" "$vf" --root "$tmp/lh" stop guest-a --timeout 5
grep -q TERM "$FAKE_QEMU_LOG" && ok || bad "stop: QEMU got no SIGTERM"
wait "$apid"
check "stop: the record is gone" test ! -e "$state/guest-a"
fk_state "$tmp/lh" >"$tmp/lh.after"
check "stop: the tree is as before" cmp -s "$tmp/lh.before" "$tmp/lh.after"
expect "stop unknown" 3 "no launch named 'guest-a'" "$vf" --root "$tmp/lh" stop guest-a

# Supervised: SIGTERM reaches QEMU, the exit status is QEMU's, the record says how it ended.
: >"$FAKE_QEMU_LOG"
"$vf" --root "$tmp/lh" --supervise --qemu tests/cli/fake-qemu.sh "$tmp/guest-a.lua" >"$tmp/s.out" 2>&1 &
spid=$!
check "supervised: QEMU started" wait_for "$FAKE_QEMU_LOG" started
qpid=$(sed -n 's/^started //p' "$FAKE_QEMU_LOG")
expect "supervised: status" 0 "" "$vf" --root "$tmp/lh" status guest-a
grep -q "^guest-a *running *$qpid " "$tmp/out" && ok || { bad "supervised: status does not name QEMU's pid $qpid"; cat "$tmp/out"; }
kill -TERM "$spid"
wait "$spid"
st=$?
[ "$st" -eq 143 ] && ok || { bad "supervised: exit $st, want QEMU's 143"; cat "$tmp/s.out"; }
grep -q "QEMU exited (status 143)" "$tmp/s.out" && ok || bad "supervised: no word on QEMU's end"
expect "supervised: status after" 0 "" "$vf" --root "$tmp/lh" status guest-a
grep -q "^guest-a *exited" "$tmp/out" && grep -q "QEMU exited with status 143" "$tmp/out" && ok || { bad "supervised: status after exit"; cat "$tmp/out"; }
expect "restore cleans an exited launch" 0 "" "$vf" --root "$tmp/lh" restore
check "restore: the exited record is gone" test ! -e "$state/guest-a"

# The supervisor killed: QEMU runs on and holds the devices; restore refuses until it is gone.
: >"$FAKE_QEMU_LOG"
"$vf" --root "$tmp/lh" --supervise --qemu tests/cli/fake-qemu.sh "$tmp/guest-a.lua" >"$tmp/s.out" 2>&1 &
spid=$!
check "supervised 2: QEMU started" wait_for "$FAKE_QEMU_LOG" started
qpid=$(sed -n 's/^started //p' "$FAKE_QEMU_LOG")
kill -KILL "$spid"
wait "$spid" 2>/dev/null
expect "supervisor killed: restore refused" 3 "launch 'guest-a' is running (pid $qpid" "$vf" --root "$tmp/lh" restore guest-a
kill -TERM "$qpid"
i=0; while kill -0 "$qpid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
expect "supervisor killed: restore after QEMU" 0 "" "$vf" --root "$tmp/lh" restore guest-a
check "supervisor killed: the record is gone" test ! -e "$state/guest-a"

# A VF count is never changed under a guest that uses one of the PF's VFs (the change removes
# them all). 'counts' stands for a run that set the VF counts and launched nothing; guest-c takes
# over the count of PF 0002:81:00.0, whose VFs it uses, and guest-d uses other VFs of that PF.
: >"$FAKE_QEMU_LOG"
pf=$tmp/lh/sys/bus/pci/devices/0002:81:00.0
mkdir -m 0700 "$state/counts"
printf '{"name":"counts","state":"no-guest"}\n' >"$state/counts/launch.json"
printf 'vflaunch-journal 1\nsriov 0002:81:00.0 numvfs=4 autoprobe=1 state=recorded\n' >"$state/counts/journal"
guest guest-c 0002:81:10.0 0002:81:10.2
guest guest-d 0002:81:10.4 0002:81:10.6
"$vf" --root "$tmp/lh" --qemu tests/cli/fake-qemu.sh "$tmp/guest-c.lua" >"$tmp/c.out" 2>&1 &
cpid=$!
check "guest-c: QEMU started" wait_for "$FAKE_QEMU_LOG" "started $cpid"
"$vf" --root "$tmp/lh" --qemu tests/cli/fake-qemu.sh "$tmp/guest-d.lua" >"$tmp/d.out" 2>&1 &
dpid=$!
check "guest-d: QEMU started" wait_for "$FAKE_QEMU_LOG" "started $dpid"
grep -q "^sriov 0002:81:00.0 " "$state/guest-c/journal" && ok || bad "guest-c did not take over the count of its VFs' PF"
expect "stop keeps a count another guest needs" 0 \
	"guest-c: 0002:81:00.0 keeps its VF count: 0002:81:10.4 (a VF of 0002:81:00.0, whose count would change) is held by launch 'guest-d'" \
	"$vf" --root "$tmp/lh" stop guest-c --timeout 5
[ "$(cat "$pf/sriov_numvfs")" = 63 ] && ok || bad "stop guest-c changed the VF count under guest-d: $(cat "$pf/sriov_numvfs")"
check "guest-d still runs" kill -0 "$dpid"
check "guest-c's record stays for the count" test -e "$state/guest-c/journal"
printf 'local vf = require "vflaunch"\nfor _, pf in ipairs(vf.find{ address = "0002:81:00.0" }) do pf:set_vfs(8) end\n' >"$tmp/setvfs.lua"
expect "set_vfs under a guest refused" 3 "set_vfs: 0002:81:00.0 has 63 VFs and changing the count removes them all, but 0002:81:10.4 .* is held by launch 'guest-d'" \
	"$vf" --root "$tmp/lh" "$tmp/setvfs.lua"
[ "$(cat "$pf/sriov_numvfs")" = 63 ] && ok || bad "set_vfs under guest-d wrote the count: $(cat "$pf/sriov_numvfs")"
expect "restore with guest-d live keeps the count" 0 "" "$vf" --root "$tmp/lh" restore guest-c
[ "$(cat "$pf/sriov_numvfs")" = 63 ] && ok || bad "restore guest-c changed the count under guest-d"
expect "stop guest-d" 0 "guest-d: QEMU has exited" "$vf" --root "$tmp/lh" stop guest-d --timeout 5
wait "$cpid" "$dpid"
expect "restore: the kept count goes back once no guest needs it" 0 "guest-c: 1 VF count back" \
	"$vf" --root "$tmp/lh" restore
[ "$(cat "$pf/sriov_numvfs")" = 4 ] && ok || bad "the count did not go back: $(cat "$pf/sriov_numvfs")"
check "no record is left" test ! -e "$state/guest-c" -a ! -e "$state/counts"
echo 63 >"$pf/sriov_numvfs"   # the tree as the parts below expect it

# A supervised launch leaves its record ("exited", everything given back); the next launch of
# that name takes the record over, and what it changes must be journaled and given back too.
printf 'local vf = require "vflaunch"\nlocal m = vf.machine{ name = "again", memory = "256M" }\nvf.find{ address = "0002:81:00.0" }[1]:set_vfs(4)\nm:root_port():add("0002:81:10.0")\n' >"$tmp/again.lua"
for i in 1 2; do
	expect "supervised again $i: the count goes back" 0 "QEMU exited (status 0); 1 VF count back" \
		env FAKE_QEMU_SECONDS=1 "$vf" --root "$tmp/lh" --supervise --qemu tests/cli/fake-qemu.sh "$tmp/again.lua"
	[ "$(cat "$pf/sriov_numvfs")" = 63 ] && ok || bad "supervised again $i: the count stays $(cat "$pf/sriov_numvfs")"
done
expect "supervised again: restore clears the record" 0 "" "$vf" --root "$tmp/lh" restore again

# QEMU exec'd by a vflaunch whose parent does not reap it (here: sleep): once it ends it is a
# zombie, its files closed, and stop must see it gone rather than wait and fail.
: >"$FAKE_QEMU_LOG"
guest zombie 0002:81:10.0
( "$vf" --root "$tmp/lh" --qemu tests/cli/fake-qemu.sh "$tmp/zombie.lua" >/dev/null 2>&1 & exec sleep 30 ) &
zparent=$!
check "zombie: QEMU started" wait_for "$FAKE_QEMU_LOG" started
zpid=$(sed -n 's/^started //p' "$FAKE_QEMU_LOG")
expect "stop of a guest whose QEMU ends as a zombie" 0 "zombie: QEMU has exited" \
	"$vf" --root "$tmp/lh" stop zombie --timeout 5
[ "$(cut -d' ' -f3 "/proc/$zpid/stat" 2>/dev/null)" = Z ] && ok || bad "zombie: QEMU $zpid was not a zombie"
check "zombie: the record is gone" test ! -e "$state/zombie"
kill "$zparent" 2>/dev/null
wait "$zparent" 2>/dev/null
unset FAKE_QEMU_ROOT FAKE_QEMU_LOG

# The host lock: a second vflaunch waits for the first, says so, then goes on.
flock "$state/lock" sleep 2 &
sleep 0.3
expect "lock: a launch waits" 0 "waiting for another vflaunch" "$vf" --root "$tmp/lh" --qemu /bin/true tests/cli/ports-only.lua
wait

# stop over QMP: a real QEMU (paused, no display) with the launch's monitor socket.
if command -v qemu-system-aarch64 >/dev/null 2>&1; then
	printf 'local vf = require "vflaunch"\nlocal m = vf.machine{ name = "q", memory = "128M", args = {"-S", "-display", "none", "-nodefaults"} }\nm:root_port()\n' >"$tmp/q.lua"
	"$vf" --root "$tmp/lh" "$tmp/q.lua" >"$tmp/q.out" 2>&1 &
	qpid=$!
	i=0; while [ ! -S "$state/q/qmp.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	expect "stop over QMP" 0 "q: QEMU has exited" "$vf" --root "$tmp/lh" -v stop q --timeout 10
	grep -q "q: QEMU was asked to quit over QMP" "$tmp/err" && ok || bad "stop: QMP was not used"
	wait "$qpid"
	check "stop over QMP: the record is gone" test ! -e "$state/q"
	# virt without -nodefaults: QEMU's default NIC would take root slot 01 before the plan's port
	# there. vflaunch adds -nic none; a script with a NIC of its own keeps slot 01 free for it.
	# Either way the real QEMU starts with every port where the plan put it.
	for nic in default own; do
		if [ $nic = default ]; then extra=''; else extra=', "-nic", "user,model=virtio-net-pci"'; fi
		printf 'local vf = require "vflaunch"\nlocal m = vf.machine{ name = "nic", type = "virt", memory = "128M", args = { "-S", "-display", "none"%s } }\nm:root_port()\nm:root_port()\n' "$extra" >"$tmp/nic.lua"
		"$vf" --root "$tmp/lh" "$tmp/nic.lua" >"$tmp/nic.out" 2>&1 &
		npid=$!
		i=0; while [ ! -S "$state/nic/qmp.sock" ] && kill -0 "$npid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		check "virt, $nic NIC: QEMU starts with the plan's ports" test -S "$state/nic/qmp.sock"
		"$vf" --root "$tmp/lh" -n "$tmp/nic.lua" >"$tmp/nic.n" 2>&1
		if [ $nic = default ]; then
			grep -q '^  -nic none' "$tmp/nic.n" && grep -q 'id=rp1,bus=pcie.0,addr=01.0' "$tmp/nic.n" && ok || bad "virt, default NIC: $(cat "$tmp/nic.n")"
		else
			! grep -q -- '-nic none' "$tmp/nic.n" && grep -q 'id=rp1,bus=pcie.0,addr=02.0' "$tmp/nic.n" && ok || bad "virt, own NIC: $(cat "$tmp/nic.n")"
		fi
		"$vf" --root "$tmp/lh" stop nic --timeout 10 >/dev/null 2>&1
		wait "$npid" 2>/dev/null
		grep -q "not available\|in use by" "$tmp/nic.out" && bad "virt, $nic NIC: $(cat "$tmp/nic.out")"
	done
	# The launch asked QEMU for its machine types (-machine help): that answer is vflaunch's to
	# read, not the user's to see.
	check "a launch does not echo QEMU's -machine help" sh -c '! grep -q "Supported machines" "$1"' - "$tmp/q.out"
fi

# D22: the state directory must be vflaunch's alone: refused when others could write it or when
# it is a symlink, with the fix, before anything changes.
fk_host 82599 "$tmp/sd"
mkdir -m 0777 "$tmp/sd/run/vflaunch"
expect "state dir writable by others" 3 "state directory: $tmp/sd/run/vflaunch is owned by uid 0 with mode 0777; it must belong to uid 0 and be writable by no one else" \
	"$vf" --root "$tmp/sd" --qemu /bin/true tests/cli/ports-only.lua
rmdir "$tmp/sd/run/vflaunch" && mkdir -m 0700 "$tmp/elsewhere" && ln -s "$tmp/elsewhere" "$tmp/sd/run/vflaunch"
expect "state dir a symlink" 3 "$tmp/sd/run/vflaunch is a symlink" "$vf" --root "$tmp/sd" --qemu /bin/true tests/cli/ports-only.lua
check "state dir a symlink: nothing written through it" test -z "$(ls "$tmp/elsewhere")"
