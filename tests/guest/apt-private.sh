# SPDX-License-Identifier: MIT
# Sourced by prepare.sh and tests/vm/build-host-initrd.sh: apt with private state, so fetching a
# guest's packages never touches the machine's own package state.
#   apt_private WORK ARCH   makes WORK/{lists,cache,debs,...}, WORK/sources.list (Debian 12, with
#                           updates and security) and WORK/apt.conf, and exports APT_CONFIG to it:
#                           apt-get and apt-cache then use only WORK and see only ARCH.
# Environment: VFLAUNCH_DEBIAN_MIRROR (default http://deb.debian.org/debian), VFLAUNCH_DEBIAN_SECURITY
# (default http://deb.debian.org/debian-security; "none" to skip).
apt_private() {
	_w=$1 _arch=$2
	_mirror=${VFLAUNCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
	_security=${VFLAUNCH_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
	_keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	[ -r "$_keyring" ] || { echo "apt-private: $_keyring not readable: apt-get install debian-archive-keyring" >&2; return 1; }
	mkdir -p "$_w/lists/partial" "$_w/cache/archives/partial" "$_w/sources.d" "$_w/prefs.d" "$_w/debs" || return 1
	: >"$_w/status"
	{
		echo "deb [signed-by=$_keyring] $_mirror bookworm main"
		echo "deb [signed-by=$_keyring] $_mirror bookworm-updates main"
		[ "$_security" = none ] || echo "deb [signed-by=$_keyring] $_security bookworm-security main"
	} >"$_w/sources.list"
	{
		echo "APT::Architecture \"$_arch\";"
		echo "APT::Architectures { \"$_arch\"; };"
		echo "Dir::State::Lists \"$_w/lists\";"
		echo "Dir::Cache \"$_w/cache\";"
		echo "Dir::State::status \"$_w/status\";"
		echo "Dir::Etc::SourceList \"$_w/sources.list\";"
		echo "Dir::Etc::SourceParts \"$_w/sources.d\";"
		echo "Dir::Etc::Preferences \"$_w/prefs\";"
		echo "Dir::Etc::PreferencesParts \"$_w/prefs.d\";"
		echo "Acquire::Languages \"none\";"
		echo "Acquire::Retries \"3\";"
		# The cache lives under $HOME, which apt's unprivileged _apt user cannot write.
		[ "$(id -u)" -ne 0 ] || echo "APT::Sandbox::User \"root\";"
	} >"$_w/apt.conf"
	APT_CONFIG=$_w/apt.conf
	export APT_CONFIG
	echo "$_mirror"
}
