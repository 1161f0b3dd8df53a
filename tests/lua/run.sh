#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every tests/lua/test_*.lua through the vflaunch binary (so the embedded modules are what
# is tested), on the simulated host. Usage: run.sh VFLAUNCH
set -u
vflaunch=$1
dir=$(dirname "$0")
pass=0 fail=0
for t in "$dir"/test_*.lua; do
	# A test names its simulated host on a line "-- simulate: NAME" near the top (default: 82599).
	host=$(sed -n '1,5s/^-- simulate: *\([A-Za-z0-9_-]*\).*/\1/p' "$t" | head -n 1)
	if "$vflaunch" --simulate${host:+=$host} -q "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $t"; fi
done
echo "lua: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
