# SPDX-License-Identifier: MIT
# Shell helpers for running the real vflaunch binary on a fake host: a simulated sysfs tree whose
# writes the LD_PRELOAD fake kernel (build/fakekernel.so, tests/tools/fakekernel.c) plays as the
# kernel would. Sourced by bash scripts that set VFLAUNCH (the binary), MKSIMHOST and FK_SO.
# Layout of a fake host ROOT: ROOT/sys the tree, ROOT/dev/vfio/N for its IOMMU groups, ROOT/run
# for the journals, ROOT/fk-native written by the shim.

# fk_host HOST ROOT: a fresh fake host from a simulated host's table. (Builtins only in the
# loops: a fork costs milliseconds on a busy machine, and these run hundreds of times.)
fk_host() {
	mkdir -p "$2/sys" "$2/dev/vfio" "$2/run"
	"$MKSIMHOST" "$1" "$2/sys" || return 1
	for g in "$2"/sys/kernel/iommu_groups/*; do
		: >"$2/dev/vfio/${g##*/}"
	done
	: >"$2/dev/vfio/vfio"
}

# fk_env ROOT CMD...: CMD under the fake kernel of ROOT. FK_* knobs pass through from the
# caller's environment; RLIMIT_MEMLOCK is faked because a container without CAP_SYS_RESOURCE
# cannot raise it for the guest's RAM.
fk_env() {
	local root=$1
	shift
	env LD_PRELOAD="$FK_SO" FK_ROOT="$root" FK_MEMLOCK="${FK_MEMLOCK:-unlimited}" "$@"
}

# The only two places that know vflaunch's command line for a launch and a restore on a fake
# host: ROOT/sys the tree, ROOT/dev/vfio, ROOT/run/vflaunch the launches' state.
vfl_launch() {
	local root=$1
	shift
	fk_env "$root" "$VFLAUNCH" --root "$root" --qemu /bin/true run "$@"
}
vfl_restore() {
	local root=$1
	shift
	fk_env "$root" "$VFLAUNCH" --root "$root" restore "$@"
}

# fk_state ROOT: the host state a launch may change and a restore must give back, one line per
# device (driver link, driver_override) and per PF (sriov_numvfs, sriov_drivers_autoprobe), in
# address order. Four processes for the whole tree.
fk_state() {
	local devs=$1/sys/bus/pci/devices
	{
		find -H "$devs"/* -maxdepth 1 -name driver -type l -printf 'driver %h %l\n'
		grep -s -H '' "$devs"/*/driver_override "$devs"/*/sriov_numvfs \
			"$devs"/*/sriov_drivers_autoprobe | sed 's|^\(.*\)/\([a-z_]*\):|\2 \1 |'
	} | awk -v devs="$devs/" '
		{ a = substr($2, length(devs) + 1); seen[a] = 1
		  v = $3; for (i = 4; i <= NF; i++) v = v " " $i }
		$1 == "driver" { n = split(v, p, "/"); drv[a] = p[n] }
		$1 == "driver_override" { ovr[a] = v }
		$1 == "sriov_numvfs" { num[a] = v }
		$1 == "sriov_drivers_autoprobe" { ap[a] = v }
		END {
			for (a in seen) {
				printf "%s driver=%s override=%s\n", a, (a in drv) ? drv[a] : "-", (a in ovr) ? ovr[a] : "-"
				if (a in num) printf "%s numvfs=%s autoprobe=%s\n", a, num[a], (a in ap) ? ap[a] : "-"
			}
		}' | LC_ALL=C sort
}

# fk_set_driver ROOT ADDR DRIVER: put a device on DRIVER in the tree itself (before the shim
# first sees it: what the fake kernel takes as the device's native driver).
fk_set_driver() {
	local dev
	dev=$(readlink -f "$1/sys/bus/pci/devices/$2")
	mkdir -p "$1/sys/bus/pci/drivers/$3"
	# a driver directory has its store attributes, as the simulated hosts write them
	touch "$1/sys/bus/pci/drivers/$3/bind" "$1/sys/bus/pci/drivers/$3/unbind"
	ln -sfn "$(realpath --relative-to="$dev" "$1/sys/bus/pci/drivers/$3")" "$dev/driver"
	# the driver's link back to the device moves with it
	rm -f "$1"/sys/bus/pci/drivers/*/"$2"
	ln -s "$(realpath --relative-to="$1/sys/bus/pci/drivers/$3" "$dev")" "$1/sys/bus/pci/drivers/$3/$2"
}
