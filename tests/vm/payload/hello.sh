#!/bin/sh
# SPDX-License-Identifier: MIT
# Minimal payload: proves the host boots, modules load and copied binaries run (lspci, qemu).
lsmod
lspci -nn
qemu-system-aarch64 --version | head -1
ls /sys/class/iommu
echo "VMTEST-PASS hello"
