# SPDX-License-Identifier: MIT
# Sourced by run.sh and slow.sh: rehearse one plan and count it. Needs $vf (the binary) and $dir.
pass=0 fail=0

# rehearse NAME ARCH WANT VFLAUNCH-ARGS...: the ARCH guest must see WANT of WANT devices and every
# planned port, each at its planned address. (env.sh is told the ARCH through VFLAUNCH_GUEST_ARCH:
# dash ignores arguments to `.`.)
rehearse() {
	name=$1 arch=$2 want=$3
	shift 3
	start=$(date +%s)
	if out=$(export VFLAUNCH_GUEST_ARCH="$arch" && . "$dir/../guest/env.sh" && "$vf" --rehearse -q --timeout 900 "$@" 2>&1) &&
		echo "$out" | grep -q "guest saw $want of $want planned devices and \([0-9]*\) of \1 ports"; then
		pass=$((pass + 1))
		echo "rehearse $name: $(echo "$out" | sed -n 's/^rehearsal: //p') [$(($(date +%s) - start)) s wall]"
	else
		fail=$((fail + 1))
		echo "FAIL rehearse $name:"
		echo "$out" | tail -n 20 | sed 's/^/  | /'
	fi
}
