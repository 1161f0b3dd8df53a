#!/bin/sh
# SPDX-License-Identifier: MIT
# Payload (needs run.sh --with-dpdk): dpdk-devbind.py works in the host: it lists the PFs and VFs and binds
# and unbinds VFs to vfio-pci, the peer the binding benchmark compares vflaunch with.
set -u
pf=$(for d in /sys/bus/pci/devices/*; do [ -e "$d/sriov_totalvfs" ] && echo "${d##*/}" && break; done)
echo 0 >"/sys/bus/pci/devices/$pf/sriov_drivers_autoprobe"
echo 4 >"/sys/bus/pci/devices/$pf/sriov_numvfs"
vfs=$(for i in 0 1 2 3; do l=$(readlink "/sys/bus/pci/devices/$pf/virtfn$i") && echo "${l##*/}"; done)
t=$(cut -d' ' -f1 /proc/uptime)
dpdk-devbind.py --status >/tmp/status 2>&1
head -n 12 /tmp/status
v0=$(echo "$vfs" | head -n 1)
if grep -q "^$v0 " /tmp/status; then echo "VMTEST-PASS dpdk-status"; else echo "VMTEST-FAIL dpdk-status $v0 not listed"; fi
echo "VMTEST-INFO dpdk-devbind.py --status took $(awk -v a="$t" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN{print b-a}') s"
t=$(cut -d' ' -f1 /proc/uptime)
# shellcheck disable=SC2086
dpdk-devbind.py -b vfio-pci $vfs >/tmp/bind 2>&1
echo "VMTEST-INFO dpdk-devbind.py -b vfio-pci (4 VFs) took $(awk -v a="$t" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN{print b-a}') s"
bad=
for v in $vfs; do
	d=$(readlink "/sys/bus/pci/devices/$v/driver") || d=none
	[ "${d##*/}" = vfio-pci ] || bad="$bad $v:${d##*/}"
done
if [ -z "$bad" ]; then echo "VMTEST-PASS dpdk-bind"; else echo "VMTEST-FAIL dpdk-bind$bad $(head -c 400 /tmp/bind)"; fi
# shellcheck disable=SC2086
dpdk-devbind.py -u $vfs >/tmp/unbind 2>&1
bad=
for v in $vfs; do [ ! -e "/sys/bus/pci/devices/$v/driver" ] || bad="$bad $v"; done
if [ -z "$bad" ]; then echo "VMTEST-PASS dpdk-unbind"; else echo "VMTEST-FAIL dpdk-unbind$bad $(head -c 400 /tmp/unbind)"; fi
