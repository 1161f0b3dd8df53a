// SPDX-License-Identifier: MIT
// Unit tests of bind_net.c (core.net), driven by Lua chunks against a simulated host's tree
// (shared-group: 0000:03:00.0 on ixgbe with 4 VFs), which netsim.c answers for.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <limits.h>
#include <lua.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host.h"
#include "luatest.h"
#include "simhost.h"
#include "sysfs.h"

static char base[PATH_MAX], sys_[PATH_MAX];

/* N = core.net, SYS = the tree's sysfs root. */
static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	if (sysfs_path(base, sizeof base, "%s/bind-net.XXXXXX", tmp ? tmp : "/tmp") < 0 ||
	    !mkdtemp(base) || sysfs_path(sys_, sizeof sys_, "%s/sys", base) < 0 ||
	    mkdir(sys_, 0755) < 0 || simhost_build(simhost_find("shared-group"), sys_) < 0 ||
	    !(L = luaL_newstate()))
		return -1;
	luaL_openlibs(L);
	luaL_requiref(L, "vflaunch.core.net", luaopen_core_net, 0);
	lua_setglobal(L, "N");
	lua_pushstring(L, sys_);
	lua_setglobal(L, "SYS");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	lua_close(L);
	return rmtree(base);
}

static void test_bind_net_get(void **state)
{
	(void)state;
	lua_ok("local p = assert(N.get(SYS, '0000:03:00.0'))\n"
	       "assert(p.ifname == 'enp3s0' and p.ifindex == 2 and p.operstate == 'up', p.ifname)\n"
	       "assert(p.speed == 10000 and p.num_vf == 4 and #p.vfs == 4)\n"
	       "local v = p.vfs[4]\n"
	       "assert(v.vf == 3 and v.mac == '00:00:00:00:00:00' and v.vlan == 0 and v.qos == 0)\n"
	       "assert(v.spoofchk == true and v.trust == false and v.link == 'auto')\n"
	       "assert(v.max_rate == 0 and v.min_rate == 0)\n"
	       "local ok, msg, errno = N.get(SYS, '0000:00:01.0')\n"
	       "assert(ok == nil and errno == 2 and\n"
	       "  msg == '0000:00:01.0 has no network interface (driver pcieport)', msg)\n"
	       "local pf, i = assert(N.locate(SYS, '0000:03:10.6'))\n"
	       "assert(pf == '0000:03:00.0' and i == 3)\n"
	       "ok, msg, errno = N.locate(SYS, '0000:03:00.0')\n"
	       "assert(ok == nil and errno == 22, msg)\n");
	lua_raises("N.get(SYS, '03:00.0')", "bad argument #2 to 'get' (not a PCI address");
	lua_raises("N.get('', '0000:03:00.0')", "bad argument #1 to 'get' (not a sysfs root)");
}

static void test_bind_net_set(void **state)
{
	(void)state;
	lua_ok("assert(N.set(SYS, '0000:03:00.0', {\n"
	       "  { vf = 1, mac = '52:54:00:AB:CD:01', vlan = 100, qos = 2, trust = true },\n"
	       "  { vf = 2, spoofchk = false, link = 'disable', max_rate = 1000 } }) == true)\n"
	       "local v = assert(N.get(SYS, '0000:03:00.0')).vfs\n"
	       "assert(v[2].mac == '52:54:00:ab:cd:01' and v[2].vlan == 100 and v[2].qos == 2)\n"
	       "assert(v[2].trust == true and v[3].spoofchk == false and v[3].link == 'disable')\n"
	       "assert(v[3].max_rate == 1000 and v[1].trust == false)\n"
	       "local ok, msg, errno = N.set(SYS, '0000:03:00.0', { { vf = 0, min_rate = 10 } })\n"
	       "assert(ok == nil and errno == 22 and msg == '0000:03:00.0 (enp3s0) VF 0: cannot '\n"
	       "  .. 'set rate (max_rate 0, min_rate 10): Invalid argument', msg)\n"
	       "ok, msg, errno = N.set(SYS, '0000:03:00.0', { { vf = 7, trust = true } })\n"
	       "assert(ok == nil and errno == 34, msg)\n"
	       "assert(N.set(SYS, '0000:03:00.0', {}) == true)\n");
	static const struct { const char *change, *want; } bad[] = {
		{ "{ mac = '52:54:00:00:00:01' }", "change 1: vf is missing" },
		{ "{ vf = -1 }", "change 1: vf is not an integer" },
		{ "{ vf = 0, mac = '52-54-00-00-00-01' }", "change 1: mac is not a MAC address" },
		{ "{ vf = 0, vlan = 4096 }", "change 1: vlan is not an integer in 0..4095" },
		{ "{ vf = 0, qos = 8 }", "change 1: qos is not an integer in 0..7" },
		{ "{ vf = 0, trust = 1 }", "change 1: trust is not a boolean" },
		{ "{ vf = 0, link = 'up' }", "change 1: link is not \"auto\", \"enable\" or \"disable\"" },
		{ "{ vf = 0, max_rate = 1.5 }", "change 1: max_rate is not an integer" },
		{ "{ vf = 0, vlam = 3 }", "change 1: a key that is not vf, mac" },
		{ "'x'", "change 1: not a table" },
	};
	char chunk[256];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_true(sysfs_path(chunk, sizeof chunk, "N.set(SYS, '0000:03:00.0', { %s })",
		                       bad[i].change) >= 0);
		lua_raises(chunk, bad[i].want);
	}
	/* Nothing was set by a raising call. */
	lua_ok("assert(assert(N.get(SYS, '0000:03:00.0')).vfs[1].vlan == 0)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind_net_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_net_set, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
