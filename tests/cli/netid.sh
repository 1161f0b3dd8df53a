# SPDX-License-Identifier: MIT
# Sourced by run.sh: VF identity (MAC, VLAN, ...) on a fake host, whose PFs' netdevs answer
# through the simulated rtnetlink kernel (launcher/netsim.c: state under the PF's net/IFNAME/).
# A launch sets what the script asks before binding, journals the originals (kind vfnet) and
# restore gives them back; every refusal comes before anything changes; print-only runs write
# nothing. The observer is `vflaunch list --json` (through core.net, as a user sees it) and, for
# the host's own state, fk_state plus the VFs' state files.
[ -n "$fakekernel" ] || { bad "netid: no fake kernel given (run.sh VFLAUNCH MKSIMHOST FAKEKERNEL.so)"; return; }

N=$tmp/n
nhost() {
	rm -rf "$N"
	fk_host 82599 "$N" >/dev/null
	for a in 0002:81:10.0 0002:81:10.1 0002:81:10.2; do fk_set_driver "$N" "$a" ixgbevf; done
}
# nstate: the host as a restore must leave it: drivers, counts, and every VF's settings.
nstate() {
	fk_state "$N"
	fk_env "$N" "$vf" --root "$N" list --vfs --json | jq -c '.[] | select(.net != null) | [.address, .net]'
}
nrun() { fk_env "$N" env $KENV "$vf" --root "$N" "$@"; }
KENV=
nscript() { # nscript FILE NAME LUA-LINES...: a machine NAME, then the lines
	f=$1 n=$2
	shift 2
	{ printf 'local vf = require "vflaunch"\nlocal m = vf.machine{ name = "%s", memory = "256M" }\n' "$n"
	  for l in "$@"; do printf '%s\n' "$l"; done; } >"$f"
}
vfjson() { # vfjson ADDR KEY: a VF's setting as list --json shows it
	nrun list --vfs --json | jq -r --arg a "$1" --arg k "$2" '.[] | select(.address == $a) | .net[$k]'
}

nhost
nscript "$tmp/n1.lua" n1 \
	'm:root_port():add("0002:81:10.0", { mac = "52:54:00:12:34:56", vlan = 100, qos = 3, spoofchk = false, trust = true })' \
	'm:root_port():add("0002:81:10.1", { mac = "auto", link = "enable", max_rate = 1000 })'

# list shows each PF's interface and link, each VF's settings (defaults on a fresh host).
expect "netid: list" 0 "" nrun list --vfs
grep -q "^    net .*, up, 10000 Mb/s" "$tmp/out" && ok || { bad "netid: list: no PF interface line"; head -5 "$tmp/out"; }
grep -q "^    mac 00:00:00:00:00:00, vlan 0, qos 0, trust off, spoofchk on, link auto" "$tmp/out" && ok || { bad "netid: list: no VF settings line"; head -5 "$tmp/out"; }
expect "netid: list --json" 0 "" nrun list --vfs --json
check "netid: list --json is one document" is_json "$tmp/out"
[ "$(jq -r '.[] | select(.address == "0002:81:00.0") | .net.speed' "$tmp/out")" = 10000 ] && ok || bad "netid: list --json: PF speed"

# Print-only: the plan says what a launch would set, and nothing is written.
nstate >"$tmp/n.before"
expect "netid: -n -v" 0 "n1.lua:3: device .hostdev1.: a launch would give VF 0002:81:10.0 (through its PF 0002:81:00.0) mac 52:54:00:12:34:56, vlan 100" nrun -n -v "$tmp/n1.lua"
expect "netid: --json" 0 "" nrun --json "$tmp/n1.lua"
[ "$(jq -r '.devices[0].net.vlan' "$tmp/out")" = 100 ] && ok || bad "netid: --json: no vlan in the plan"
auto=$(jq -r '.devices[1].net.mac' "$tmp/out")
case $auto in [0-9a-f][26ae]:*) ok ;; *) bad "netid: mac auto gave '$auto', not a locally administered unicast MAC" ;; esac
expect "netid: -t" 0 "" nrun -t "$tmp/n1.lua"
grep -q "\[mac 52:54:00:12:34:56, vlan 100, qos 3, trust on, spoofchk off\]" "$tmp/out" && ok || bad "netid: -t does not show the identity"
nstate >"$tmp/n.after"
check "netid: print-only wrote nothing" cmp -s "$tmp/n.before" "$tmp/n.after"

# A launch sets them, read back; the journal records the originals; restore gives them back.
expect "netid: launch" 0 "" nrun --qemu /bin/true -v "$tmp/n1.lua"
grep -q "0002:81:10.0: VF 0 of .*: mac 52:54:00:12:34:56, vlan 100, qos 3, trust on, spoofchk off (read back)" "$tmp/err" && ok || { bad "netid: launch: no read-back line"; cat "$tmp/err"; }
[ "$(vfjson 0002:81:10.0 mac)" = 52:54:00:12:34:56 ] && [ "$(vfjson 0002:81:10.0 vlan)" = 100 ] && [ "$(vfjson 0002:81:10.0 trust)" = true ] && [ "$(vfjson 0002:81:10.0 spoofchk)" = false ] && ok || bad "netid: launch: 10.0 not set as asked"
[ "$(vfjson 0002:81:10.1 mac)" = "$auto" ] && [ "$(vfjson 0002:81:10.1 link)" = enable ] && [ "$(vfjson 0002:81:10.1 max_rate)" = 1000 ] && ok || bad "netid: launch: 10.1 not set as asked (mac $(vfjson 0002:81:10.1 mac), want $auto)"
check "netid: journal kind vfnet" grep -q "^vfnet 0002:81:10.0 .*mac=00:00:00:00:00:00" "$N/run/vflaunch/n1/journal"
expect "netid: status" 0 "" nrun status n1
grep -q "0002:81:10.0 -> .*\[mac 52:54:00:12:34:56, vlan 100" "$tmp/out" && ok || { bad "netid: status does not show the identity"; cat "$tmp/out"; }
expect "netid: restore" 0 "2 VF identities (MAC, VLAN...) back" nrun restore n1
nstate >"$tmp/n.after"
check "netid: restore gives every setting back" cmp -s "$tmp/n.before" "$tmp/n.after" || diff "$tmp/n.before" "$tmp/n.after" | head

# The same launch again: the same auto MAC (stable across launches).
expect "netid: launch again" 0 "" nrun --qemu /bin/true "$tmp/n1.lua"
[ "$(vfjson 0002:81:10.1 mac)" = "$auto" ] && ok || bad "netid: mac auto changed between launches"
expect "netid: restore again" 0 "" nrun restore n1

# Refused before anything changes, every problem at once, at the script's lines: a rate above
# the link speed (10000 Mb/s), trust on a driver that does not report it.
nhost
fk_set_driver "$N" 0002:81:00.1 vflaunch-test-nic
nscript "$tmp/n2.lua" n2 \
	'm:root_port():add("0002:81:10.0", { max_rate = 20000 })' \
	'm:root_port():add("0002:81:10.1", { trust = true })'
nstate >"$tmp/n.before"
expect "netid: rate above link speed" 3 "n2.lua:3: .*max_rate 20000 Mb/s is above the link speed of .* (10000 Mb/s)" nrun --qemu /bin/true "$tmp/n2.lua"
grep -q "n2.lua:4: .*driver (vflaunch-test-nic) does not report trust" "$tmp/err" && ok || { bad "netid: trust on a driver that does not report it"; cat "$tmp/err"; }
nstate >"$tmp/n.after"
check "netid: refusals changed nothing" cmp -s "$tmp/n.before" "$tmp/n.after"

# A PF that is administratively down gives its VFs no MAC (igbvf then takes a random one):
# refused, naming the interface and the way out; list says so.
nhost
printf '0x1002\n' >"$(echo "$N"/sys/bus/pci/devices/0002:81:00.0/net/*/flags)"
nscript "$tmp/n7.lua" n7 'm:root_port():add("0002:81:10.0", { mac = "52:54:00:00:00:07" })'
nstate >"$tmp/n.before"
expect "netid: PF down" 3 "n7.lua:3: .*enP2p129s0f0 (0002:81:10.0's PF) is down: .*ip link set enP2p129s0f0 up" nrun --qemu /bin/true "$tmp/n7.lua"
nstate >"$tmp/n.after"
check "netid: PF down: nothing changed" cmp -s "$tmp/n.before" "$tmp/n.after"
expect "netid: list of a down PF" 0 "" nrun list --vfs
grep -q "^    net enP2p129s0f0, down (administratively)" "$tmp/out" && ok || { bad "netid: list does not say the PF is down"; grep "^    net" "$tmp/out"; }

# A driver that refuses a value (ixgbe: no min_rate) after others were set: everything given
# back, the message names the attribute and the kernel's reason.
nhost
nscript "$tmp/n3.lua" n3 \
	'm:root_port():add("0002:81:10.0", { mac = "52:54:00:00:00:01" })' \
	'm:root_port():add("0002:81:10.2", { mac = "52:54:00:00:00:02", min_rate = 100 })'
nstate >"$tmp/n.before"
expect "netid: refused by the driver" 3 "min_rate" nrun --qemu /bin/true "$tmp/n3.lua"
grep -q "every change was given back" "$tmp/err" && ok || { bad "netid: rollback not said"; cat "$tmp/err"; }
nstate >"$tmp/n.after"
check "netid: rollback gives the MACs back" cmp -s "$tmp/n.before" "$tmp/n.after"

# Not a network VF: a PF without a netdev (the NVMe case) is named at the device's line.
nhost
rm -rf "$N"/sys/bus/pci/devices/0002:81:00.1/net
nscript "$tmp/n4.lua" n4 'm:root_port():add("0002:81:10.1", { vlan = 5 })'
expect "netid: not a network VF" 1 "n4.lua:3: .*0002:81:10.1 is not a network VF: its PF 0002:81:00.1 has no network interface (driver ixgbe)" nrun -n "$tmp/n4.lua"

# A MAC a live guest has is refused for another guest.
nhost
export FAKE_QEMU_ROOT="$N" FAKE_QEMU_LOG="$tmp/nq.log"
nscript "$tmp/n5.lua" n5 'm:root_port():add("0002:81:10.0", { mac = "52:54:00:aa:bb:cc" })'
nscript "$tmp/n6.lua" n6 'm:root_port():add("0002:81:10.2", { mac = "52:54:00:AA:BB:CC" })'
fk_env "$N" "$vf" --root "$N" --qemu tests/cli/fake-qemu.sh "$tmp/n5.lua" >"$tmp/n5.out" 2>&1 &
n5pid=$!
check "netid: live guest started" wait_for "$FAKE_QEMU_LOG" "started"
nstate >"$tmp/n.before"
expect "netid: duplicate MAC across guests" 3 "n6.lua:3: .*mac 52:54:00:aa:bb:cc is in use by launch 'n5'" nrun --qemu /bin/true "$tmp/n6.lua"
nstate >"$tmp/n.after"
check "netid: duplicate refused, nothing changed" cmp -s "$tmp/n.before" "$tmp/n.after"
expect "netid: stop the live guest" 0 "" nrun stop n5
wait "$n5pid" 2>/dev/null
[ "$(vfjson 0002:81:10.0 mac)" = 00:00:00:00:00:00 ] && ok || bad "netid: stop did not give the MAC back"
