#!/bin/bash
# SPDX-License-Identifier: MIT
# The real-kernel suite on the emulated aarch64 host (make check-vm-arm64): boot it once per payload
# with run-arm64.sh and add up the checks, as check.sh does for the x86_64 host. A payload written
# dt:NAME boots the host with QEMU's device tree instead of UEFI (run-arm64.sh --dt). Prints the time
# of each phase (fetch and initramfs build, each host boot) and ends with "N passed, N failed" alone
# on a line; exits non-zero if any check failed.
# Usage: check-arm64.sh [PAYLOAD...]   (default: tools vflaunch dt:acs, as make check-vm-arm64 runs them)
#   tools     the arm64 vflaunch, its test build and the arm64 QEMU run on the host
#   vflaunch  list, VF counts, --supervise, viability refusal, mid-bind rollback, a launch whose
#             nested aarch64 guest enumerates its 16 VFs, restore exact and idempotent
#   dt:acs    ACS off on the device-tree host: list and the refusal name the bridge; remove +
#             rescan splits the groups and the launch passes
set -eu

here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- tools vflaunch dt:acs
pass=0 fail=0 t0=$(date +%s)
times=()
# The fetch and the initramfs build first, on their own, so that their time is not a boot's.
t=$(date +%s)
"$here/build-host-initrd-arm64.sh" >/dev/null
times+=("fetch+build $(($(date +%s) - t)) s")
for p in "$@"; do
	args=("$p")
	case $p in dt:*) args=(--dt "${p#dt:}") ;; esac
	log=$(mktemp /tmp/vmtest-check.XXXXXX)
	# The vflaunch payload's nested guest (TCG under TCG) took 206 s on a quiet machine and 277 s
	# with four other guests running; as check.sh does for its long payload, it gets more time.
	tmo=${VMTEST_TIMEOUT:-900}
	[ "$p" != vflaunch ] || tmo=${VMTEST_TIMEOUT:-1800}
	t=$(date +%s)
	if VMTEST_TIMEOUT=$tmo "$here/run-arm64.sh" "${args[@]}" | tee "$log"; then :; fi
	read -r np _ nf _ < <(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1) || { np=0 nf=1; }
	pass=$((pass + np)) fail=$((fail + nf))
	times+=("$p $(($(date +%s) - t)) s ($np passed, $nf failed)")
	# The nested guest's time, when the payload booted one.
	n=$(sed -n 's/^VMTEST-INFO exec: exit [0-9]* in \([0-9.]*\) s:.*/\1/p' "$log")
	[ -z "$n" ] || times+=("  nested guest: vflaunch to QEMU's exit, the guest enumerating its VFs: $n s")
	u=$(sed -n 's/^VMTEST-HOST up \([0-9.]*\) s.*/\1/p' "$log")
	[ -z "$u" ] || times+=("  host: kernel up to the payload $u s (guest clock)")
	rm -f "$log"
done
echo "check-vm-arm64: phases:"
printf '  %s\n' "${times[@]}"
echo "check-vm-arm64: $# host boots in $(($(date +%s) - t0)) s"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
