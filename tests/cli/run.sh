#!/bin/sh
# SPDX-License-Identifier: MIT
# CLI contract tests: exit codes, one-line errors with file:line, --dry-run parsed back by a shell
# equals the argv of --json, exec statuses, and every bad script under bad/.
# Usage: run.sh VFLAUNCH MKSIMHOST
set -u
vf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
mksimhost=$2
dir=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$dir/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect NAME STATUS GREP-PATTERN CMD...: the exit status, and stderr matching the pattern.
expect() {
	name=$1 want=$2 pattern=$3
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		bad "$name: exit $got, want $want"; sed 's/^/  | /' "$tmp/err" | head -20; return
	fi
	if [ -n "$pattern" ] && ! grep -q -- "$pattern" "$tmp/err"; then
		bad "$name: stderr lacks '$pattern'"; sed 's/^/  | /' "$tmp/err" | head -20; return
	fi
	ok
}

cd "$top" || exit 1

# Usage errors: 2.
expect "no script" 2 "no SCRIPT given" "$vf"
expect "unknown option" 2 "unknown or incomplete option '--bogus'" "$vf" --bogus x.lua
expect "bad timeout" 2 "timeout wants seconds" "$vf" --timeout 0 x.lua
expect "unknown simulated host" 2 "no simulated host 'nope'" "$vf" --simulate=nope x.lua
expect "help" 0 "" "$vf" --help
grep -q "^exit status: 0 ok" "$tmp/out" || bad "--help lacks the exit statuses"
expect "simulate=help" 0 "" "$vf" --simulate=help
grep -q "^82599 " "$tmp/out" || bad "--simulate=help lacks the default host"

# Script errors: 1, one line, the user's file and line.
printf 'local x = 1\nlocal y = = 2\n' >"$tmp/syntax.lua"
expect "syntax error" 1 "^vflaunch: $tmp/syntax.lua:2: unexpected symbol" "$vf" --simulate "$tmp/syntax.lua"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || bad "syntax error: not one line"
printf 'local vf = require "vflaunch"\n\nlocal t = nil\nprint(t.x)\n' >"$tmp/runtime.lua"
expect "runtime error" 1 "^vflaunch: $tmp/runtime.lua:4: attempt to index a nil value" "$vf" --simulate "$tmp/runtime.lua"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || bad "runtime error: not one line"
expect "missing script" 1 "^vflaunch: cannot open $tmp/nope.lua" "$vf" --simulate "$tmp/nope.lua"
printf 'local vf = require "vflaunch"\nvf.machine{}\nvf.machine{}\n' >"$tmp/two.lua"
expect "two machines" 1 "two.lua:3: a second machine (the first is at .*two.lua:2)" "$vf" --simulate "$tmp/two.lua"
# Modules come from the binary, never from the working directory.
mkdir "$tmp/cwd" && printf 'error("taken from the working directory")\n' >"$tmp/cwd/evil.lua"
printf 'print(pcall(require, "evil"))\n' >"$tmp/req.lua"
(cd "$tmp/cwd" && "$vf" --simulate "$tmp/req.lua") >"$tmp/out" 2>&1
grep -q "^false" "$tmp/out" && ! grep -q "working directory" "$tmp/out" && ok || bad "require took a module from the working directory"

# Every bad script: first line "-- expect STATUS: MESSAGE" (MESSAGE with @ for the file name).
for s in "$dir"/bad/*.lua; do
	head -n 1 "$s" | grep -q '^-- expect ' || { bad "$s: no expect line"; continue; }
	status=$(head -n 1 "$s" | sed 's/^-- expect \([0-9]*\): .*/\1/')
	msg=$(head -n 1 "$s" | sed 's/^-- expect [0-9]*: //' | sed "s|@|tests/cli/bad/$(basename "$s")|g")
	expect "$(basename "$s")" "$status" "$msg" "$vf" --simulate "tests/cli/bad/$(basename "$s")"
done

# --dry-run read back by sh gives exactly the argv of --json, quoting included.
for s in scripts/big-guest.lua tests/cli/quoting.lua; do
	"$vf" --simulate -n "$s" >"$tmp/run.sh" 2>"$tmp/err" || { bad "$s: dry-run failed"; cat "$tmp/err"; continue; }
	"$vf" --simulate --json "$s" >"$tmp/plan.json" 2>>"$tmp/err" || { bad "$s: json failed"; continue; }
	# Replace the command word by a printer of its arguments, NUL-terminated.
	{ printf 'words() { for w in "$@"; do printf "%%s\\0" "$w"; done; }\nwords '; cat "$tmp/run.sh"; } >"$tmp/words.sh"
	sh "$tmp/words.sh" >"$tmp/words" || { bad "$s: sh could not parse the dry run"; continue; }
	"$vf" --simulate -q tests/cli/compare-argv.lua "$tmp/plan.json" "$tmp/words" >/dev/null 2>"$tmp/err" \
		&& ok || { bad "$s: dry-run words differ from --json argv"; cat "$tmp/err"; }
done
grep -q 'dumpdtb=/tmp/a,,b.dtb' "$tmp/plan.json" && ok || bad "a comma in a QEMU option value is not doubled"

# The real-host path against a tree on disk: exec with 0, 126, 127; unbound device refused with 3.
mkdir "$tmp/sys" && "$mksimhost" 82599 "$tmp/sys" || bad "mksimhost failed"
expect "exec" 0 "" "$vf" --sysfs "$tmp/sys" --qemu /bin/echo tests/cli/ports-only.lua
grep -q -- "-device xio3130-downstream,id=dp2,bus=up1,addr=01.0,chassis=1,slot=3" "$tmp/out" && ok || bad "exec: echo did not get the argv"
expect "exec not found" 127 "cannot execute /nonexistent/qemu-system-aarch64" "$vf" --sysfs "$tmp/sys" --qemu /nonexistent/qemu-system-aarch64 tests/cli/ports-only.lua
expect "exec not executable" 126 "cannot execute /etc/hostname" "$vf" --sysfs "$tmp/sys" --qemu /etc/hostname tests/cli/ports-only.lua
expect "qemu for another arch" 1 "machine type 'virt' runs on qemu-system-aarch64, not qemu-system-x86_64" "$vf" --simulate --qemu qemu-system-x86_64 scripts/two-vfs.lua
printf 'local vf = require "vflaunch"\nlocal m = vf.machine{}\nm:add(vf.find{device = 0x10fb}[1]:vfs()[1])\n' >"$tmp/one.lua"
# Give the VF back to a host driver in the tree: the launch must refuse and name it.
vfdir=$(readlink -f "$tmp/sys/bus/pci/devices/0002:81:10.0")
mkdir -p "$tmp/sys/bus/pci/drivers/ixgbevf" &&
	ln -sfn "$(realpath --relative-to="$vfdir" "$tmp/sys/bus/pci/drivers/ixgbevf")" "$vfdir/driver"
ov_before=$(cat "$vfdir/driver_override")
VFLAUNCH_JOURNAL_DIR=$tmp/journal expect "launch refused" 3 "nothing was started" \
	"$vf" --sysfs "$tmp/sys" --qemu /bin/echo "$tmp/one.lua"
[ ! -s "$tmp/out" ] && ok || bad "launch refused: QEMU was run anyway"
[ "$(basename "$(readlink "$vfdir/driver")")" = ixgbevf ] && [ "$(cat "$vfdir/driver_override")" = "$ov_before" ] \
	&& ok || bad "launch refused: the device was left changed"
# Every problem at once, before any change: an interface of the device is up with an address (the
# tree names this machine's loopback, which is), and, with its groups gone, no IOMMU.
mkdir -p "$vfdir/net/lo"
VFLAUNCH_JOURNAL_DIR=$tmp/journal expect "device in use" 3 \
	"host device 0002:81:10.0 is in use by the host: interface lo is up with address" \
	"$vf" --sysfs "$tmp/sys" --qemu /bin/echo "$tmp/one.lua"
mv "$tmp/sys/kernel/iommu_groups" "$tmp/sys/kernel/iommu_groups.off" && mkdir "$tmp/sys/kernel/iommu_groups"
VFLAUNCH_JOURNAL_DIR=$tmp/journal expect "no IOMMU" 3 "the host has no IOMMU" \
	"$vf" --sysfs "$tmp/sys" --qemu /bin/echo "$tmp/one.lua"
grep -q "is in use by the host" "$tmp/err" && ok || bad "no IOMMU: the other problem was not reported with it"
rmdir "$tmp/sys/kernel/iommu_groups" && mv "$tmp/sys/kernel/iommu_groups.off" "$tmp/sys/kernel/iommu_groups"
rm -r "$vfdir/net"

# A group with a member on a host driver: refused, naming the member, nothing changed.
mkdir "$tmp/sg" && "$mksimhost" shared-group "$tmp/sg" || bad "mksimhost shared-group failed"
printf 'local vf = require "vflaunch"\nlocal m = vf.machine{}\nm:add("0000:03:10.4")\n' >"$tmp/grp.lua"
VFLAUNCH_JOURNAL_DIR=$tmp/journal expect "group not viable" 3 \
	"grp.lua:3: device 'hostdev1': IOMMU group 12 of 0000:03:10.4 is not viable: 0000:04:00.0 (e1000e) is on a host driver" \
	"$vf" --sysfs "$tmp/sg" --qemu /bin/echo "$tmp/grp.lua"
grep -q "nothing was started; nothing on the host had been changed" "$tmp/err" && ok || bad "group not viable: no word on the host"
[ ! -e "$tmp/journal" ] || [ -z "$(ls "$tmp/journal")" ] && ok || bad "group not viable: a journal was written"
expect "list" 0 "" "$vf" --list --sysfs "$tmp/sg"
grep -q "^0000:03:10.4 .*vfio no: group 12 shares 0000:04:00.0 (e1000e)" "$tmp/out" && ok || bad "--list: group verdict missing"
expect "list --vfs --json" 0 "" "$vf" --list --vfs --json --sysfs "$tmp/sg"
grep -q '"physfn":"0000:03:00.0"' "$tmp/out" && ! grep -q '"address":"0000:04:00.0"' "$tmp/out" && ok || bad "--list --vfs --json"
expect "restore without journal" 3 "no journal to restore" env VFLAUNCH_JOURNAL_DIR="$tmp/nojournal" "$vf" --restore

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
