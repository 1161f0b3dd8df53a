#!/bin/bash
# SPDX-License-Identifier: MIT
# make check-install: make install into a DESTDIR puts each file where the README says, and each
# works: the binary runs, man reads vflaunch(1) and vflaunch-lua(7) without a warning and they
# say what --help and doc/lua-api.md say, bash completes subcommands, options, --simulate= names
# and scripts, the annotations compile. Then make uninstall removes every file it installed and
# nothing else. First, the Makefile's package lists (deps.sh). Usage: run.sh VFLAUNCH MAKE
set -u
vf=$1 make=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { n=$1; shift; if "$@"; then ok; else bad "$n"; fi; }

. tests/install/deps.sh

d=$tmp/dest p=/usr/local
$make -s install DESTDIR="$d" >"$tmp/log" 2>&1 || { bad "make install failed"; cat "$tmp/log"; }
# What is installed, and where (the README's "Installing" table says the same).
want="$p/bin/vflaunch
$p/lib/systemd/system/vflaunch@.service
$p/share/bash-completion/completions/vflaunch
$p/share/doc/vflaunch/README.md
$p/share/doc/vflaunch/lua-api.md
$(for s in scripts/*.lua; do echo "$p/share/doc/vflaunch/examples/${s#scripts/}"; done)
$p/share/man/man1/vflaunch.1
$p/share/man/man7/vflaunch-lua.7
$p/share/vflaunch/types/vflaunch.lua"
(cd "$d" && find . -type f -o -type l | sed 's/^\.//' | sort) >"$tmp/got"
echo "$want" | sort >"$tmp/want"
cmp -s "$tmp/want" "$tmp/got" && ok || { bad "installed files differ from the list"; diff "$tmp/want" "$tmp/got"; }
for f in $want; do
	case $f in */examples/*) f="$p/share/doc/vflaunch/examples/";; esac
	sed -n '/^## Installing/,/^## /p' README.md | grep -qF -- "${f#"$p"/}" && ok ||
		bad "README's install section does not name ${f#"$p"/}"
done
[ "$(stat -c %a "$d$p/bin/vflaunch")" = 755 ] && ok || bad "the binary is not mode 0755"
[ -z "$(find "$d" -type f ! -path '*/bin/*' -perm /0133)" ] && ok || bad "a data file is not mode 0644"

# The binary runs; the unit names it.
"$d$p/bin/vflaunch" --version | grep -q "^vflaunch [0-9]" && ok || bad "the installed binary does not run"
grep -q "^ExecStart=$p/bin/vflaunch " "$d$p/lib/systemd/system/vflaunch@.service" && ok || bad "the unit does not run $p/bin/vflaunch"

# The man pages: no warning from man (groff), a NAME line for whatis, and what --help says.
for page in man1/vflaunch.1 man7/vflaunch-lua.7; do
	f=$d$p/share/man/$page
	# As lintian reads a page; like lintian, typesetting notes on narrow table cells are no fault,
	# nor is tbl's note that a long cell crosses a page break (where depends on the text above).
	LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$f" 2>&1 >/dev/null |
		grep -v "cannot adjust line\|can't break line\|table text block will not fit on one page" >"$tmp/warn"
	[ ! -s "$tmp/warn" ] && ok || { bad "$page: man warns"; head "$tmp/warn"; }
	LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$f" 2>/dev/null >"$tmp/${page#*/}.txt"
	lexgrog "$f" >"$tmp/whatis" 2>&1 && grep -q " - " "$tmp/whatis" && ok || bad "$page: no NAME for whatis: $(cat "$tmp/whatis")"
done
"$vf" --help >"$tmp/help"
for o in $(grep -oE -- '--[a-z][a-z-]+' "$tmp/help" | sort -u) VFLAUNCH_PATH; do
	grep -qF -- "$o" "$tmp/vflaunch.1.txt" && ok || bad "vflaunch(1) does not name $o, which --help does"
done
for c in run list status stop attach detach restore; do
	grep -q "^       vflaunch $c \|^       vflaunch \[$c\]" "$tmp/vflaunch.1.txt" && ok || bad "vflaunch(1): no synopsis of $c"
done
# vflaunch-lua(7) has every section of doc/lua-api.md.
sed -n 's/^## //p' doc/lua-api.md | while read -r h; do
	grep -qiF -- "$h" "$tmp/vflaunch-lua.7.txt" || echo "$h"
done >"$tmp/missing"
[ ! -s "$tmp/missing" ] && ok || bad "vflaunch-lua(7) lacks sections of doc/lua-api.md: $(cat "$tmp/missing")"

# The annotations compile.
luac5.4 -p "$d$p/share/vflaunch/types/vflaunch.lua" && ok || bad "the annotation file does not compile"

# Completion, as bash with bash-completion runs it (words split as bash splits at '=').
comp() { # comp WORD...: what completes the last word (run in $tmp/cwd)
	(cd "$tmp/cwd" && bash -c '
		. /usr/share/bash-completion/bash_completion
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_LINE=${COMP_LINE// = /=}; COMP_POINT=${#COMP_LINE}
		_vflaunch "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"' bash "$d$p/share/bash-completion/completions/vflaunch" "$@") | sort
}
mkdir -p "$tmp/cwd/site" && touch "$tmp/cwd/big.lua" "$tmp/cwd/notes.txt"
bin=$d$p/bin/vflaunch
[ "$(comp "$bin" st | tr '\n' ' ')" = "status stop " ] && ok || bad "complete 'st': $(comp "$bin" st | tr '\n' ' ')"
got=$(comp "$bin" "" | tr '\n' ' ')
case $got in *big.lua*list*|*list*big.lua*) ok ;; *) bad "complete '': $got" ;; esac
case $got in *notes.txt*) bad "complete '': a file that is not a script: $got" ;; *) ok ;; esac
got=$(comp "$bin" list -- | tr '\n' ' ')
case $got in *--json*--simulate=*--vfs*) ok ;; *) bad "complete 'list --': $got" ;; esac
case $got in *--dry-run*|*--include*) bad "complete 'list --': run's options: $got" ;; *) ok ;; esac
got=$(comp "$bin" --simulate = "" | tr '\n' ' ')
[ "$got" = "82599 acs-off help large shared-group " ] && ok || bad "complete '--simulate=': $got"
[ "$(comp "$bin" --simulate = la)" = large ] && ok || bad "complete '--simulate=la': $(comp "$bin" --simulate = la)"
[ "$(comp "$bin" -I si)" = site ] && ok || bad "complete '-I si': $(comp "$bin" -I si)"
[ "$(comp "$bin" -n b)" = big.lua ] && ok || bad "complete '-n b': $(comp "$bin" -n b)"
got=$(comp "$bin" run -- | tr '\n' ' ')
case $got in *--dry-run*--include*--simulate=*) ok ;; *) bad "complete 'run --': $got" ;; esac

# Uninstall: no file left, vflaunch's own directories gone, a file it did not install kept.
mkdir -p "$d$p/share/man/man1" && echo keep >"$d$p/share/man/man1/other.1"
$make -s uninstall DESTDIR="$d" >"$tmp/log" 2>&1 || { bad "make uninstall failed"; cat "$tmp/log"; }
left=$(cd "$d" && find . -type f -o -type l | sed 's/^\.//')
[ "$left" = "$p/share/man/man1/other.1" ] && ok || bad "uninstall left (or removed) files: $left"
[ ! -e "$d$p/share/vflaunch" ] && [ ! -e "$d$p/share/doc/vflaunch" ] && ok || bad "uninstall left vflaunch's directories"
rm -f "$d$p/share/man/man1/other.1"
[ -z "$(find "$d" -type f)" ] && ok || bad "DESTDIR is not empty of files"

echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
