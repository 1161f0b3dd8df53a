#!/bin/sh
# SPDX-License-Identifier: MIT
# Stand-in for QEMU in the vflaunch payload's --supervise check: it records that it started
# with the devices bound, waits, and records the signal vflaunch forwards to it.
n=0
for d in /sys/bus/pci/devices/*; do
	[ "$(basename "$(readlink "$d/driver" 2>/dev/null)")" = vfio-pci ] && n=$((n + 1))
done
echo "$n" >/tmp/fake-qemu.bound
trap 'echo TERM >/tmp/fake-qemu.signal; exit 143' TERM
i=0
while [ "$i" -lt 120 ]; do sleep 1; i=$((i + 1)); done
exit 0
