# SPDX-License-Identifier: MIT
# Sourced by run.sh: print-only runs. --dry-run read back by sh gives exactly the argv of --json;
# stdout carries one document and a write error fails the run; nothing on the host changes.

for s in scripts/big-guest.lua tests/cli/quoting.lua; do
	"$vf" --simulate -n "$s" >"$tmp/run.sh" 2>"$tmp/err" || { bad "$s: dry-run failed"; cat "$tmp/err"; continue; }
	"$vf" --simulate --json "$s" >"$tmp/plan.json" 2>>"$tmp/err" || { bad "$s: json failed"; continue; }
	# Replace the command word by a printer of its arguments, NUL-terminated.
	{ printf 'words() { for w in "$@"; do printf "%%s\\0" "$w"; done; }\nwords '; cat "$tmp/run.sh"; } >"$tmp/words.sh"
	sh "$tmp/words.sh" >"$tmp/words" || { bad "$s: sh could not parse the dry run"; continue; }
	"$vf" --simulate -q tests/cli/compare-argv.lua "$tmp/plan.json" "$tmp/words" >/dev/null 2>"$tmp/err" \
		&& ok || { bad "$s: dry-run words differ from --json argv"; cat "$tmp/err"; }
	check "$s: --json is one JSON document" is_json "$tmp/plan.json"
done
grep -q 'dumpdtb=/tmp/a,,b.dtb' "$tmp/plan.json" && ok || bad "a comma in a QEMU option value is not doubled"
# Words are quoted only when sh needs it (as shlex.quote does); a command word with '=' always,
# or sh would take it for an assignment.
"$vf" --simulate -n tests/cli/quoting.lua >"$tmp/q.sh" 2>"$tmp/err"
for line in "'/tmp/v=1/qemu-system-aarch64' \\" "  -machine virt,gic-version=3,dumpdtb=/tmp/a,,b.dtb \\" \
	"  -kernel '/tmp/it'\\''s a \$HOME kernel' \\" "  -fw_cfg '' \\" "  -smbios '~root#x' \\" \
	"  -device vfio-pci,host=0002:81:10.0,id=hostdev1,bus=rp1,addr=00.0 \\"; do
	grep -qxF -- "$line" "$tmp/q.sh" && ok || bad "dry-run quoting: no line $line"
done
! grep -q "'-\|'qemu-system" "$tmp/q.sh" && ok || bad "dry-run quoting: a word quoted that needs no quotes"

# The libvirt domain, as `run --libvirt-xml` and as `--libvirt-xml` (tests/libvirt checks it
# against libvirt itself).
expect "run --libvirt-xml" 0 "" "$vf" run --simulate --libvirt-xml scripts/big-guest.lua
mv "$tmp/out" "$tmp/run.xml"
expect "--libvirt-xml" 0 "" "$vf" --simulate --libvirt-xml scripts/big-guest.lua
check "run --libvirt-xml and --libvirt-xml print the same" cmp -s "$tmp/out" "$tmp/run.xml"
grep -c "<hostdev mode='subsystem' type='pci' managed='no'>" "$tmp/out" | grep -qx 64 && ok ||
	bad "--libvirt-xml of big-guest.lua: not 64 hostdevs"

# D13: -v does not add to stdout; --json stays one document with -v.
expect "json verbose" 0 "" "$vf" --simulate -v --json scripts/big-guest.lua
check "--json -v is one JSON document" is_json "$tmp/out"
# D13: a write error fails the run (a full disk, a closed stdout).
for a in -n --json -t --libvirt-xml; do
	"$vf" --simulate $a scripts/two-vfs.lua >/dev/full 2>"$tmp/err"
	st=$?
	[ "$st" -ne 0 ] && grep -q "cannot write the output" "$tmp/err" && ok || bad "$a to /dev/full: exit $st"
	"$vf" --simulate $a scripts/two-vfs.lua >&- 2>"$tmp/err"
	st=$?
	[ "$st" -ne 0 ] && grep -q "cannot write the output" "$tmp/err" && ok || bad "$a to a closed stdout: exit $st"
done
"$vf" list --simulate >/dev/full 2>"$tmp/err" && bad "list to /dev/full: exit 0" || ok

# Print-only runs write nothing, even against a tree where a launch would bind: no state
# directory, no journal, the tree as it was.
fk_host 82599 "$tmp/ro"
vfdir=$(readlink -f "$tmp/ro/sys/bus/pci/devices/0002:81:10.0")
mkdir -p "$tmp/ro/sys/bus/pci/drivers/ixgbevf"
ln -sfn "$(realpath --relative-to="$vfdir" "$tmp/ro/sys/bus/pci/drivers/ixgbevf")" "$vfdir/driver"
fk_state "$tmp/ro" >"$tmp/ro.before"
printf 'local vf = require "vflaunch"\nlocal m = vf.machine{}\nm:add("0002:81:10.0")\n' >"$tmp/one.lua"
for a in -n -t --json --libvirt-xml; do
	expect "print-only $a on a tree" 0 "" "$vf" --sysfs "$tmp/ro/sys" $a "$tmp/one.lua"
done
fk_state "$tmp/ro" >"$tmp/ro.after"
check "print-only: the tree is unchanged" cmp -s "$tmp/ro.before" "$tmp/ro.after"
check "print-only: no state written" test ! -e "$tmp/ro/run/vflaunch"
# D9: the C cores are not reachable from a script, and even a core call could not write during
# a print-only run (the C side latches writes off).
printf 'local ok = pcall(require, "vflaunch.core.vfio")\nprint(ok and "REACHED" or "HIDDEN")\n' >"$tmp/core.lua"
expect "core hidden" 0 "" "$vf" --simulate "$tmp/core.lua"
grep -q HIDDEN "$tmp/out" && ok || bad "vflaunch.core.vfio is reachable from a script"

# D20: names from sysfs never reach the terminal raw. A driver link that does not name a kernel
# driver (an escape sequence, a newline that would forge a row, a byte that is not UTF-8) makes
# the tree corrupt: refused naming the link, the name itself never printed.
# (libpci reads the driver from a relative link, as the kernel makes it.)
relink() { # relink DIR ADDR DRIVER: the device's driver link names DRIVER
	d=$(readlink -f "$1/sys/bus/pci/devices/$2")
	mkdir -p "$1/sys/bus/pci/drivers/$3"
	ln -sfn "$(realpath --relative-to="$d" "$1/sys/bus/pci/drivers/$3")" "$d/driver"
}
for name in "$(printf 'ev\033[2Jil')" "$(printf 'ev\nFAKE 0000:00:00.0')" "$(printf 'drv\377x')"; do
	rm -rf "$tmp/esc" && fk_host 82599 "$tmp/esc" && relink "$tmp/esc" 0002:81:10.2 "$name"
	for a in "" --json; do
		expect "list $a: a hostile driver name" 3 "0002:81:10.2/driver: the link does not name a kernel driver" \
			"$vf" list $a --sysfs "$tmp/esc/sys"
		! grep -q "$(printf '\033')\|^FAKE\|$(printf '\377')" "$tmp/out" "$tmp/err" && ok || bad "list $a: the hostile name was printed"
	done
done

expect "list large" 0 "" "$vf" list --simulate=large
[ "$(wc -l <"$tmp/out")" -gt 2000 ] && ok || bad "list large: $(wc -l <"$tmp/out") lines"
expect "list --vfs --json" 0 "" "$vf" --list --vfs --json --simulate=82599
check "list --vfs --json" is_json "$tmp/out"
# list --json gives ids as lspci -nn and libvirt write them: hex strings "0x8086", the text's ids.
expect "list --json ids" 0 "" "$vf" list --json --simulate=82599
jq -e '.[] | select(.address == "0002:81:10.0") | .vendor == "0x8086" and .device == "0x10ed" and
	.class == "0x020000" and .subsys_vendor == "0x8086" and .subsys_device == "0x0003"' "$tmp/out" >/dev/null &&
	ok || bad "list --json: ids are not hex strings: $(jq -c '.[0]' "$tmp/out")"
jq -e 'all(.[]; (.vendor | test("^0x[0-9a-f]{4}$")) and (.device | test("^0x[0-9a-f]{4}$")) and
	(.class | test("^0x[0-9a-f]{6}$")))' "$tmp/out" >/dev/null && ok || bad "list --json: an id not 0xHEX"
"$vf" list --simulate=82599 >"$tmp/list.txt" 2>/dev/null
jq -r '.[] | "\(.address)  \(.vendor[2:]):\(.device[2:])"' "$tmp/out" >"$tmp/ids.json.txt"
grep -v "^ " "$tmp/list.txt" | cut -c1-23 | tail -n +2 >"$tmp/ids.txt"  # device lines only
check "list: --json ids are the text's" cmp -s "$tmp/ids.txt" "$tmp/ids.json.txt"
