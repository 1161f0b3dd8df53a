#!/bin/bash
# SPDX-License-Identifier: MIT
# Run libFuzzer targets for a bounded time each, then sort what they found into classes (by the
# first line the target prints when rerun on each input), minimize one input per class, and say
# how to rerun it. Fork mode with -ignore_crashes: one known defect does not stop a target from
# finding the next. Exits non-zero when any target found anything.
# Usage: run.sh FUZZ_B SECONDS TARGET...   (FUZZ_B holds fuzz_TARGET; corpora and crashes go there)
set -eu
B=$1 seconds=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
found=0

# The line that names what went wrong when a target is rerun on one input.
classify() {
	"$1" -runs=1 "$2" 2>&1 | grep -m 1 -E '^fuzz_[a-z]+: |ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|^vflaunch: libpci' |
		sed -E 's/^==[0-9]+==//; s/0x[0-9a-f]+/0x.../g; s/vflaunch-fuzz\.[A-Za-z0-9]+/vflaunch-fuzz.X/g;
			s/[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]/ADDR/g' || echo "(no message: $(basename "$2"))"
}

for t in "$@"; do
	bin=$B/fuzz_$t corpus=$B/corpus/$t crashes=$B/crashes/$t log=$B/fuzz_$t.log
	rm -rf "$crashes"
	mkdir -p "$corpus" "$crashes"
	start=$(date +%s)
	# The generated corpus first: libFuzzer adds what it finds to the first directory.
	# FUZZ_FINDINGS: a broken promise is kept there (finding-*) and fuzzing goes on.
	FUZZ_FINDINGS=$crashes "$bin" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -timeout=10 \
		-rss_limit_mb=2048 -max_total_time="$seconds" -artifact_prefix="$crashes/" \
		"$corpus" "$src/corpus/$t" >"$log" 2>&1 || true
	took=$(($(date +%s) - start))
	last=$(grep -E '^#[0-9]+: ' "$log" | tail -n 1)
	execs=$(echo "$last" | sed -nE 's/^#([0-9]+):.*/\1/p')
	ctc=$(echo "$last" | sed -nE 's/.*oom\/timeout\/crash: ([0-9\/]+).*/\1/p')
	n=$(find "$crashes" -type f | wc -l)
	echo "fuzz $t: ${execs:-0} executions in ${took} s ($(( ${execs:-0} / (took > 0 ? took : 1) ))/s)," \
		"corpus $(find "$corpus" -type f | wc -l) inputs, oom/timeout/crash ${ctc:-?}, $n input(s) kept"
	[ "$n" -eq 0 ] && continue
	found=1
	# One class per distinct message; the first input of each is minimized and named.
	declare -A first=() count=()
	for f in "$crashes"/*; do
		c=$(classify "$bin" "$f")
		count[$c]=$(( ${count[$c]:-0} + 1 ))
		[ -n "${first[$c]:-}" ] || first[$c]=$f
	done
	i=0
	for c in "${!first[@]}"; do
		i=$((i + 1))
		min=$crashes/class$i
		"$bin" -minimize_crash=1 -max_total_time=10 -exact_artifact_path="$min" "${first[$c]}" >/dev/null 2>&1 || true
		[ -s "$min" ] && [ "$(classify "$bin" "$min")" = "$c" ] || cp "${first[$c]}" "$min"
		echo "  FOUND ${count[$c]} input(s): $c"
		echo "    rerun: $bin $min   ($(od -An -c "$min" | tr -s ' ' | head -c 120 | tr '\n' ' '))"
	done
	unset first count
done
exit "$found"
