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

# A host tree for launches: DIR/sys from mksimhost HOST, DIR/dev/vfio/N for every IOMMU group,
# DIR/run. Usage: mkhost DIR [HOST]
mkhost() {
	mkdir -p "$1/sys" "$1/dev/vfio" "$1/run" && "$mksimhost" "${2:-82599}" "$1/sys" || return 1
	for g in "$1"/sys/kernel/iommu_groups/*; do : >"$1/dev/vfio/${g##*/}"; done
	: >"$1/dev/vfio/vfio"
}

# What "nothing changed" means for a tree: every device's driver, override and VF count.
treestate() {
	for d in "$1"/sys/bus/pci/devices/*; do
		drv=-; [ -e "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
		printf '%s %s %s %s %s\n' "${d##*/}" "$drv" "$(cat "$d/driver_override" 2>/dev/null)" \
			"$(cat "$d/sriov_numvfs" 2>/dev/null)" "$(cat "$d/sriov_drivers_autoprobe" 2>/dev/null)"
	done
}

# JSON validity: one document, strict (jq).
is_json() { jq -e . "$1" >/dev/null 2>&1 && [ "$(jq -s length "$1" 2>/dev/null)" = 1 ]; }

cd "$top" || exit 1
for part in usage script print host launches signals kernel dist; do
	. "$dir/$part.sh"
done

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
