#!/bin/bash
# SPDX-License-Identifier: MIT
# The real-kernel suite (make check-vm): boot the emulated x86_64 host once per payload with run.sh and add
# up the checks. Ends with "N passed, N failed" alone on a line; exits non-zero if any check failed.
# Usage: check.sh [PAYLOAD...]   (default: tools smoke vflaunch launches netid, as make check-vm runs them)
# netid boots the igb host profile (VMTEST_HOST=igb: emulated Intel 82576 PFs, QEMU 10); the others
# the default NVMe host.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- tools smoke vflaunch launches netid
pass=0 fail=0 t0=$(date +%s)
for p in "$@"; do
	log=$(mktemp /tmp/vmtest-check.XXXXXX)
	# Two nested guests boot at once in the launches payload: 250 s on an idle machine, seen up to
	# 770 s on a busy one (TCG under TCG); it gets more time than one host's default 900 s.
	tmo=${VMTEST_TIMEOUT:-900}
	# netid boots one nested guest with two igb VFs and igbvf: 230 s on a loaded machine.
	case $p in launches|netid) tmo=${VMTEST_TIMEOUT:-1800} ;; esac
	host=nvme
	[ "$p" != netid ] || host=igb
	if VMTEST_HOST=$host VMTEST_TIMEOUT=$tmo "$here/run.sh" "$p" | tee "$log"; then :; fi
	read -r np _ nf _ < <(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1) || { np=0 nf=1; }
	pass=$((pass + np)) fail=$((fail + nf))
	rm -f "$log"
done
echo "check-vm: $# host boots in $(($(date +%s) - t0)) s"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
