#!/bin/sh
# SPDX-License-Identifier: MIT
# Payload: launches that last, on the real kernel (tests/vm/run.sh launches). Two site scripts
# (site-a.lua, site-b.lua) share the host: each takes 4 VFs with free = true, and each execs a nested
# aarch64 guest that stays up (vflaunch.linger) and lists its PCI functions every 5 s. Checks:
#  1. both guests run at once on disjoint VFs and each enumerates its 4; status and status --json
#     show both running, with host -> guest addresses that match what each QEMU holds open
#     (/proc/PID/fd -> /dev/vfio/N) and what each guest enumerated;
#  2. restore of a live guest is refused (exit 3) in under a second, nothing on the host changes,
#     and the guest's next report still lists all its VFs; restore without a name leaves the live
#     launches alone and gives back only the VF count no guest uses (the other PF's);
#  3. stop of one guest gives back its VFs only: the other keeps running, its VFs untouched;
#  3b. hot-plug: two VFs attached to the running site-a appear in its guest at the addresses attach
#     printed; a detach with a timeout shorter than the guest's pciehp wait times out with nothing
#     given back; once the guest has let go, detach gives each back, and the host is as before;
#  4. a supervised launch (--supervise) whose vflaunch is killed with SIGKILL: QEMU runs on with its
#     devices, restore is refused while it does; stop of the other guest meanwhile gives back that
#     guest's VFs but not the VF count the orphan's VFs need; once QEMU is gone, restore without a
#     name gives everything back and the host is as it was before the payload began.
# "Nothing changed" is always the kernel's word: every device's driver and driver_override, and every
# PF's VF count, read from sysfs before and after. Timings go out as VMTEST-INFO lines.
set -u
P=/payload
S=/run/vflaunch
LINGER=1800     # seconds the nested guests stay up unless stopped (check.sh gives the host as long)
BOOT=1200       # seconds a nested guest may take to its first report (seen: 250 to 770 s)

pass() { echo "VMTEST-PASS $1"; }
fail() { echo "VMTEST-FAIL $*"; }   # no variables: callers keep theirs
now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# Milliseconds since $1 (a now); /proc/uptime counts in hundredths, so this is +-10 ms.
elapsed_ms() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%d", (b - a) * 1000 + 0.5 }'; }
# Every device's driver and driver_override, and every PF's VF count: what "nothing changed" means.
state() {
	for d in /sys/bus/pci/devices/*; do
		drv=-; [ -e "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
		printf '%s %s %s %s\n' "${d##*/}" "$drv" "$(cat "$d/driver_override" 2>/dev/null)" \
			"$(cat "$d/sriov_numvfs" 2>/dev/null)"
	done
}
same() { # same NAME FILE1 FILE2: the two states are equal
	if cmp -s "$2" "$3"; then pass "$1"; else fail "$1" "$(diff "$2" "$3" | head -n 12 | tr '\n' ' ')"; fi
}
# run NAME WANT-STATUS CMD...: output in /tmp/NAME.out, status checked, time in $ms.
run() {
	n=$1 want=$2
	shift 2
	t=$(now)
	"$@" >"/tmp/$n.out" 2>&1
	st=$?
	ms=$(elapsed_ms "$t")
	echo "VMTEST-INFO $n: exit $st in $ms ms: $*"
	if [ "$st" -eq "$want" ]; then pass "$n-status"; else
		fail "$n-status" "exit $st, want $want"; sed 's/^/  | /' "/tmp/$n.out" | tail -n 30
	fi
}
has() { # has NAME PATTERN FILE
	if grep -q -- "$2" "$3"; then pass "$1"; else fail "$1" "no '$2' in $3"; sed 's/^/  | /' "$3" | tail -n 20; fi
}
alive() { kill -0 "$1" 2>/dev/null; }
field() { # field NAME KEY: an integer field of the launch's launch.json
	sed -n "s/.*\"$2\":\\([0-9]*\\).*/\\1/p" "$S/$1/launch.json" 2>/dev/null
}

# The nested guest's serial log: a first report, then "VFLAUNCH-AGAIN k" and a report every 5 s.
# again LOG: how many re-reports have begun so far.
again() { tr -d '\r' 2>/dev/null <"$1" | grep -c '^VFLAUNCH-AGAIN '; }
# report LOG K: the NVMe VFs (guest addresses) of report K (0: the first), then "END" once that
# report is complete; nothing while it is not.
report() {
	tr -d '\r' 2>/dev/null <"$1" | awk -v k="$2" 'BEGIN { cur = 0 }
		/^VFLAUNCH-AGAIN / { cur = $2; next }
		cur == k && /^VFLAUNCH-PCI .* 1b36:0010 010802/ { print $2 }
		cur == k && /^VFLAUNCH-END/ { print "END"; exit }'
}
# wait_report LOG K PID SECONDS: wait for report K (while QEMU PID lives); prints its VFs.
wait_report() {
	w=0
	while [ "$w" -lt "$4" ]; do
		r=$(report "$1" "$2")
		case $r in *END) echo "$r" | grep -v '^END$'; return 0 ;; esac
		alive "$3" || { sleep 1; r=$(report "$1" "$2"); case $r in *END) echo "$r" | grep -v '^END$'; return 0 ;; esac; return 1; }
		sleep 1
		w=$((w + 1))
	done
	return 1
}
# next_report NAME LOG PID WANT-VFS: the guest's first report that began after now lists WANT-VFS.
next_report() {
	k=$(($(again "$2") + 1))
	got=$(wait_report "$2" "$k" "$3" 60 | sort | tr '\n' ' ')
	if [ "$got" = "$4" ]; then pass "$1"; else fail "$1" "report $k of $2 lists '$got', want '$4'"; fi
}
# status_pairs NAME FILE: "HOST GUEST" per device of launch NAME in a `vflaunch status` text.
status_pairs() {
	awk -v n="$1" '/^[^ ]/ { cur = $1; next } cur == n && / -> / { print $1, $3 }' "$2" | sort
}
# json_pairs NAME FILE: the same from `vflaunch status --json` (one line, keys sorted).
json_pairs() {
	sed 's/},{"devices"/}\n{"devices"/g' "$1" | grep "\"name\":\"$2\"" |
		grep -o '"guest":"[^"]*","host":"[^"]*"' | sed 's/"guest":"\([^"]*\)","host":"\([^"]*\)"/\2 \1/' | sort
}
# The CPU time (user/system clock ticks) a process has used.
cpu() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f12,13 | tr ' ' /; }
# vfs_of PF: the PF's VFs, as its virtfnN links name them
vfs_of() { for l in /sys/bus/pci/devices/"$1"/virtfn*; do v=$(readlink "$l") && echo "${v##*/}"; done | tr '\n' ' '; }
json_state() { # json_state FILE NAME: "STATE PID" of launch NAME
	sed 's/},{"devices"/}\n{"devices"/g' "$1" | grep "\"name\":\"$2\"" |
		sed -n 's/.*"pid":\([0-9]*\).*"state":"\([a-z]*\)".*/\2 \1/p'
}
group_of() { g=$(readlink "/sys/bus/pci/devices/$1/iommu_group") && echo "${g##*/}"; }
driver_of() { d=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) && echo "${d##*/}" || echo -; }
# The IOMMU groups a process holds open through /dev/vfio/N: what the kernel says a guest holds.
vfio_groups() {
	for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f" 2>/dev/null) || continue
		case $l in /dev/vfio/[0-9]*) echo "${l#/dev/vfio/}" ;; esac
	done | sort -u | tr '\n' ' '
}
# check_launch NAME PID LOG: status's devices of NAME are on vfio-pci, held open by PID and no more,
# and their guest addresses are what the guest enumerated in its first report.
check_launch() {
	name=$1 pid=$2 log=$3
	status_pairs "$name" /tmp/status.out >"/tmp/$name.pairs"
	n=$(grep -c . "/tmp/$name.pairs")
	[ "$n" -eq 4 ] && pass "$name-status-4-devices" || fail "$name-status-4-devices" "$n: $(cat "/tmp/$name.pairs")"
	want=$(while read -r h _; do group_of "$h"; done <"/tmp/$name.pairs" | sort -u | tr '\n' ' ')
	got=$(vfio_groups "$pid")
	[ -n "$want" ] && [ "$got" = "$want" ] && pass "$name-qemu-holds-its-groups" ||
		fail "$name-qemu-holds-its-groups" "pid $pid holds /dev/vfio groups '$got', status's devices are in '$want'"
	bad=
	while read -r h _; do [ "$(driver_of "$h")" = vfio-pci ] || bad="$bad $h:$(driver_of "$h")"; done <"/tmp/$name.pairs"
	[ -z "$bad" ] && pass "$name-on-vfio-pci" || fail "$name-on-vfio-pci" "$bad"
	want=$(cut -d' ' -f2 "/tmp/$name.pairs" | sort | tr '\n' ' ')
	got=$(report "$log" 0 | grep -v '^END$' | sort | tr '\n' ' ')
	[ "$got" = "$want" ] && pass "$name-guest-addresses" ||
		fail "$name-guest-addresses" "status says the guest has '$want', the guest enumerated '$got'"
	json_pairs /tmp/status-json.out "$name" >"/tmp/$name.jpairs"
	same "$name-status-json-devices" "/tmp/$name.pairs" "/tmp/$name.jpairs"
	[ "$(json_state /tmp/status-json.out "$name")" = "running $pid" ] && pass "$name-status-json-running" ||
		fail "$name-status-json-running" "'$(json_state /tmp/status-json.out "$name")', want 'running $pid'"
}
# expect_state NAME BEFORE HOSTS FROM: the host now is BEFORE, except that the lines of HOSTS
# (addresses) are as in FROM: a give-back touched those devices and nothing else.
expect_state() {
	name=$1 before=$2 hosts=$3 from=$4
	state >"/tmp/$name.now"
	: >"/tmp/$name.want"
	while IFS= read -r line; do
		a=${line%% *}
		case " $hosts " in
		*" $a "*) grep "^$a " "$from" >>"/tmp/$name.want" ;;
		*) printf '%s\n' "$line" >>"/tmp/$name.want" ;;
		esac
	done <"$before"
	same "$name" "/tmp/$name.want" "/tmp/$name.now"
}

pfs=$(for d in /sys/bus/pci/devices/*; do [ -e "$d/sriov_totalvfs" ] && echo "${d##*/}"; done)
[ "$(echo "$pfs" | grep -c .)" -eq 2 ] && pass two-pfs || fail two-pfs "PFs: $pfs"
pf0=$(echo "$pfs" | sed -n 1p) pf1=$(echo "$pfs" | sed -n 2p)
state >/tmp/s0

# 0. The site's VF counts, set once beforehand: 8 VFs per PF, recorded as launch 'vfs-only'.
run setvfs 0 vflaunch $P/vfs-only.lua 8
state >/tmp/s-vfs
n=$(ls -d /sys/bus/pci/devices/*/physfn 2>/dev/null | grep -c .)
[ "$n" -eq 16 ] && pass setvfs-16-vfs || fail setvfs-16-vfs "$n VFs; $(tail -n 5 /tmp/setvfs.out)"

# 1. Two launches at once. B starts once A's vflaunch has exec'd QEMU (so that the order, and who
# takes over the VF count of the PF both use, is always the same); its free = true then sees A's
# VFs as held. Both guests boot together.
rm -f /tmp/site-a.log /tmp/site-b.log /tmp/site-c.log
ta=$(now)
vflaunch $P/site-a.lua /tmp/site-a.log $LINGER </dev/null >/tmp/site-a.out 2>&1 &
apid=$!
i=0
while alive "$apid" && [ "$i" -lt 600 ]; do
	case $(readlink "/proc/$apid/exe") in *qemu-system-aarch64) break ;; esac
	sleep 0.2
	i=$((i + 1))
done
echo "VMTEST-INFO site-a: vflaunch ran the script, bound 4 VFs and exec'd QEMU in $(elapsed "$ta") s"
tb=$(now)
vflaunch $P/site-b.lua /tmp/site-b.log $LINGER </dev/null >/tmp/site-b.out 2>&1 &
bpid=$!
va=$(wait_report /tmp/site-a.log 0 "$apid" "$BOOT" | sort | tr '\n' ' ')
echo "VMTEST-INFO site-a: first report $(elapsed "$ta") s after the launch began (4 VFs behind a switch; QEMU cpu user/sys $(cpu "$apid") ticks)"
vb=$(wait_report /tmp/site-b.log 0 "$bpid" "$BOOT" | sort | tr '\n' ' ')
echo "VMTEST-INFO site-b: first report $(elapsed "$tb") s after the launch began (4 VFs on root ports; QEMU cpu user/sys $(cpu "$bpid") ticks)"
set -- $va
[ $# -eq 4 ] && pass site-a-guest-sees-4 || { fail site-a-guest-sees-4 "saw '$va'"; tail -n 20 /tmp/site-a.out; }
set -- $vb
[ $# -eq 4 ] && pass site-b-guest-sees-4 || { fail site-b-guest-sees-4 "saw '$vb'"; tail -n 20 /tmp/site-b.out; }
alive "$apid" && alive "$bpid" && pass both-guests-run || fail both-guests-run "site-a alive: $(alive "$apid" && echo yes), site-b: $(alive "$bpid" && echo yes)"

run status 0 vflaunch status
sed 's/^/VMTEST-INFO status| /' /tmp/status.out   # the README's two-guest session shows this
grep -q "^site-a  *running  *$apid " /tmp/status.out && pass status-site-a-running || fail status-site-a-running "$(cat /tmp/status.out)"
grep -q "^site-b  *running  *$bpid " /tmp/status.out && pass status-site-b-running || fail status-site-b-running "$(cat /tmp/status.out)"
run status-json 0 vflaunch status --json
check_launch site-a "$apid" /tmp/site-a.log
check_launch site-b "$bpid" /tmp/site-b.log
ha=$(cut -d' ' -f1 /tmp/site-a.pairs | tr '\n' ' ')
hb=$(cut -d' ' -f1 /tmp/site-b.pairs | tr '\n' ' ')
echo "VMTEST-INFO site-a holds $ha; site-b holds $hb"
common=$(for h in $ha; do case " $hb " in *" $h "*) echo "$h" ;; esac; done)
[ -n "$ha" ] && [ -z "$common" ] && pass free-vfs-disjoint || fail free-vfs-disjoint "both hold: $common"

# 2. restore of a live guest: refused at once, before anything is written. What the refusal costs
# is vflaunch's start: under TCG, with two guests running and a busy machine below, that is most
# of it. So vflaunch --version is timed next to each of three refusals, and the check is that the
# median refusal takes less than a second more than the median start (both printed; on a real
# machine each is a few ms).
state >/tmp/s-run
times='' bases=''
for i in 1 2 3; do
	t=$(now); vflaunch --version >/dev/null 2>&1; bases="$bases $(elapsed_ms "$t")"
	run restore-live-$i 3 vflaunch restore site-a
	times="$times $ms"
done
has restore-live-message "launch 'site-a' is running (pid $apid" /tmp/restore-live-1.out
median=$(echo $times | tr ' ' '\n' | sort -n | sed -n 2p)
mbase=$(echo $bases | tr ' ' '\n' | sort -n | sed -n 2p)
echo "VMTEST-INFO restore of the live site-a refused in$times ms (median $median ms); vflaunch --version alone:$bases ms (median $mbase ms); load $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$((median - mbase))" -lt 1000 ] && pass restore-live-refused-at-once ||
	fail restore-live-refused-at-once "median $median ms, $((median - mbase)) ms more than starting vflaunch"
state >/tmp/s-after
same restore-live-host-unchanged /tmp/s-run /tmp/s-after
next_report restore-live-guest-keeps-its-vfs /tmp/site-a.log "$apid" "$va"
# Without a name: the live launches are left alone. 'vfs-only' (no guest ever) is given back, but
# only as far as no guest needs it: site-a took over the count of the PF its VFs are on, so what is
# left is the other PF's count, whose VFs no guest uses. That PF loses its VFs; nothing else changes.
pf1vfs=$(vfs_of "$pf1")
run restore-all-live 0 vflaunch restore
has restore-all-live-other-pf "vfs-only: 1 VF count back; journal $S/vfs-only/journal" /tmp/restore-all-live.out
expect_state restore-all-live-only-the-unused-pf /tmp/s-run "$pf1 $pf1vfs" /tmp/s0
alive "$apid" && alive "$bpid" && pass restore-all-live-guests-run || fail restore-all-live-guests-run "a guest died"
next_report restore-all-live-site-b-keeps-its-vfs /tmp/site-b.log "$bpid" "$vb"
state >/tmp/s-run

# 3. stop site-b: QMP quit, then its 4 VFs go back; site-a runs on with its VFs untouched.
run stop-b 0 vflaunch stop site-b
echo "VMTEST-INFO stop of site-b took $ms ms"
has stop-b-quit "site-b: QEMU has exited" /tmp/stop-b.out
has stop-b-given-back "site-b: 4 devices back on their drivers; journal $S/site-b/journal" /tmp/stop-b.out
alive "$bpid" && fail stop-b-qemu-gone "pid $bpid still runs" || pass stop-b-qemu-gone
wait "$bpid"
echo "VMTEST-INFO site-b's QEMU exited with status $?"
[ ! -e "$S/site-b" ] && pass stop-b-record-gone || fail stop-b-record-gone "$(ls "$S/site-b")"
expect_state stop-b-gave-back-only-its-vfs /tmp/s-run "$hb" /tmp/s-vfs
alive "$apid" && pass stop-b-site-a-runs || fail stop-b-site-a-runs "site-a's QEMU is gone"
next_report stop-b-site-a-keeps-its-vfs /tmp/site-a.log "$apid" "$va"

# 3b. Hot-plug into the running site-a (two spare root ports in its plan): two of site-b's VFs,
# free again, go in; the guest lists them at the addresses attach printed. Detach one with a
# timeout shorter than the guest's pciehp waits after the attention button (5 s): it times out,
# and the VF stays bound and in the guest's plan; once the guest's report no longer lists it,
# detach again gives it back. Then the other goes too, and the host is as before the attach.
state >/tmp/s-hp0
set -- $hb
v1=$1 v2=$2
run attach-a 0 vflaunch attach site-a "$v1" "$v2"
echo "VMTEST-INFO attach of 2 VFs to the running site-a took $ms ms"
g1=$(sed -n "s/.* $v1 is hostdev[0-9]* on [a-z0-9]*, guest address \(.*\)$/\1/p" /tmp/attach-a.out)
g2=$(sed -n "s/.* $v2 is hostdev[0-9]* on [a-z0-9]*, guest address \(.*\)$/\1/p" /tmp/attach-a.out)
id1=$(sed -n "s/.* $v1 is \(hostdev[0-9]*\) on .*/\1/p" /tmp/attach-a.out)
t=$(now)
next_report attach-a-guest-sees-6 /tmp/site-a.log "$apid" "$(echo $va $g1 $g2 | tr ' ' '\n' | sort | tr '\n' ' ')"
echo "VMTEST-INFO attach: the guest's next report (every 5 s) came $(elapsed "$t") s after attach returned"
state >/tmp/s-hp1
expect_state attach-a-bound-only-those /tmp/s-hp0 "$v1 $v2" /tmp/s-hp1
grep -q "^$v1 vfio-pci vfio-pci" /tmp/s-hp1 && grep -q "^$v2 vfio-pci vfio-pci" /tmp/s-hp1 && pass attach-a-on-vfio-pci || fail attach-a-on-vfio-pci "$(grep -e "^$v1 " -e "^$v2 " /tmp/s-hp1)"
run status-hp 0 vflaunch status site-a
status_pairs site-a /tmp/status-hp.out | grep -q "^$v1 $g1\$" && pass attach-a-status-lists-it || fail attach-a-status-lists-it "$(cat /tmp/status-hp.out)"
run detach-a-timeout 3 vflaunch detach site-a "$id1" --timeout 2
has detach-a-timeout-message "did not let $id1 ($v1) go within 2 s" /tmp/detach-a-timeout.out
has detach-a-timeout-nothing-back "nothing was given back" /tmp/detach-a-timeout.out
state >/tmp/s-hp2
same detach-a-timeout-host-unchanged /tmp/s-hp1 /tmp/s-hp2
next_report detach-a-guest-lets-go /tmp/site-a.log "$apid" "$(echo $va $g2 | tr ' ' '\n' | sort | tr '\n' ' ')"
run detach-a 0 vflaunch detach site-a "$id1"
has detach-a-given-back "site-a: 1 device left the guest; 1 device back on its driver" /tmp/detach-a.out
expect_state detach-a-gave-back-only-v1 /tmp/s-hp0 "$v2" /tmp/s-hp1
run detach-a2 0 vflaunch detach site-a "$v2"
echo "VMTEST-INFO detach of $v2 (the guest's pciehp waits 5 s) took $ms ms"
state >/tmp/s-hp3
same hotplug-host-as-before /tmp/s-hp0 /tmp/s-hp3
next_report detach-a2-guest-back-to-4 /tmp/site-a.log "$apid" "$va"

# 4. A supervised launch of site-b.lua (name site-b again, its VFs free again). Once its QEMU holds
# the VFs (/dev/vfio/N open: the guest need not have booted), its vflaunch is killed with SIGKILL.
state >/tmp/s-before-c
vflaunch --supervise $P/site-b.lua /tmp/site-c.log $LINGER </dev/null >/tmp/site-c.out 2>&1 &
vpid=$!
# Wait until QEMU, vflaunch's child, holds 4 groups through /dev/vfio (it opens them before the
# guest runs), and the record names it and its supervisor.
i=0 qpid=''
while alive "$vpid" && [ "$i" -lt 600 ]; do
	qpid=$(field site-b pid)
	if [ -n "$qpid" ] && [ "$qpid" != "$vpid" ] && [ "$(field site-b supervisor)" = "$vpid" ]; then
		set -- $(vfio_groups "$qpid")
		[ $# -eq 4 ] && break
	fi
	sleep 0.5
	i=$((i + 1))
done
[ -n "$qpid" ] && [ "$qpid" != "$vpid" ] && pass supervised-qemu-is-a-child || fail supervised-qemu-is-a-child "pid '$qpid', vflaunch $vpid; $(tail -n 5 /tmp/site-c.out)"
run status-c 0 vflaunch status site-b
grep -q "^site-b  *running  *$qpid " /tmp/status-c.out && pass status-supervised-running || fail status-supervised-running "$(cat /tmp/status-c.out)"
status_pairs site-b /tmp/status-c.out >/tmp/site-c.pairs
hc=$(cut -d' ' -f1 /tmp/site-c.pairs | tr '\n' ' ')
qwant=$(for h in $hc; do group_of "$h"; done | sort -u | tr '\n' ' ')
[ -n "$hc" ] && [ "$(vfio_groups "$qpid")" = "$qwant" ] && pass supervised-qemu-holds-its-vfs ||
	fail supervised-qemu-holds-its-vfs "QEMU $qpid holds groups '$(vfio_groups "$qpid")', its VFs '$hc' are in '$qwant'"
echo "VMTEST-INFO supervised site-b holds $hc"
kill -KILL "$vpid"
wait "$vpid"
st=$?
[ "$st" -eq 137 ] && pass supervisor-killed || fail supervisor-killed "exit $st"
sleep 1
alive "$qpid" && pass supervised-qemu-survives || fail supervised-qemu-survives "QEMU $qpid died with its supervisor"
state >/tmp/s-c
run restore-orphan 3 vflaunch restore site-b
echo "VMTEST-INFO restore of site-b, supervisor killed and QEMU running: refused in $ms ms"
has restore-orphan-message "launch 'site-b' is running (pid $qpid" /tmp/restore-orphan.out
state >/tmp/s-after
same restore-orphan-host-unchanged /tmp/s-c /tmp/s-after
[ "$(vfio_groups "$qpid")" = "$qwant" ] && pass restore-orphan-qemu-keeps-its-vfs || fail restore-orphan-qemu-keeps-its-vfs "holds '$(vfio_groups "$qpid")', want '$qwant'"

# stop site-a while the orphan runs: site-a's VFs go back, but not the VF count site-a took over
# from 'vfs-only' (changing it would remove the orphan's VFs): that stays recorded for later.
run stop-a 0 vflaunch stop site-a
echo "VMTEST-INFO stop of site-a took $ms ms"
wait "$apid"
has stop-a-given-back "site-a: 4 devices back on their drivers, 1 VF count kept while another guest uses its VFs; journal $S/site-a/journal" /tmp/stop-a.out
has stop-a-count-kept "site-a: $pf0 keeps its VF count: .* is held by launch 'site-b' (pid $qpid" /tmp/stop-a.out
expect_state stop-a-gave-back-only-its-vfs /tmp/s-c "$ha" /tmp/s-vfs
[ "$(vfio_groups "$qpid")" = "$qwant" ] && pass stop-a-orphan-keeps-its-vfs || fail stop-a-orphan-keeps-its-vfs "holds '$(vfio_groups "$qpid")', want '$qwant'"

# The orphan's QEMU goes (SIGTERM); then restore without a name gives back its VFs and the kept
# count, and the host is as before the payload.
kill -TERM "$qpid"
i=0
while alive "$qpid" && [ "$i" -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
alive "$qpid" && fail orphan-qemu-ends "QEMU $qpid still runs 30 s after SIGTERM" || pass orphan-qemu-ends
run status-gone 0 vflaunch status
grep -q "^site-b  *gone " /tmp/status-gone.out && pass status-orphan-gone || fail status-orphan-gone "$(cat /tmp/status-gone.out)"
grep -q "^site-a  *gone " /tmp/status-gone.out && pass status-site-a-gone-with-its-count || fail status-site-a-gone-with-its-count "$(cat /tmp/status-gone.out)"
run restore-all 0 vflaunch restore
has restore-all-count "site-a: 1 VF count back; journal $S/site-a/journal" /tmp/restore-all.out
# site-a's count goes first (names in order) and removes the VFs: the orphan's are then gone.
has restore-all-orphan "site-b: 4 devices \(back on their drivers\|no longer on the host\); journal $S/site-b/journal" /tmp/restore-all.out
state >/tmp/s-end
same host-as-before-payload /tmp/s0 /tmp/s-end
left=$(ls "$S" 2>/dev/null | grep -v '^lock')
[ -z "$left" ] && pass no-records-left || fail no-records-left "$left"
run status-empty 0 vflaunch status
has status-no-launches "(no launches)" /tmp/status-empty.out
exit 0
