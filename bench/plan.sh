#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmarks of issue 4, with ratios against peers measured in the same run:
#  1. plan + render (m:place, finalize, validate, argv, tree, JSON) for 64, 248 and 1984 devices on
#     the large simulated host: median time in process, Lua heap, and the process's peak RSS
#     (getrusage, through /usr/bin/time) over an empty plan on the same host;
#  2. launch overhead of scripts/big-guest.lua (64 VFs behind 2 switches): vflaunch from start to
#     exec of /bin/true, against bench/big-guest.sh, the hand-written shell wrapper doing the same
#     job, both reading one sysfs tree made by mksimhost.
# Usage: bench/plan.sh [VFLAUNCH [MKSIMHOST [RUNS]]]   (defaults: ./vflaunch build/mksimhost 30)
set -eu
vf=$(cd "$(dirname "${1:-./vflaunch}")" && pwd)/$(basename "${1:-./vflaunch}")
mksimhost=${2:-build/mksimhost}
runs=${3:-30}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x "$vf" ] && [ -x "$mksimhost" ] || { echo "plan.sh: build first: make vflaunch $mksimhost" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "plan.sh: /usr/bin/time is missing (Debian package 'time')" >&2; exit 2; }

now() { date +%s%N; }
ms() { echo "$1" | awk '{ printf "%.1f", $1 / 1e6 }'; }

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
	echo "$(cat "$tmp/line"), peak RSS $rss KiB ($delta KiB vs the baseline)"
	echo "$1 $2 $(sed 's/.*median \([0-9.]*\) ms.*/\1/' "$tmp/line")" >>"$tmp/plans"
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
: >"$tmp/times"
i=0
while [ $i -lt "$runs" ]; do  # interleaved, so that load hits both alike
	for w in vf sh true; do
		t0=$(now); "run_$w"; t1=$(now)
		echo "$w $((t1 - t0))" >>"$tmp/times"
	done
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
