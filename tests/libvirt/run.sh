#!/bin/sh
# SPDX-License-Identifier: MIT
# libvirt export tests: for every example script (and the cases below), --libvirt-xml's domain
# must pass libvirt's schema (virt-xml-validate), and libvirt's embedded QEMU driver (no daemon,
# no root) must turn it into a QEMU argv that gives the guest the same devices at the same guest
# addresses, behind the same ports, with the same properties, as vflaunch's own argv
# (compare.lua). Then three broken domains, each of which the comparison must catch.
# Usage: run.sh VFLAUNCH   (Debian: libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu)
#
# libvirt's QEMU driver refuses to start as root without its libvirt-qemu user (which only
# libvirt-daemon-system creates), so as root virsh runs as nobody. This machine has no KVM: each
# domain is converted as type 'qemu' with <cpu mode='maximum'/> in place of type 'kvm' and
# host-passthrough (the accelerator and the CPU, not the PCI topology); the schema check sees
# the domain as printed.
set -u
vf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
dir=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$dir/../.." && pwd)
for c in virsh virt-xml-validate; do
	command -v "$c" >/dev/null 2>&1 || { echo "libvirt: '$c' not found: make deps (libvirt-clients)" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"
mkdir "$tmp/root"
as_user=
if [ "$(id -u)" -eq 0 ]; then
	chown nobody "$tmp/root"
	as_user="setpriv --reuid=nobody --regid=nogroup --clear-groups"
fi
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL libvirt $*"; }

# libvirt's argv for FILE.xml as NUL-terminated words in FILE.lv (sh reads its quoting).
to_native() {
	# shellcheck disable=SC2086  # as_user is a command and its arguments
	(cd "$tmp" && $as_user env HOME="$tmp/root" XDG_CONFIG_HOME="$tmp/root/.config" \
		XDG_CACHE_HOME="$tmp/root/.cache" XDG_RUNTIME_DIR="$tmp/root/run" \
		virsh -q -c "qemu:///embed?root=$tmp/root" domxml-to-native qemu-argv "$1.xml") \
		>"$1.native" 2>"$1.err" || return 1
	{ printf 'words() { for w in "$@"; do printf "%%s\\0" "$w"; done; }\nwords '; cat "$1.native"; } |
		sh >"$1.lv"
}

# one NAME SIMULATE SCRIPT [ARG...]: print, validate, convert, compare.
one() {
	name=$1 sim=$2
	shift 2
	t=$tmp/$name
	start=$(date +%s)
	"$vf" "$sim" --libvirt-xml "$@" >"$t.orig.xml" 2>"$t.err" || { bad "$name: --libvirt-xml failed"; sed 's/^/  | /' "$t.err"; return; }
	"$vf" "$sim" --json "$@" >"$t.json" 2>"$t.err" || { bad "$name: --json failed"; sed 's/^/  | /' "$t.err"; return; }
	jq -j '.argv[] | . + "\u0000"' "$t.json" >"$t.vf" || { bad "$name: no argv in --json"; return; }
	virt-xml-validate "$t.orig.xml" domain >"$t.err" 2>&1 || { bad "$name: libvirt's schema refuses the domain"; sed 's/^/  | /' "$t.err" | head -20; return; }
	sed -e "s/^<domain type='kvm'/<domain type='qemu'/" -e "s|<cpu mode='host-passthrough'/>|<cpu mode='maximum'/>|" \
		"$t.orig.xml" >"$t.xml"
	to_native "$t" || { bad "$name: virsh domxml-to-native refused the domain"; sed 's/^/  | /' "$t.err" | head -20; return; }
	if out=$("$vf" -q "$dir/compare.lua" "$t.vf" "$t.lv" tcg 2>&1); then
		ok
		echo "libvirt $name: $out [$(($(date +%s) - start)) s]"
	else
		bad "$name: libvirt's argv differs from vflaunch's"
		echo "$out" | sed 's/^/  | /'
	fi
}

# broken NAME WHAT SED-EXPRESSION: the domain of $tmp/two changed so; the comparison must fail
# and name WHAT.
broken() {
	sed -e "$3" "$tmp/$1.xml" >"$tmp/broken.xml"
	if cmp -s "$tmp/$1.xml" "$tmp/broken.xml"; then bad "broken $2: the edit changed nothing"; return; fi
	if ! to_native "$tmp/broken"; then bad "broken $2: virsh refused it"; sed 's/^/  | /' "$tmp/broken.err"; return; fi
	if out=$("$vf" -q "$dir/compare.lua" "$tmp/$1.vf" "$tmp/broken.lv" tcg 2>&1); then
		bad "broken $2: the comparison did not see it"
	elif echo "$out" | grep -q -- "$2"; then
		ok
	else
		bad "broken $2: the comparison failed, but not on it:"; echo "$out" | sed 's/^/  | /'
	fi
}

cd "$top" || exit 1
one two-vfs --simulate scripts/two-vfs.lua
one big-guest --simulate scripts/big-guest.lua
one big-guest-126 --simulate scripts/big-guest.lua 126 16
one flat-248 --simulate=large scripts/flat-248.lua
one switch-224 --simulate=large scripts/switch-224.lua
one switch-239 --simulate=large scripts/switch-224.lua 239
one switch-spare --simulate=large scripts/switch-224.lua 100 16 12
one dense-1984 --simulate=large scripts/dense-1984.lua
one q35-switch --simulate scripts/q35-64.lua
one q35-flat --simulate scripts/q35-64.lua flat
one q35-dense --simulate scripts/q35-64.lua dense
one root-bus-31 --simulate tests/rehearse/root-bus-31.lua
one plan-mixed --simulate tests/rehearse/plan-mixed.lua
one cascade --simulate tests/lua/cascade.lua
one ports-only --simulate tests/cli/ports-only.lua
one corners --simulate tests/libvirt/corners.lua
one corners-q35 --simulate tests/libvirt/corners-q35.lua

# Each broken domain must be caught: a VF's host function, a port's QEMU slot (the override),
# and the USB controller libvirt adds when not told 'none' (a device and a bus the plan lacks).
broken big-guest "0002:81:10.2" "0,/function='0x2'\/><\/source>/s//function='0x3'\/><\/source>/"
broken big-guest "slot is 5 in vflaunch's argv, 4 in libvirt's" "s/name='slot' type='unsigned' value='5'/name='slot' type='unsigned' value='4'/"
broken q35-switch "libvirt has" "/<controller type='usb' model='none'\/>/d"
echo "libvirt: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
