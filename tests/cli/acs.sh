# SPDX-License-Identifier: MIT
# Sourced by run.sh: a bridge that supports ACS but has it switched off (the simulated host
# acs-off: QEMU's arm64 virt booted with a device tree). list shows each bridge's ACS, in text
# and --json, with a note naming the bridge and the ways out; a launch of a VF whose group the PF
# shares is refused naming the bridge; a bridge whose config space cannot be read past 64 bytes
# (what the kernel gives a user who is not root) is said to be unread, never taken for ACS off.

fk_host acs-off "$tmp/acs"
mkdir -p "$tmp/acs/sys/bus/pci/drivers/vfio-pci"   # loaded: the refusal is the group's
expect "acs: list" 0 "note: bridge 0000:00:01.0 (SrcValid ReqRedir CmpltRedir UpstreamFwd off) supports ACS but has it switched off" \
	"$vf" list --sysfs "$tmp/acs/sys"
grep -q "^0000:00:01.0 .*vfio no: bridge, ACS off (SrcValid ReqRedir CmpltRedir UpstreamFwd)  " "$tmp/out" && ok || bad "acs: list: the bridge's ACS off not shown"
grep -q "^0000:00:02.0 .*vfio no: bridge, ACS on  " "$tmp/out" && ok || bad "acs: list: the bridge's ACS on not shown"
grep -q "echo 1 > /sys/bus/pci/devices/0000:00:01.0/remove; echo 1 > /sys/bus/pci/rescan" "$tmp/err" && ok || bad "acs: list: no rescan in the note"
grep -q "UEFI/ACPI" "$tmp/err" && grep -q "newer kernel" "$tmp/err" && ok || bad "acs: list: the note lacks a way out"
[ "$(grep -c 'note:' "$tmp/err")" -eq 1 ] && ! grep -q "0000:00:02.0" "$tmp/err" && ok || bad "acs: list: the bridge with ACS on is in the note too"
expect "acs: list --vfs" 0 "note: bridge 0000:00:01.0 (SrcValid ReqRedir CmpltRedir UpstreamFwd off) supports ACS" "$vf" list --vfs --sysfs "$tmp/acs/sys"
expect "acs: list --json" 0 "" "$vf" list --json --sysfs "$tmp/acs/sys"
check "acs: list --json is JSON" is_json "$tmp/out"
[ "$(jq -c '.[] | select(.address == "0000:00:01.0") | .acs' "$tmp/out")" = \
	'{"capability":"0x001f","control":"0x0000","off":["SrcValid","ReqRedir","CmpltRedir","UpstreamFwd"]}' ] &&
	ok || bad "acs: list --json: 00:01.0's acs is $(jq -c '.[] | select(.address == "0000:00:01.0") | .acs' "$tmp/out")"
[ "$(jq -c '.[] | select(.address == "0000:00:02.0") | .acs.off' "$tmp/out")" = '[]' ] && ok || bad "acs: list --json: 00:02.0 not on"
[ "$(jq -c '[.[] | select(has("acs"))] | length' "$tmp/out")" = 2 ] && ok || bad "acs: list --json: acs on something not a bridge"

# The refusal names the bridge and the ways out; nothing changes.
printf 'local vf = require "vflaunch"\nlocal m = vf.machine{}\nm:add("0000:01:00.1")\n' >"$tmp/acsvf.lua"
fk_state "$tmp/acs" >"$tmp/acs.before"
expect "acs: refused" 3 "acsvf.lua:3: device 'hostdev1': IOMMU group 1 of 0000:01:00.1 is not viable: 0000:01:00.0 (nvme) is on a host driver" \
	"$vf" --root "$tmp/acs" --qemu /bin/echo "$tmp/acsvf.lua"
grep -q "bridge 0000:00:01.0 (SrcValid ReqRedir CmpltRedir UpstreamFwd off) supports ACS but has it switched off" "$tmp/err" && ok || bad "acs: refused: the bridge not named"
grep -q "UEFI/ACPI.*remove every bridge with ACS off at once and rescan.*(echo 1 > /sys/bus/pci/devices/0000:00:01.0/remove; echo 1 > /sys/bus/pci/rescan), or run a newer kernel" "$tmp/err" && ok || bad "acs: refused: the ways out not given"
grep -q "nothing was started; nothing on the host was changed" "$tmp/err" && ok || bad "acs: refused: no word on the host"
fk_state "$tmp/acs" >"$tmp/acs.after"
check "acs: refused: the tree is unchanged" cmp -s "$tmp/acs.before" "$tmp/acs.after"
# A group made shared by something else (shared-group's bridges have no ACS) gets no ACS word.
expect "acs: no word without ACS" 3 "is not viable" "$vf" --root "$tmp/sg" --qemu /bin/echo "$tmp/grp.lua"
! grep -q "ACS" "$tmp/err" && ok || bad "acs: a refusal blames ACS on a host without it"

# Config space past byte 63 unreadable (a user who is not root): "unread", with the reason.
cfg=$(readlink -f "$tmp/acs/sys/bus/pci/devices/0000:00:01.0")/config
head -c 64 "$cfg" >"$cfg.short" && mv "$cfg.short" "$cfg"
expect "acs: unread" 0 "note: the ACS of bridges was not read: cannot read .*/0000:00:01.0/config beyond its first 64 bytes: reading a device's capabilities needs root" \
	"$vf" list --sysfs "$tmp/acs/sys"
grep -q "^0000:00:01.0 .*vfio no: bridge, ACS unread  " "$tmp/out" && ok || bad "acs: unread: not shown as unread"
expect "acs: unread refusal" 3 "Whether a bridge above has ACS switched off is not known: cannot read" \
	"$vf" --root "$tmp/acs" --qemu /bin/echo "$tmp/acsvf.lua"
