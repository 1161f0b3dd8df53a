#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every tests/lua/test_*.lua through the vflaunch binary (so the embedded modules are what
# is tested), on the simulated host. Usage: run.sh VFLAUNCH
set -u
vflaunch=$1
dir=$(dirname "$0")
pass=0 fail=0
for t in "$dir"/test_*.lua; do
	if "$vflaunch" --simulate -q "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $t"; fi
done
echo "lua: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
