#!/bin/sh
# SPDX-License-Identifier: MIT
# How a launch's cost grows: CPU time (user + system) of `vflaunch -n` against the size of the
# host (135, 512, 2048 and 8192 functions: the seed's 82599 host and large:N trees of N
# ConnectX-5 PFs from mksimhost) for one request (dense 64), and against the size of the
# request (dense 2, 64, 248, 1984) on the 2048-function host; medians of RUNS runs each, runs
# of one table interleaved so that load hits them alike; the slopes by least squares.
# Usage: bench/scale.sh [VFLAUNCH [MKSIMHOST [CPUTIME [RUNS]]]]
#   (defaults: ./vflaunch build/mksimhost build/cputime 15)
set -eu
vf=${1:-./vflaunch} mksimhost=${2:-build/mksimhost} cputime=${3:-build/cputime} runs=${4:-15}
cd "$(dirname "$0")/.."
for x in "$vf" "$mksimhost" "$cputime"; do
	[ -x "$x" ] || { echo "scale.sh: build first: make bench (no $x)" >&2; exit 2; }
done
# Trees of small files: on tmpfs when there is one to write to.
base=${TMPDIR:-$( [ -w /dev/shm ] && echo /dev/shm || echo /tmp)}
tmp=$(mktemp -d "$base/vflaunch-scale.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# name  functions  mksimhost-host  vendor  device
hosts='h135 135 82599 0x8086 0x10fb
h512 512 large:4 0x15b3 0x1017
h2048 2048 large:16 0x15b3 0x1017
h8192 8192 large:64 0x15b3 0x1017'
echo "$hosts" | while read -r name _ host _ _; do
	mkdir "$tmp/$name" && "$mksimhost" "$host" "$tmp/$name"
done

# measure FILE LABEL... : each "LABEL|COMMAND" line of FILE run RUNS times in turn, one CPU
# time (ms) per run appended to $tmp/times as "LABEL ms".
measure() {
	: >"$tmp/times"
	i=0
	while [ $i -lt "$runs" ]; do
		while IFS='|' read -r label cmd; do
			# shellcheck disable=SC2086
			ms=$("$cputime" $cmd) || { echo "scale.sh: $cmd failed" >&2; exit 1; }
			echo "$label $ms" >>"$tmp/times"
		done <"$1"
		i=$((i + 1))
	done
}

# median per label, in the order of first appearance, as "LABEL MEDIAN"
medians() {
	awk '{ if (!($1 in n)) order[++k] = $1; v[$1, ++n[$1]] = $2 }
	END {
		for (o = 1; o <= k; o++) {
			l = order[o]; m = n[l]
			for (i = 1; i <= m; i++) a[i] = v[l, i]
			for (i = 2; i <= m; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
			printf "%s %.2f\n", l, m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
		}
	}' "$tmp/times"
}

# slope X-COLUMN Y-COLUMN < "x y" lines: least-squares slope and intercept
fit() {
	awk '{ n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2 }
	END { b = (n * sxy - sx * sy) / (n * sxx - sx * sx); printf "%.6f %.2f\n", b, (sy - b * sx) / n }'
}

echo "== launch overhead against host size: vflaunch -n, dense 64 ($runs runs each, CPU ms, median)"
echo "$hosts" | while read -r name _ _ vendor device; do
	echo "$name|$vf --sysfs $tmp/$name -n bench/scale.lua dense 64 $vendor $device"
done >"$tmp/cmds"
measure "$tmp/cmds"
medians >"$tmp/med"
echo "$hosts" | while read -r name functions _ _ _; do
	printf '%6d functions  %8.2f ms\n' "$functions" "$(awk -v l="$name" '$1 == l { print $2 }' "$tmp/med")"
	echo "$functions $(awk -v l="$name" '$1 == l { print $2 }' "$tmp/med")" >>"$tmp/hostfit"
done
# shellcheck disable=SC2046
set -- $(fit <"$tmp/hostfit")
printf 'slope: %.1f us per function of the host (as many ms per 1000 functions), intercept %.1f ms\n' \
	"$(echo "$1" | awk '{ print $1 * 1000 }')" "$2"

echo
echo "== launch overhead against request size: vflaunch -n on 2048 functions, dense N"
for n in 2 64 248 1984; do
	echo "d$n|$vf --sysfs $tmp/h2048 -n bench/scale.lua dense $n 0x15b3 0x1017"
done >"$tmp/cmds"
measure "$tmp/cmds"
medians >"$tmp/med"
for n in 2 64 248 1984; do
	printf '%6d devices    %8.2f ms\n' "$n" "$(awk -v l="d$n" '$1 == l { print $2 }' "$tmp/med")"
	echo "$n $(awk -v l="d$n" '$1 == l { print $2 }' "$tmp/med")" >>"$tmp/reqfit"
done
# shellcheck disable=SC2046
set -- $(fit <"$tmp/reqfit")
printf 'slope: %.1f us per placed device, intercept %.1f ms\n' \
	"$(echo "$1" | awk '{ print $1 * 1000 }')" "$2"
