#!/bin/sh
# SPDX-License-Identifier: MIT
# Payload: time the nested arm64 guest alone (no passthrough device), the baseline for nested boots.
# Arguments: mem=MiB (nested guest RAM, default 512), quiet=1 (add quiet to the nested kernel's command line)
set -u
mem=512
extra=
for a in "$@"; do case $a in mem=*) mem=${a#mem=} ;; quiet=1) extra=" quiet" ;; esac; done
t=$(cut -d' ' -f1 /proc/uptime)
qemu-system-aarch64 -M virt,gic-version=3 -cpu cortex-a57 -m "$mem" -nographic -nodefaults -serial file:/tmp/n.log \
	-monitor none -no-reboot -kernel /guest/arm64/vmlinuz -initrd /guest/arm64/initrd.gz \
	-append "console=ttyAMA0 panic=-1$extra" </dev/null
rc=$?
echo "VMTEST-INFO nested baseline: exit $rc, $(awk -v a="$t" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN{print b-a}') s, $(grep VFLAUNCH-END /tmp/n.log | tr -d '\r')"
if grep -q '^VFLAUNCH-END' /tmp/n.log; then echo "VMTEST-PASS nested-base"; else echo "VMTEST-FAIL nested-base no VFLAUNCH-END"; fi
