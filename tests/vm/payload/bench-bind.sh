#!/bin/sh
# SPDX-License-Identifier: MIT
# Payload (run.sh --with-dpdk bench-bind): the binding benchmark. N VFs of one emulated NVMe PF
# (N = 8, 64, 127) bound to vfio-pci by three tools in the same host and the same run: vflaunch
# (checks, journal, driver_override/unbind/drivers_probe/verify, then exec of /bin/true as QEMU),
# dpdk-devbind.py -b vfio-pci, and a shell loop over driver_override + drivers_probe. Every VF is
# given back (no driver) between runs; each run is checked to have bound all N. Prints the ratios.
set -u
pf=$(for d in /sys/bus/pci/devices/*; do [ -e "$d/sriov_totalvfs" ] && echo "${d##*/}" && break; done)
now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
vfs_of() { i=0; while [ "$i" -lt "$1" ]; do l=$(readlink "/sys/bus/pci/devices/$pf/virtfn$i") && echo "${l##*/}"; i=$((i + 1)); done; }
count_bound() { n=0; for v in $1; do [ "$(basename "$(readlink "/sys/bus/pci/devices/$v/driver" 2>/dev/null)")" = vfio-pci ] && n=$((n + 1)); done; echo "$n"; }
release() { for v in $1; do
	echo >"/sys/bus/pci/devices/$v/driver_override"
	[ ! -e "/sys/bus/pci/devices/$v/driver" ] || echo "$v" >"/sys/bus/pci/devices/$v/driver/unbind"
done; }
shell_bind() { for v in $1; do
	echo vfio-pci >"/sys/bus/pci/devices/$v/driver_override"
	echo "$v" >/sys/bus/pci/drivers_probe
done; }

echo 0 >"/sys/bus/pci/devices/$pf/sriov_drivers_autoprobe"
echo 0 >"/sys/bus/pci/devices/$pf/sriov_numvfs"
echo 127 >"/sys/bus/pci/devices/$pf/sriov_numvfs"
for n in 8 64 127; do
	vfs=$(vfs_of "$n")
	t=$(now); vflaunch --qemu /bin/true /payload/bind-n.lua "$n" >/tmp/vfl.out 2>&1; tv=$(elapsed "$t")
	# Given back by hand, as for the peers, and the launch's record dropped: every run starts alike.
	bv=$(count_bound "$vfs"); release "$vfs"; rm -rf /run/vflaunch/bind-n
	t=$(now); dpdk-devbind.py -b vfio-pci $vfs >/tmp/dpdk.out 2>&1; td=$(elapsed "$t")
	bd=$(count_bound "$vfs"); release "$vfs"
	t=$(now); shell_bind "$vfs"; ts=$(elapsed "$t")
	bs=$(count_bound "$vfs"); release "$vfs"
	for r in "vflaunch $bv" "dpdk $bd" "shell $bs"; do
		set -- $r
		if [ "$2" -eq "$n" ]; then echo "VMTEST-PASS bind-$n-$1"; else
			echo "VMTEST-FAIL bind-$n-$1 bound $2 of $n"; [ "$1" = vflaunch ] && tail -n 5 /tmp/vfl.out; fi
	done
	awk -v n="$n" -v v="$tv" -v d="$td" -v s="$ts" 'BEGIN {
		printf "BENCH bind N=%d: vflaunch %.3f s, dpdk-devbind.py %.3f s, shell loop %.3f s; " \
			"vflaunch/dpdk %.2f, vflaunch/shell %.2f\n", n, v, d, s, v / d, v / s }'
done
