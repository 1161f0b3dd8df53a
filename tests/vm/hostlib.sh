# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2154 # vfs: set by the script that sources this
# Sourced by tests/vm/run.sh and tests/vm/run-arm64.sh (bash): what the x86_64 and the aarch64 test
# hosts share, the NVMe devices QEMU emulates in them and the boot of a host with one payload,
# judged the same way on both.

# nvme_pf N CHASSIS: QEMU arguments, one per line, for SR-IOV NVMe PF N with $vfs VFs: an NVMe
# controller in its own subsystem, behind its own root port. QEMU 7.2's rules for SR-IOV:
# sriov_vq_flexible >= 2 per VF, sriov_vi_flexible >= 1 per VF,
# max_ioqpairs - sriov_vq_flexible >= 2, msix_qsize - sriov_vi_flexible >= 1.
nvme_pf() {
	echo "-device pcie-root-port,id=rp$1,chassis=$2,slot=0"
	echo "-device nvme-subsys,id=ss$1,nqn=vmtest-pf$1"
	echo "-device nvme,bus=rp$1,serial=vmtest-pf$1,subsys=ss$1,sriov_max_vfs=$vfs,sriov_vq_flexible=$((2 * vfs)),sriov_vi_flexible=$vfs,max_ioqpairs=$((2 * vfs + 2)),msix_qsize=$((vfs + 1))"
}

# nvme_pair: a two-function NVMe device (no SR-IOV) behind a third root port: without ACS between
# them the functions share one IOMMU group, and both stay on the host's nvme driver. Passing one
# through is the "group not viable" case of the vflaunch payload.
nvme_pair() {
	echo "-device pcie-root-port,id=rp9,chassis=9,slot=0"
	echo "-device nvme,bus=rp9,addr=00.0,multifunction=on,serial=vmtest-fn0"
	echo "-device nvme,bus=rp9,addr=00.1,serial=vmtest-fn1"
}

# vm_run PROG PAYLOAD TIMEOUT QEMU [ARG...]: run the host (killed after TIMEOUT seconds), its
# console on stdout (and in $VMTEST_LOG when set), and judge it: the payload prints
# VMTEST-PASS/VMTEST-FAIL lines; the last line is "N passed, N failed", and the status is 0 only
# if nothing failed, at least one check passed, and the payload finished (VMTEST-DONE PAYLOAD 0)
# in time.
vm_run() {
	local prog=$1 payload=$2 tmo=$3 log t0 t1 qrc pass fail done_rc
	shift 3
	log=$(mktemp /tmp/vmtest-run.XXXXXX)
	# shellcheck disable=SC2064 # the file of this call, now
	trap "rm -f '$log'" EXIT
	t0=$(date +%s.%N)
	set +e
	timeout --foreground -k 10 "$tmo" "$@" </dev/null 2>&1 | sed -u -e 's/\r$//' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' | tee "$log"
	qrc=${PIPESTATUS[0]}
	set -e
	t1=$(date +%s.%N)
	[ -z "${VMTEST_LOG:-}" ] || cp "$log" "$VMTEST_LOG"

	pass=$(grep -c '^VMTEST-PASS ' "$log" || :)
	fail=$(grep -c '^VMTEST-FAIL ' "$log" || :)
	done_rc=$(sed -n "s/^VMTEST-DONE $payload \([0-9]*\)\$/\1/p" "$log" | tail -n 1)
	echo "$prog: host wall time $(echo "$t1 - $t0" | bc 2>/dev/null || awk "BEGIN{print $t1 - $t0}") s, qemu exit $qrc"
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		echo "VMTEST-FAIL $prog timeout after ${tmo}s"
		fail=$((fail + 1))
	elif [ -z "$done_rc" ]; then
		echo "VMTEST-FAIL $prog the payload did not finish (no VMTEST-DONE: kernel panic or crash?)"
		fail=$((fail + 1))
	elif [ "$done_rc" != 0 ] && [ "$fail" = 0 ]; then
		echo "VMTEST-FAIL $prog payload exited $done_rc"
		fail=$((fail + 1))
	fi
	if [ "$pass" = 0 ] && [ "$fail" = 0 ]; then
		echo "VMTEST-FAIL $prog no check ran"
		fail=1
	fi
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
}
