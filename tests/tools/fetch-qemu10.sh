#!/bin/sh
# SPDX-License-Identifier: MIT
# Fetch QEMU 10 (qemu-system-arm, qemu-system-x86, qemu-system-data) from Debian's
# bookworm-backports into the cache, with whatever of their dependencies this machine lacks in the
# version they need, and print the directory of its qemu-system-aarch64 and qemu-system-x86_64.
# Usage: fetch-qemu10.sh   (stdout: the directory; progress and errors on stderr)
#
# Nothing of the machine's own package state is touched: apt runs with private sources (Debian 12
# and bookworm-backports), lists, cache and dpkg status (tests/guest/apt-private.sh), and packages
# are unpacked with dpkg-deb under $VFLAUNCH_CACHE/qemu10/root, never installed. The directory
# printed holds one wrapper per emulator that execs the unpacked binary, with LD_LIBRARY_PATH set
# when libraries had to be fetched too, and its own firmware and ROMs first (-L root/usr/share/qemu
# and root/usr/share/seabios: Debian's QEMU looks in /usr/share/... only, where 7.2's are; q35's
# SeaBIOS 1.16.3 comes from bookworm-backports' seabios, which QEMU 10 requires).
# Once fetched (stamp present and the wrappers run) no network is used. Environment as prepare.sh:
# VFLAUNCH_CACHE, VFLAUNCH_DEBIAN_MIRROR, VFLAUNCH_DEBIAN_SECURITY.
set -eu

prog=fetch-qemu10.sh
die() { echo "$prog: $*" >&2; exit 1; }
say() { echo "$prog: $*" >&2; }

here=$(cd "$(dirname "$0")/../guest" && pwd)
cache=${VFLAUNCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vflaunch}
case $cache in /*) ;; *) cache=$PWD/$cache ;; esac
dir=$cache/qemu10
stamp=$dir/fetched.stamp
mirror=${VFLAUNCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
arch=$(dpkg --print-architecture)
# shellcheck source=tests/guest/apt-private.sh
. "$here/apt-private.sh"

# Both wrappers run and are QEMU 10: the fetch is complete.
works() {
	for e in qemu-system-aarch64 qemu-system-x86_64; do
		"$dir/bin/$e" --version 2>/dev/null | grep -q "^QEMU emulator version 10\." || return 1
	done
}

mkdir -p "$dir" || die "cannot create cache directory $dir"
exec 9>"$dir/.lock"
flock 9
if [ -f "$stamp" ] && works; then
	echo "$dir/bin"
	exit 0
fi

for c in apt-get apt-cache dpkg-deb dpkg-query; do
	command -v "$c" >/dev/null 2>&1 || die "'$c' not found: a Debian system (apt, dpkg) is needed"
done
work=$(mktemp -d "$dir/fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
apt_private "$work" "$arch" >/dev/null || die "cannot set up private apt state in $work"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm-backports main" \
	>"$work/sources.d/backports.list"
say "updating private package lists (Debian 12 and bookworm-backports) from $mirror"
apt-get -q --error-on=any update </dev/null >"$work/update.log" 2>&1 ||
	{ cat "$work/update.log" >&2; die "apt-get update failed: network access to $mirror is needed once"; }

# The newest QEMU 10 in bookworm-backports.
ver=$(apt-cache madison qemu-system-x86 </dev/null | awk -F' *[|] *' '$3 ~ /bookworm-backports/ { print $2; exit }')
case $ver in 1:10.*) ;; *) die "bookworm-backports has no QEMU 10 (qemu-system-x86 '${ver:-none}')" ;; esac
want="qemu-system-arm=$ver qemu-system-x86=$ver qemu-system-data=$ver"

# Their dependencies this machine does not have in a version they accept, each in the newest
# version that does (Debian 12's, else bookworm-backports'). qemu-system-common (helpers and
# display/audio modules) and ipxe-qemu (NIC boot ROMs) are left out: -nodefaults guests with
# -nographic need neither.
libs=
deps=$(for p in qemu-system-arm qemu-system-x86 qemu-system-data; do
	apt-cache show "$p=$ver" </dev/null | sed -n 's/^\(Pre-\)\{0,1\}Depends: //p'
done | tr ',' '\n' | sed 's/|.*//; s/^ *//; s/ *$//' | sort -u)
while read -r name cond; do
	case $name in '' | qemu-system-* | ipxe-qemu) continue ;; esac
	op=$(echo "$cond" | sed -n 's/^(\([<>=]*\) .*)$/\1/p')
	v=$(echo "$cond" | sed -n 's/^([<>=]* \(.*\))$/\1/p')
	have=$(dpkg-query -W -f='${Architecture} ${Status} ${Version}\n' "$name" 2>/dev/null |
		sed -n "s/^\($arch\|all\) install ok installed //p")
	if [ -n "$have" ] && { [ -z "$op" ] || dpkg --compare-versions "$have" "$op" "$v"; }; then continue; fi
	pick=
	for cand in $(apt-cache madison "$name" </dev/null | awk -F' *[|] *' '{ print $2 }'); do
		if [ -z "$op" ] || dpkg --compare-versions "$cand" "$op" "$v"; then pick=$cand; break; fi
	done
	[ -n "$pick" ] || die "no version of $name satisfies '$name $cond' in Debian 12 or bookworm-backports"
	say "this machine has ${have:-no} $name; QEMU $ver needs $cond: fetching $pick"
	want="$want $name=$pick"
	case $name in lib*) libs=yes ;; esac
done <<EOF
$deps
EOF

say "downloading $want"
# shellcheck disable=SC2086  # want is a list of package=version words
(cd "$work/debs" && apt-get -q download $want </dev/null >"$work/download.log" 2>&1) ||
	{ cat "$work/download.log" >&2; die "apt-get download failed"; }
mkdir -p "$work/root"
for deb in "$work"/debs/*.deb; do
	dpkg-deb -x "$deb" "$work/root" || die "cannot unpack $deb"
done

# Install into the cache, the stamp last.
rm -f "$stamp"
rm -rf "${dir:?}/root" "${dir:?}/bin"
mv "$work/root" "$dir/root"
mkdir -p "$dir/bin"
# The library directories, relative to $dir: the wrappers find the cache from where they are.
libpath=
if [ -n "$libs" ]; then
	libpath=$(cd "$dir" && find root -name '*.so.*' -type f -exec dirname {} \; | sort -u |
		sed 's|^|$d/|' | paste -sd:)
fi
for e in qemu-system-aarch64 qemu-system-x86_64; do
	[ -x "$dir/root/usr/bin/$e" ] || die "no usr/bin/$e in the packages"
	{
		echo "#!/bin/sh"
		echo "# $e $ver from bookworm-backports, unpacked by tests/tools/fetch-qemu10.sh"
		echo 'd=$(cd "$(dirname "$0")/.." && pwd) || exit 127'
		[ -z "$libpath" ] || echo "LD_LIBRARY_PATH=$libpath\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}; export LD_LIBRARY_PATH"
		echo "exec \"\$d/root/usr/bin/$e\" -L \"\$d/root/usr/share/qemu\" -L \"\$d/root/usr/share/seabios\" \"\$@\""
	} >"$dir/bin/$e"
	chmod 0755 "$dir/bin/$e"
done
works || { "$dir/bin/qemu-system-x86_64" --version >&2 || :; die "the unpacked QEMU does not run"; }
{
	for deb in "$work"/debs/*.deb; do echo "$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)"; done
	echo "mirror $mirror"
	echo "fetched $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$stamp.new"
mv "$stamp.new" "$stamp"
say "$("$dir/bin/qemu-system-aarch64" --version | head -n 1) in $dir/root"
echo "$dir/bin"
