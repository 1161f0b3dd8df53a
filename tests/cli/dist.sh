# SPDX-License-Identifier: MIT
# Sourced by run.sh: what ships beside the binary. The systemd template unit, made as `make
# install` makes it, passes systemd-analyze verify (which also checks that ExecStart runs).

if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$tmp/unit"
	sed -e "s|@BINDIR@|$(dirname "$vf")|g" -e "s|@SCRIPTDIR@|/etc/vflaunch|g" \
		dist/vflaunch@.service.in >"$tmp/unit/vflaunch@.service"
	expect "systemd unit verifies" 0 "" systemd-analyze verify "$tmp/unit/vflaunch@guest.service"
	! grep -q '@[A-Z]*@' "$tmp/unit/vflaunch@.service" && ok || bad "systemd unit: a placeholder is left"
	sed -i "s|^ExecStart=[^ ]*|ExecStart=$tmp/nonexistent|" "$tmp/unit/vflaunch@.service"
	expect "systemd unit with a wrong ExecStart fails to verify" 1 "is not executable" \
		systemd-analyze verify "$tmp/unit/vflaunch@guest.service"
else
	bad "systemd-analyze not found (Debian package systemd)"
fi
