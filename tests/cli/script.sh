# SPDX-License-Identifier: MIT
# Sourced by run.sh: scripts that fail. One line with the user's file and line, exit 1; an
# error object cannot forge an exit status; a script run as root must be root's alone.

printf 'local x = 1\nlocal y = = 2\n' >"$tmp/syntax.lua"
expect "syntax error" 1 "^vflaunch: $tmp/syntax.lua:2: unexpected symbol" "$vf" --simulate "$tmp/syntax.lua"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && ok || bad "syntax error: not one line"
printf 'local vf = require "vflaunch"\n\nlocal t = nil\nprint(t.x)\n' >"$tmp/runtime.lua"
expect "runtime error" 1 "^vflaunch: $tmp/runtime.lua:4: attempt to index a nil value" "$vf" --simulate "$tmp/runtime.lua"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && ok || bad "runtime error: not one line"
expect "missing script" 1 "^vflaunch: cannot open $tmp/nope.lua" "$vf" --simulate "$tmp/nope.lua"
printf 'local vf = require "vflaunch"\nvf.machine{}\nvf.machine{}\n' >"$tmp/two.lua"
expect "two machines" 1 "two.lua:3: a second machine (the first is at .*two.lua:2)" "$vf" --simulate "$tmp/two.lua"
# D19: a compiled chunk is refused with the file's name.
printf '\033Lua\124\000' >"$tmp/binary.lua"
expect "binary chunk" 1 "^vflaunch: $tmp/binary.lua: a compiled (binary) chunk" "$vf" --simulate "$tmp/binary.lua"
# D19: a module that is not there is one line, not Lua's sixteen paths.
printf 'local common = require "common"\n' >"$tmp/noreq.lua"
expect "missing module" 1 "^vflaunch: $tmp/noreq.lua:1: module 'common' not found: vflaunch's own modules are built in" \
	"$vf" --simulate "$tmp/noreq.lua"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && ok || bad "missing module: not one line"
# Modules come from the binary, never from the working directory.
mkdir "$tmp/cwd" && printf 'error("taken from the working directory")\n' >"$tmp/cwd/evil.lua"
printf 'print(pcall(require, "evil"))\n' >"$tmp/req.lua"
(cd "$tmp/cwd" && "$vf" --simulate "$tmp/req.lua") >"$tmp/out" 2>&1
grep -q "^false" "$tmp/out" && ! grep -q "working directory" "$tmp/out" && ok || bad "require took a module from the working directory"

# D8: an error object cannot choose the exit status, and a table with __tostring is shown.
# The simulated trees of these runs go to a directory of their own, to be seen removed.
mkdir "$tmp/simtmp"
printf 'error({status = 0})\n' >"$tmp/st0.lua"
expect "error {status=0}" 1 "st0.lua:1: the script raised a table as its error" env TMPDIR="$tmp/simtmp" "$vf" --simulate "$tmp/st0.lua"
! grep -q PANIC "$tmp/err" && ok || bad "error {status=0}: a Lua panic"
check "error {status=0}: the simulated tree is removed" test -z "$(ls "$tmp/simtmp")"
printf 'error({status = 126, message = "forged"})\n' >"$tmp/st126.lua"
expect "error {status=126}" 1 "" "$vf" --simulate "$tmp/st126.lua"
printf 'error(setmetatable({}, {__tostring = function() return "told by __tostring" end}))\n' >"$tmp/ts.lua"
expect "error with __tostring" 1 "^vflaunch: $tmp/ts.lua:1: told by __tostring$" "$vf" --simulate "$tmp/ts.lua"
printf 'local ok, e = pcall(require("vflaunch").machine, {bogus = 1})\ne.status = 0\nerror(e, 0)\n' >"$tmp/rethrow.lua"
expect "a caught error rethrown keeps its status" 1 "rethrow.lua:1: machine: unknown option 'bogus'" "$vf" --simulate "$tmp/rethrow.lua"

# D17: a user script under a relative lua/ path keeps its file:line in every message.
mkdir -p "$tmp/site/lua"
printf 'local vf = require "vflaunch"\nlocal m = vf.machine{}\nm:root_port{ chassis = 999 }\n' >"$tmp/site/lua/site.lua"
(cd "$tmp/site" && "$vf" --simulate lua/site.lua) >"$tmp/out" 2>"$tmp/err"
grep -q "^vflaunch: lua/site.lua:3: root_port: chassis must be" "$tmp/err" && ok || { bad "script under lua/: no file:line"; cat "$tmp/err"; }

# os.exit from a script ends the run through vflaunch, not around it.
printf 'os.exit(3)\n' >"$tmp/exit3.lua"
expect "os.exit(3)" 3 "exit3.lua:1: the script called os.exit(3)" "$vf" --simulate "$tmp/exit3.lua"
printf 'os.exit(0)\n' >"$tmp/exit0.lua"
expect "os.exit(0)" 0 "" env TMPDIR="$tmp/simtmp" "$vf" --simulate "$tmp/exit0.lua"
check "os.exit: the simulated tree is removed" test -z "$(ls "$tmp/simtmp")"

# D24: as root, a script (or a directory on its path) others can write is refused, with the fix.
if [ "$(id -u)" = 0 ]; then
	printf 'print("RAN")\n' >"$tmp/open.lua"
	chmod 0666 "$tmp/open.lua"
	expect "root: world-writable script" 3 "refusing to run $tmp/open.lua as root: $tmp/open.lua is writable by others" \
		"$vf" --simulate "$tmp/open.lua"
	! grep -q RAN "$tmp/out" && ok || bad "root: world-writable script ran"
	chmod 0644 "$tmp/open.lua" && chown nobody "$tmp/open.lua"
	expect "root: script owned by nobody" 3 "is owned by another user" "$vf" --simulate "$tmp/open.lua"
	mkdir -m 1777 "$tmp/shared" && printf 'print("RAN")\n' >"$tmp/shared/s.lua" && chown nobody "$tmp/shared/s.lua"
	expect "root: script of another user in a sticky dir" 3 "is owned by another user" "$vf" --simulate "$tmp/shared/s.lua"
	mkdir -m 0777 "$tmp/opendir" && printf 'print("RAN")\n' >"$tmp/opendir/s.lua"
	expect "root: script in a world-writable dir" 3 "$tmp/opendir is writable by others" "$vf" --simulate "$tmp/opendir/s.lua"
fi

# Every bad script: first line "-- expect STATUS: MESSAGE" (MESSAGE with @ for the file name).
for s in "$dir"/bad/*.lua; do
	head -n 1 "$s" | grep -q '^-- expect ' || { bad "$s: no expect line"; continue; }
	status=$(head -n 1 "$s" | sed 's/^-- expect \([0-9]*\): .*/\1/')
	msg=$(head -n 1 "$s" | sed 's/^-- expect [0-9]*: //' | sed "s|@|tests/cli/bad/$(basename "$s")|g")
	expect "$(basename "$s")" "$status" "$msg" "$vf" --simulate "tests/cli/bad/$(basename "$s")"
done
