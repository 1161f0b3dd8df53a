# SPDX-License-Identifier: MIT
# shellcheck shell=sh disable=SC2317  # `exit` is reached only when run instead of sourced
# Sourced, not run: point vflaunch --rehearse at the guest tests/guest/prepare.sh cached for ARCH.
#   . tests/guest/env.sh [ARCH]      ARCH: arm64 (default) or amd64
# Exports VFLAUNCH_REHEARSE_KERNEL, VFLAUNCH_REHEARSE_INITRD, VFLAUNCH_REHEARSE_CONSOLE; returns non-zero
# with a message when the guest was not prepared. No `set -eu` here: it would change the caller's shell.
# dash (make's /bin/sh) ignores arguments to `.` and leaves the caller's own $1 in place, so $1 counts
# only when it names an architecture; otherwise VFLAUNCH_GUEST_ARCH, else arm64.

case ${1-} in
arm64|amd64) vflaunch_arch=$1 ;;
armhf|armel|i386|mips*|ppc*|riscv*|s390*|x86*|aarch*) vflaunch_arch=$1 ;;  # named, unsupported: fail below
*) vflaunch_arch=${VFLAUNCH_GUEST_ARCH:-arm64} ;;
esac
vflaunch_dir=${VFLAUNCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vflaunch}/guest/$vflaunch_arch

case $vflaunch_arch in
arm64) vflaunch_console=ttyAMA0 ;;
amd64) vflaunch_console=ttyS0 ;;
*) vflaunch_console= ;;
esac

if [ -z "$vflaunch_console" ]; then
	echo "env.sh: unsupported ARCH '$vflaunch_arch': use arm64 or amd64" >&2
	unset vflaunch_arch vflaunch_dir vflaunch_console
	return 1 2>/dev/null || exit 1
elif [ ! -f "$vflaunch_dir/fetched.stamp" ] || [ ! -f "$vflaunch_dir/vmlinuz" ] ||
	[ ! -f "$vflaunch_dir/initrd.gz" ]; then
	echo "env.sh: no $vflaunch_arch guest in $vflaunch_dir: run tests/guest/prepare.sh $vflaunch_arch (or make guest)" >&2
	unset vflaunch_arch vflaunch_dir vflaunch_console
	return 1 2>/dev/null || exit 1
fi

VFLAUNCH_REHEARSE_KERNEL=$vflaunch_dir/vmlinuz
VFLAUNCH_REHEARSE_INITRD=$vflaunch_dir/initrd.gz
VFLAUNCH_REHEARSE_CONSOLE=$vflaunch_console
export VFLAUNCH_REHEARSE_KERNEL VFLAUNCH_REHEARSE_INITRD VFLAUNCH_REHEARSE_CONSOLE
unset vflaunch_arch vflaunch_dir vflaunch_console
