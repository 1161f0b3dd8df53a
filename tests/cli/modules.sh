# SPDX-License-Identifier: MIT
# Sourced by run.sh: site modules. require finds a module in the script's own directory (its
# resolved path), then -I DIR, then $VFLAUNCH_PATH, then package.path's absolute entries; never
# in the working directory. Modules load as text only and keep their file:line in errors; as
# root, a module (or a directory searched) that others could change is refused.

m=$tmp/mod
mkdir -p "$m/site/lib" "$m/inc" "$m/env" "$m/cwd/lib" "$m/link"
mkmod() { # mkmod FILE WORD: a module whose who() returns WORD
	printf 'local M = {}\nfunction M.who() return "%s" end\nreturn M\n' "$2" >"$1"
}
mkmod "$m/site/common.lua" site
mkmod "$m/inc/common.lua" include
mkmod "$m/inc/only_inc.lua" include
mkmod "$m/env/common.lua" env
mkmod "$m/env/only_env.lua" env
mkmod "$m/env/only_inc.lua" env
mkdir -p "$m/site/pkg" && mkmod "$m/site/pkg/init.lua" pkg-init && mkmod "$m/site/lib/util.lua" nested
# The working directory holds a module of every name, each one hostile.
for n in common only_inc only_env nowhere pkg; do
	printf 'print("HOSTILE %s") error("taken from the working directory")\n' "$n" >"$m/cwd/$n.lua"
done
mkmod "$m/cwd/lib/util.lua" HOSTILE
printf 'local name = ...\nprint(require(name).who())\n' >"$m/site/who.lua"
who() { # who NAME [vflaunch options...]: the module NAME's who(), from the working directory
	n=$1; shift
	(cd "$m/cwd" && "$vf" --simulate "$@" "$m/site/who.lua" "$n") >"$tmp/out" 2>"$tmp/err"
}
# whoenv VFLAUNCH_PATH NAME [options...]: the same with that search path.
whoenv() { (export VFLAUNCH_PATH="$1"; shift; who "$@"); }
got() { [ "$(cat "$tmp/out")" = "$1" ] && ! grep -q HOSTILE "$tmp/out" "$tmp/err"; }

who common && got site && ok || bad "modules: the script's directory first ($(cat "$tmp/out" "$tmp/err"))"
who lib.util && got nested && ok || bad "modules: a dotted name is a subdirectory of the script's"
who pkg && got pkg-init && ok || bad "modules: DIR/NAME/init.lua"
who only_inc -I "$m/inc" && got include && ok || bad "modules: -I DIR"
who only_inc "-I$m/inc" && got include && ok || bad "modules: -IDIR"
(cd "$m/cwd" && "$vf" run --simulate --include "$m/inc" "$m/site/who.lua" only_inc) >"$tmp/out" 2>"$tmp/err"
got include && ok || bad "modules: run --include DIR"
(cd "$m" && "$vf" --simulate -I inc "$m/site/who.lua" only_inc) >"$tmp/out" 2>"$tmp/err"
got include && ok || bad "modules: a relative -I DIR is where it was typed"
who only_inc -I "$m/inc" -I "$m/env" && got include && ok || bad "modules: -I in the order given"
whoenv "$m/env" only_env && got env && ok || bad "modules: VFLAUNCH_PATH"
whoenv "/nonexistent:$m/env" only_env && got env && ok || bad "modules: VFLAUNCH_PATH, two entries"
whoenv "$m/env" only_inc -I "$m/inc" && got include && ok || bad "modules: -I before VFLAUNCH_PATH"
whoenv "$m/env" common -I "$m/inc" && got site && ok || bad "modules: the script's directory before -I"

# The working directory is never searched: not by default, not through an empty or relative
# VFLAUNCH_PATH entry, not through package.path, not when the script is there.
who nowhere
grep -q "module 'nowhere' not found: .*($m/site, /" "$tmp/err" && ! grep -q HOSTILE "$tmp/out" && ok ||
	bad "modules: a module only in the working directory was not refused as missing: $(cat "$tmp/out" "$tmp/err")"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && ok || bad "modules: a missing module is not one line"
for p in ".:$m/env" "$m/env::/usr/share/lua" "$m/env:" "lib"; do
	whoenv "$p" only_env
	[ $? -eq 2 ] && grep -q "^vflaunch: VFLAUNCH_PATH=.* is not an absolute directory" "$tmp/err" && ! grep -q HOSTILE "$tmp/out" &&
		ok || bad "modules: VFLAUNCH_PATH='$p' was not refused: $(cat "$tmp/err")"
done
printf 'package.path = "./?.lua;" .. package.path\nprint(pcall(require, "common"))\n' >"$m/site/addcwd.lua"
(cd "$m/cwd" && "$vf" --simulate "$m/site/addcwd.lua") >"$tmp/out" 2>&1
grep -q "^true" "$tmp/out" && ! grep -q HOSTILE "$tmp/out" && ok || bad "modules: a relative package.path entry was searched"
ln -s "$m/site/who.lua" "$m/link/who.lua"
(cd "$m/cwd" && "$vf" --simulate "$m/link/who.lua" common) >"$tmp/out" 2>"$tmp/err"
got site && ok || bad "modules: a linked script's directory is its target's"
cp "$m/site/who.lua" "$m/cwd/who.lua"
(cd "$m/cwd" && "$vf" --simulate who.lua lib.util) >"$tmp/out" 2>"$tmp/err"
[ "$(cat "$tmp/out")" = HOSTILE ] && ok || bad "modules: a script in the working directory has its modules there"
expect "modules: -I a missing directory" 2 "^vflaunch: -I $m/none: not a directory" "$vf" --simulate -I "$m/none" "$m/site/who.lua" common
expect "modules: -I a file" 2 "^vflaunch: -I $m/site/who.lua: not a directory" "$vf" --simulate -I "$m/site/who.lua" "$m/site/who.lua" common
expect "modules: -I without DIR" 2 "^vflaunch: -I wants DIR" "$vf" --simulate -I
expect "modules: -I with list" 2 "^vflaunch: -I goes with run, not with list" "$vf" list -I "$m/inc"

# Errors in a module name the module's file and line.
mkdir "$m/err"
printf 'local M = {}\nfunction M.boom()\n  error("boom")\nend\nreturn M\n' >"$m/err/boom.lua"
printf 'local vf = require "vflaunch"\nlocal M = {}\nfunction M.bad()\n  local m = vf.machine { memroy = "8G" }\n  return m\nend\nreturn M\n' >"$m/err/api.lua"
printf 'local M = {}\nM.x = = 1\nreturn M\n' >"$m/err/syntax.lua"
printf 'local M = {}\nlocal t\nM.x = t.y\nreturn M\n' >"$m/err/atload.lua"
printf '\033Lua\124\000' >"$m/err/bin.lua"
printf 'local name, f = ...\nlocal mod = require(name)\nif f then mod[f]() end\n' >"$m/err/use.lua"
expect "modules: a runtime error" 1 "^vflaunch: $m/err/boom.lua:3: boom$" "$vf" --simulate "$m/err/use.lua" boom boom
expect "modules: an API error" 1 "^vflaunch: $m/err/api.lua:4: machine: unknown option 'memroy'" "$vf" --simulate "$m/err/use.lua" api bad
expect "modules: a syntax error" 1 "^vflaunch: module 'syntax': $m/err/syntax.lua:2: unexpected symbol" "$vf" --simulate "$m/err/use.lua" syntax
[ "$(wc -l <"$tmp/err")" -eq 1 ] && ok || bad "modules: a syntax error is not one line"
expect "modules: an error while loading" 1 "^vflaunch: $m/err/atload.lua:3: attempt to index a nil value" "$vf" --simulate "$m/err/use.lua" atload
expect "modules: a binary chunk" 1 "^vflaunch: module 'bin': $m/err/bin.lua: a compiled (binary) chunk; vflaunch loads Lua source only" \
	"$vf" --simulate "$m/err/use.lua" bin

# As root, modules are trusted as the script is: by root alone, from directories only root can write.
if [ "$(id -u)" = 0 ]; then
	mkdir -m 0777 "$m/open" && mkmod "$m/open/common.lua" open && mkmod "$m/open/only_inc.lua" open
	expect "modules: root, -I a world-writable directory" 3 \
		"refusing to load module 'only_inc' from $m/open as root: $m/open is writable by others" \
		"$vf" --simulate -I "$m/open" "$m/site/who.lua" only_inc
	! grep -q open "$tmp/out" && ok || bad "modules: root: a module from a world-writable directory ran"
	# A directory searched before the module is found is checked too: something could appear there.
	expect "modules: root, a world-writable directory searched" 3 "$m/open is writable by others" \
		"$vf" --simulate -I "$m/open" -I "$m/inc" "$m/site/who.lua" only_inc
	expect "modules: root, VFLAUNCH_PATH world-writable" 3 "$m/open is writable by others" \
		env VFLAUNCH_PATH="$m/open" "$vf" --simulate "$m/site/who.lua" only_env
	mkdir "$m/theirs" && mkmod "$m/theirs/only_inc.lua" theirs && chown nobody "$m/theirs/only_inc.lua"
	expect "modules: root, a module of another user" 3 \
		"refusing to load module 'only_inc' from $m/theirs/only_inc.lua as root: .* is owned by another user" \
		"$vf" --simulate -I "$m/theirs" "$m/site/who.lua" only_inc
	mkdir "$m/grp" && mkmod "$m/grp/only_inc.lua" grp && chmod 0664 "$m/grp/only_inc.lua"
	expect "modules: root, a group-writable module" 3 "$m/grp/only_inc.lua is writable by others" \
		"$vf" --simulate -I "$m/grp" "$m/site/who.lua" only_inc
	expect "modules: root, a trusted module" 0 "" "$vf" --simulate -I "$m/inc" "$m/site/who.lua" only_inc
fi
# As root, a C module (package.cpath, from LUA_CPATH_5_4) others could change is refused before
# it is loaded; the working directory is not in package.cpath.
if [ "$(id -u)" = 0 ]; then
	printf 'not an ELF file\n' >"$m/open/cmod.so"
	expect "modules: root, a C module in a world-writable directory" 3 \
		"refusing to load module 'cmod' from $m/open as root: $m/open is writable by others" \
		env LUA_CPATH_5_4="$m/open/?.so" "$vf" --simulate "$m/err/use.lua" cmod
fi
printf 'not an ELF file\n' >"$m/cwd/cmod.so"
(cd "$m/cwd" && env LUA_CPATH_5_4="./?.so;;" "$vf" --simulate "$m/err/use.lua" cmod) >"$tmp/out" 2>"$tmp/err"
grep -q "module 'cmod' not found" "$tmp/err" && ok || bad "modules: a C module was looked for in the working directory: $(cat "$tmp/err")"
