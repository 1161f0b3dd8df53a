#!/bin/sh
# SPDX-License-Identifier: MIT
# Slow rehearsal tests: the planner's strategies at the limits of one guest, booted under TCG with
# stand-ins for the VFs. The guest kernel must enumerate every planned device and every port at
# the address --tree and --json give it (bus numbers included). About 3 minutes of guest time; the
# dense 1984 case alone is about a minute. Usage: slow.sh VFLAUNCH [CASE...]
# (env.sh is told the ARCH through VFLAUNCH_GUEST_ARCH: dash ignores arguments to `.`)
# (needs the arm64 and amd64 guests: tests/guest/prepare.sh arm64; tests/guest/prepare.sh amd64)
set -u
vf=$1
shift
dir=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0

# rehearse NAME ARCH WANT VFLAUNCH-ARGS...: the ARCH guest must see WANT of WANT devices and every
# planned port, each at its planned address.
rehearse() {
	name=$1 arch=$2 want=$3
	shift 3
	start=$(date +%s)
	if out=$(export VFLAUNCH_GUEST_ARCH="$arch" && . "$dir/../guest/env.sh" && "$vf" --rehearse -q --timeout 900 "$@" 2>&1) &&
		echo "$out" | grep -q "guest saw $want of $want planned devices and \([0-9]*\) of \1 ports"; then
		pass=$((pass + 1))
		echo "rehearse $name: $(echo "$out" | sed -n 's/^rehearsal: //p') [$(($(date +%s) - start)) s wall]"
	else
		fail=$((fail + 1))
		echo "FAIL rehearse $name:"
		echo "$out" | tail -n 20 | sed 's/^/  | /'
	fi
}

want() { [ $# -eq 0 ] || case " $* " in *" $case "*) return 0 ;; *) return 1 ;; esac; }

case=flat-248; want "$@" && rehearse flat-248 arm64 248 --simulate=large scripts/flat-248.lua
case=switch-224; want "$@" && rehearse switch-224 arm64 224 --simulate=large scripts/switch-224.lua
# The most the switch strategy fits: 7 switches of 32 and one of 15, every one of the 256 buses.
case=switch-239; want "$@" && rehearse switch-239 arm64 239 --simulate=large scripts/switch-224.lua 239
case=dense-1984; want "$@" && rehearse dense-1984 arm64 1984 --simulate=large scripts/dense-1984.lua
case=q35-64; want "$@" && rehearse q35-64 amd64 64 --simulate scripts/q35-64.lua
case=q35-64-flat; want "$@" && rehearse q35-64-flat amd64 64 --simulate scripts/q35-64.lua flat
echo "rehearse slow: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
