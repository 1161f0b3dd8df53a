#!/bin/sh
# SPDX-License-Identifier: MIT
# Stand-in for QEMU in the CLI tests, exec'd by vflaunch (so it keeps vflaunch's pid) or run as
# its supervised child. Like QEMU it holds /dev/vfio/N open for every vfio-pci device of its
# argv (up to 6), under the host tree $FAKE_QEMU_ROOT; it writes "started PID" to
# $FAKE_QEMU_LOG, then waits for SIGTERM (logging "TERM", exit 143) or $FAKE_QEMU_SECONDS (60).
root=${FAKE_QEMU_ROOT:?}
log=${FAKE_QEMU_LOG:?}
fd=3
for a in "$@"; do
	case $a in
	vfio-pci,host=*)
		addr=${a#vfio-pci,host=}
		addr=${addr%%,*}
		g=$(readlink "$root/sys/bus/pci/devices/$addr/iommu_group") || exit 1
		[ "$fd" -le 8 ] && eval "exec $fd<>\"$root/dev/vfio/${g##*/}\"" && fd=$((fd + 1))
		;;
	esac
done
trap 'echo TERM >>"$log"; exit 143' TERM
echo "started $$" >>"$log"
i=0
while [ "$i" -lt "${FAKE_QEMU_SECONDS:-60}0" ]; do sleep 0.1; i=$((i + 1)); done
exit 0
