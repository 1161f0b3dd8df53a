#!/bin/bash
# SPDX-License-Identifier: MIT
# Hot-plug into a booted guest: launch tests/rehearse/hotplug-guest.lua (empty hot-plug slots) on
# a fake host, attach VFs over QMP with the test build's emulated stand-ins in their place
# (VFLAUNCH_TEST_STANDIN=1), and read the guest kernel's own reports (every second, on the serial
# log): each device must appear at the guest address attach printed, and be gone after detach.
# A guest that cannot answer (its vCPUs stopped over QMP) makes detach time out with the device
# still bound and in the plan; once it runs again, detach completes. Prints the latency from
# each command to the guest's first report of the change.
# Usage: hotplug.sh VFLAUNCH VFLAUNCH-TESTING MKSIMHOST FAKEKERNEL.so virt|q35
set -u
vf=$(realpath "$1") vft=$(realpath "$2") MKSIMHOST=$(realpath "$3") FK_SO=$(realpath "$4") kind=$5
dir=$(cd "$(dirname "$0")" && pwd)
VFLAUNCH=$vf
. "$dir/../cli/fklib.sh"
case $kind in virt) arch=arm64 ;; q35) arch=amd64 ;; *) echo "hotplug.sh: virt or q35" >&2; exit 2 ;; esac
export VFLAUNCH_GUEST_ARCH=$arch
. "$dir/../guest/env.sh" || exit 1
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL hotplug $kind: $*"; }

H=$tmp/h log=$tmp/serial.log name=hp-$kind
fk_host 82599 "$H" >/dev/null
for a in 0002:81:10.0 0002:81:10.2 0002:81:10.4; do fk_set_driver "$H" "$a" ixgbevf; done
fk_state "$H" >"$tmp/before"
vfl() { fk_env "$H" env VFLAUNCH_TEST_STANDIN=1 "$vft" --root "$H" "$@"; }
qmp() { printf '{"execute":"qmp_capabilities"}\n{"execute":"%s"}\n' "$1" |
	timeout 5 socat - "UNIX-CONNECT:$H/run/vflaunch/$name/qmp.sock" >/dev/null; }
now() { date +%s.%N; }
# reports: how many VFLAUNCH-END lines the log has; report_since N: the first whole report after
# the Nth, on stdout (waits up to 120 s).
reports() { awk '/^VFLAUNCH-END/ { n++ } END { print n + 0 }' "$log" 2>/dev/null || echo 0; }
report_since() {
	local i=0
	while [ "$(reports)" -le $(($1 + 1)) ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
	awk -v n="$1" '/^VFLAUNCH-END/ { k++; if (k == n + 2) exit } k == n + 1 && /^VFLAUNCH-PCI/' "$log"
}
# until_report WHAT TEST: wait for a report for which TEST (a grep -q pattern, ! for absence)
# holds; prints the seconds it took from $t0.
until_report() {
	local what=$1 pat=$2 neg=${3:-} i=0 r
	while [ $i -lt 120 ]; do
		r=$(report_since "$(reports)")
		if { [ -z "$neg" ] && echo "$r" | grep -q "$pat"; } || { [ -n "$neg" ] && ! echo "$r" | grep -q "$pat"; }; then
			echo "hotplug $kind: $what: $(echo "$(now) - $t0" | bc | cut -c1-5) s from the command to the guest's report"
			ok; return 0
		fi
		i=$((i + 1))
	done
	bad "$what: the guest never reported it"; tail -5 "$log"; return 1
}

"$vf" --root "$H" "$dir/hotplug-guest.lua" "$kind" "$log" >"$tmp/launch.out" 2>&1 &
t0=$(now)
i=0; while [ "$(reports)" -lt 1 ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(reports)" -ge 1 ] && ok || { bad "the guest did not boot"; cat "$tmp/launch.out"; exit 1; }
echo "hotplug $kind: guest up in $(echo "$(now) - $t0" | bc | cut -c1-5) s"

# Attach one VF to the first free port, and two as the functions of one downstream port's slot.
t0=$(now)
vfl attach "$name" 0002:81:10.0 2>"$tmp/err" && ok || { bad "attach"; cat "$tmp/err"; }
a1=$(sed -n 's/.* is hostdev1 on .*, guest address \(.*\)$/\1/p' "$tmp/err")
until_report "attach $a1" "^VFLAUNCH-PCI $a1 1b36:0010"
t0=$(now)
vfl attach "$name" --port dp2 0002:81:10.2 0002:81:10.4 2>"$tmp/err" && ok || { bad "attach --port dp2"; cat "$tmp/err"; }
a2=$(sed -n 's/.* is hostdev2 on dp2, guest address \(.*\)$/\1/p' "$tmp/err")
a3=$(sed -n 's/.* is hostdev3 on dp2, guest address \(.*\)$/\1/p' "$tmp/err")
until_report "attach $a2 and $a3 (one slot)" "^VFLAUNCH-PCI $a3 1b36:0010"
report_since "$(reports)" | grep -q "^VFLAUNCH-PCI $a2 1b36:0010" && ok || bad "function 0 of dp2 ($a2) is not in the guest"
[ "$(fk_state "$H" | grep -c 'driver=vfio-pci')" -ge 3 ] && ok || bad "the attached VFs are not on vfio-pci"

# Detach by id: the guest lets go (pciehp waits 5 s after the attention button), the VF goes back.
t0=$(now)
vfl detach "$name" hostdev1 2>"$tmp/err" && ok || { bad "detach"; cat "$tmp/err"; }
echo "hotplug $kind: detach returned after $(echo "$(now) - $t0" | bc | cut -c1-5) s"
until_report "detach $a1" "^VFLAUNCH-PCI $a1 " not
fk_state "$H" | grep -q '^0002:81:10.0 driver=ixgbevf' && ok || bad "10.0 is not back on ixgbevf"

# A guest that cannot answer: detach times out, and nothing is given back.
qmp stop
fk_state "$H" >"$tmp/held"
vfl detach "$name" hostdev2 --timeout 8 2>"$tmp/err"
st=$?
[ $st -eq 3 ] && grep -q "did not let hostdev2 (0002:81:10.2), hostdev3 (0002:81:10.4) go within 8 s" "$tmp/err" &&
	grep -q "nothing was given back" "$tmp/err" && ok || { bad "detach of a stopped guest: exit $st"; cat "$tmp/err"; }
fk_state "$H" | cmp -s - "$tmp/held" && ok || bad "a detach that timed out changed the host"
jq -e '[.devices[] | select(.id == "hostdev2")] | length == 1' "$H/run/vflaunch/$name/plan.json" >/dev/null && ok || bad "hostdev2 left the plan"
qmp cont
sleep 12 # the guest's pciehp now handles the button it was given (5 s), and QEMU removes the slot
vfl detach "$name" hostdev2 2>"$tmp/err" && grep -q "2 devices left the guest; 2 devices back on their drivers" "$tmp/err" && ok || { bad "detach after the guest came back"; cat "$tmp/err"; }

vfl stop "$name" 2>"$tmp/err" && ok || { bad "stop"; cat "$tmp/err"; }
wait
fk_state "$H" | cmp -s - "$tmp/before" && ok || { bad "the host is not as before"; fk_state "$H" | diff "$tmp/before" -; }
echo "hotplug $kind: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
