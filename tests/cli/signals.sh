# SPDX-License-Identifier: MIT
# Sourced by run.sh: signals. A script that loops or blocks stops on SIGINT, SIGTERM or SIGHUP
# with 128+N, and a simulated host's temporary tree is removed on the way out (D10).

# Each script says it runs (arg[2]) before it loops or blocks: the signal comes once vflaunch's
# handlers are surely set, however slowly the binary starts (under qemu-user, on a busy machine).
printf 'io.open(arg[2], "w"):close()\nwhile true do end\n' >"$tmp/loop.lua"
mkfifo "$tmp/fifo"
printf 'io.open(arg[2], "w"):close()\nlocal f = io.open(arg[1]); f:read("a")\n' >"$tmp/block.lua"
mkdir -p "$tmp/sigtmp"
for sig in INT TERM HUP; do
	for s in loop block; do
		rm -f "$tmp/started"
		TMPDIR="$tmp/sigtmp" "$vf" --simulate -n "$tmp/$s.lua" "$tmp/fifo" "$tmp/started" >"$tmp/out" 2>"$tmp/err" &
		p=$!
		i=0; while [ ! -e "$tmp/started" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
		sleep 0.2
		kill -"$sig" "$p"
		i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		if kill -0 "$p" 2>/dev/null; then
			bad "SIG$sig does not stop a $s script"; kill -KILL "$p"; wait "$p" 2>/dev/null; continue
		fi
		wait "$p"
		st=$?
		case $sig in INT) want=130 ;; TERM) want=143 ;; HUP) want=129 ;; esac
		[ "$st" -eq "$want" ] && grep -q "interrupted by SIG$sig" "$tmp/err" && ok || { bad "SIG$sig on a $s script: exit $st"; cat "$tmp/err"; }
		check "SIG$sig on a $s script: the simulated tree is removed" test -z "$(ls "$tmp/sigtmp")"
	done
done
