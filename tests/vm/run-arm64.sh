#!/bin/bash
# SPDX-License-Identifier: MIT
# Boot the emulated aarch64 test host (QEMU TCG, virt with an SMMUv3 and a GICv3, two SR-IOV NVMe
# PFs behind root ports, booted through UEFI) with one payload from tests/vm/payload/, show its
# console, and judge it as tests/vm/run.sh does: the payload prints VMTEST-PASS/VMTEST-FAIL lines;
# this script ends with "N passed, N failed" alone on a line and exits 0 only if nothing failed, at
# least one check passed, and the payload finished (VMTEST-DONE ... 0) before the timeout.
#
# Usage: run-arm64.sh [--dt] PAYLOAD [ARG...]      (PAYLOAD: a name in tests/vm/payload/, without .sh)
#   --dt   boot the kernel directly with QEMU's device tree instead of UEFI (Debian's
#          qemu-efi-aarch64) and its ACPI tables: Linux 6.1 then enables ACS on the root ports too
#          late, and each PF shares an IOMMU group with its VFs (the acs payload's case)
# Environment (defaults):
#   VMTEST_VFS=127       sriov_max_vfs of each PF (QEMU 7.2 accepts 1..127)
#   VMTEST_MEM=4096      host RAM in MiB (the nested aarch64 QEMU runs inside it)
#   VMTEST_SMP=2         host CPUs
#   VMTEST_CPU=cortex-a57  host CPU model (-cpu max emulates pointer authentication, slowly)
#   VMTEST_TIMEOUT=900   seconds before the host is killed
#   VMTEST_FIRMWARE      the UEFI image (default /usr/share/qemu-efi-aarch64/QEMU_EFI.fd)
#   VMTEST_LOG           also keep the whole console in this file
set -eu

prog=run-arm64.sh
die() { echo "$prog: $*" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/hostlib.sh
. "$here/hostlib.sh"
boot=uefi
if [ "${1:-}" = --dt ]; then
	boot=dt
	shift
fi
[ $# -ge 1 ] || die "usage: run-arm64.sh [--dt] PAYLOAD [ARG...]"
payload=$1
shift
[ -f "$here/payload/$payload.sh" ] || die "no payload $here/payload/$payload.sh"
vfs=${VMTEST_VFS:-127}
mem=${VMTEST_MEM:-4096}
smp=${VMTEST_SMP:-2}
tmo=${VMTEST_TIMEOUT:-900}
cpu=${VMTEST_CPU:-cortex-a57}
fw=${VMTEST_FIRMWARE:-/usr/share/qemu-efi-aarch64/QEMU_EFI.fd}
case $vfs in [1-9]|[1-9][0-9]|1[01][0-9]|12[0-7]) ;; *) die "VMTEST_VFS=$vfs: QEMU 7.2's nvme takes 1..127" ;; esac
for a in "$@"; do
	case $a in *[!A-Za-z0-9_.,:=/+-]*|'') die "argument '$a': only [A-Za-z0-9_.,:=/+-] pass the kernel command line" ;; esac
done

command -v qemu-system-aarch64 >/dev/null 2>&1 || die "qemu-system-aarch64 not found (apt-get install qemu-system-arm)"
firmware=()
if [ "$boot" = uefi ]; then
	[ -r "$fw" ] || die "$fw not found (apt-get install qemu-efi-aarch64)"
	firmware=(-bios "$fw")
fi
eval "$("$here/build-host-initrd-arm64.sh")"
[ -n "${HOST_KERNEL:-}" ] && [ -n "${HOST_INITRD:-}" ] || die "build-host-initrd-arm64.sh gave no kernel/initrd"

append="console=ttyAMA0 panic=-1 loglevel=4 vmtest.payload=$payload vmtest.boot=$boot"
for a in "$@"; do append="$append vmtest.arg=$a"; done

# The PFs and the two-function device as on the x86_64 host (tests/vm/hostlib.sh).
# shellcheck disable=SC2207
devs=($(nvme_pf 0 1) $(nvme_pf 1 2) $(nvme_pair))

echo "$prog: booting the aarch64 host ($boot) for payload '$payload' ($vfs VFs per PF max, ${mem} MiB, $smp cpus, timeout ${tmo}s)"
vm_run "$prog" "$payload" "$tmo" qemu-system-aarch64 -accel tcg,thread=multi \
	-M virt,iommu=smmuv3,gic-version=3 -cpu "$cpu" -smp "$smp" -m "$mem" \
	-nographic -nodefaults -serial stdio -no-reboot -monitor none "${firmware[@]}" \
	"${devs[@]}" \
	-kernel "$HOST_KERNEL" -initrd "$HOST_INITRD" -append "$append"
