#!/bin/sh
# SPDX-License-Identifier: MIT
# Slow rehearsal tests: the planner's strategies at the limits of one guest, booted under TCG with
# stand-ins for the VFs. The guest kernel must enumerate every planned device and every port at
# the address --tree and --json give it (bus numbers included). About 3 minutes of guest time per
# QEMU (lib.sh: the one in PATH, then each of VFLAUNCH_QEMU_DIRS); the dense 1984 case alone is
# about a minute. Usage: slow.sh VFLAUNCH [CASE...]
# (needs the arm64 and amd64 guests: tests/guest/prepare.sh arm64; tests/guest/prepare.sh amd64)
set -u
vf=$1
shift
dir=$(cd "$(dirname "$0")" && pwd)
. "$dir/lib.sh"

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
