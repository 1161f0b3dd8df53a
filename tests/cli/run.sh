#!/bin/sh
# SPDX-License-Identifier: MIT
# CLI contract tests, run against the built binary: exit codes, one-line errors with file:line,
# print-only runs that write nothing, the --dry-run/--json round trip, launches against a host
# tree (--root) with named state, status, stop, restore and the lock. Each part is a file of
# this directory sourced below; the helpers here are theirs.
# Usage: run.sh VFLAUNCH MKSIMHOST [FAKEKERNEL.so]
set -u
vf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
mksimhost=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
fakekernel=${3:+$(cd "$(dirname "$3")" && pwd)/$(basename "$3")}
dir=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$dir/../.." && pwd)
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# check NAME COMMAND...: a condition that must hold.
check() { n=$1; shift; if "$@"; then ok; else bad "$n"; fi; }

# expect NAME STATUS GREP-PATTERN CMD...: the exit status, and stderr matching the pattern.
# stdout is in $tmp/out, stderr in $tmp/err.
expect() {
	name=$1 want=$2 pattern=$3
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		bad "$name: exit $got, want $want"; sed 's/^/  | /' "$tmp/err" | head -20; return 1
	fi
	if [ -n "$pattern" ] && ! grep -q -- "$pattern" "$tmp/err"; then
		bad "$name: stderr lacks '$pattern'"; sed 's/^/  | /' "$tmp/err" | head -20; return 1
	fi
	ok
}

# Host trees for launches (fk_host HOST DIR: DIR/sys, DIR/dev/vfio/N, DIR/run) and their state
# (fk_state DIR: every device's driver and override, every PF's VF count and autoprobe).
VFLAUNCH=$vf MKSIMHOST=$mksimhost FK_SO=$fakekernel
. "$dir/fklib.sh"

# wait_for FILE PATTERN: up to 10 s for a line in FILE.
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1)); [ "$i" -gt 100 ] && return 1; sleep 0.1
	done
}

# JSON validity: one document, strict (jq).
is_json() { jq -e . "$1" >/dev/null 2>&1 && [ "$(jq -s length "$1" 2>/dev/null)" = 1 ]; }

cd "$top" || exit 1
for part in usage script modules print host acs launches signals kernel netid hotplug dist; do
	. "$dir/$part.sh"
done

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
