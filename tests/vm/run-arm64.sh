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

# The PFs as on the x86_64 host (tests/vm/run.sh): each an NVMe controller in its own subsystem,
# behind its own root port, with QEMU 7.2's SR-IOV rules; and the two-function NVMe device whose
# functions share an IOMMU group (no ACS between them), for the "group not viable" check.
pf() { # pf N CHASSIS
	echo "-device pcie-root-port,id=rp$1,chassis=$2,slot=0"
	echo "-device nvme-subsys,id=ss$1,nqn=vmtest-pf$1"
	echo "-device nvme,bus=rp$1,serial=vmtest-pf$1,subsys=ss$1,sriov_max_vfs=$vfs,sriov_vq_flexible=$((2 * vfs)),sriov_vi_flexible=$vfs,max_ioqpairs=$((2 * vfs + 2)),msix_qsize=$((vfs + 1))"
}
pair() {
	echo "-device pcie-root-port,id=rp9,chassis=9,slot=0"
	echo "-device nvme,bus=rp9,addr=00.0,multifunction=on,serial=vmtest-fn0"
	echo "-device nvme,bus=rp9,addr=00.1,serial=vmtest-fn1"
}
# shellcheck disable=SC2207
devs=($(pf 0 1) $(pf 1 2) $(pair))

log=$(mktemp /tmp/vmtest-run.XXXXXX)
trap 'rm -f "$log"' EXIT
echo "$prog: booting the aarch64 host ($boot) for payload '$payload' ($vfs VFs per PF max, ${mem} MiB, $smp cpus, timeout ${tmo}s)"
t0=$(date +%s.%N)
set +e
timeout --foreground -k 10 "$tmo" qemu-system-aarch64 -accel tcg,thread=multi \
	-M virt,iommu=smmuv3,gic-version=3 -cpu "$cpu" -smp "$smp" -m "$mem" \
	-nographic -nodefaults -serial stdio -no-reboot -monitor none "${firmware[@]}" \
	"${devs[@]}" \
	-kernel "$HOST_KERNEL" -initrd "$HOST_INITRD" -append "$append" </dev/null 2>&1 | sed -u -e 's/\r$//' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' | tee "$log"
qrc=${PIPESTATUS[0]}
set -e
t1=$(date +%s.%N)
[ -z "${VMTEST_LOG:-}" ] || cp "$log" "$VMTEST_LOG"

pass=$(grep -c '^VMTEST-PASS ' "$log" || :)
fail=$(grep -c '^VMTEST-FAIL ' "$log" || :)
done_rc=$(sed -n "s/^VMTEST-DONE $payload \([0-9]*\)\$/\1/p" "$log" | tail -n 1)
echo "$prog: host wall time $(awk "BEGIN{print $t1 - $t0}") s, qemu exit $qrc"
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "VMTEST-FAIL run-arm64.sh timeout after ${tmo}s"
	fail=$((fail + 1))
elif [ -z "$done_rc" ]; then
	echo "VMTEST-FAIL run-arm64.sh the payload did not finish (no VMTEST-DONE: kernel panic or crash?)"
	fail=$((fail + 1))
elif [ "$done_rc" != 0 ] && [ "$fail" = 0 ]; then
	echo "VMTEST-FAIL run-arm64.sh payload exited $done_rc"
	fail=$((fail + 1))
fi
if [ "$pass" = 0 ] && [ "$fail" = 0 ]; then
	echo "VMTEST-FAIL run-arm64.sh no check ran"
	fail=1
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
