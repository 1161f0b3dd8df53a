#!/bin/sh
# SPDX-License-Identifier: MIT
# Payload: prove the test host by hand, without vflaunch. SR-IOV VFs on both emulated NVMe PFs, their
# links and IOMMU groups, binding to vfio-pci through driver_override, /dev/vfio, and a nested arm64 virt
# guest (qemu-system-aarch64 inside this host) that must enumerate the VFs: 2 behind root ports, then 16
# behind a switch. Finally every VF is given back and removed. Runs inside the host (busybox sh).
# Arguments: vfs=N (VFs made per PF, default 8; at least 8 for the switch check), switch=0 (skip that
# boot), mem=MiB (nested guest RAM, default 512)
set -u

vfs=8
switch=1
mem=512
for a in "$@"; do
	case $a in vfs=*) vfs=${a#vfs=} ;; switch=*) switch=${a#switch=} ;; mem=*) mem=${a#mem=} ;; esac
done
guest_kernel=/guest/arm64/vmlinuz
guest_initrd=/guest/arm64/initrd.gz

pass() { echo "VMTEST-PASS $1"; }
fail() { n=$1; shift; echo "VMTEST-FAIL $n $*"; }
check() { # check NAME REASON-IF-FALSE COMMAND...
	n=$1 r=$2
	shift 2
	if "$@"; then pass "$n"; else fail "$n" "$r"; fi
}
now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
memfree() { sed -n 's/^MemAvailable: *\([0-9]*\) kB/\1/p' /proc/meminfo; }
attr() { cat "/sys/bus/pci/devices/$1/$2" 2>/dev/null; }
driver_of() { d=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) && echo "${d##*/}" || echo -; }
group_of() { g=$(readlink "/sys/bus/pci/devices/$1/iommu_group" 2>/dev/null) && echo "${g##*/}" || echo -; }

# --- modules and IOMMU
for m in nvme vfio_pci vfio_iommu_type1; do
	check "module-$m" "not loaded" test -d "/sys/module/$m"
done
check iommu "no /sys/class/iommu/dmar*: intel_iommu=on and -device intel-iommu?" test -e /sys/class/iommu/dmar0

# --- the PFs
pfs=
for d in /sys/bus/pci/devices/*; do
	[ -e "$d/sriov_totalvfs" ] || continue
	a=${d##*/}
	pfs="$pfs $a"
	echo "VMTEST-INFO PF $a $(attr "$a" vendor):$(attr "$a" device) class $(attr "$a" class) driver $(driver_of "$a") group $(group_of "$a") totalvfs $(attr "$a" sriov_totalvfs) numvfs $(attr "$a" sriov_numvfs)"
done
set -- $pfs
check pf-count "expected 2 SR-IOV PFs, found $#" test $# -eq 2
pf0=${1:-none} pf1=${2:-none}

# --- VFs: autoprobe off, then numvfs
t=$(now)
m0=$(memfree)
for pf in $pfs; do
	echo 0 >"/sys/bus/pci/devices/$pf/sriov_drivers_autoprobe"
	if echo "$vfs" >"/sys/bus/pci/devices/$pf/sriov_numvfs"; then pass "numvfs-$pf"; else fail "numvfs-$pf" "writing $vfs to sriov_numvfs failed"; fi
done
echo "VMTEST-INFO created $vfs VFs on each PF in $(elapsed "$t") s, MemAvailable $m0 -> $(memfree) kB"

# --- links, drivers, groups
allvfs=
bad=
for pf in $pfs; do
	i=0
	while [ "$i" -lt "$vfs" ]; do
		l=$(readlink "/sys/bus/pci/devices/$pf/virtfn$i") || { bad="$bad $pf:virtfn$i-missing"; i=$((i + 1)); continue; }
		vf=${l##*/}
		allvfs="$allvfs $vf"
		p=$(readlink "/sys/bus/pci/devices/$vf/physfn")
		[ "${p##*/}" = "$pf" ] || bad="$bad $vf:physfn=${p##*/}"
		[ "$(attr "$vf" vendor):$(attr "$vf" device)" = 0x1b36:0x0010 ] || bad="$bad $vf:ids"
		[ "$(driver_of "$vf")" = - ] || bad="$bad $vf:driver=$(driver_of "$vf")"
		i=$((i + 1))
	done
done
check vf-links "bad:$bad" test -z "$bad"
set -- $allvfs
nvf=$#
check vf-count "expected $((2 * vfs)) VFs, found $nvf" test "$nvf" -eq $((2 * vfs))
mine=$(for v in $allvfs; do case $(readlink "/sys/bus/pci/devices/$v/physfn") in *"$pf0") echo "$v" ;; esac; done)
echo "VMTEST-INFO VFs of $pf0: $(echo "$mine" | head -n 3 | tr '\n' ' ')... $(echo "$mine" | tail -n 1) ($(echo "$mine" | grep -c .))"
groups=$(for d in $pfs $allvfs; do group_of "$d"; done)
ngroups=$(echo "$groups" | sort -u | grep -vc '^-$')
check own-groups "$((nvf + 2)) devices in $ngroups IOMMU groups" test "$ngroups" -eq $((nvf + 2))
for g in $(for v in $allvfs; do group_of "$v"; done | head -n 3); do
	echo "VMTEST-INFO group $g: $(ls "/sys/kernel/iommu_groups/$g/devices" | tr '\n' ' ')"
done

# --- bind to vfio-pci: driver_override, (unbind), drivers_probe, verify
bind() {
	echo vfio-pci >"/sys/bus/pci/devices/$1/driver_override" || return 1
	[ ! -e "/sys/bus/pci/devices/$1/driver" ] || echo "$1" >"/sys/bus/pci/devices/$1/driver/unbind" || return 1
	echo "$1" >/sys/bus/pci/drivers_probe || return 1
	[ "$(driver_of "$1")" = vfio-pci ]
}
unbind() {
	echo >"/sys/bus/pci/devices/$1/driver_override"
	[ ! -e "/sys/bus/pci/devices/$1/driver" ] || echo "$1" >"/sys/bus/pci/devices/$1/driver/unbind"
	[ "$(driver_of "$1")" = - ]
}
# The first 8 VFs of each PF: 16 in all, the first of each also used alone.
sel=
for pf in $pfs; do
	i=0
	while [ "$i" -lt 8 ] && [ "$i" -lt "$vfs" ]; do
		l=$(readlink "/sys/bus/pci/devices/$pf/virtfn$i") && sel="$sel ${l##*/}"
		i=$((i + 1))
	done
done
t=$(now)
bad=
for v in $sel; do bind "$v" || bad="$bad $v:$(driver_of "$v")"; done
set -- $sel
echo "VMTEST-INFO bound $# VFs to vfio-pci in $(elapsed "$t") s"
check bind-vfio "not on vfio-pci:$bad" test -z "$bad"
bad=
for v in $sel; do [ -c "/dev/vfio/$(group_of "$v")" ] || bad="$bad $(group_of "$v")"; done
check dev-vfio "missing /dev/vfio/N for groups:$bad" test -z "$bad" -a -c /dev/vfio/vfio
check pf-driver "PF left its nvme driver: $(driver_of "$pf0") $(driver_of "$pf1")" \
	test "$(driver_of "$pf0") $(driver_of "$pf1")" = "nvme nvme"

# --- nested guests
nested() { # nested NAME EXPECTED DEVICE-ARGS...: boot the arm64 guest, count the VFs it enumerated
	name=$1 want=$2
	shift 2
	t=$(now)
	out=/tmp/nested-$name.log
	qemu-system-aarch64 -M virt,gic-version=3 -cpu cortex-a57 -m "$mem" -nographic -nodefaults \
		-serial "file:$out" -monitor none -no-reboot \
		-kernel "$guest_kernel" -initrd "$guest_initrd" -append 'console=ttyAMA0 panic=-1' "$@" \
		>/tmp/nested-$name.err 2>&1 </dev/null &
	qpid=$!
	hwm=0 cpu="0 0"
	while kill -0 "$qpid" 2>/dev/null; do
		h=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$qpid/status" 2>/dev/null)
		[ -z "$h" ] || hwm=$h
		# utime and stime (fields 14, 15) in clock ticks: is the time TCG (user) or vfio (kernel)?
		c=$(sed 's/.*) //' "/proc/$qpid/stat" 2>/dev/null | cut -d' ' -f12,13)
		[ -z "$c" ] || cpu=$c
		sleep 1
	done
	wait "$qpid"
	qrc=$?
	got=$(grep -c '^VFLAUNCH-PCI .* 1b36:0010 010802' "$out")
	echo "VMTEST-INFO nested $name: exit $qrc, $(elapsed "$t") s, peak RSS ${hwm} kB, cpu user/sys ${cpu% *}/${cpu#* } ticks, $(grep '^VFLAUNCH-END' "$out" | tr -d '\r'), NVMe VFs seen $got"
	if [ "$qrc" -ne 0 ] || [ "$got" -ne "$want" ]; then
		fail "nested-$name" "wanted $want VFs, saw $got, qemu exit $qrc: $(head -c 600 /tmp/nested-$name.err)"
		grep -a -v '^VFLAUNCH-PCI' "$out" | tail -n 20
	else
		pass "nested-$name"
		grep '^VFLAUNCH-PCI' "$out" | tr -d '\r' | grep 1b36:0010 | head -n 4
	fi
}
# One VF of each PF.
v0=$(readlink "/sys/bus/pci/devices/$pf0/virtfn0")
v0=${v0##*/}
v1=$(readlink "/sys/bus/pci/devices/$pf1/virtfn0")
v1=${v1##*/}
nested rootports 2 \
	-device pcie-root-port,id=rp1,chassis=1,slot=1 -device vfio-pci,host="$v0",bus=rp1 \
	-device pcie-root-port,id=rp2,chassis=1,slot=2 -device vfio-pci,host="$v1",bus=rp2
if [ "$vfs" -ge 8 ] && [ "$switch" = 1 ]; then
	args="-device pcie-root-port,id=rp1,chassis=1,slot=1 -device x3130-upstream,id=up1,bus=rp1"
	i=0
	for v in $sel; do
		args="$args -device xio3130-downstream,id=dp$i,bus=up1,chassis=2,slot=$i -device vfio-pci,host=$v,bus=dp$i"
		i=$((i + 1))
	done
	# shellcheck disable=SC2086
	nested switch16 "$i" $args
fi
echo "VMTEST-INFO MemAvailable now $(memfree) kB"

# --- give everything back
t=$(now)
bad=
for v in $sel; do unbind "$v" || bad="$bad $v"; done
check unbind "still bound:$bad" test -z "$bad"
for pf in $pfs; do
	echo 0 >"/sys/bus/pci/devices/$pf/sriov_numvfs"
	echo 1 >"/sys/bus/pci/devices/$pf/sriov_drivers_autoprobe"
done
check vfs-removed "VFs left: $(attr "$pf0" sriov_numvfs) $(attr "$pf1" sriov_numvfs)" \
	test "$(attr "$pf0" sriov_numvfs)$(attr "$pf1" sriov_numvfs)" = 00
echo "VMTEST-INFO restore took $(elapsed "$t") s"
exit 0
