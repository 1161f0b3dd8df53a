# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Sourced by tests/vm/build-host-initrd.sh and build-host-initrd-arm64.sh (bash): what both
# builders of a test host's initramfs need. The kernel modules a test host (or its nested guest)
# loads, with their dependencies, taken from a Debian kernel package (a function so that the
# depmod that runs can be any architecture's busybox: the amd64 one reads arm64 modules too; the
# arm64 host's runs under qemu-user); and the nested guest's initrd from this checkout.
#
#   vm_modules KDEB KVER WANTED OUTDIR DEPMOD...
#     KDEB    the linux-image .deb; KVER its version (lib/modules/KVER)
#     WANTED  module names or aliases (space separated); softdeps are followed (pre: before, post:
#             after), unknown softdep names skipped, an unknown wanted name is an error
#     OUTDIR  created (must not exist): lib/modules/KVER/{the .ko files, modules.dep, modules.alias,
#             modules.builtin, modules.order} and load-order (the .ko paths, relative to
#             lib/modules/KVER, in insmod order), then the file "done" last
#     DEPMOD  the command that runs "depmod -b ROOT KVER" (e.g. qemu-aarch64 busybox depmod)
# Returns non-zero with a message on stderr on failure; a temporary directory next to OUTDIR is
# removed either way.
vm_modules() {
	local kdeb=$1 kver=$2 wanted=$3 out=$4
	shift 4
	local work mroot line m b a w r d p
	work=$(mktemp -d "$out.tmp.XXXXXX") || return 1
	if ! dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$work" ./lib/modules; then
		echo "vm_modules: cannot unpack $kdeb" >&2; rm -rf "$work"; return 1
	fi
	mroot=$work/lib/modules/$kver
	[ -d "$mroot" ] || { echo "vm_modules: no lib/modules/$kver in $kdeb" >&2; rm -rf "$work"; return 1; }
	"$@" -b "$work" "$kver" || { echo "vm_modules: $* failed" >&2; rm -rf "$work"; return 1; }
	declare -A path_of=() deps_of=() alias_of=() state=()
	while IFS= read -r line; do
		m=${line%%:*}
		b=${m##*/}; b=${b%.ko*}; b=${b//-/_}
		path_of[$b]=$m
		deps_of[$b]=${line#*:}
	done <"$mroot/modules.dep"
	while read -r _ a m; do
		a=${a//-/_}
		alias_of[$a]="${alias_of[$a]:-} ${m//-/_}"
	done < <(grep -E '^alias [^ *?[]+ ' "$mroot/modules.alias")
	local -a order=()
	# _resolve NAME: the modules a name (module or alias) stands for; nothing if unknown.
	_resolve() {
		local n=${1//-/_}
		if [ -n "${path_of[$n]:-}" ]; then echo "$n"; elif [ -n "${alias_of[$n]:-}" ]; then echo "${alias_of[$n]# }"; fi
	}
	_visit() {
		local b=$1 d s w phase i
		[ -z "${state[$b]:-}" ] || return 0
		state[$b]=busy
		s=$(tr '\0' '\n' <"$mroot/${path_of[$b]}" | sed -n 's/^softdep=//p')
		phase=
		for w in $s; do
			case $w in pre:) phase=pre ;; post:) phase=post ;; *) [ "$phase" != pre ] || for d in $(_resolve "$w"); do _visit "$d"; done ;; esac
		done
		# modules.dep lists the whole closure, dependents first: load from the end.
		local -a ds
		read -r -a ds <<<"${deps_of[$b]}"
		for ((i = ${#ds[@]} - 1; i >= 0; i--)); do
			d=${ds[i]##*/}; d=${d%.ko*}; _visit "${d//-/_}"
		done
		order+=("$b")
		state[$b]="done"
		phase=
		for w in $s; do
			case $w in pre:) phase=pre ;; post:) phase=post ;; *) [ "$phase" != post ] || for d in $(_resolve "$w"); do _visit "$d"; done ;; esac
		done
	}
	for w in $wanted; do
		r=$(_resolve "$w")
		[ -n "$r" ] || { echo "vm_modules: module '$w' not found in $kdeb" >&2; rm -rf "$work"; return 1; }
		for d in $r; do _visit "$d"; done
	done
	mkdir -p "$work/out/lib/modules/$kver"
	: >"$work/out/load-order"
	for b in "${order[@]}"; do
		p=${path_of[$b]}
		mkdir -p "$work/out/lib/modules/$kver/${p%/*}"
		cp "$mroot/$p" "$work/out/lib/modules/$kver/$p"
		echo "$p" >>"$work/out/load-order"
		grep "^$p:" "$mroot/modules.dep" >>"$work/out/lib/modules/$kver/modules.dep"
	done
	cp "$mroot/modules.builtin" "$mroot/modules.order" "$work/out/lib/modules/$kver/"
	grep -F -w -f <(printf '%s\n' "${order[@]}") "$mroot/modules.alias" >"$work/out/lib/modules/$kver/modules.alias" || :
	touch "$work/out/done"
	mv "$work/out" "$out"
	rm -rf "$work"
}

# vm_guest_initrd REPO GA PREFIX: the nested guest's initrd (GA: tests/guest's arm64 cache), built
# from REPO's tests/guest/init, kept as PREFIX-HASH.gz (HASH: of that init and busybox) and
# printed. The cache of tests/guest is shared: another checkout's prepare.sh may have rebuilt it
# from its own init since. prepare.sh names its inputs' hash in initrd.sha256; the initrd is copied
# under prepare.sh's lock while that hash is ours (prepare.sh runs again, up to twice, when not).
# Copies unused for a day are removed. Non-zero with a message on stderr on failure.
vm_guest_initrd() {
	local repo=$1 ga=$2 prefix=$3 hash out try
	hash=$(cat "$repo/tests/guest/init" "$ga/busybox" | sha256sum | cut -d' ' -f1)
	out=$prefix-${hash:0:16}.gz
	if [ ! -f "$out" ]; then
		for try in 1 2 3; do
			if [ "$try" != 1 ] && ! "$repo/tests/guest/prepare.sh" arm64 >&2; then
				echo "vm_guest_initrd: tests/guest/prepare.sh arm64 failed" >&2
				return 1
			fi
			(
				flock 9
				[ "$(cat "$ga/initrd.sha256" 2>/dev/null)" = "$hash" ] || exit 1
				cp "$ga/initrd.gz" "$out.new" && mv "$out.new" "$out"
			) 9>"$ga/.lock" && break
		done
		if [ ! -f "$out" ]; then
			echo "vm_guest_initrd: $ga/initrd.gz keeps being rebuilt from another tests/guest/init" >&2
			return 1
		fi
		find "${prefix%/*}" -maxdepth 1 -name "${prefix##*/}-*.gz" ! -name "${out##*/}" -mmin +1440 -delete
	fi
	echo "$out"
}
