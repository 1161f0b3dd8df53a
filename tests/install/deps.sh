# SPDX-License-Identifier: MIT
# Sourced by run.sh: the Makefile's package lists. make deps installs every list; each target
# installs lists, never names of its own; and each program a target runs comes from a package
# in that target's list (dpkg -S on this machine: a program not installed here is reported and
# not checked). pciutils (lspci, for check-vm's host) was once in no list.

lists=$(sed -n 's/^\([A-Z0-9_]*_PKGS\) *:=.*/\1/p' Makefile)
pkgs() { $make -s --no-print-directory print-pkgs PKGS="$1"; }
pkgs ALL_PKGS >"$tmp/all"
for l in $lists; do
	[ "$l" = ALL_PKGS ] && continue
	for p in $(pkgs "$l"); do
		grep -qxF "$p" "$tmp/all" || bad "make deps does not install $p ($l)"
	done
	ok
done
# Every install-deps.sh call in a recipe installs lists only.
grep -n 'tools/install-deps.sh' Makefile | grep -v '^\([0-9]*\):#' | while IFS= read -r line; do
	args=${line#*install-deps.sh}
	for a in $args; do
		case $a in '$('*_PKGS')') ;; *) echo "Makefile:${line%%:*}: install-deps.sh $a is in no list" ;; esac
	done
done >"$tmp/loose"
[ ! -s "$tmp/loose" ] && ok || bad "$(cat "$tmp/loose")"
# PROGRAM LIST: the package that owns PROGRAM here must be in LIST, or one LIST pulls in.
closure() { # the packages of LIST and what they depend on (pre-depends too), recursively
	[ -s "$tmp/closure.$1" ] || apt-cache depends --recurse --no-recommends --no-suggests \
		--no-conflicts --no-breaks --no-replaces --no-enhances $(pkgs "$1") 2>/dev/null |
		sed -n 's/^\([^ <][^ ]*\)$/\1/p' | sed 's/:any$//' | sort -u >"$tmp/closure.$1"
	cat "$tmp/closure.$1"
}
owns() {
	path=$1
	case $path in /*) ;; *) path=$(command -v "$path") || { echo "deps: $1 not installed here, not checked (make deps)"; return; } ;; esac
	[ -e "$path" ] || { echo "deps: $path not installed here, not checked (make deps)"; return; }
	pkg=
	for f in "$path" "${path#/usr}" "$(readlink -f "$path")"; do
		pkg=$(dpkg -S "$f" 2>/dev/null | head -n 1 | sed 's/: .*//; s/, .*//')
		[ -z "$pkg" ] || break
	done
	[ -n "$pkg" ] || { bad "$1: no package owns $path"; return; }
	case $pkg in *:"$(dpkg --print-architecture)") pkg=${pkg%:*} ;; esac
	closure "$2" | grep -qxF "$pkg" && ok || bad "$1 (package $pkg) is run by the targets of $2, which does not pull it in"
}
owns luacheck TEST_PKGS; owns jq TEST_PKGS; owns systemd-analyze TEST_PKGS; owns pkg-config BUILD_PKGS
owns qemu-system-aarch64 GUEST_PKGS; owns qemu-system-x86_64 GUEST_PKGS; owns cpio GUEST_PKGS
owns lspci VM_PKGS; owns /usr/bin/ip VM_PKGS; owns clang FUZZ_PKGS; owns /usr/bin/python3 FUZZ_PKGS
owns lua5.4 DOC_PKGS; owns luac5.4 DOC_PKGS; owns pandoc DOC_PKGS
owns man INSTALL_TEST_PKGS; owns lexgrog INSTALL_TEST_PKGS
owns /usr/share/bash-completion/bash_completion INSTALL_TEST_PKGS
owns /usr/bin/time BENCH_PKGS; owns dpdk-devbind.py BENCH_PKGS
owns aarch64-linux-gnu-gcc ARM64_PKGS; owns qemu-aarch64 ARM64_PKGS
owns /usr/lib/aarch64-linux-gnu/pkgconfig/lua5.4.pc ARM64_PKGS
owns /usr/lib/aarch64-linux-gnu/pkgconfig/libpci.pc ARM64_PKGS
owns /usr/lib/aarch64-linux-gnu/pkgconfig/libmnl.pc ARM64_PKGS
owns /usr/lib/aarch64-linux-gnu/pkgconfig/lua5.4-cjson.pc ARM64_PKGS
owns /usr/share/qemu-efi-aarch64/QEMU_EFI.fd VM_ARM64_PKGS; owns readelf VM_ARM64_PKGS
owns qemu-aarch64 VM_ARM64_PKGS
