#!/bin/sh
# SPDX-License-Identifier: MIT
# Fetch Debian 12's kernel and busybox for a guest architecture into the cache, and build the rehearsal
# initramfs (busybox + tests/guest/init) next to them. Usage: prepare.sh ARCH   (arm64 or amd64)
#
# Nothing of the machine's own package state is touched: apt runs with private sources, lists, cache and
# an empty dpkg status under a temporary directory in the cache, and packages are unpacked with dpkg-deb,
# never installed. Once fetched (stamp file present) no network is used; the initramfs is rebuilt only when
# init or busybox changed. Environment: VFLAUNCH_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/vflaunch),
# VFLAUNCH_DEBIAN_MIRROR (default http://deb.debian.org/debian), VFLAUNCH_DEBIAN_SECURITY
# (default http://deb.debian.org/debian-security; "none" to skip).
set -eu

prog=prepare.sh
die() { echo "$prog: $*" >&2; exit 1; }
say() { echo "$prog: $*" >&2; }

[ $# -eq 1 ] || die "usage: prepare.sh ARCH (arm64 or amd64)"
arch=$1
case $arch in
arm64|amd64) ;;
*) die "unsupported ARCH '$arch': use arm64 or amd64" ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
init=$here/init
[ -f "$init" ] || die "$init is missing"

cache=${VFLAUNCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vflaunch}
case $cache in /*) ;; *) cache=$PWD/$cache ;; esac   # apt runs from another directory
dir=$cache/guest/$arch
mirror=${VFLAUNCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
. "$here/apt-private.sh"
stamp=$dir/fetched.stamp

for c in sha256sum gzip find sort; do
	command -v "$c" >/dev/null 2>&1 || die "'$c' not found (coreutils/gzip/findutils are needed)"
done
command -v cpio >/dev/null 2>&1 || die "'cpio' not found: apt-get install cpio (or: make deps)"

mkdir -p "$dir" || die "cannot create cache directory $dir"

# One prepare per ARCH at a time (make -j, parallel CI jobs sharing a cache).
if command -v flock >/dev/null 2>&1; then
	exec 9>"$dir/.lock"
	flock 9
fi

work=
cleanup() { [ -z "$work" ] || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fetch() {
	for c in apt-get apt-cache dpkg-deb tar; do
		command -v "$c" >/dev/null 2>&1 || die "'$c' not found: a Debian system (apt, dpkg) is needed to fetch the guest"
	done

	work=$(mktemp -d "$dir/fetch.XXXXXX")
	mkdir -p "$work/root"
	apt_private "$work" "$arch" >/dev/null || die "cannot set up private apt state in $work"

	say "$arch: updating private package lists from $mirror"
	if ! apt-get -q --error-on=any update </dev/null >"$work/update.log" 2>&1; then
		cat "$work/update.log" >&2
		die "apt-get update failed: network access to $mirror (Debian's archive) is needed once per ARCH"
	fi

	# linux-image-ARCH is the metapackage; it depends on the current linux-image-6.1.0-NN-ARCH.
	kpkg=$(apt-cache depends linux-image-"$arch" </dev/null |
		sed -n "s/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-$arch\)\$/\1/p" | head -n 1)
	[ -n "$kpkg" ] || die "cannot find the kernel package: apt-cache depends linux-image-$arch named none"

	say "$arch: downloading $kpkg busybox-static"
	if ! (cd "$work/debs" && apt-get -q download "$kpkg" busybox-static </dev/null >"$work/download.log" 2>&1); then
		cat "$work/download.log" >&2
		die "apt-get download $kpkg busybox-static failed"
	fi
	kdeb=$(find "$work/debs" -name "${kpkg}_*.deb")
	bdeb=$(find "$work/debs" -name 'busybox-static_*.deb')
	if [ ! -f "$kdeb" ] || [ ! -f "$bdeb" ]; then
		die "downloaded packages not found in $work/debs"
	fi

	# Only /boot of the kernel package (its modules are 400 MB unpacked and the guest needs none).
	dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$work/root" --wildcards './boot/*' ||
		die "cannot unpack $kdeb"
	dpkg-deb -x "$bdeb" "$work/root" || die "cannot unpack $bdeb"
	set -- "$work"/root/boot/vmlinuz-*
	if [ $# -ne 1 ] || [ ! -f "$1" ]; then
		die "no single boot/vmlinuz-* in $kdeb"
	fi
	[ -x "$work/root/bin/busybox" ] || die "no bin/busybox in $bdeb"

	# Install into the cache, the stamp last: its presence means the rest is complete.
	rm -f "$stamp"
	cp "$1" "$dir/vmlinuz.new" && mv "$dir/vmlinuz.new" "$dir/vmlinuz"
	cp "$work"/root/boot/config-* "$dir/config.new" && mv "$dir/config.new" "$dir/config"
	cp "$work/root/bin/busybox" "$dir/busybox.new" && mv "$dir/busybox.new" "$dir/busybox"
	{
		echo "kernel $(dpkg-deb -f "$kdeb" Package) $(dpkg-deb -f "$kdeb" Version)"
		echo "busybox $(dpkg-deb -f "$bdeb" Package) $(dpkg-deb -f "$bdeb" Version)"
		echo "mirror $mirror"
		echo "fetched $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	} >"$dir/fetched.stamp.new"
	mv "$dir/fetched.stamp.new" "$stamp"
	rm -rf "$work"
	work=
	say "$arch: $(sed -n 's/^kernel //p' "$stamp"), $(sed -n 's/^busybox //p' "$stamp")"
}

if [ ! -f "$stamp" ] || [ ! -f "$dir/vmlinuz" ] || [ ! -f "$dir/busybox" ]; then
	fetch
fi

# The initramfs depends on init and busybox only: rebuild when either changed.
want=$(cat "$init" "$dir/busybox" | sha256sum | cut -d' ' -f1)
have=$(cat "$dir/initrd.sha256" 2>/dev/null || :)
if [ "$want" != "$have" ] || [ ! -f "$dir/initrd.gz" ]; then
	say "$arch: building $dir/initrd.gz"
	work=$(mktemp -d "$dir/initrd.XXXXXX")
	mkdir -p "$work/root/bin" "$work/root/dev" "$work/root/proc" "$work/root/sys"
	cp "$dir/busybox" "$work/root/bin/busybox"
	chmod 0755 "$work/root/bin/busybox"
	ln -s busybox "$work/root/bin/sh"
	cp "$init" "$work/root/init"
	chmod 0755 "$work/root/init"
	# Same inputs, same bytes: fixed order, owner and times.
	find "$work/root" -exec touch -h -d @0 {} +
	(cd "$work/root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) |
		gzip -9n >"$work/initrd.gz" ||
		die "cannot build the initramfs"
	rm -f "$dir/initrd.sha256"
	mv "$work/initrd.gz" "$dir/initrd.gz"
	echo "$want" >"$dir/initrd.sha256"
	rm -rf "$work"
	work=
fi
