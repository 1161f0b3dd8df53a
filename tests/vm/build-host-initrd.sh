#!/bin/bash
# SPDX-License-Identifier: MIT
# Build the initramfs of the emulated x86_64 test host (make check-vm): busybox, the Debian amd64 kernel's
# modules for NVMe and vfio (dependencies resolved from modules.dep and softdeps), tests/vm/init, every file
# of tests/vm/payload/ (payload scripts, site scripts), vflaunch, its test build (/usr/bin/vflaunch-testing,
# compiled with -DVFLAUNCH_TESTING: the only one that honours VFLAUNCH_TEST_UNBINDABLE) and
# qemu-system-aarch64 with their shared libraries, pci.ids, and the nested arm64 guest (kernel + rehearsal
# initrd from tests/guest/prepare.sh).
#
# Usage: build-host-initrd.sh [--with-dpdk] [--tag NAME]
#   --with-dpdk   also python3 (with its standard library) and dpdk-devbind.py, for the binding benchmark
#   --tag NAME    name this variant's initramfs apart (run.sh's host profiles: VMTEST_HOST=igb builds with
#                 --tag igb), so that building one variant does not replace another's
# Environment:
#   VFLAUNCH_CACHE     cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/vflaunch); output in $VFLAUNCH_CACHE/vm
#   VMTEST_VFLAUNCH    the vflaunch binary to put in /usr/bin (default: the repo's ./vflaunch when it exists)
#   VMTEST_VFLAUNCH_TESTING  the test build, /usr/bin/vflaunch-testing (default: the repo's
#                      build/vflaunch-testing when it exists; make check-vm builds it)
#   VMTEST_EXTRA_BINS  more host binaries to copy with their libraries (space separated; lspci is always in)
#   VMTEST_MODULES     kernel modules (names or aliases) to load at boot (default below)
#   VMTEST_GUEST_MODULES  arm64 kernel modules for the nested guest (default none): their closure, from the
#                      .deb of the guest's very kernel, goes into /guest/arm64/initrd.gz as a second cpio
#                      archive with /etc/modules.load-order, which tests/guest/init loads before its report
# Prints on stdout, for run.sh:  HOST_KERNEL=PATH  HOST_INITRD=PATH  HOST_KVER=VERSION
# The initramfs is rebuilt only when an input changed (a manifest of names, sizes and times is compared).
# Each checkout has its own (the name carries a hash of its path): the cache is shared by every checkout,
# and one checkout's build must not replace the initramfs another is about to boot.
set -eu

prog=build-host-initrd.sh
die() { echo "$prog: $*" >&2; exit 1; }
say() { echo "$prog: $*" >&2; }

with_dpdk=0
tag=
while [ $# -gt 0 ]; do
	case $1 in
	--with-dpdk) with_dpdk=1 ;;
	--tag) [ $# -ge 2 ] || die "--tag needs a NAME"; tag=$2; shift ;;
	*) die "usage: build-host-initrd.sh [--with-dpdk] [--tag NAME]" ;;
	esac
	shift
done
case $tag in *[!a-z0-9]*) die "--tag '$tag': lowercase letters and digits only" ;; esac

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/buildlib.sh
. "$here/buildlib.sh"
repo=$(cd "$here/../.." && pwd)
cache=${VFLAUNCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vflaunch}
export VFLAUNCH_CACHE=$cache
vmdir=$cache/vm
mkdir -p "$vmdir"
modules_wanted=${VMTEST_MODULES:-crypto-crc64-rocksoft crypto-crct10dif nvme vfio-pci vfio_iommu_type1}
guest_modules_wanted=${VMTEST_GUEST_MODULES:-}

for c in cpio gzip sha256sum ldd dpkg-deb tar; do
	command -v "$c" >/dev/null 2>&1 || die "'$c' not found (make deps installs what check-vm needs)"
done

# One build at a time per cache.
if command -v flock >/dev/null 2>&1; then
	exec 8>"$vmdir/.lock"
	flock 8
fi

work=
cleanup() { [ -z "$work" ] || rm -rf "$work"; }
trap cleanup EXIT

# 1. The host kernel and busybox (amd64) and the nested guest (arm64), fetched once by tests/guest.
"$repo/tests/guest/prepare.sh" amd64 >&2 || die "tests/guest/prepare.sh amd64 failed"
"$repo/tests/guest/prepare.sh" arm64 >&2 || die "tests/guest/prepare.sh arm64 failed"
g64=$cache/guest/amd64
ga=$cache/guest/arm64
for f in "$g64/vmlinuz" "$g64/busybox" "$g64/fetched.stamp" "$ga/vmlinuz" "$ga/initrd.gz"; do
	[ -f "$f" ] || die "$f missing after tests/guest/prepare.sh"
done
# The nested guest's initrd must be built from this checkout's tests/guest/init (the launches payload
# needs its vflaunch.linger switch), though the cache is shared (tests/vm/buildlib.sh).
guest_initrd=$(vm_guest_initrd "$repo" "$ga" "$vmdir/guest-arm64-initrd") || die "no nested guest initrd"
# 2. The modules of those very kernel packages: tests/guest keeps only /boot, so fetch the .deb once more
#    (same package and version, private apt state as prepare.sh does) and keep it in the cache.
#    kernel_deb ARCH STAMP: prints the .deb's path, fetching it first when it is not there yet.
kernel_deb() {
	local arch=$1 stamp=$2 kpkg kver_deb deb
	trap cleanup EXIT   # run in $(...): a subshell, with no trap of its own
	read -r _ kpkg kver_deb < <(grep '^kernel ' "$stamp") || die "no kernel line in $stamp"
	deb=$vmdir/debs/${kpkg}_${kver_deb}_$arch.deb
	if [ ! -f "$deb" ]; then
		work=$(mktemp -d "$vmdir/fetch.XXXXXX")
		# shellcheck source=../guest/apt-private.sh
		. "$repo/tests/guest/apt-private.sh"
		(
			apt_private "$work" "$arch" >/dev/null || die "cannot set up private apt state in $work"
			say "fetching $kpkg=$kver_deb ($arch) for its modules"
			apt-get -q update </dev/null >"$work/log" 2>&1 || { cat "$work/log" >&2; die "apt-get update failed"; }
			cd "$work/debs" && apt-get -q download "$kpkg=$kver_deb" </dev/null >>"$work/log" 2>&1 ||
				{ cat "$work/log" >&2; die "apt-get download $kpkg=$kver_deb failed (rerun tests/guest/prepare.sh after removing ${stamp%/*} if the archive moved on)"; }
		) || exit 1
		mkdir -p "$vmdir/debs"
		rm -f "$vmdir"/debs/linux-image-*_"$arch".deb
		mv "$work"/debs/"${kpkg}"_*.deb "$deb.new" && mv "$deb.new" "$deb"
		rm -rf "$work"
		work=
	fi
	echo "$deb"
}
read -r _ kpkg kver_deb < <(grep '^kernel ' "$g64/fetched.stamp") || die "no kernel line in $g64/fetched.stamp"
kver=${kpkg#linux-image-}
kdeb=$(kernel_deb amd64 "$g64/fetched.stamp") || exit 1

# 3. Resolve the module closure from modules.dep (busybox depmod on the unpacked tree) plus softdeps
#    (names or aliases, from modules.alias); the result is the insmod order. Cached per kernel + list.
#    closure DEB KVER WANTED: prints the directory holding lib/modules/KVER and load-order.
closure() {
	local deb=$1 kver=$2 wanted=$3 modkey moddir
	modkey=$(echo "${deb##*/} $wanted" | sha256sum | cut -c1-16)
	moddir=$vmdir/modules-$modkey
	if [ ! -f "$moddir/done" ]; then
		say "resolving modules of ${deb##*/}: $wanted"
		rm -rf "$moddir"
		# busybox depmod reads the modules' ELF headers: the amd64 one reads arm64 modules too.
		vm_modules "$deb" "$kver" "$wanted" "$moddir" "$g64/busybox" depmod ||
			die "cannot resolve the modules of ${deb##*/}"
		say "modules, in load order: $(sed 's,.*/,,; s,\.ko.*,,' "$moddir/load-order" | tr '\n' ' ')"
	fi
	touch "$moddir/done"
	echo "$moddir"
}
moddir=$(closure "$kdeb" "$kver" "$modules_wanted") || exit 1

# The nested guest's modules (VMTEST_GUEST_MODULES): their closure from the arm64 kernel's .deb, packed
# as a cpio archive that follows the guest's initrd (the kernel unpacks concatenated archives in turn).
guest_mods_cpio='' gmoddir=''
if [ -n "$guest_modules_wanted" ]; then
	read -r _ gkpkg _ < <(grep '^kernel ' "$ga/fetched.stamp") || die "no kernel line in $ga/fetched.stamp"
	gdeb=$(kernel_deb arm64 "$ga/fetched.stamp") || exit 1
	gmoddir=$(closure "$gdeb" "${gkpkg#linux-image-}" "$guest_modules_wanted") || exit 1
	guest_mods_cpio=$gmoddir/initrd-part.cpio.gz
	if [ ! -f "$guest_mods_cpio" ]; then
		work=$(mktemp -d "$vmdir/gmods.XXXXXX")
		mkdir -p "$work/etc"
		cp -a "$gmoddir/lib" "$work/"
		cp "$gmoddir/load-order" "$work/etc/modules.load-order"
		find "$work" -exec touch -h -d @0 {} +
		(cd "$work" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) |
			gzip -9n >"$guest_mods_cpio.new" || die "cannot pack the nested guest's modules"
		mv "$guest_mods_cpio.new" "$guest_mods_cpio"
		rm -rf "$work"
		work=
	fi
fi

# Closures not used for a day belong to an older kernel or module list (another checkout or host
# profile may still use a recent one: the cache is shared).
find "$vmdir" -maxdepth 1 -name 'modules-*' ! -name "${moddir##*/}" ! -name "${gmoddir##*/}" \
	-mmin +1440 -exec rm -rf {} +

# 4. What goes in: binaries (with ldd's libraries and the loader), files, the nested guest.
vfl=${VMTEST_VFLAUNCH:-}
[ -n "$vfl" ] || { [ ! -x "$repo/vflaunch" ] || vfl=$repo/vflaunch; }
vflt=${VMTEST_VFLAUNCH_TESTING:-}
[ -n "$vflt" ] || { [ ! -x "$repo/build/vflaunch-testing" ] || vflt=$repo/build/vflaunch-testing; }
bins=(/usr/bin/qemu-system-aarch64 /usr/bin/lspci)
read -r -a extra <<<"${VMTEST_EXTRA_BINS:-}"
bins+=("${extra[@]}")
files=(/usr/share/misc/pci.ids)
[ -z "$vfl" ] || bins+=("$vfl")
[ -z "$vflt" ] || bins+=("$vflt")
if [ "$with_dpdk" = 1 ]; then
	py=$(readlink -f /usr/bin/python3)
	[ -x /usr/bin/dpdk-devbind.py ] || die "dpdk-devbind.py not found: apt-get install dpdk"
	bins+=("$py")
fi
for b in "${bins[@]}"; do [ -x "$b" ] || die "$b not found or not executable"; done

# The manifest: everything whose change must rebuild the initramfs.
manifest() {
	echo "format 2 dpdk=$with_dpdk vflaunch=$vfl vflaunch-testing=$vflt"
	sha256sum "$0" "$here/init" "$here"/payload/* "$moddir/load-order" ${guest_mods_cpio:+"$guest_mods_cpio"} | sed "s,$repo/,,"
	for b in "${bins[@]}"; do
		stat -L -c '%n %s %Y' "$b"
		ldd "$b" 2>/dev/null | awk '/=> \//{print $3} /^\t\//{print $1}' | xargs -r stat -L -c '%n %s %Y'
	done
	stat -L -c '%n %s %Y' "${files[@]}" "$g64/busybox" "$ga/vmlinuz"
	echo "guest initrd $guest_initrd"
	[ "$with_dpdk" = 0 ] || stat -L -c '%n %s %Y' /usr/bin/dpdk-devbind.py /usr/lib/python3.*/os.py
}
suffix=${tag:+-$tag}
[ "$with_dpdk" = 0 ] || suffix=$suffix-dpdk
out=$vmdir/host-initrd-$(echo "$repo" | sha256sum | cut -c1-8)$suffix.cpio.gz
want=$(manifest | sha256sum | cut -d' ' -f1)
have=$(cat "$out.manifest" 2>/dev/null || :)
if [ "$want" != "$have" ] || [ ! -f "$out" ]; then
	say "building $out"
	t0=$(date +%s)
	work=$(mktemp -d "$vmdir/initrd.XXXXXX")
	r=$work/root
	mkdir -p "$r"/{bin,sbin,dev,proc,sys,run,tmp,etc,payload,guest/arm64,usr/bin,usr/share/misc,lib64}
	cp "$g64/busybox" "$r/bin/busybox"
	ln -s busybox "$r/bin/sh"
	cp "$here/init" "$r/init"
	cp "$here"/payload/* "$r/payload/"
	chmod 0755 "$r/init" "$r"/payload/*.sh
	cp -a "$moddir/lib" "$r/"
	cp "$moddir/load-order" "$r/etc/modules.load-order"
	cp "$ga/vmlinuz" "$r/guest/arm64/vmlinuz"
	cat "$guest_initrd" ${guest_mods_cpio:+"$guest_mods_cpio"} >"$r/guest/arm64/initrd.gz"
	cp "${files[@]}" "$r/usr/share/misc/"
	for b in "${bins[@]}"; do
		case $b in
		"$vfl") dst=/usr/bin/vflaunch ;;
		"$vflt") dst=/usr/bin/vflaunch-testing ;;
		*) dst=$b ;;
		esac
		mkdir -p "$r${dst%/*}"
		cp -L "$b" "$r$dst"
		# Every library at the path ldd names (the loader too), so the same binary runs unchanged.
		for l in $(ldd "$b" | awk '/=> \//{print $3} /^\t\//{print $1}'); do
			[ -e "$r$l" ] || { mkdir -p "$r${l%/*}"; cp -L "$l" "$r$l"; }
		done
	done
	if [ "$with_dpdk" = 1 ]; then
		ln -sf "${py##*/}" "$r/usr/bin/python3"
		# dpdk-devbind.py handles only the device classes it lists (NICs, crypto, DMA...), not NVMe: add
		# QEMU's NVMe (1b36:0010, class 01) to its misc list, or it refuses the VFs as "Unknown device".
		sed "s/^\(misc_devices = .*\)\(virtio_blk\)\]/\1\2, {'Class': '01', 'Vendor': '1b36', 'Device': '0010', 'SVendor': None, 'SDevice': None}]/; /^ *virtio_blk\]\$/s/virtio_blk\]/virtio_blk, {'Class': '01', 'Vendor': '1b36', 'Device': '0010', 'SVendor': None, 'SDevice': None}]/" \
			/usr/bin/dpdk-devbind.py >"$r/usr/bin/dpdk-devbind.py"
		chmod 0755 "$r/usr/bin/dpdk-devbind.py"
		grep -q "'Vendor': '1b36'" "$r/usr/bin/dpdk-devbind.py" || die "could not teach dpdk-devbind.py QEMU's NVMe"
		pylib=$(ls -d /usr/lib/python3.[0-9]* | head -n 1)
		# The standard library without what a command-line script never imports here.
		mkdir -p "$r$pylib"
		tar -C "$pylib" -c --exclude=test --exclude=idlelib --exclude=tkinter --exclude=turtledemo \
			--exclude=ensurepip --exclude=lib2to3 --exclude=pydoc_data --exclude=distutils \
			--exclude=site-packages --exclude=dist-packages --exclude=config-\* . | tar -x -C "$r$pylib"
		for so in "$r$pylib"/lib-dynload/*.so; do
			for l in $(ldd "$so" | awk '/=> \//{print $3}'); do
				[ -e "$r$l" ] || { mkdir -p "$r${l%/*}"; cp -L "$l" "$r$l"; }
			done
		done
	fi
	(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1n >"$work/initrd.gz" ||
		die "cannot pack the initramfs"
	rm -f "$out.manifest"
	mv "$work/initrd.gz" "$out"
	echo "$want" >"$out.manifest"
	say "built $out: $(du -k "$out" | cut -f1) KiB packed, $(du -sk "$r" | cut -f1) KiB unpacked, $(($(date +%s) - t0)) s"
	[ -n "$vfl" ] || say "note: no vflaunch binary (build it with make, or set VMTEST_VFLAUNCH): payloads that need it will fail"
	[ -n "$vflt" ] || say "note: no vflaunch test build (make build/vflaunch-testing): the fault-injection check will fail"
	rm -rf "$work"
	work=
fi

echo "HOST_KERNEL=$g64/vmlinuz"
echo "HOST_INITRD=$out"
echo "HOST_KVER=$kver"
