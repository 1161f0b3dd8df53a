#!/bin/bash
# SPDX-License-Identifier: MIT
# Boot the emulated x86_64 test host (QEMU TCG, q35 + intel-iommu, two SR-IOV NVMe PFs) with one payload
# from tests/vm/payload/, show its console, and judge it: the payload prints VMTEST-PASS/VMTEST-FAIL lines;
# this script ends with "N passed, N failed" alone on a line and exits 0 only if nothing failed, at least
# one check passed, and the payload finished (VMTEST-DONE ... 0) before the timeout.
#
# Usage: run.sh [--with-dpdk] PAYLOAD [ARG...]      (PAYLOAD: a name in tests/vm/payload/, without .sh)
# Environment (defaults):
#   VMTEST_VFS=127       sriov_max_vfs of each PF (QEMU 7.2 accepts 1..127)
#   VMTEST_MEM=4096      host RAM in MiB (the nested aarch64 QEMU runs inside it; 2048 for the igb profile)
#   VMTEST_SMP=2         host CPUs
#   VMTEST_CPU=max       host CPU model (-cpu)
#   VMTEST_TIMEOUT=900   seconds before the host is killed
#   VMTEST_LOG           also keep the whole console in this file
#   VMTEST_HOST=nvme     the host profile: nvme (two SR-IOV NVMe PFs and a two-function NVMe pair, QEMU
#                        from PATH) or igb (two Intel 82576 PFs with SR-IOV, `-device igb`, each behind its
#                        own root port, and one small SR-IOV NVMe PF; QEMU 10 from tests/tools/fetch-qemu10.sh,
#                        as 7.2 has no igb; the host initramfs adds the igb driver and iproute2's ip, the
#                        nested guest the igbvf driver; VMTEST_VFS defaults to 2 there)
#   VMTEST_QEMU_DIR      for the igb profile: a directory with QEMU 10's qemu-system-x86_64 (default: what
#                        tests/tools/fetch-qemu10.sh prints, fetching it once)
#   VMTEST_QEMU_ARGS     more QEMU arguments, space separated (devices for one payload: the vfnet
#                        payload's igb PF, which needs QEMU 8.0 or later first in PATH)
set -eu

prog=run.sh
die() { echo "$prog: $*" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/hostlib.sh
. "$here/hostlib.sh"
build_args=()
if [ "${1:-}" = --with-dpdk ]; then
	build_args+=(--with-dpdk)
	shift
fi
[ $# -ge 1 ] || die "usage: run.sh [--with-dpdk] PAYLOAD [ARG...]"
payload=$1
shift
[ -f "$here/payload/$payload.sh" ] || die "no payload $here/payload/$payload.sh"
host=${VMTEST_HOST:-nvme}
case $host in
nvme) vfs=${VMTEST_VFS:-127} mem=${VMTEST_MEM:-4096} ;;
# 2 GiB: with RAM above 4 GiB, SeaBIOS puts every 64-bit prefetchable window above 4 GiB, and the
# kernel puts the igb VF BARs (64-bit prefetchable) there; QEMU 10's igb VFs decode only the low 32
# bits of their BAR addresses (`info pci` shows them as 32-bit BARs at the truncated address), so
# igbvf would read zeros from its registers and never reach the PF's mailbox. Below 4 GiB both agree.
igb) vfs=${VMTEST_VFS:-2} mem=${VMTEST_MEM:-2048} ;;
*) die "VMTEST_HOST=$host: the profiles are nvme and igb" ;;
esac
smp=${VMTEST_SMP:-2}
tmo=${VMTEST_TIMEOUT:-900}
cpu=${VMTEST_CPU:-max}
case $vfs in [1-9]|[1-9][0-9]|1[01][0-9]|12[0-7]) ;; *) die "VMTEST_VFS=$vfs: QEMU 7.2's nvme takes 1..127" ;; esac
for a in "$@"; do
	case $a in *[!A-Za-z0-9_.,:=/+-]*|'') die "argument '$a': only [A-Za-z0-9_.,:=/+-] pass the kernel command line" ;; esac
done

qemu="qemu-system-x86_64"
if [ "$host" = igb ]; then
	qdir=${VMTEST_QEMU_DIR:-}
	[ -n "$qdir" ] || qdir=$("$here/../tools/fetch-qemu10.sh") || die "tests/tools/fetch-qemu10.sh failed"
	qemu=$qdir/qemu-system-x86_64
	[ -x "$qemu" ] || die "no $qemu"
	# The host's igb PFs (and the vfio modules); iproute2's ip, as busybox's cannot set VF attributes;
	# the nested guest's igbvf.
	export VMTEST_MODULES="${VMTEST_MODULES:-crypto-crc64-rocksoft crypto-crct10dif nvme vfio-pci vfio_iommu_type1 igb}"
	export VMTEST_EXTRA_BINS="${VMTEST_EXTRA_BINS:+$VMTEST_EXTRA_BINS }/usr/bin/ip"
	export VMTEST_GUEST_MODULES="${VMTEST_GUEST_MODULES:-igbvf}"
	[ -x /usr/bin/ip ] || die "/usr/bin/ip not found (apt-get install iproute2)"
	build_args+=(--tag igb)
fi
command -v "$qemu" >/dev/null 2>&1 || die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
eval "$("$here/build-host-initrd.sh" "${build_args[@]}")"
[ -n "${HOST_KERNEL:-}" ] && [ -n "${HOST_INITRD:-}" ] || die "build-host-initrd.sh gave no kernel/initrd"

append="console=ttyS0 intel_iommu=on panic=-1 loglevel=4 vmtest.payload=$payload"
for a in "$@"; do append="$append vmtest.arg=$a"; done

# An Intel 82576 (QEMU's igb: 8 VFs, the Linux igb driver offers 7) behind its own root port, no
# backend: the link is down, which VF identity does not need. Its VFs have no I/O BARs, nor does it.
igb() { # igb N CHASSIS
	echo "-device pcie-root-port,id=rp$1,chassis=$2,slot=0"
	echo "-device igb,bus=rp$1,id=igb$1,mac=52:54:00:00:0$1:00"
}
# shellcheck disable=SC2207
case $host in
nvme) devs=($(nvme_pf 0 1) $(nvme_pf 1 2) $(nvme_pair)) ;;
igb) devs=($(igb 0 1) $(igb 1 2) $(nvme_pf 2 3)) ;;
esac
read -r -a extra_args <<<"${VMTEST_QEMU_ARGS:-}"
devs+=("${extra_args[@]}")

what="host for payload '$payload' ($vfs VFs per PF max"
[ "$host" = nvme ] || what="$host host for payload '$payload' ($vfs VFs per NVMe PF max"
echo "$prog: booting $what, ${mem} MiB, $smp cpus, timeout ${tmo}s)"
vm_run "$prog" "$payload" "$tmo" "$qemu" -accel tcg,thread=multi -M q35,kernel-irqchip=split \
	-cpu "$cpu" -smp "$smp" -m "$mem" -nographic -nodefaults -serial stdio -no-reboot -monitor none \
	-device intel-iommu,intremap=on,caching-mode=on \
	"${devs[@]}" \
	-kernel "$HOST_KERNEL" -initrd "$HOST_INITRD" -append "$append"
