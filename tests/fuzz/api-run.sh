#!/bin/bash
# SPDX-License-Identifier: MIT
# The Lua API fuzzer: generate N random site scripts (api-gen.lua, seeded), run each through
# vflaunch (meant: the ASan+UBSan build) with --simulate in three modes, -n, --json and -t, and
# check what a user may rely on:
#   exit status 0, 1 or 2 (3 only for set_vfs's "a simulated host changes nothing"); no signal,
#   no sanitizer report, no hang; every stderr line starts with "vflaunch: " and names no
#   internal file (lua/*.lua: or [C]); a script error (status 1) names the script's file:line;
#   --json prints one strict UTF-8 JSON document whose argv
#   holds no rendered Lua value (table: 0x..., function: 0x..., nan, inf) and no NUL; -n prints a
#   command sh parses into exactly --json's argv; -t prints no control character and ends with
#   the budget line; and a script with a statement the documentation refuses (marked by the
#   generator "--! invalid: WHY") does not exit 0.
# Each failing script is kept under OUTDIR/failures/, sorted into classes; the first script of
# each class is minimized line by line (OUTDIR/failures/CLASS.lua) and can be rerun by hand.
# Usage: api-run.sh VFLAUNCH OUTDIR SEED N
set -eu
vf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
out=$2 seed=$3 n=$4
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export ASAN_OPTIONS=detect_leaks=1:exitcode=86 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=86
TIMEOUT=${API_TIMEOUT:-30}

rm -rf "$out/scripts" "$out/failures"
mkdir -p "$out/scripts" "$out/failures"
"$vf" --simulate -q "$here/api-gen.lua" "$seed" "$n" "$out/scripts"

# run MODE SCRIPT: vflaunch on the simulated host; status in $rc, output in $tmp/MODE.{out,err}.
run() {
	local flag
	case $1 in n) flag=-n ;; json) flag=--json ;; tree) flag=-t ;; esac
	rc=0
	timeout -s KILL "$TIMEOUT" "$vf" --simulate "$flag" "$2" >"$tmp/$1.out" 2>"$tmp/$1.err" || rc=$?
	echo "$rc" >"$tmp/$1.rc"
}

# The JSON document of --json: strict UTF-8, one document, argv a list of clean strings.
json_check() {
	python3 - "$1" <<'EOF'
import json, re, sys
raw = open(sys.argv[1], "rb").read()
try:
    doc = json.loads(raw.decode("utf-8"))
except UnicodeDecodeError:
    print("json: not UTF-8"); sys.exit()
except ValueError as e:
    print("json: not one JSON document (%s)" % str(e).split(":")[0]); sys.exit()
argv = doc.get("argv") if isinstance(doc, dict) else None
if not isinstance(argv, list) or not all(isinstance(w, str) for w in argv):
    print("json: argv is not a list of strings"); sys.exit()
for w in argv:
    if "\0" in w:
        print("argv: a NUL byte in a word"); sys.exit()
    m = re.search(r"(table|function|userdata|thread): 0x|(^|[=,])-?(nan|inf)($|,)", w)
    if m:
        print("argv: a Lua value rendered as '%s'" % (m.group(1) or m.group(3))); sys.exit()
EOF
}

# verdict MODE SCRIPT: the first broken promise of this mode, or nothing.
verdict() {
	local mode=$1 s=$2 line
	run "$mode" "$s"
	if [ "$rc" -eq 137 ]; then echo "hang: killed after ${TIMEOUT} s"; return; fi
	if [ "$rc" -eq 86 ] || grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp/$mode.err"; then
		line=$(grep -m 1 -oE '(ERROR: [A-Za-z]+Sanitizer: [a-z-]+|runtime error: [^0-9]*)' "$tmp/$mode.err" || true)
		echo "sanitizer: ${line:-exit 86}"
		return
	fi
	if [ "$rc" -gt 128 ] && [ "$rc" -lt 255 ]; then # 255 is a status (exit(-1)), not a signal
		echo "signal $((rc - 128)): $(grep -m 1 -v '^vflaunch: ' "$tmp/$mode.err" | cut -c 1-60 || true)"
		return
	fi
	case $rc in
	0 | 1 | 2) ;;
	3) grep -q "a simulated host changes nothing" "$tmp/$mode.err" || { echo "status 3"; return; } ;;
	*) echo "status $rc"; return ;;
	esac
	if grep -qv '^vflaunch: ' "$tmp/$mode.err"; then
		echo "stderr: a line not starting 'vflaunch: '"
		return
	fi
	line=$(grep -m 1 -oE 'lua/[a-z_]+\.lua:[0-9]+|\[C\]' "$tmp/$mode.err" || true)
	if [ -n "$line" ]; then echo "internal name in a message: $line"; return; fi
	# A script's error names the script's file and line (the first line; others may follow).
	if [ "$rc" -eq 1 ] && ! head -n 1 "$tmp/$mode.err" | grep -qF -- "$(basename "$s"):"; then
		echo "no file:line: $(head -n 1 "$tmp/$mode.err" | sed -E 's/0x[0-9a-f]+/0x.../g' | cut -c 1-60)"
		return
	fi
	[ "$rc" -eq 0 ] || return 0
	case $mode in
	json)
		line=$(json_check "$tmp/json.out")
		if [ -n "$line" ]; then echo "$line"; return; fi
		# -n read back by sh: the same words as --json's argv
		run n "$s"
		[ "$rc" -eq 0 ] || return 0
		{ printf 'words() { for w in "$@"; do printf "%%s\\0" "$w"; done; }\nwords '; cat "$tmp/n.out"; } >"$tmp/words.sh"
		if ! sh "$tmp/words.sh" >"$tmp/words" 2>/dev/null; then echo "dry-run: sh cannot parse it"; return; fi
		if ! (cd "$top" && "$vf" --simulate -q tests/cli/compare-argv.lua "$tmp/json.out" "$tmp/words") >/dev/null 2>&1; then
			echo "dry-run: sh's words differ from --json's argv"; return
		fi
		;;
	tree)
		if LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$tmp/tree.out"; then echo "tree: a control character"; return; fi
		if ! tail -n 1 "$tmp/tree.out" | grep -qE '^buses [0-9]+/[0-9]+, root slots'; then
			echo "tree: no budget line at the end"; return
		fi
		;;
	esac
	# Last: what the output shows is more telling than that the script was accepted.
	if grep -q -- '--! invalid: ' "$s"; then
		echo "accepted: $(grep -m 1 -o -- '--! invalid: .*' "$s" | sed 's/--! invalid: //')"
	fi
}

# The class as a file name.
slug() { echo "$1" | tr -c 'A-Za-z0-9.\n' '-' | tr -s '-' | cut -c 1-80; }

# minimize MODE CLASS SCRIPT DEST: drop lines (never the first two) while the class stays.
minimize() {
	local mode=$1 class=$2 cur=$tmp/min.lua try=$tmp/try.lua i total
	cp "$3" "$cur"
	total=$(wc -l <"$cur")
	for ((i = total; i > 2; i--)); do
		sed "${i}d" "$cur" >"$try"
		[ "$(verdict "$mode" "$try")" = "$class" ] && cp "$try" "$cur"
	done
	{ echo "-- $class"; echo "-- rerun: $vf --simulate $(case $mode in n) echo -n ;; json) echo --json ;; tree) echo -t ;; esac) THIS-FILE"; cat "$cur"; } >"$4"
}

declare -A count=() example=() example_mode=()
scripts=0 start=$(date +%s)
for s in "$out"/scripts/*.lua; do
	scripts=$((scripts + 1))
	for mode in json tree n; do
		v=$(verdict "$mode" "$s")
		[ -n "$v" ] || continue
		count[$v]=$(( ${count[$v]:-0} + 1 ))
		if [ -z "${example[$v]:-}" ]; then
			example[$v]=$s example_mode[$v]=$mode
		fi
		d=$out/failures/$(slug "$v")
		mkdir -p "$d"
		cp "$s" "$d/"
		{ echo "mode: $mode, exit $(cat "$tmp/$mode.rc")"; head -c 2000 "$tmp/$mode.err"; } >"$d/$(basename "$s" .lua).why"
		break # one finding per script: the rest of its modes usually repeat it
	done
done
echo "api fuzz: seed $seed, $scripts scripts x 3 modes in $(($(date +%s) - start)) s, ${#count[@]} class(es) of failure"
for v in "${!count[@]}"; do
	min=$out/failures/$(slug "$v").lua
	minimize "${example_mode[$v]}" "$v" "${example[$v]}" "$min"
	echo "  FOUND ${count[$v]} script(s): $v"
	echo "    e.g. $min ($(($(wc -l <"$min") - 4)) statements after minimizing)"
done
[ "${#count[@]}" -eq 0 ]
