#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages a target needs, only those missing. Usage: install-deps.sh PKG...
# A package named PKG:ARCH (liblua5.4-dev:arm64) needs ARCH as a foreign architecture of dpkg:
# added first (dpkg --add-architecture), as Debian's cross-building does.
# Exits non-zero with the list when packages are missing and we are not root.
set -eu
missing= archs=
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
native=$(dpkg --print-architecture)
for p in $missing; do
	case $p in
	*:*)	a=${p##*:}
		[ "$a" = "$native" ] || dpkg --print-foreign-architectures | grep -qx "$a" ||
			case " $archs " in *" $a "*) ;; *) archs="$archs $a" ;; esac ;;
	esac
done
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing Debian packages:$missing" >&2
	[ -z "$archs" ] || echo "install-deps: they need dpkg architectures:$archs (dpkg --add-architecture)" >&2
	echo "install-deps: run as root, or:${archs:+ dpkg --add-architecture$archs &&} apt-get install$missing" >&2
	exit 1
fi
for a in $archs; do
	echo "install-deps: adding dpkg architecture $a" >&2
	dpkg --add-architecture "$a"
done
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
