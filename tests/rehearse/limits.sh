# SPDX-License-Identifier: MIT
# Sourced by run.sh: the planner's limits held against each QEMU itself (the one in PATH, and each
# directory of VFLAUNCH_QEMU_DIRS). virt's bus budget must be the bus-range of the device tree
# QEMU builds for that machine; the root-bus slots the planner counts must be exactly what QEMU
# fits: that many root ports (placed by QEMU) start, one more is refused. Uses $vf, $dir, and
# pass/fail from lib.sh.
ltmp=$(mktemp -d)

# budget KEY TYPE [OPTION...]: the planner's buses or root_slots available for that machine.
budget() {
	k=$1
	shift
	"$vf" --simulate --json "$dir/machine.lua" "$@" | jq -r ".$k.available"
}

# machine_words TYPE [OPTION...]: QEMU's -machine value and extra words (-nodefaults).
machine_words() {
	mv=$1 extra=
	shift
	for o in "$@"; do
		case $o in -nodefaults) extra=-nodefaults ;; *) mv=$mv,$o ;; esac
	done
}

# starts QEMU N MACHINE-ARGS...: QEMU builds the machine with N root ports and stops (paused, then
# told to quit); its output in $ltmp/out.
starts() {
	sq=$1 sn=$2
	shift 2
	i=0
	while [ "$i" -lt "$sn" ]; do
		i=$((i + 1))
		set -- "$@" -device "pcie-root-port,id=rp$i,chassis=1,slot=$i"
	done
	printf 'quit\n' | "$sq" -S -display none -monitor stdio "$@" >"$ltmp/out" 2>&1
}

# lacks QEMU TYPE OPTION...: the name of the first machine option (key=value) QEMU's TYPE does not
# have, or nothing.
lacks() {
	lq=$1 lt=$2
	shift 2
	"$lq" -machine "$lt,help" >"$ltmp/props" 2>&1
	for o in "$@"; do
		case $o in *=*) grep -q "^ *${o%%=*}=" "$ltmp/props" || { echo "${o%%=*}"; return; } ;; esac
	done
}

limits() {
	q=$1 label="QEMU $(qemu_version "$1")"
	for m in virt "virt highmem=off" "virt highmem-ecam=off" virt-2.12 virt-3.0; do
		# An option this QEMU does not have (highmem-ecam came in 8.0): QEMU refuses the
		# machine, so no plan with it starts there.
		# shellcheck disable=SC2086  # m is a type and its options
		missing=$(lacks "$q" $m)
		if [ -n "$missing" ]; then
			# shellcheck disable=SC2086
			machine_words $m
			if ! "$q" -M "$mv" -nodefaults -display none -S </dev/null >"$ltmp/out" 2>&1 &&
				grep -q "$missing.*not found" "$ltmp/out"; then
				pass=$((pass + 1))
				echo "limits ($label) $m: this QEMU has no $missing; it refuses the machine"
			else
				fail=$((fail + 1))
				echo "FAIL limits ($label) $m: $missing is not in -machine help, yet QEMU did not refuse it"
			fi
			continue
		fi
		# shellcheck disable=SC2086
		want=$(budget buses $m) && machine_words $m &&
			"$q" -M "$mv,dumpdtb=$ltmp/x.dtb" -nodefaults -display none >"$ltmp/out" 2>&1 &&
			range=$("$vf" -q "$dir/bus-range.lua" "$ltmp/x.dtb") || range=
		if [ -n "$range" ] && [ "$((${range#* } + 1))" = "$want" ]; then
			pass=$((pass + 1))
			echo "limits ($label) $m: $want buses, as QEMU's device tree says (bus-range $range)"
		else
			fail=$((fail + 1))
			echo "FAIL limits ($label) $m: the planner counts ${want:-?} buses, QEMU's bus-range is ${range:-?}"
			sed 's/^/  | /' "$ltmp/out" | tail -n 5
		fi
	done
	# virt with -nodefaults, as rehearsals run it: without it QEMU's default NIC (virtio-net-pci)
	# takes 01.0 before any -device, which the planner does not reserve (q35's, it does).
	for m in "virt -nodefaults" q35 "q35 -nodefaults"; do
		# shellcheck disable=SC2086
		n=$(budget root_slots $m) && machine_words $m || n=
		emu=qemu-system-aarch64
		case $m in q35*) emu=qemu-system-x86_64 ;; esac
		qm=$(dirname "$q")/$emu
		[ -x "$qm" ] || qm=$(command -v "$emu")
		# shellcheck disable=SC2086  # extra is empty or -nodefaults
		if [ -n "$n" ] && starts "$qm" "$n" -M "$mv" $extra; then
			# shellcheck disable=SC2086
			if ! starts "$qm" $((n + 1)) -M "$mv" $extra && grep -q "no slot/function available" "$ltmp/out"; then
				pass=$((pass + 1))
				echo "limits ($label) $m: $n root slots, as the planner counts; one more is refused"
			else
				fail=$((fail + 1))
				echo "FAIL limits ($label) $m: QEMU fits more than the planner's $n root ports"
			fi
		else
			fail=$((fail + 1))
			echo "FAIL limits ($label) $m: QEMU does not fit the planner's ${n:-?} root ports:"
			sed 's/^/  | /' "$ltmp/out" | tail -n 5
		fi
	done
}

limits "$(command -v qemu-system-aarch64)"
for qdir in ${VFLAUNCH_QEMU_DIRS-}; do
	limits "$qdir/qemu-system-aarch64"
done
rm -rf "$ltmp"
