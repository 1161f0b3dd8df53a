# SPDX-License-Identifier: MIT
# Sourced by run.sh and slow.sh: rehearse one plan and count it. Needs $vf (the binary) and $dir.
# Each case runs with the QEMU the script names (found in PATH: Debian 12's 7.2), then once more
# with each directory of VFLAUNCH_QEMU_DIRS (space-separated; each holds qemu-system-aarch64 and
# qemu-system-x86_64, as tests/tools/fetch-qemu10.sh prints for QEMU 10), so that the planner's
# limits are known to hold on every QEMU given.
pass=0 fail=0

# The version a QEMU binary reports ("7.2.19", "10.0.2").
qemu_version() {
	"$1" --version 2>/dev/null | sed -n '1s/^QEMU emulator version \([0-9.]*\).*/\1/p'
}

# rehearse NAME ARCH WANT VFLAUNCH-ARGS...: the ARCH guest must see WANT of WANT devices and every
# planned port, each at its planned address. (env.sh is told the ARCH through VFLAUNCH_GUEST_ARCH:
# dash ignores arguments to `.`.)
rehearse() {
	case $2 in arm64) emu="qemu-system-aarch64" ;; *) emu="qemu-system-x86_64" ;; esac
	rehearse_with "$(command -v "$emu")" "" "$@"
	for qdir in ${VFLAUNCH_QEMU_DIRS-}; do
		rehearse_with "$qdir/$emu" "$qdir/$emu" "$@"
	done
}

# rehearse_with QEMU QEMU-OPTION NAME ARCH WANT VFLAUNCH-ARGS...: one run, with --qemu QEMU-OPTION
# unless that is empty (then the script's own, which is QEMU).
rehearse_with() {
	qemu=$1 label="QEMU $(qemu_version "$1")" qopt=$2 name=$3 arch=$4 want=$5
	shift 5
	[ -z "$qopt" ] || set -- --qemu "$qopt" "$@"
	start=$(date +%s)
	if [ "$label" = "QEMU " ]; then
		fail=$((fail + 1))
		echo "FAIL rehearse $name: ${qemu:-no QEMU for $arch} does not run"
	elif out=$(export VFLAUNCH_GUEST_ARCH="$arch" && . "$dir/../guest/env.sh" && "$vf" --rehearse -q --timeout 900 "$@" 2>&1) &&
		echo "$out" | grep -q "guest saw $want of $want planned devices and \([0-9]*\) of \1 ports"; then
		pass=$((pass + 1))
		echo "rehearse $name ($label): $(echo "$out" | sed -n 's/^rehearsal: //p') [$(($(date +%s) - start)) s wall]"
	else
		fail=$((fail + 1))
		echo "FAIL rehearse $name ($label):"
		echo "$out" | tail -n 20 | sed 's/^/  | /'
	fi
}
