#!/bin/bash
# SPDX-License-Identifier: MIT
# Build the initramfs of the emulated aarch64 test host (make check-vm-arm64): Debian 12's arm64
# busybox, the arm64 kernel's modules for NVMe and vfio (tests/vm/buildlib.sh), tests/vm/init, every
# file of tests/vm/payload/, the cross-built arm64 vflaunch and its test build, Debian's arm64
# qemu-system-aarch64 (package qemu-system-arm) for the nested guest, each with the shared libraries
# it needs (read from the ELF files with readelf, as ldd cannot run another architecture's
# binaries), pci.ids, and the nested arm64 guest (kernel + rehearsal initrd from
# tests/guest/prepare.sh). The host kernel is the guest's: the same Debian arm64 kernel.
#
# Nothing is installed on the machine: the kernel package (for its modules) and qemu-system-arm with
# its libraries are fetched with apt's private state (tests/guest/apt-private.sh) into
# $VFLAUNCH_CACHE/vm-arm64 and unpacked there with dpkg-deb. The machine's arm64 libraries
# (ARM64_PKGS: liblua5.4, libpci, lua-cjson) serve what vflaunch was linked against.
#
# Usage: build-host-initrd-arm64.sh
# Environment:
#   VFLAUNCH_CACHE     cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/vflaunch)
#   VMTEST_VFLAUNCH    the arm64 vflaunch for /usr/bin/vflaunch (default build/arm64/vflaunch)
#   VMTEST_VFLAUNCH_TESTING  its test build, /usr/bin/vflaunch-testing (default build/arm64/vflaunch-testing)
#   VMTEST_MODULES     kernel modules (names or aliases) to load at boot (default below)
# Prints on stdout, for run-arm64.sh:  HOST_KERNEL=PATH  HOST_INITRD=PATH  HOST_KVER=VERSION
# The initramfs is rebuilt only when an input changed (a manifest of names, sizes and times).
set -eu

prog=build-host-initrd-arm64.sh
die() { echo "$prog: $*" >&2; exit 1; }
say() { echo "$prog: $*" >&2; }

[ $# -eq 0 ] || die "usage: build-host-initrd-arm64.sh"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/buildlib.sh
. "$here/buildlib.sh"
repo=$(cd "$here/../.." && pwd)
cache=${VFLAUNCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vflaunch}
case $cache in /*) ;; *) cache=$PWD/$cache ;; esac   # apt runs from other directories
export VFLAUNCH_CACHE=$cache
vmdir=$cache/vm-arm64
mkdir -p "$vmdir"
modules_wanted=${VMTEST_MODULES:-crypto-crc64-rocksoft crypto-crct10dif nvme vfio-pci vfio_iommu_type1}

for c in cpio gzip sha256sum dpkg-deb tar readelf qemu-aarch64 apt-get apt-cache; do
	command -v "$c" >/dev/null 2>&1 || die "'$c' not found (make deps installs what check-vm-arm64 needs)"
done

# One build at a time per cache.
exec 8>"$vmdir/.lock"
flock 8

work=
cleanup() { [ -z "$work" ] || rm -rf "$work"; }
trap cleanup EXIT

# 1. The kernel and busybox (arm64), the nested guest's rehearsal initrd: tests/guest fetches them.
"$repo/tests/guest/prepare.sh" arm64 >&2 || die "tests/guest/prepare.sh arm64 failed"
ga=$cache/guest/arm64
for f in "$ga/vmlinuz" "$ga/busybox" "$ga/fetched.stamp" "$ga/initrd.gz"; do
	[ -f "$f" ] || die "$f missing after tests/guest/prepare.sh"
done
# The nested guest's initrd from this checkout's tests/guest/init (tests/vm/buildlib.sh).
guest_initrd=$(vm_guest_initrd "$repo" "$ga" "$vmdir/guest-initrd") || die "no nested guest initrd"
read -r _ kpkg kver_deb < <(grep '^kernel ' "$ga/fetched.stamp") || die "no kernel line in $ga/fetched.stamp"
kver=${kpkg#linux-image-}

# 2. Fetched once with private apt state: that very kernel package (tests/guest keeps only /boot),
#    and qemu-system-arm for arm64 with the library packages its Depends reach (the names starting
#    lib, and zlib1g: qemu-system-common's tools and their users are not needed), unpacked into
#    qemu/root. The stamp names what was fetched; it is written last.
kdeb=$vmdir/debs/${kpkg}_${kver_deb}_arm64.deb
qroot=$vmdir/qemu/root
qstamp=$vmdir/qemu/fetched.stamp
if [ ! -f "$kdeb" ] || [ ! -f "$qstamp" ]; then
	t0=$(date +%s)
	work=$(mktemp -d "$vmdir/fetch.XXXXXX")
	# shellcheck source=../guest/apt-private.sh
	. "$repo/tests/guest/apt-private.sh"
	apt_private "$work" arm64 >/dev/null || die "cannot set up private apt state in $work"
	say "updating private arm64 package lists"
	apt-get -q --error-on=any update </dev/null >"$work/log" 2>&1 ||
		{ cat "$work/log" >&2; die "apt-get update failed: network access to Debian's archive is needed once"; }
	if [ ! -f "$kdeb" ]; then
		say "fetching $kpkg=$kver_deb for its modules"
		(cd "$work/debs" && apt-get -q download "$kpkg=$kver_deb" </dev/null >>"$work/log" 2>&1) ||
			{ cat "$work/log" >&2; die "apt-get download $kpkg=$kver_deb failed (remove $ga and rerun if the archive moved on)"; }
		mkdir -p "$vmdir/debs"
		rm -f "$vmdir"/debs/linux-image-*.deb
		mv "$work"/debs/"${kpkg}"_*.deb "$kdeb.new" && mv "$kdeb.new" "$kdeb"
	fi
	if [ ! -f "$qstamp" ]; then
		libs=$(apt-cache show qemu-system-arm </dev/null | awk '/^Depends:/ { sub(/^Depends: /, ""); print; exit }' |
			tr ',' '\n' | sed 's/|.*//; s/(.*//; s/ //g' | grep -E '^(lib|zlib)')
		[ -n "$libs" ] || die "apt-cache show qemu-system-arm named no libraries"
		# shellcheck disable=SC2086  # lists of package names
		pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
			--no-replaces --no-enhances $libs </dev/null | grep -E '^(lib|zlib)' | sort -u)
		say "fetching qemu-system-arm (arm64) and $(echo "$pkgs" | wc -l) library packages"
		# shellcheck disable=SC2086
		(cd "$work/debs" && apt-get -q download qemu-system-arm $pkgs </dev/null >>"$work/log" 2>&1) ||
			{ cat "$work/log" >&2; die "apt-get download of qemu-system-arm (arm64) failed"; }
		rm -rf "$vmdir/qemu"
		mkdir -p "$work/qemu/root"
		for deb in "$work"/debs/*.deb; do
			case ${deb##*/} in linux-image-*) continue ;; esac
			dpkg-deb -x "$deb" "$work/qemu/root" || die "cannot unpack $deb"
			echo "$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)" >>"$work/qemu/fetched.stamp.new"
		done
		[ -f "$work/qemu/root/usr/bin/qemu-system-aarch64" ] || die "no usr/bin/qemu-system-aarch64 in qemu-system-arm"
		mv "$work/qemu/fetched.stamp.new" "$work/qemu/fetched.stamp"
		mv "$work/qemu" "$vmdir/qemu"
	fi
	rm -rf "$work"
	work=
	say "fetched in $(($(date +%s) - t0)) s"
fi

# 3. The module closure (busybox's depmod, the arm64 one under qemu-user), cached per kernel + list.
modkey=$(echo "$kpkg $kver_deb $modules_wanted" | sha256sum | cut -c1-16)
moddir=$vmdir/modules-$modkey
if [ ! -f "$moddir/done" ]; then
	say "resolving modules: $modules_wanted"
	rm -rf "$moddir"
	vm_modules "$kdeb" "$kver" "$modules_wanted" "$moddir" qemu-aarch64 "$ga/busybox" depmod ||
		die "cannot resolve the modules"
	say "modules, in load order: $(sed 's,.*/,,; s,\.ko.*,,' "$moddir/load-order" | tr '\n' ' ')"
fi
find "$vmdir" -maxdepth 1 -name 'modules-*' ! -name "modules-$modkey" -exec rm -rf {} +

# 4. What goes in. Binaries: the arm64 vflaunch, its test build, the fetched QEMU.
vfl=${VMTEST_VFLAUNCH:-$repo/build/arm64/vflaunch}
vflt=${VMTEST_VFLAUNCH_TESTING:-$repo/build/arm64/vflaunch-testing}
qemu=$qroot/usr/bin/qemu-system-aarch64
for b in "$vfl" "$vflt" "$qemu"; do
	[ -x "$b" ] || die "$b not found or not executable (make check-vm-arm64 builds vflaunch)"
	[ "$(od -An -tu2 -j18 -N2 "$b" | tr -d ' ')" = 183 ] || die "$b is not an aarch64 executable"
done
# Where an arm64 library is looked for: the fetched packages, then the machine's arm64 libraries.
libdirs="$qroot/lib/aarch64-linux-gnu $qroot/usr/lib/aarch64-linux-gnu /lib/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu"
# needed FILE...: every shared library the files need, recursively, as paths on this machine.
needed() {
	local todo=("$@") seen=" " f n d found
	while [ ${#todo[@]} -gt 0 ]; do
		f=${todo[0]}
		todo=("${todo[@]:1}")
		for n in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
			case $seen in *" $n "*) continue ;; esac
			seen="$seen$n "
			found=
			for d in $libdirs; do
				[ -e "$d/$n" ] && { found=$d/$n; break; }
			done
			[ -n "$found" ] || { echo "$prog: $f needs $n, found in none of $libdirs" >&2; return 1; }
			echo "$found"
			todo+=("$found")
		done
	done
}
libs=$(needed "$vfl" "$vflt" "$qemu") || die "a library is missing"

manifest() {
	echo "format 1 vflaunch=$vfl vflaunch-testing=$vflt"
	sha256sum "$0" "$here/init" "$here"/payload/* "$moddir/load-order" | sed "s,$repo/,,"
	stat -L -c '%n %s %Y' "$vfl" "$vflt" "$qemu" $libs /usr/share/misc/pci.ids "$ga/busybox" "$ga/vmlinuz"
	echo "guest initrd $guest_initrd"
}
out=$vmdir/host-initrd-$(echo "$repo" | sha256sum | cut -c1-8).cpio.gz
want=$(manifest | sha256sum | cut -d' ' -f1)
have=$(cat "$out.manifest" 2>/dev/null || :)
if [ "$want" != "$have" ] || [ ! -f "$out" ]; then
	say "building $out"
	t0=$(date +%s)
	work=$(mktemp -d "$vmdir/initrd.XXXXXX")
	r=$work/root
	mkdir -p "$r"/{bin,sbin,dev,proc,sys,run,tmp,etc,payload,guest/arm64,usr/bin,usr/share/misc,lib} \
		"$r/usr/lib/aarch64-linux-gnu"
	cp "$ga/busybox" "$r/bin/busybox"
	chmod 0755 "$r/bin/busybox"
	ln -s busybox "$r/bin/sh"
	cp "$here/init" "$r/init"
	cp "$here"/payload/* "$r/payload/"
	chmod 0755 "$r/init" "$r"/payload/*.sh
	cp -a "$moddir/lib" "$r/"
	cp "$moddir/load-order" "$r/etc/modules.load-order"
	cp "$ga/vmlinuz" "$r/guest/arm64/vmlinuz"
	cp "$guest_initrd" "$r/guest/arm64/initrd.gz"
	cp /usr/share/misc/pci.ids "$r/usr/share/misc/"
	cp -L "$vfl" "$r/usr/bin/vflaunch"
	cp -L "$vflt" "$r/usr/bin/vflaunch-testing"
	cp -L "$qemu" "$r/usr/bin/qemu-system-aarch64"
	# Every library in the multiarch directory the arm64 loader searches; the loader where the
	# binaries' PT_INTERP names it.
	for l in $libs; do cp -L "$l" "$r/usr/lib/aarch64-linux-gnu/"; done
	interp=$(readelf -l "$qemu" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]$/\1/p')
	[ "$interp" = /lib/ld-linux-aarch64.so.1 ] || die "unexpected program interpreter '$interp'"
	cp -L "$r/usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1" "$r$interp"
	(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1n >"$work/initrd.gz" ||
		die "cannot pack the initramfs"
	rm -f "$out.manifest"
	mv "$work/initrd.gz" "$out"
	echo "$want" >"$out.manifest"
	say "built $out: $(du -k "$out" | cut -f1) KiB packed, $(du -sk "$r" | cut -f1) KiB unpacked, $(($(date +%s) - t0)) s"
	rm -rf "$work"
	work=
fi

echo "HOST_KERNEL=$ga/vmlinuz"
echo "HOST_INITRD=$out"
echo "HOST_KVER=$kver"
