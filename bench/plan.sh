#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmarks of issues 4 and 9, with ratios against peers measured in the same run:
#  1. plan + render (m:place, finalize, validate, argv, tree, JSON) for 64, 248 and 1984 devices on
#     the large simulated host: median time in process, Lua heap, and the process's peak RSS
#     (getrusage, through /usr/bin/time) over an empty plan on the same host;
#  2. launch overhead of scripts/big-guest.lua (64 VFs behind 2 switches): vflaunch from start to
#     exec of /bin/true, against bench/big-guest.sh, the hand-written shell wrapper doing the same
#     job, both reading one sysfs tree made by mksimhost: CPU time (user + system) and wall time;
#  3. the large host (2048 functions, a tree made by mksimhost): -n of scripts/flat-248.lua and
#     scripts/dense-1984.lua, and `vflaunch list` against `lspci -D -k` on the same tree, CPU time.
# Then bench/scale.sh: launch overhead against the size of the host and of the request.
# Usage: bench/plan.sh [VFLAUNCH [MKSIMHOST [RUNS [CPUTIME]]]]
#   (defaults: ./vflaunch build/mksimhost 30 build/cputime)
set -eu
vf=$(cd "$(dirname "${1:-./vflaunch}")" && pwd)/$(basename "${1:-./vflaunch}")
mksimhost=${2:-build/mksimhost}
runs=${3:-30}
cputime=${4:-build/cputime}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x "$vf" ] && [ -x "$mksimhost" ] && [ -x "$cputime" ] ||
	{ echo "plan.sh: build first: make vflaunch $mksimhost $cputime" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "plan.sh: /usr/bin/time is missing (Debian package 'time')" >&2; exit 2; }

now() { date +%s%N; }
ms() { echo "$1" | awk '{ printf "%.1f", $1 / 1e6 }'; }

# Every fresh page a run touches is a page fault; what one costs sets much of the numbers below.
pagefault=$(dirname "$cputime")/pagefault
[ ! -x "$pagefault" ] || { echo "== this machine"; "$pagefault"; echo; }
echo "== plan + render (large simulated host, 2032 VFs; $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
/usr/bin/time -f %M -o "$tmp/rss0" "$vf" --simulate=large -q bench/plan.lua flat 0 1 >/dev/null
rss0=$(cat "$tmp/rss0")
echo "baseline (inventory of 2048 functions, no plan): peak RSS $rss0 KiB"
for c in "switch 64" "flat 64" "dense 64" "switch 224" "flat 248" "dense 248" "dense 1984"; do
	# shellcheck disable=SC2086
	set -- $c
	/usr/bin/time -f %M -o "$tmp/rss" "$vf" --simulate=large -q bench/plan.lua "$1" "$2" 7 >"$tmp/line"
	rss=$(cat "$tmp/rss") delta=$(($(cat "$tmp/rss") - rss0))
	[ "$delta" -lt 0 ] || delta=+$delta
	echo "$(head -n 1 "$tmp/line"), peak RSS $rss KiB ($delta KiB vs the baseline)"
	sed 1d "$tmp/line"
	echo "$1 $2 $(sed -n '1s/.*median \([0-9.]*\) ms.*/\1/p' "$tmp/line") $(sed -n '1s/.*(\([0-9]*\) bytes per device).*/\1/p' "$tmp/line") $(sed -n 's/.*what a launch does.*: \([0-9.]*\) ms$/\1/p' "$tmp/line")" >>"$tmp/plans"
done
awk '$1 == "dense" && $2 == 64 { a = $3 } $1 == "dense" && $2 == 1984 { b = $3 }
	END { if (a > 0) printf "ratio: dense 1984 / dense 64 = %.1fx the time for 31x the devices (%.3f ms per device at 1984)\n", b / a, b / 1984 }' "$tmp/plans"

echo
echo "== launch overhead: scripts/big-guest.lua (64 VFs, 2 switches) vs bench/big-guest.sh"
# A host tree (--root): DIR/sys, DIR/dev/vfio/N, state in DIR/run/vflaunch.
host=$tmp/host
mkdir -p "$host/sys" "$host/dev/vfio" "$host/run"
"$mksimhost" 82599 "$host/sys"
for g in "$host"/sys/kernel/iommu_groups/*; do : >"$host/dev/vfio/${g##*/}"; done
export QMP=$host/run/vflaunch/big-guest/qmp.sock
# Both must produce the same argv.
PRINT=1 bench/big-guest.sh "$host/sys" /bin/true >"$tmp/wrapper.argv"
# vflaunch's --dry-run is shell-quoted: let sh read it back, word by word.
{ printf 'words() { printf "%%s\\n" "$@"; }\nwords '; "$vf" --root "$host" --qemu /bin/true -n -q scripts/big-guest.lua; } |
	sh >"$tmp/vflaunch.argv"
if cmp -s "$tmp/wrapper.argv" "$tmp/vflaunch.argv"; then
	echo "same argv from both: $(wc -l <"$tmp/wrapper.argv") words"
else
	echo "plan.sh: the wrapper's argv differs from vflaunch's:" >&2
	diff "$tmp/wrapper.argv" "$tmp/vflaunch.argv" | head >&2
	exit 1
fi
# The real path (host checks, memlock, exec) when this host allows it; otherwise both print the
# command instead of exec'ing (vflaunch --dry-run; the wrapper with PRINT=1) and say so.
if "$vf" --root "$host" --qemu /bin/true scripts/big-guest.lua >/dev/null 2>"$tmp/err"; then
	mode='exec'
	echo "mode: start to exec of /bin/true (vflaunch's host checks included)"
else
	mode='print'
	echo "mode: start to printing the command; the exec path is refused here: $(head -n 1 "$tmp/err" | cut -c1-150)..."
fi
run_vf() {
	if [ $mode = exec ]; then "$vf" --root "$host" --qemu /bin/true scripts/big-guest.lua
	else "$vf" --root "$host" --qemu /bin/true -n scripts/big-guest.lua >/dev/null; fi
}
run_sh() {
	if [ $mode = exec ]; then bench/big-guest.sh "$host/sys" /bin/true
	else PRINT=1 bench/big-guest.sh "$host/sys" /bin/true >/dev/null; fi
}
run_true() { /bin/true; }
# The same commands under cputime, for their CPU time (the wrapper's children included).
cpu_vf() {
	if [ $mode = exec ]; then "$cputime" "$vf" --root "$host" --qemu /bin/true scripts/big-guest.lua
	else "$cputime" "$vf" --root "$host" --qemu /bin/true -n scripts/big-guest.lua; fi
}
cpu_sh() {
	if [ $mode = exec ]; then "$cputime" bench/big-guest.sh "$host/sys" /bin/true
	else PRINT=1 "$cputime" bench/big-guest.sh "$host/sys" /bin/true; fi
}
cpu_true() { "$cputime" /bin/true; }
# And printing the command, whatever this host allows: -n against the wrapper's PRINT=1.
cpu_vfp() { "$cputime" "$vf" --root "$host" --qemu /bin/true -n scripts/big-guest.lua; }
cpu_shp() { PRINT=1 "$cputime" bench/big-guest.sh "$host/sys" /bin/true; }
: >"$tmp/times"
: >"$tmp/cpu"
i=0
while [ $i -lt "$runs" ]; do  # interleaved, so that load hits both alike
	for w in vf sh true; do
		t0=$(now); "run_$w"; t1=$(now)
		echo "$w $((t1 - t0))" >>"$tmp/times"
		echo "$w $("cpu_$w")" >>"$tmp/cpu"
	done
	for w in vfp shp; do echo "$w $("cpu_$w")" >>"$tmp/cpu"; done
	i=$((i + 1))
done
awk -v runs="$runs" '
	{ t[$1, ++n[$1]] = $2 }
	function median(w,   i, j, x, k) {
		k = n[w]; for (i = 1; i <= k; i++) a[i] = t[w, i]
		for (i = 2; i <= k; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	END {
		v = median("vf") / 1e6; s = median("sh") / 1e6; z = median("true") / 1e6
		printf "%d runs each, medians: vflaunch %.1f ms, shell wrapper %.1f ms, /bin/true alone %.1f ms\n", runs, v, s, z
		printf "ratio: vflaunch / shell wrapper = %.2f (over the bare exec: %.1f ms vs %.1f ms, %.2f)\n", v / s, v - z, s - z, (v - z) / (s - z)
	}' "$tmp/times"
# median LABEL < "label value" lines
median() {
	awk -v w="$1" '$1 == w { a[++k] = $2 }
	END {
		for (i = 2; i <= k; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
		printf "%.2f", k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}'
}
v=$(median vf <"$tmp/cpu") s=$(median sh <"$tmp/cpu") z=$(median true <"$tmp/cpu")
echo "CPU (user + system), medians: vflaunch $v ms, shell wrapper $s ms, /bin/true alone $z ms"
awk -v v="$v" -v s="$s" -v m="$mode" 'BEGIN { printf "ratio (CPU, %s): vflaunch / shell wrapper = %.3f\n", m, v / s }'
v=$(median vfp <"$tmp/cpu") s=$(median shp <"$tmp/cpu")
big_v=$v big_s=$s big_true=$(median true <"$tmp/cpu")
echo "printing the command, CPU medians: vflaunch -n $v ms, shell wrapper (PRINT=1) $s ms"
awk -v v="$v" -v s="$s" 'BEGIN { printf "ratio (CPU, print): vflaunch -n / shell wrapper = %.3f (target 0.05, and 10 ms)\n", v / s }'

echo
echo "== the large host (2048 functions, mksimhost large): CPU time, medians of $runs"
large=$tmp/large
mkdir "$large"
"$mksimhost" large "$large"
lspci=$(command -v lspci || true)
: >"$tmp/large.cpu"
i=0
while [ $i -lt "$runs" ]; do
	echo "flat $("$cputime" "$vf" --sysfs "$large" -n scripts/flat-248.lua)" >>"$tmp/large.cpu"
	echo "dense $("$cputime" "$vf" --sysfs "$large" -n scripts/dense-1984.lua)" >>"$tmp/large.cpu"
	echo "list $("$cputime" "$vf" --sysfs "$large" list)" >>"$tmp/large.cpu"
	[ -z "$lspci" ] || echo "lspci $("$cputime" "$lspci" -A linux-sysfs -O sysfs.path="$large/bus/pci" -D -k 2>/dev/null)" >>"$tmp/large.cpu"
	i=$((i + 1))
done
flat=$(median flat <"$tmp/large.cpu") dense=$(median dense <"$tmp/large.cpu")
list=$(median list <"$tmp/large.cpu") lspci_ms=
[ -z "$lspci" ] || lspci_ms=$(median lspci <"$tmp/large.cpu")
echo "-n scripts/flat-248.lua: $flat ms (target 60 ms)"
echo "-n scripts/dense-1984.lua: $dense ms (target 60 ms)"
if [ -n "$lspci" ]; then
	l=$(median list <"$tmp/large.cpu") p=$(median lspci <"$tmp/large.cpu")
	awk -v l="$l" -v p="$p" 'BEGIN { printf "vflaunch list: %.2f ms, lspci -D -k: %.2f ms, ratio %.2f (target 0.5)\n", l, p, l / p }'
else
	echo "vflaunch list: $(median list <"$tmp/large.cpu") ms (no lspci here to compare: Debian package pciutils)"
fi

echo
bench/scale.sh "$vf" "$mksimhost" "$cputime" "$(( runs < 15 ? runs : 15 ))"

# Issue 9's targets side by side, each from the measurements above (this run, this machine).
echo
echo "== issue 9 targets, this run (CPU time, medians; /bin/true alone: $big_true ms)"
plan=$(awk '$1 == "dense" && $2 == 1984 { print $3 }' "$tmp/plans")
bytes=$(awk '$1 == "dense" && $2 == 1984 { print $4 }' "$tmp/plans")
launch=$(awk '$1 == "dense" && $2 == 1984 { print $5 }' "$tmp/plans")
awk -v bv="$big_v" -v bs="$big_s" -v flat="$flat" -v dense="$dense" -v list="$list" \
	-v lspci="$lspci_ms" -v plan="$plan" -v bytes="$bytes" -v launch="$launch" 'BEGIN {
	f = "%-44s %10s %12s %9s  %s\n"
	printf f, "what", "vflaunch", "peer", "ratio", "target"
	printf f, "-n big-guest.lua, seed host (135 functions)", bv " ms", bs " ms", \
		sprintf("%.3f", bv / bs), "<= 10 ms, <= 0.05x the shell wrapper"
	printf f, "-n flat-248.lua, large (2048 functions)", flat " ms", "-", "-", "<= 60 ms"
	printf f, "-n dense-1984.lua, large", dense " ms", "-", "-", "<= 60 ms"
	printf f, "list, large", list " ms", (lspci == "" ? "-" : lspci " ms"), \
		(lspci == "" ? "-" : sprintf("%.2f", list / lspci)), "<= 0.5x lspci -D -k"
	printf f, "plan + render, dense 1984 (in process)", plan " ms", "-", "-", \
		"<= 20 ms; " bytes " bytes of state per device"
	printf f, "  of it, a launch (place, check, argv, JSON)", launch " ms", "-", "-", ""
	printf f, "bind 127 VFs, real kernel", "-", "-", "-", \
		"<= 1.2x the shell loop: make bench-bind (an emulated host)"
}'
