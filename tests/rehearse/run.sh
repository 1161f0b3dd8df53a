#!/bin/sh
# SPDX-License-Identifier: MIT
# Rehearsal tests: generated topologies boot under qemu-system-aarch64 (TCG) with stand-ins for
# the VFs, and the guest kernel must enumerate every planned device and port at its planned
# address. Usage: run.sh VFLAUNCH (needs tests/guest/prepare.sh arm64 first: make guest)
set -u
vf=$1
dir=$(cd "$(dirname "$0")" && pwd)
. "$dir/../guest/env.sh" arm64 || exit 1
pass=0 fail=0

# rehearse NAME WANT SCRIPT [ARGS...]: the guest must see WANT of WANT devices.
rehearse() {
	name=$1 want=$2
	shift 2
	start=$(date +%s)
	if out=$("$vf" --simulate --rehearse -q "$@" 2>&1) &&
		echo "$out" | grep -q "guest saw $want of $want planned devices"; then
		pass=$((pass + 1))
		echo "rehearse $name: $(echo "$out" | sed -n 's/^rehearsal: //p') [$(($(date +%s) - start)) s wall]"
	else
		fail=$((fail + 1))
		echo "FAIL rehearse $name:"
		echo "$out" | tail -n 20 | sed 's/^/  | /'
	fi
}

rehearse two-vfs 2 scripts/two-vfs.lua
rehearse root-bus-31 31 "$dir/root-bus-31.lua"
rehearse big-guest 64 scripts/big-guest.lua
rehearse plan-mixed 92 "$dir/plan-mixed.lua"
echo "rehearse: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
