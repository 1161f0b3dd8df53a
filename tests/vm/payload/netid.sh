#!/bin/sh
# SPDX-License-Identifier: MIT
# Payload: VF identity on real SR-IOV NICs (tests/vm/run.sh netid, with VMTEST_HOST=igb: two emulated
# Intel 82576 PFs on the real igb driver, and one small SR-IOV NVMe PF). Checks:
#  1. the igb PFs: driver, netdev, sriov_totalvfs; VFs (8086:10ca) made through sysfs, each in its own
#     IOMMU group;
#  2. MAC and VLAN set from the host with iproute2 (`ip link set PF vf N mac ... vlan ...`) show in
#     `ip link show PF`;
#  3. (with the argument byhand=1 only: one more nested boot, 2 to 4 min) vflaunch passes those VFs
#     (and one left unset) to a nested aarch64 guest (netid.lua), which loads igbvf: each VF's MAC in
#     the guest is exactly the one set on the host (the unset one gets a random one); the host ->
#     guest addresses come from `vflaunch status`; restore gives the VFs back;
#  4. the zero MAC and VLAN 0 written back through the PF make `ip link show PF`'s vf lines byte for
#     byte what they were before (igb takes the zero MAC: it clears the administrator's MAC);
#  5. vflaunch sets the identity itself (script keys, netid-live.lua): a fixed MAC with VLAN 100 on a
#     VF of one PF, mac = "auto" with VLAN 200 on a VF of the other; --json plans both MACs and
#     changes nothing; while the nested guest runs, `ip link show` on each PF shows them, igbvf in the
#     guest reports exactly the planned MACs, list --vfs shows them; a second guest asking for the
#     live guest's MAC is refused (exit 3, nothing changed); a VLAN on an NVMe VF is refused as not a
#     network VF; stop gives every setting back (the PFs' vf lines byte for byte) and a restore after
#     it changes nothing.
# The PF must be up: igb answers its VFs' mailbox (the reset message that carries the MAC) only while
# its interface is up; with the PF down igbvf says "PF still in reset state. Is the PF interface up?"
# and picks a random MAC. The PF's link itself stays down (no QEMU backend): VF identity needs no link.
set -u
P=/payload
byhand=0
for a in "$@"; do case $a in byhand=*) byhand=${a#byhand=} ;; esac; done
IP=/usr/bin/ip   # iproute2's: busybox's ip (its applets win in busybox sh) cannot set VF attributes

pass() { echo "VMTEST-PASS $1"; }
fail() { echo "VMTEST-FAIL $*"; }
now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
attr() { cat "/sys/bus/pci/devices/$1/$2" 2>/dev/null; }
driver_of() { d=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) && echo "${d##*/}" || echo -; }
group_of() { g=$(readlink "/sys/bus/pci/devices/$1/iommu_group" 2>/dev/null) && echo "${g##*/}" || echo -; }
netdev_of() { ls "/sys/bus/pci/devices/$1/net" 2>/dev/null | head -n 1; }
vf_at() { l=$(readlink "/sys/bus/pci/devices/$1/virtfn$2") && echo "${l##*/}"; }
# vflines PF: the PF's "vf N ..." lines of `ip link show`, spaces squeezed
vflines() { "$IP" link show "$1" | sed -n 's/^ *\(vf [0-9].*\)/\1/p'; }
run() { # run NAME WANT-STATUS CMD...: output in /tmp/NAME.out
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
same() { # same NAME FILE1 FILE2
	if cmp -s "$2" "$3"; then pass "$1"; else fail "$1" "$(diff "$2" "$3" | head -n 12 | tr '\n' ' ')"; fi
}
# guest_mac LOG GUEST-ADDRESS: the MAC the nested guest reported for the interface at that address
guest_mac() { tr -d '\r' <"$1" | awk -v a="$2" '$1 == "VFLAUNCH-NET" && $2 == a { print $3; exit }'; }

# --- 1. the PFs and their VFs
for m in igb vfio_pci; do
	[ -d "/sys/module/$m" ] && pass "module-$m" || fail "module-$m" "not loaded"
done
pfs=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x8086:0x10c9 ] && pfs="$pfs ${d##*/}"
done
set -- $pfs
[ $# -eq 2 ] && pass igb-pf-count || fail igb-pf-count "expected 2 igb PFs (8086:10c9), found $#"
pf0=${1:-none} pf1=${2:-none}
for pf in $pfs; do
	echo "VMTEST-INFO PF $pf driver $(driver_of "$pf") netdev $(netdev_of "$pf") sriov_totalvfs $(attr "$pf" sriov_totalvfs) group $(group_of "$pf")"
done
[ "$(driver_of "$pf0") $(driver_of "$pf1")" = "igb igb" ] && pass igb-bound || fail igb-bound "$(driver_of "$pf0") $(driver_of "$pf1")"
n0=$(netdev_of "$pf0") n1=$(netdev_of "$pf1")
[ -n "$n0" ] && [ -n "$n1" ] && pass igb-netdevs || fail igb-netdevs "PF netdevs '$n0' '$n1'"
[ "$(attr "$pf0" sriov_totalvfs)" -ge 2 ] 2>/dev/null && pass igb-totalvfs || fail igb-totalvfs "$(attr "$pf0" sriov_totalvfs)"
t=$(now)
for pf in $pfs; do
	echo 0 >"/sys/bus/pci/devices/$pf/sriov_drivers_autoprobe"
	echo 2 >"/sys/bus/pci/devices/$pf/sriov_numvfs" && pass "numvfs-$pf" || fail "numvfs-$pf" "writing 2 to sriov_numvfs failed"
done
echo "VMTEST-INFO 2 VFs on each igb PF in $(elapsed "$t") s"
# Up (see above); seen: the VF settings survive a PF down/up, and the order against numvfs does not matter.
"$IP" link set "$n0" up && "$IP" link set "$n1" up && pass pf-up || fail pf-up "ip link set up failed"
v00=$(vf_at "$pf0" 0) v01=$(vf_at "$pf0" 1) v10=$(vf_at "$pf1" 0)
bad=
for v in $v00 $v01 $v10; do
	[ "$(attr "$v" vendor):$(attr "$v" device)" = 0x8086:0x10ca ] || bad="$bad $v:ids"
	[ "$(driver_of "$v")" = - ] || bad="$bad $v:driver=$(driver_of "$v")"
done
[ -n "$v00" ] && [ -n "$v01" ] && [ -n "$v10" ] && [ -z "$bad" ] && pass igb-vfs || fail igb-vfs "VFs '$v00' '$v01' '$v10':$bad"
groups=$(for d in $pfs $(for pf in $pfs; do vf_at "$pf" 0; vf_at "$pf" 1; done); do group_of "$d"; done | sort -u | grep -vc '^-$')
[ "$groups" -eq 6 ] && pass igb-own-groups || fail igb-own-groups "2 PFs and 4 VFs in $groups IOMMU groups"

# --- 2. MAC and VLAN from the host
vflines "$n0" >/tmp/vf0.before
vflines "$n1" >/tmp/vf1.before
echo "VMTEST-INFO ip link show $n0 before: $(tr '\n' '|' </tmp/vf0.before)"
mac0=52:54:00:12:34:56 mac1=52:54:00:65:43:21
"$IP" link set "$n0" vf 0 mac "$mac0" vlan 100 && pass ip-set-vf-pf0 || fail ip-set-vf-pf0 "ip link set $n0 vf 0 mac $mac0 vlan 100 failed"
"$IP" link set "$n1" vf 0 mac "$mac1" && pass ip-set-vf-pf1 || fail ip-set-vf-pf1 "ip link set $n1 vf 0 mac $mac1 failed"
vflines "$n0" >/tmp/vf0.set
vflines "$n1" >/tmp/vf1.set
echo "VMTEST-INFO ip link show $n0 after: $(tr '\n' '|' </tmp/vf0.set)"
grep -q "^vf 0 .*link/ether $mac0 .*, vlan 100," /tmp/vf0.set && pass ip-shows-pf0 || fail ip-shows-pf0 "$(cat /tmp/vf0.set)"
grep -q "^vf 0 .*link/ether $mac1 " /tmp/vf1.set && pass ip-shows-pf1 || fail ip-shows-pf1 "$(cat /tmp/vf1.set)"

# --- 3. the nested guest reads them through igbvf (by hand: byhand=1)
if [ "$byhand" = 1 ]; then
	t=$(now)
	run launch 0 vflaunch $P/netid.lua "$v00" "$v01" "$v10"
	echo "VMTEST-INFO nested guest with 3 igb VFs: $(elapsed "$t") s; $(tr -d '\r' </tmp/launch.out | grep -a '^VFLAUNCH-NET' | tr '\n' '|')"
	run status 0 vflaunch status netid
	ga() { awk -v h="$1" '$1 == h && $2 == "->" { print $3 }' /tmp/status.out; }
	g00=$(ga "$v00") g01=$(ga "$v01") g10=$(ga "$v10")
	if [ -n "$g00" ] && [ -n "$g01" ] && [ -n "$g10" ]; then pass status-addresses; else
		fail status-addresses "guest addresses '$g00' '$g01' '$g10'"; sed 's/^/  | /' /tmp/status.out
	fi
	got=$(guest_mac /tmp/launch.out "$g00")
	[ "$got" = "$mac0" ] && pass guest-mac-pf0 || fail guest-mac-pf0 "guest $g00 (host $v00) has MAC '$got', set $mac0"
	got=$(guest_mac /tmp/launch.out "$g10")
	[ "$got" = "$mac1" ] && pass guest-mac-pf1 || fail guest-mac-pf1 "guest $g10 (host $v10) has MAC '$got', set $mac1"
	got=$(guest_mac /tmp/launch.out "$g01")
	case $got in
	''|00:00:00:00:00:00|"$mac0"|"$mac1") fail guest-mac-unset "guest $g01 (host $v01, no MAC set) has MAC '$got'" ;;
	*) pass guest-mac-unset; echo "VMTEST-INFO the VF with no MAC set got $got in the guest" ;;
	esac

	run restore 0 vflaunch restore netid
	for v in $v00 $v01 $v10; do
		[ "$(driver_of "$v")" = - ] || fail "restore-$v" "on $(driver_of "$v")"
	done
fi

# --- 4. give back: the zero MAC and VLAN 0 through the PF
"$IP" link set "$n0" vf 0 mac 00:00:00:00:00:00 vlan 0 && pass ip-zero-mac-pf0 || fail ip-zero-mac-pf0 "the zero MAC back failed"
"$IP" link set "$n1" vf 0 mac 00:00:00:00:00:00 && pass ip-zero-mac-pf1 || fail ip-zero-mac-pf1 "the zero MAC back failed"
vflines "$n0" >/tmp/vf0.after
vflines "$n1" >/tmp/vf1.after
echo "VMTEST-INFO ip link show $n0 after the zero MAC: $(tr '\n' '|' </tmp/vf0.after)"
same ip-as-before-pf0 /tmp/vf0.before /tmp/vf0.after
same ip-as-before-pf1 /tmp/vf1.before /tmp/vf1.after

# --- 5. vflaunch sets the identity itself (script keys mac/vlan; core.net over rtnetlink)
S=/run/vflaunch
state() { # every device's driver and override, every PF's VF count, and both PFs' vf lines
	for d in /sys/bus/pci/devices/*; do
		drv=-; [ -e "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
		printf '%s %s %s %s\n' "${d##*/}" "$drv" "$(cat "$d/driver_override" 2>/dev/null)" "$(cat "$d/sriov_numvfs" 2>/dev/null)"
	done
	vflines "$n0"
	vflines "$n1"
}
macs_of() { grep -o '"mac":"[^"]*"' "$1" | sed 's/"mac":"\(.*\)"/\1/'; }
live=netid-live LOG=/tmp/live.log BOOT=1200
macx=52:54:00:00:12:01
state >/tmp/s.before
vflines "$n0" >/tmp/vf0.before
vflines "$n1" >/tmp/vf1.before
# The plan: what the launch will set, from --json (print-only).
run plan 0 vflaunch --json $P/netid-live.lua "$live" "$LOG" 1800 "$macx" "$v00" "$v10"
planned=$(macs_of /tmp/plan.out | tr '\n' ' ')
set -- $planned
pm0=${1:-} pm1=${2:-}
echo "VMTEST-INFO planned MACs: $planned"
[ "$pm0" = "$macx" ] && pass plan-explicit-mac || fail plan-explicit-mac "plan has '$pm0', the script asked for $macx"
case $pm1 in
[0-9a-f][26ae]:??:??:??:??:??) [ "$pm1" != "$macx" ] && pass plan-auto-mac || fail plan-auto-mac "auto gave the explicit MAC" ;;
*) fail plan-auto-mac "plan's auto MAC '$pm1' is not a locally administered unicast MAC" ;;
esac
state >/tmp/s.plan
same plan-changes-nothing /tmp/s.before /tmp/s.plan

t=$(now)
vflaunch $P/netid-live.lua "$live" "$LOG" 1800 "$macx" "$v00" "$v10" >/tmp/live.out 2>&1 &
lpid=$!
w=0
while [ "$w" -lt "$BOOT" ] && ! tr -d '\r' <"$LOG" 2>/dev/null | grep -q '^VFLAUNCH-END'; do
	kill -0 "$lpid" 2>/dev/null || break
	sleep 2
	w=$((w + 2))
done
echo "VMTEST-INFO live guest: first report after $(elapsed "$t") s"
sed -n 's/^/  | /p' /tmp/live.out | head -n 12
tr -d '\r' <"$LOG" | grep -q '^VFLAUNCH-END' && pass live-guest-reported || fail live-guest-reported "no report in ${BOOT}s"
# While it runs: the PF shows what vflaunch set.
vflines "$n0" >/tmp/vf0.live
vflines "$n1" >/tmp/vf1.live
echo "VMTEST-INFO ip link show $n0 while the guest runs: $(tr '\n' '|' </tmp/vf0.live)"
echo "VMTEST-INFO ip link show $n1 while the guest runs: $(tr '\n' '|' </tmp/vf1.live)"
grep -q "^vf 0 .*link/ether $pm0 .*, vlan 100," /tmp/vf0.live && pass live-ip-pf0 || fail live-ip-pf0 "$(cat /tmp/vf0.live)"
grep -q "^vf 0 .*link/ether $pm1 .*, vlan 200," /tmp/vf1.live && pass live-ip-pf1 || fail live-ip-pf1 "$(cat /tmp/vf1.live)"
run live-status 0 vflaunch status "$live"
sed 's/^/  | /' /tmp/live-status.out
g0=$(awk -v h="$v00" '$1 == h && $2 == "->" { print $3 }' /tmp/live-status.out)
g1=$(awk -v h="$v10" '$1 == h && $2 == "->" { print $3 }' /tmp/live-status.out)
got=$(guest_mac "$LOG" "$g0")
[ -n "$got" ] && [ "$got" = "$pm0" ] && pass live-guest-mac-explicit || fail live-guest-mac-explicit "guest $g0 (host $v00) has '$got', planned $pm0"
got=$(guest_mac "$LOG" "$g1")
[ -n "$got" ] && [ "$got" = "$pm1" ] && pass live-guest-mac-auto || fail live-guest-mac-auto "guest $g1 (host $v10) has '$got', planned $pm1"
run list-vfs 0 vflaunch list --vfs
grep -q "$pm0" /tmp/list-vfs.out && grep -q "$pm1" /tmp/list-vfs.out && pass list-shows-macs || { fail list-shows-macs "list --vfs lacks $pm0 or $pm1"; sed 's/^/  | /' /tmp/list-vfs.out | head -n 40; }

# A second guest asking for a MAC the live one has: refused, nothing changed.
state >/tmp/s.dup0
run dup-mac 3 vflaunch --qemu /bin/true $P/netid-one.lua netid-dup "$v01" "mac=$macx"
grep -q "in use by launch '$live'" /tmp/dup-mac.out && pass dup-mac-message || { fail dup-mac-message "no 'in use by launch $live'"; sed 's/^/  | /' /tmp/dup-mac.out; }
state >/tmp/s.dup1
same dup-mac-nothing-changed /tmp/s.dup0 /tmp/s.dup1
# A VLAN on an NVMe VF: not a network VF.
nvpf=
for d in /sys/bus/pci/devices/*; do
	[ -e "$d/sriov_totalvfs" ] && [ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1b36:0x0010 ] && nvpf=${d##*/}
done
if [ -n "$nvpf" ]; then
	echo 0 >"/sys/bus/pci/devices/$nvpf/sriov_drivers_autoprobe"
	echo 1 >"/sys/bus/pci/devices/$nvpf/sriov_numvfs"
	nvf=$(vf_at "$nvpf" 0)
	run nvme-vlan 1 vflaunch -n $P/netid-one.lua netid-nvme "$nvf" vlan=5
	grep -q "$nvf is not a network VF" /tmp/nvme-vlan.out && pass nvme-vlan-message || { fail nvme-vlan-message "no '$nvf is not a network VF'"; sed 's/^/  | /' /tmp/nvme-vlan.out; }
	echo 0 >"/sys/bus/pci/devices/$nvpf/sriov_numvfs"
else
	fail nvme-vf "the igb host has no SR-IOV NVMe PF"
fi

# stop gives the identity back: the vf lines byte for byte as before the launch; restore again changes nothing.
run stop 0 vflaunch stop "$live"
sed 's/^/  | /' /tmp/stop.out
wait "$lpid" 2>/dev/null
vflines "$n0" >/tmp/vf0.after
vflines "$n1" >/tmp/vf1.after
echo "VMTEST-INFO ip link show $n0 after stop: $(tr '\n' '|' </tmp/vf0.after)"
same stop-ip-as-before-pf0 /tmp/vf0.before /tmp/vf0.after
same stop-ip-as-before-pf1 /tmp/vf1.before /tmp/vf1.after
state >/tmp/s.after
same stop-host-as-before /tmp/s.before /tmp/s.after
run restore-again 0 vflaunch restore
state >/tmp/s.again
same restore-idempotent /tmp/s.after /tmp/s.again
[ ! -e "$S/$live" ] && pass live-record-gone || fail live-record-gone "$S/$live is left"

for pf in $pfs; do echo 0 >"/sys/bus/pci/devices/$pf/sriov_numvfs"; done
