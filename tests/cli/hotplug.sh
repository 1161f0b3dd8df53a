# SPDX-License-Identifier: MIT
# Sourced by run.sh: attach and detach against a real QEMU (qemu-system-aarch64, paused with -S,
# no guest) on a fake host whose VFs sit on ixgbevf, so that every attach binds and every detach
# gives back. QEMU cannot pass a fake device through: the test build (vflaunch-testing, next to
# the binary under test or $VFLAUNCH_TESTING) attaches the rehearsal's emulated stand-in instead
# when VFLAUNCH_TEST_STANDIN=1; everything else is the real path (QMP device_add, qom-get,
# device_del and DEVICE_DELETED, the journal, plan.json). A paused QEMU never powered its slots,
# so it removes a device at once; a guest that does not let go is in tests/rehearse/hotplug.sh.
vft=${VFLAUNCH_TESTING:-$top/build/vflaunch-testing}
if [ "$vft" = none ]; then
	echo "hotplug: not run here (no test build for this binary's architecture; check-cli runs it)"
elif ! command -v qemu-system-aarch64 >/dev/null 2>&1; then
	bad "hotplug: qemu-system-aarch64 is missing (Debian package qemu-system-arm)"
elif [ ! -x "$vft" ]; then
	bad "hotplug: no test build at $vft (make build/vflaunch-testing)"
else
	H=$tmp/hp
	rm -rf "$H"
	fk_host 82599 "$H" >/dev/null
	for a in 0002:81:10.0 0002:81:10.2 0002:81:10.4 0002:81:10.6 0002:81:11.0; do fk_set_driver "$H" "$a" ixgbevf; done
	fk_state "$H" >"$tmp/hp.before"
	# Three empty root ports and a switch of two downstream ports: five hot-plug slots.
	cat >"$tmp/hp.lua" <<-'EOF'
	local vf = require "vflaunch"
	local m = vf.machine{ name = "hp", memory = "128M", args = { "-S", "-display", "none", "-nodefaults" } }
	for _ = 1, 3 do m:root_port() end
	m:root_port():switch{ ports = 2 }
	EOF
	hp() { fk_env "$H" env VFLAUNCH_TEST_STANDIN=1 "$vft" --root "$H" "$@"; }
	"$vf" --root "$H" "$tmp/hp.lua" >"$tmp/hp.out" 2>&1 &
	hpid=$!
	i=0; while [ ! -S "$H/run/vflaunch/hp/qmp.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done

	expect "attach: two VFs" 0 "hp: 0002:81:10.2 is hostdev2 on rp2, guest address 0000:02:00.0" hp attach hp 0002:81:10.0 0002:81:10.2
	grep -q "hp: 0002:81:10.0 is hostdev1 on rp1" "$tmp/err" && ok || bad "attach: the first VF is not on rp1"
	[ "$(fk_state "$H" | grep -E '^0002:81:10\.[02] driver=vfio-pci' | wc -l)" = 2 ] && ok || bad "attach: the VFs are not on vfio-pci"
	jq -e '[.devices[] | select(.host == "0002:81:10.0" and .id == "hostdev1" and .port == "rp1")] | length == 1' "$H/run/vflaunch/hp/plan.json" >/dev/null && ok || bad "attach: plan.json lacks hostdev1"
	expect "attach: status shows them" 0 "" "$vf" --root "$H" status hp
	grep -q "0002:81:10.2 -> 0000:02:00.0  hostdev2" "$tmp/out" && ok || { bad "attach: status"; cat "$tmp/out"; }
	expect "attach: one in the guest already" 3 "0002:81:10.0 is in launch 'hp' already, as hostdev1" hp attach hp 0002:81:10.0
	expect "attach: a port that is taken" 3 "port 'rp1' of launch 'hp' is not empty" hp attach hp --port rp1 0002:81:10.4
	expect "attach: a port that has no slot" 3 "is a x3130-upstream, which has no hot-plug slot" hp attach hp --port up1 0002:81:10.4
	expect "attach: two functions of one slot" 0 "2 devices went in together as the functions of one slot on dp1" hp attach hp --port dp1 0002:81:10.4 0002:81:10.6
	grep -q "0002:81:10.6 is hostdev4 on dp1, guest address 0000:06:00.1" "$tmp/err" && ok || { bad "attach: function 1"; cat "$tmp/err"; }
	# A bind the kernel refuses: what this attach bound goes back, the launch keeps its own.
	fk_state "$H" >"$tmp/hp.mid"
	expect "attach: a bind that fails" 3 "nothing was attached; what was bound is back" fk_env "$H" env FK_REFUSE=vfio-pci VFLAUNCH_TEST_STANDIN=1 "$vft" --root "$H" attach hp 0002:81:11.0
	fk_state "$H" | cmp -s - "$tmp/hp.mid" && ok || bad "attach: a failed bind left the host changed"
	expect "attach: no port left" 3 "launch 'hp' has 2 free hot-plug ports and 3 devices to attach" hp attach hp 0002:81:11.0 0002:81:11.2 0002:81:11.4
	expect "attach: to a launch that does not exist" 3 "no launch named 'nope'" hp attach nope 0002:81:11.0
	expect "attach: usage" 2 "attach takes a launch NAME and at least one host device" "$vf" attach hp
	expect "attach: print-only script" 1 "print-only run changes nothing" "$vf" --root "$H" -n tests/cli/attach-api.lua hp 0002:81:11.0

	expect "detach: by id" 0 "hp: 1 device left the guest; 1 device back on its driver" hp detach hp hostdev1
	fk_state "$H" | grep -q '^0002:81:10.0 driver=ixgbevf' && ok || bad "detach: 10.0 is not back on ixgbevf"
	expect "detach: a slot's functions go together" 0 "share the slot of port dp1" hp detach hp 0002:81:10.6
	grep -q "hp: 2 devices left the guest; 2 devices back on their drivers" "$tmp/err" && ok || { bad "detach: the slot"; cat "$tmp/err"; }
	expect "detach: unknown" 3 "launch 'hp' has no device 'hostdev9'" hp detach hp hostdev9
	# From Lua: a site script attaches a batch to the named guest.
	expect "attach from a script" 0 "" hp tests/cli/attach-api.lua hp 0002:81:10.0 0002:81:10.4
	grep -q "attached hostdev3 hostdev4" "$tmp/out" && ok || { bad "attach from a script: $(cat "$tmp/out")"; }
	expect "detach from a script" 0 "" hp tests/cli/attach-api.lua hp detach hostdev3 hostdev4
	grep -q "detached 2" "$tmp/out" && ok || { bad "detach from a script: $(cat "$tmp/out")"; }

	expect "stop after attach and detach" 0 "hp: QEMU has exited" hp stop hp
	wait "$hpid"
	fk_state "$H" | cmp -s - "$tmp/hp.before" && ok || { bad "hotplug: the host is not as before"; fk_state "$H" | diff "$tmp/hp.before" - | head; }
	check "hotplug: the record is gone" test ! -e "$H/run/vflaunch/hp"
fi
