#!/bin/sh
# SPDX-License-Identifier: MIT
# Payload: the copied tools run in the host. vflaunch (with its libraries and pci.ids) starts and lists the
# PFs and VFs; its test build vflaunch-testing starts and says it is one; /sbin/modprobe (busybox, with the initramfs's modules.dep) reloads vfio-pci as vflaunch
# would; the nested QEMU starts. No nested guest is booted.
set -u
pass() { echo "VMTEST-PASS $1"; }
fail() { n=$1; shift; echo "VMTEST-FAIL $n $*"; }

if command -v vflaunch >/dev/null 2>&1 && vflaunch --version >/tmp/v 2>&1; then
	pass "vflaunch-runs $(cat /tmp/v)"
else
	fail vflaunch-runs "vflaunch missing or does not start: $(head -c 300 /tmp/v 2>/dev/null)"
fi
if vflaunch-testing --version >/tmp/vt 2>&1 && grep -q -- '-testing ' /tmp/vt; then
	pass "vflaunch-testing-runs $(cat /tmp/vt)"
else
	fail vflaunch-testing-runs "vflaunch-testing missing or not a test build: $(head -c 300 /tmp/vt 2>/dev/null)"
fi
pf=$(for d in /sys/bus/pci/devices/*; do [ -e "$d/sriov_totalvfs" ] && echo "${d##*/}" && break; done)
echo 0 >"/sys/bus/pci/devices/$pf/sriov_drivers_autoprobe"
echo 2 >"/sys/bus/pci/devices/$pf/sriov_numvfs"
vflaunch list >/tmp/list 2>&1
cat /tmp/list
if grep -q "${pf#0000:}\|$pf" /tmp/list; then pass vflaunch-list; else fail vflaunch-list "$pf not listed"; fi
vflaunch list --vfs >/tmp/listvfs 2>&1
cat /tmp/listvfs
vf=$(readlink "/sys/bus/pci/devices/$pf/virtfn1")
vf=${vf##*/}
if grep -q "${vf#0000:}\|$vf" /tmp/listvfs; then pass vflaunch-list-vfs; else fail vflaunch-list-vfs "$vf not listed"; fi
rmmod vfio_pci
if [ ! -d /sys/module/vfio_pci ] && modprobe vfio-pci && [ -d /sys/module/vfio_pci ]; then
	pass modprobe-vfio-pci
else
	fail modprobe-vfio-pci "rmmod/modprobe vfio-pci did not work"
fi
if qemu-system-aarch64 -M virt -display none -S -monitor none -nodefaults </dev/null & p=$!; sleep 2; kill "$p" 2>/dev/null; then
	pass nested-qemu-starts
else
	fail nested-qemu-starts "qemu-system-aarch64 died at once"
fi
echo 0 >"/sys/bus/pci/devices/$pf/sriov_numvfs"
