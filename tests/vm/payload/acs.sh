#!/bin/sh
# SPDX-License-Identifier: MIT
# Payload: ACS switched off on the root ports (tests/vm/run-arm64.sh --dt acs: the aarch64 host
# booted with QEMU's device tree, where Linux 6.1 enables ACS only after it has scanned the root
# ports, so each PF shares an IOMMU group with its VFs). Checks:
#  1. with VFs made, a PF and its VFs are in one group; list shows the root port above each PF
#     with ACS off, in text and --json, and a note naming it with the ways out;
#  2. a launch of those VFs is refused (exit 3, "not viable") naming the bridge and the ways out
#     (UEFI/ACPI, remove + rescan, a newer kernel), and nothing on the host changes;
#  3. the way out taken: the VF counts given back, every bridge with ACS off removed and the bus rescanned;
#     then list shows their ACS on and gives no note, the same launch makes the VFs, each with
#     a group of its own, and binds them (QEMU: /bin/true), and restore gives everything back.
set -u
P=/payload
S=/run/vflaunch

pass() { echo "VMTEST-PASS $1"; }
fail() { echo "VMTEST-FAIL $*"; }
now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
state() {
	for d in /sys/bus/pci/devices/*; do
		drv=-; [ -e "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
		printf '%s %s %s %s\n' "${d##*/}" "$drv" "$(cat "$d/driver_override" 2>/dev/null)" \
			"$(cat "$d/sriov_numvfs" 2>/dev/null)"
	done
}
run() {
	n=$1 want=$2
	shift 2
	t=$(now)
	"$@" >"/tmp/$n.out" 2>"/tmp/$n.err"
	st=$?
	cat "/tmp/$n.out" "/tmp/$n.err" >"/tmp/$n.all"
	echo "VMTEST-INFO $n: exit $st in $(elapsed "$t") s: $*"
	if [ "$st" -eq "$want" ]; then pass "$n-status"; else
		fail "$n-status" "exit $st, want $want"; sed 's/^/  | /' "/tmp/$n.all" | tail -n 30
	fi
}
has() { # has NAME PATTERN FILE
	if grep -q -- "$2" "$3"; then pass "$1"; else fail "$1" "no '$2' in $3"; sed 's/^/  | /' "$3" | tail -n 20; fi
}
hasnt() { # hasnt NAME PATTERN FILE
	if grep -q -- "$2" "$3"; then fail "$1" "'$2' in $3"; sed 's/^/  | /' "$3" | tail -n 20; else pass "$1"; fi
}
group_of() { g=$(readlink "/sys/bus/pci/devices/$1/iommu_group") && echo "${g##*/}"; }
driver_of() { d=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) && echo "${d##*/}" || echo -; }
pfs() { for d in /sys/bus/pci/devices/*; do [ -e "$d/sriov_totalvfs" ] && echo "${d##*/}"; done; }
# The bridge directly above a device: its sysfs directory's parent.
bridge_of() { p=$(readlink -f "/sys/bus/pci/devices/$1") && p=${p%/*} && echo "${p##*/}"; }
# groups_shared: how many VFs share their PF's group.
groups_shared() {
	n=0
	for pf in $(pfs); do
		for l in /sys/bus/pci/devices/"$pf"/virtfn*; do
			[ -e "$l" ] || continue
			v=$(readlink "$l")
			[ "$(group_of "${v##*/}")" = "$(group_of "$pf")" ] && n=$((n + 1))
		done
	done
	echo "$n"
}

echo "VMTEST-INFO boot: $(tr ' ' '\n' </proc/cmdline | grep '^vmtest.boot='), IOMMUs: $(ls /sys/class/iommu | tr '\n' ' ')"
[ -n "$(ls /sys/class/iommu 2>/dev/null)" ] && pass iommu || fail iommu "no /sys/class/iommu/*"
set -- $(pfs)
[ $# -eq 2 ] && pass two-pfs || fail two-pfs "PFs: $*"
ports=
for pf in $(pfs); do ports="$ports $(bridge_of "$pf")"; done
echo "VMTEST-INFO root ports above the PFs:$ports"

# 1. VFs: in their PF's group; list says why.
run mkvfs 0 vflaunch $P/vfs-only.lua 2
n=$(groups_shared)
[ "$n" -eq 4 ] && pass dt-vfs-share-pf-group || fail dt-vfs-share-pf-group "$n of 4 VFs share their PF's group (the device-tree boot should put them together)"
for pf in $(pfs); do echo "VMTEST-INFO group $(group_of "$pf"): $(ls "/sys/kernel/iommu_groups/$(group_of "$pf")/devices" | tr '\n' ' ')"; done
run list 0 vflaunch list
sed 's/^/VMTEST-INFO list| /' /tmp/list.out /tmp/list.err
# Every root port has ACS off: the payload takes them all out below, as the note says.
off=$(awk '/vfio no: bridge, ACS off \(SrcValid ReqRedir CmpltRedir UpstreamFwd\)/ { print $1 }' /tmp/list.out | tr '\n' ' ')
for rp in $ports; do
	case " $off " in *" $rp "*) pass "list-acs-off-$rp" ;; *) fail "list-acs-off-$rp" "not among the bridges list shows with ACS off: $off" ;; esac
	has "list-note-$rp" "note: bridges .*$rp (SrcValid ReqRedir CmpltRedir UpstreamFwd off).* support ACS but have it switched off" /tmp/list.err
done
rm_cmds=$(for b in $off; do printf 'echo 1 > /sys/bus/pci/devices/%s/remove; ' "$b"; done)
has list-note-rescan "(${rm_cmds}echo 1 > /sys/bus/pci/rescan)" /tmp/list.err
run list-json 0 vflaunch list --json
for rp in $ports; do
	has "list-json-acs-off-$rp" "\"acs\":{\"capability\":\"0x[0-9a-f]*\",\"control\":\"0x0000\",\"off\":\[\"SrcValid\",\"ReqRedir\",\"CmpltRedir\",\"UpstreamFwd\"\]},\"address\":\"$rp\"" /tmp/list-json.out
done

# 2. The launch is refused, naming the bridge and the ways out; nothing changes.
state >/tmp/before
run refused 3 vflaunch --qemu /bin/true $P/vfs16.lua 2 4
sed 's/^/VMTEST-INFO refused| /' /tmp/refused.all
has refused-not-viable "IOMMU group [0-9]* of .* is not viable: .* (nvme) is on a host driver" /tmp/refused.err
set -- $ports
has refused-names-bridge "bridge $1 (SrcValid ReqRedir CmpltRedir UpstreamFwd off) supports ACS but has it switched off" /tmp/refused.err
has refused-uefi "boot the host through UEFI/ACPI" /tmp/refused.err
has refused-rescan "(${rm_cmds}echo 1 > /sys/bus/pci/rescan)" /tmp/refused.err
has refused-newer-kernel "or run a newer kernel" /tmp/refused.err
has refused-nothing "nothing was started" /tmp/refused.err
state >/tmp/after
cmp -s /tmp/before /tmp/after && pass refused-host-as-before || fail refused-host-as-before "$(diff /tmp/before /tmp/after | head)"

# 3. The way out: no VFs, every bridge with ACS off removed at once (a rescan of one alone renumbered
# the buses and put its PF under another port), a rescan; Linux enables ACS as it finds them.
run restore-vfs 0 vflaunch restore vfs-only
t=$(now)
for rp in $off; do echo 1 >"/sys/bus/pci/devices/$rp/remove"; done
echo 1 >/sys/bus/pci/rescan
# The PFs come back on nvme (their probe is asynchronous).
i=0
while [ "$i" -lt 60 ]; do
	ok=1
	for pf in $(pfs); do [ "$(driver_of "$pf")" = nvme ] || ok=0; done
	[ "$ok" = 1 ] && [ "$(pfs | grep -c .)" -eq 2 ] && break
	sleep 0.5
	i=$((i + 1))
done
echo "VMTEST-INFO removed and rescanned the root ports in $(elapsed "$t") s"
[ "$(pfs | grep -c .)" -eq 2 ] && pass rescan-pfs-back || fail rescan-pfs-back "PFs: $(pfs | tr '\n' ' ')"
run list-after 0 vflaunch list
sed 's/^/VMTEST-INFO list-after| /' /tmp/list-after.out /tmp/list-after.err
for rp in $off; do has "list-after-acs-on-$rp" "^$rp .*vfio no: bridge, ACS on  " /tmp/list-after.out; done
hasnt list-after-no-note "note:" /tmp/list-after.err
# The launch makes the VFs itself (2 per PF) and binds them: each VF now has a group of its own.
state >/tmp/before
run launch-after 0 vflaunch --qemu /bin/true $P/vfs16.lua 2 4
n=$(groups_shared)
[ "$n" -eq 0 ] && pass rescan-vfs-own-groups || fail rescan-vfs-own-groups "$n VFs still share their PF's group"
for pf in $(pfs); do echo "VMTEST-INFO group $(group_of "$pf"): $(ls "/sys/kernel/iommu_groups/$(group_of "$pf")/devices" | tr '\n' ' ')"; done
bound=$(for d in /sys/bus/pci/devices/*; do [ "$(driver_of "${d##*/}")" = vfio-pci ] && echo x; done | grep -c x)
[ "$bound" -eq 4 ] && pass launch-after-bound-4 || fail launch-after-bound-4 "$bound on vfio-pci"
run restore-after 0 vflaunch restore vfs16
has restore-after-message "vfs16: 4 devices back on their drivers, 2 VF counts back; journal $S/vfs16/journal" /tmp/restore-after.all
state >/tmp/after
cmp -s /tmp/before /tmp/after && pass restore-after-host-as-before || fail restore-after-host-as-before "$(diff /tmp/before /tmp/after | head)"
[ "$(cat /sys/bus/pci/devices/*/sriov_numvfs | sort -u)" = 0 ] && pass vfs-given-back || fail vfs-given-back "numvfs: $(cat /sys/bus/pci/devices/*/sriov_numvfs)"
exit 0
