#!/bin/sh
# SPDX-License-Identifier: MIT
# Payload: vflaunch's rtnetlink code (launcher/netlink.c, vfnet.c) against a real kernel and a real PF
# driver: QEMU's emulated Intel 82576 (-device igb, QEMU 8.0 or later) on the host's igb driver, 4 VFs.
# Prints the raw replies the unit tests' fixtures hold (between NLCAP-BEGIN NAME and NLCAP-END: a GETLINK
# before and after setting values, the acks, refusals), compares what netlink.c parses with
# `ip link show` (iproute2), and runs vfnet.c's set-and-read-back through /sys. Debian 12's kernel has no
# netdevsim (CONFIG_NETDEVSIM is not set), hence the emulated NIC. Boot with (tests/unit/fixtures/README):
#   PATH=$(tests/tools/fetch-qemu10.sh):$PATH \
#   VMTEST_MODULES="crypto-crc64-rocksoft crypto-crct10dif nvme vfio-pci vfio_iommu_type1 igb" \
#   VMTEST_QEMU_ARGS="-device pcie-root-port,id=rp7,chassis=7,slot=0 -netdev user,id=n0 -device igb,bus=rp7,netdev=n0" \
#   VMTEST_EXTRA_BINS="/bin/ip $PWD/build/nlcapture" tests/vm/run.sh vfnet $PWD/build/nlcapture
set -u
pass() { echo "VMTEST-PASS $1"; }
fail() { n=$1; shift; echo "VMTEST-FAIL $n $*"; }
nlc=${1:-nlcapture}
# iproute2's ip (copied to /bin/ip by VMTEST_EXTRA_BINS): busybox's, first in PATH, shows no VFs.
ipr=/bin/ip
"$ipr" -V 2>/dev/null | grep -q iproute2 || { fail iproute2 "/bin/ip is not iproute2's (VMTEST_EXTRA_BINS)"; ipr=ip; }
cap() { name=$1; shift; echo "NLCAP-BEGIN $name"; "$nlc" "$@"; echo "NLCAP-END $name rc=$?"; }

echo "VMTEST-INFO kernel $(uname -r)"
pf=
for d in /sys/bus/pci/devices/*; do
	[ "$(readlink "$d/driver" 2>/dev/null)" ] && [ "$(basename "$(readlink "$d/driver")")" = igb ] && { pf=${d##*/}; break; }
done
[ -n "$pf" ] || { fail igb-pf "no PCI device on igb (QEMU older than 8.0, or no -device igb)"; exit 1; }
ifn=$(ls "/sys/bus/pci/devices/$pf/net" | head -n 1)
"$ipr" link set "$ifn" up
sleep 3      # igb brings the link up a moment later; set_vf_rate needs it at 1000 Mb/s
echo 4 >"/sys/bus/pci/devices/$pf/sriov_numvfs" || fail igb-vfs "sriov_numvfs refused"
sleep 1
echo "VMTEST-INFO $pf $ifn ifindex $(cat "/sys/class/net/$ifn/ifindex") speed $(cat "/sys/class/net/$ifn/speed" 2>&1) VFs $(cat "/sys/bus/pci/devices/$pf/sriov_numvfs")"
pass "igb $pf $ifn"

cap getlink-before get "$ifn"
cap set-mac set "$ifn" 1 mac 52:54:00:12:34:56
cap set-vlan set "$ifn" 1 vlan 100 3
cap set-rate set "$ifn" 2 rate 500 0
cap set-spoofchk set "$ifn" 3 spoofchk 0
cap set-trust set "$ifn" 3 trust 1
cap getlink-after get "$ifn"
cap refuse-min-rate set "$ifn" 2 rate 500 100
cap refuse-link set "$ifn" 2 link disable
cap refuse-vf-range set "$ifn" 9 mac 52:54:00:00:00:09
cap refuse-multicast set "$ifn" 0 mac 01:00:5e:00:00:01
cap refuse-policy bad "$ifn"

# What netlink.c parses against what iproute2 shows.
"$nlc" show "$ifn" >/tmp/show 2>&1
"$ipr" link show "$ifn" >/tmp/ip 2>&1
cat /tmp/show /tmp/ip
check() { # NAME SHOW-PATTERN IP-PATTERN
	if grep -q "$2" /tmp/show && grep -q "$3" /tmp/ip; then pass "$1"; else fail "$1" "show lacks '$2' or ip lacks '$3'"; fi
}
check vf1-mac-vlan 'vf 1 mac 52:54:00:12:34:56 vlan 100 qos 3 ' 'vf 1 .*52:54:00:12:34:56.*vlan 100, qos 3'
check vf2-rate 'vf 2 .*max_rate 500 min_rate 0' 'vf 2 .*max_tx_rate 500Mbps'
check vf3-flags 'vf 3 .*spoofchk 0 trust 1 ' 'vf 3 .*spoof checking off.*trust on'

# vfnet.c through /sys: the PF's netdev from sysfs, one attribute a message, read back.
"$nlc" vfset "$pf" 0 mac 52:54:00:aa:bb:00 >/tmp/vf 2>&1
"$nlc" vfset "$pf" 0 vlan 42 0 >>/tmp/vf 2>&1
"$nlc" vfset "$pf" 9 trust 1 >>/tmp/vf 2>&1
"$nlc" vfset "$pf" 0 link disable >>/tmp/vf 2>&1
cat /tmp/vf
"$ipr" link show "$ifn" >/tmp/ip 2>&1
if grep -q '^vfset 0' /tmp/vf && grep -q 'vf 0 mac 52:54:00:aa:bb:00 vlan 42 ' /tmp/vf &&
	grep -q 'vf 0 .*52:54:00:aa:bb:00.*vlan 42' /tmp/ip; then
	pass vfnet-set-readback
else
	fail vfnet-set-readback "vfnet_set on /sys did not show in ip link"
fi
if grep -q "^vfset -34 $pf ($ifn) VF 9: no such VF (the PF has 4)" /tmp/vf; then
	pass vfnet-vf-range
else
	fail vfnet-vf-range "VF 9 was not refused as out of range"
fi
if grep -q "^vfset -95 $pf ($ifn) VF 0: cannot set link disable: Operation not supported" /tmp/vf; then
	pass vfnet-refusal-named
else
	fail vfnet-refusal-named "igb's missing link state was not refused by name"
fi
