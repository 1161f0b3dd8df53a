# SPDX-License-Identifier: MIT
# Sourced by run.sh: the command line itself. Usage errors exit 2 with one line and a hint;
# options that choose what a run prints never combine, and never turn into a launch.

expect "no script" 2 "no SCRIPT given" "$vf"
expect "unknown option" 2 "unknown option '--bogus'" "$vf" --bogus x.lua
# D18: the unknown short option is named as typed (it printed a stray byte: '-&', '-F', '-V').
expect "unknown short option" 2 "unknown option '-x'" "$vf" -x x.lua
expect "unknown short option in a cluster" 2 "unknown option '-z'" "$vf" -nz x.lua
expect "bad timeout" 2 "timeout wants seconds" "$vf" --rehearse --timeout 0 x.lua
expect "timeout without rehearse" 2 "--timeout goes with --rehearse" "$vf" --timeout 5 x.lua
expect "unknown simulated host" 2 "no simulated host 'nope'" "$vf" --simulate=nope scripts/two-vfs.lua
expect "help" 0 "" "$vf" --help
grep -q "^exit status: 0 ok" "$tmp/out" && ok || bad "--help lacks the exit statuses"
for c in run list status stop restore; do
	grep -q "^       vflaunch $c \|^usage: vflaunch \[$c\]" "$tmp/out" && ok || bad "--help lacks the $c command"
done
# The README's command-line section is --help's text, made from the same tables (make readme).
sed -n '/^<!-- cli: /,/^<!-- end cli -->$/p' README.md | sed '1,2d;$d' | sed '$d' >"$tmp/readme-cli"
[ -s "$tmp/readme-cli" ] && cmp -s "$tmp/out" "$tmp/readme-cli" && ok ||
	{ bad "README's command line differs from --help (make readme)"; diff "$tmp/readme-cli" "$tmp/out" | head -10; }
grep -q -- "-I, --include DIR" "$tmp/out" && grep -q "^  VFLAUNCH_PATH " "$tmp/out" && ok || bad "--help lacks -I or VFLAUNCH_PATH"
expect "help after a command" 0 "" "$vf" status --help
expect "version" 0 "" "$vf" -V
grep -q "^vflaunch [0-9]" "$tmp/out" && ok || bad "--version"
expect "simulate=help" 0 "" "$vf" --simulate=help
grep -q "^82599 " "$tmp/out" && ok || bad "--simulate=help lacks the default host"

# One output per run (D13): the print options are exclusive.
expect "-n with --json" 2 "each choose what the run prints: give one" "$vf" -n --json scripts/two-vfs.lua
expect "--libvirt-xml with -t" 2 "each choose what the run prints: give one" "$vf" run --libvirt-xml -t scripts/two-vfs.lua
expect "list --libvirt-xml" 2 "--libvirt-xml goes with run, not with list" "$vf" list --libvirt-xml
expect "-t with -n" 2 "each choose what the run prints" "$vf" --simulate -t -n scripts/two-vfs.lua
expect "--rehearse with -n" 2 "each choose what the run prints" "$vf" --rehearse -n scripts/two-vfs.lua

# D25: conflicting modes and empty values are usage errors.
expect "list and restore" 2 "are two commands: give one" "$vf" --list --restore
expect "qemu empty" 2 "--qemu wants a path" "$vf" --qemu '' scripts/two-vfs.lua
expect "rehearse kernel missing" 2 "--rehearse-kernel $tmp/none: cannot read it" \
	"$vf" --simulate --rehearse --rehearse-kernel "$tmp/none" scripts/two-vfs.lua
[ ! -s "$tmp/out" ] && ok || bad "rehearse kernel missing: something on stdout"
expect "vfs without list" 2 "--vfs goes with list" "$vf" --vfs scripts/two-vfs.lua
expect "supervise with simulate" 2 "--supervise goes with a launch" "$vf" --simulate --supervise scripts/two-vfs.lua
expect "root and simulate" 2 "--simulate brings its own host" "$vf" --root "$tmp" --simulate scripts/two-vfs.lua
expect "stop without name" 2 "stop takes one launch NAME" "$vf" stop
expect "restore two names" 2 "restore takes at most one NAME" "$vf" restore a b
expect "list operand" 2 "list takes no operand" "$vf" list extra

# D2: restore never runs against a simulated tree (it would "restore" the real journal there).
expect "restore --simulate" 2 "--simulate goes with run or list, not with restore" "$vf" restore --simulate
expect "old --restore --simulate" 2 "--simulate goes with run or list, not with restore" "$vf" --restore --simulate
expect "restore --sysfs" 2 "--sysfs goes with run or list, not with restore" "$vf" restore --sysfs /tmp

# D7: a launch needs no print option after SCRIPT to be mistaken for one: refused before the
# script runs; other vflaunch options there earn a warning.
printf 'print("RAN")\n' >"$tmp/ran.lua"
for o in -n --dry-run -t --tree --json --libvirt-xml --rehearse --simulate --simulate=large; do
	expect "print option after SCRIPT: $o" 2 "'$o' after SCRIPT reaches the script as arg\[1\], and this run would launch" \
		"$vf" --root "$tmp/nohost" "$tmp/ran.lua" "$o"
	! grep -q RAN "$tmp/out" && ok || bad "print option after SCRIPT $o: the script ran"
done
expect "vflaunch option after SCRIPT warns" 0 "warning: '-v' after SCRIPT reaches the script as arg\[1\]" \
	"$vf" --simulate "$tmp/ran.lua" -v
grep -q RAN "$tmp/out" && ok || bad "option after SCRIPT: the script did not get to run"
expect "-- keeps script arguments" 0 "" "$vf" --simulate -- "$tmp/ran.lua" x
