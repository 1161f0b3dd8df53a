#!/bin/sh
# SPDX-License-Identifier: MIT
# Binding benchmark: N = 8, 64, 127 VFs of an emulated NVMe PF bound to vfio-pci by vflaunch, by
# dpdk-devbind.py -b vfio-pci and by a shell loop over driver_override, in the same emulated host
# (real Debian kernel, TCG) and the same run (tests/vm/payload/bench-bind.sh). Prints the ratios.
# dpdk-devbind.py knows no NVMe devices: the host's copy has QEMU's NVMe added to its list.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$here/../tests/vm/run.sh" --with-dpdk bench-bind | grep -E '^(BENCH|VMTEST-FAIL|[0-9]+ passed)'
