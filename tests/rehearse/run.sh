#!/bin/sh
# SPDX-License-Identifier: MIT
# Rehearsal tests: generated topologies boot under qemu-system-aarch64 (TCG) with stand-ins for
# the VFs, and the guest kernel must enumerate every planned device and port at its planned
# address; then the planner's limits against QEMU itself (limits.sh). Each on the QEMU in PATH and
# on each of VFLAUNCH_QEMU_DIRS (lib.sh). Usage: run.sh VFLAUNCH (needs tests/guest/prepare.sh
# arm64 first: make guest)
set -u
vf=$1
dir=$(cd "$(dirname "$0")" && pwd)
. "$dir/lib.sh"

rehearse two-vfs arm64 2 --simulate scripts/two-vfs.lua
rehearse root-bus-31 arm64 31 --simulate "$dir/root-bus-31.lua"
rehearse big-guest arm64 64 --simulate scripts/big-guest.lua
rehearse plan-mixed arm64 92 --simulate "$dir/plan-mixed.lua"
rehearse cascade arm64 10 --simulate tests/lua/cascade.lua
. "$dir/limits.sh"
echo "rehearse: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
