// SPDX-License-Identifier: MIT
// Unit tests of bind_journal.c (the core's journal object), driven by Lua chunks against a
// fake kernel.
// LDWRAP: -Wl,--wrap=write -Wl,--wrap=open
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "fakekernel.h"
#include "host.h"
#include "luatest.h"
#include "vfio.h"

#define VF3 "0000:03:10.6"

static char jpath[PATH_MAX];

static void set_global(const char *name, const char *value)
{
	lua_pushstring(L, value);
	lua_setglobal(L, name);
}

/* A state with the standard libraries, J = vflaunch.core.journal, V = vflaunch.core.vfio,
 * and the fake tree's paths as globals SYS, RUN and P (a journal path that does not exist). */
static int setup(void **state)
{
	(void)state;
	if (fk_setup("shared-group") < 0 || mkdir(fk.run, 0700) < 0 || !(L = luaL_newstate()))
		return -1;
	fk_fmt(jpath, sizeof jpath, "%s/a.journal", fk.run);
	luaL_openlibs(L);
	luaL_requiref(L, "vflaunch.core.journal", luaopen_core_journal, 0);
	lua_setglobal(L, "J");
	luaL_requiref(L, "vflaunch.core.vfio", luaopen_core_vfio, 0);
	lua_setglobal(L, "V");
	set_global("SYS", fk.sys);
	set_global("RUN", fk.run);
	set_global("P", jpath);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	lua_close(L);
	return fk_teardown();
}

static void test_bind_journal_create_add_entries(void **state)
{
	(void)state;
	lua_ok("local j = assert(J.create(P))\n"
	       "assert(j:path() == P)\n"
	       "assert(#j:entries() == 0 and j:open_count() == 0)\n"
	       "local n = assert(j:add{\n"
	       "  { kind = 'sriov', addr = '0000:03:00.0', numvfs = 4, autoprobe = 1 },\n"
	       "  { kind = 'device', addr = '" VF3 "', driver = 'ixgbevf' },\n"
	       "  { kind = 'device', addr = '0000:03:10.4', override = 'pci-stub', state = 'applied' },\n"
	       "  { kind = 'sriov', addr = '0000:05:00.0', numvfs = 0 },\n"
	       "})\n"
	       "assert(n == 4, n)\n"
	       /* the first record of a device is the original: kept */
	       "assert(j:add{ { kind = 'device', addr = '" VF3 "', driver = 'vfio-pci' } } == 0)\n"
	       "assert(j:open_count() == 4)\n"
	       "local e = assert(J.open(P)):entries()\n"
	       "assert(#e == 4)\n"
	       "assert(e[1].kind == 'sriov' and e[1].addr == '0000:03:00.0' and e[1].numvfs == 4)\n"
	       "assert(e[1].autoprobe == 1 and e[1].state == 'recorded' and e[1].driver == nil)\n"
	       "assert(e[2].driver == 'ixgbevf' and e[2].override == nil and e[2].numvfs == nil)\n"
	       "assert(e[2].autoprobe == nil)\n"
	       "assert(e[3].driver == nil and e[3].override == 'pci-stub' and e[3].state == 'applied')\n"
	       "assert(e[4].autoprobe == -1)\n");
}

static void test_bind_journal_host_failures(void **state)
{
	char link[PATH_MAX];

	(void)state;
	fk_fmt(link, sizeof link, "%s/link.journal", fk.run);
	assert_int_equal(symlink(jpath, link), 0);
	set_global("LINK", link);
	lua_ok("assert(J.create(P))\n"
	       "local ok, msg, errno = J.create(P)\n"
	       "assert(ok == nil and msg == 'create: ' .. P .. ': File exists' and errno == 17, msg)\n"
	       "ok, msg, errno = J.open('/dev/zero')\n"
	       "assert(ok == nil and msg:find('not a regular file', 1, true) and errno == 22, msg)\n"
	       "ok, msg, errno = J.open(LINK)\n"
	       "assert(ok == nil and msg:find('symbolic link', 1, true) and errno == 40, msg)\n"
	       "ok, msg, errno = J.open(RUN .. '/none.journal')\n"
	       "assert(ok == nil and errno == 2, msg)\n");
	lua_raises("J.open('a\\0b')", "bad argument #1 to 'open' (not a path)");
	/* A malformed file: the message has its name and line. */
	assert_int_equal(fk_put(jpath, "vflaunch-journal 1\ndevice " VF3 " driver=..%2Fetc override= "
	                               "state=recorded\n"), 0);
	lua_ok("local ok, msg, errno = J.open(P)\n"
	       "assert(ok == nil and errno == 22 and msg == P .. ':2: driver is not a kernel driver '\n"
	       "  .. 'name (1 to 63 of A-Z a-z 0-9 _ . : + -, or empty)', msg)\n");
	lua_raises("J.create({})", "bad argument #1 to 'create'");
}

/* D9: the length of the list is lua_rawlen's. A __len saying 1 << 61 made the old
 * journal_add size its buffer as sizeof(entry) * 2^61 (wrapped) and overflow the heap. */
static void test_bind_journal_len_lie(void **state)
{
	(void)state;
	lua_ok("local j = assert(J.create(P))\n"
	       "local list = setmetatable({ { kind = 'device', addr = '" VF3 "', driver = 'ixgbevf' } },\n"
	       "  { __len = function() return 1 << 61 end })\n"
	       "assert(j:add(list) == 1)\n"
	       "local list2 = setmetatable({ { kind = 'device', addr = '0000:03:10.4' } },\n"
	       "  { __len = function() return (1 << 61) - 1 end })\n"
	       "assert(j:add(list2) == 1)\n"
	       "assert(#assert(J.open(P)):entries() == 2)\n");
	/* Fields are read raw: an __index cannot supply (or change) a value. */
	lua_raises("local j = assert(J.open(P))\n"
	           "j:add{ setmetatable({ kind = 'device' }, { __index = { addr = '" VF3 "' } }) }",
	           "entry 1: addr is not a PCI address");
}

/* Every entry is checked before any is added; the message names the entry and the field. */
static void test_bind_journal_bad_entries(void **state)
{
	static const struct { const char *entry, *want; } bad[] = {
		{ "{ kind = 'device', addr = '" VF3 "', driver = '../../../etc' }",
		  "entry 2: driver is not a kernel driver name" },
		{ "{ kind = 'device', addr = '" VF3 "', override = 'vfio-pci\\nevil' }",
		  "entry 2: override is not a kernel driver name" },
		{ "{ kind = 'device', addr = '" VF3 "', driver = 'ixgbevf\\0x' }",
		  "entry 2: driver holds a NUL byte" },
		{ "{ kind = 'device', addr = '" VF3 "', driver = 5 }", "entry 2: driver is not a string" },
		{ "{ kind = 'device', addr = '81:10.0' }", "entry 2: addr is not a PCI address" },
		{ "{ kind = 'firmware', addr = '" VF3 "' }",
		  "entry 2: kind is not a record kind (\"device\", \"sriov\", \"vfnet\")" },
		{ "{ addr = '" VF3 "' }", "entry 2: kind is not a record kind" },
		{ "{ kind = 'sriov', addr = '0000:03:00.0', numvfs = 70000 }",
		  "entry 2: numvfs is not an integer in 0..65535" },
		{ "{ kind = 'sriov', addr = '0000:03:00.0', numvfs = '4' }",
		  "entry 2: numvfs is not an integer in 0..65535" },
		{ "{ kind = 'sriov', addr = '0000:03:00.0', numvfs = 4.5 }",
		  "entry 2: numvfs is not an integer in 0..65535" },
		{ "{ kind = 'sriov', addr = '0000:03:00.0' }", "entry 2: numvfs is missing" },
		{ "{ kind = 'sriov', addr = '0000:03:00.0', numvfs = 4, autoprobe = 2 }",
		  "entry 2: autoprobe is not an integer in -1..1" },
		{ "{ kind = 'device', addr = '" VF3 "', overide = 'x' }",
		  "entry 2: a device record has no key overide" },
		{ "{ kind = 'device', addr = '" VF3 "', numvfs = 4 }",
		  "entry 2: a device record has no key numvfs" },
		{ "{ kind = 'device', addr = '" VF3 "', [1] = 'x' }",
		  "entry 2: a key a device record does not have" },
		{ "{ kind = 'device', addr = '" VF3 "', state = 'done' }", "entry 2: state is not" },
		{ "'device'", "entry 2: not a table" },
	};
	char chunk[512];

	(void)state;
	lua_ok("assert(J.create(P))");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		fk_fmt(chunk, sizeof chunk, "local j = assert(J.open(P))\n"
		       "J.last = j\n"
		       "j:add{ { kind = 'device', addr = '0000:03:10.4' }, %s }", bad[i].entry);
		lua_raises(chunk, bad[i].want);
		/* Nothing was added, in memory or in the file. */
		lua_ok("assert(#J.last:entries() == 0 and #assert(J.open(P)):entries() == 0)");
	}
	lua_raises("assert(J.open(P)):add('x')", "bad argument #1 to 'add' (table expected");
	lua_raises("assert(J.open(P)):add{ nil, { kind = 'device', addr = '" VF3 "' } }",
	           "entry 1: not a table");
}

/* D1 through the binding: outcomes, why, marks in memory until save(). */
static void test_bind_journal_restore(void **state)
{
	(void)state;
	lua_ok("local j = assert(J.create(P))\n"
	       "assert(j:add{ { kind = 'device', addr = '" VF3 "', driver = 'ixgbevf' },\n"
	       "              { kind = 'device', addr = '0000:03:1f.7', driver = 'ixgbevf' } } == 2)\n"
	       "assert(V.bind(SYS, '" VF3 "'))\n"
	       "J.j = j\n");
	fk.nlog = 0;
	fk.refuse = "ixgbevf";
	lua_ok("local j = J.j\n"
	       "local o, why = j:restore(2, SYS)\n"
	       "assert(o == 'gone' and why == nil, o)\n"
	       "o, why = j:restore(1, SYS)\n"
	       "assert(o == 'failed' and why == '" VF3 " has no driver, not ixgbevf', why)\n"
	       "assert(j:open_count() == 1 and j:entries()[1].state == 'recorded')\n"
	       "assert(j:entries()[2].state == 'gone')\n"
	       /* marks are in memory until save() */
	       "assert(assert(J.open(P)):open_count() == 2)\n"
	       "assert(j:save() == true)\n"
	       "assert(assert(J.open(P)):open_count() == 1)\n");
	fk.refuse = NULL;
	assert_int_equal(vfio_bind(fk.sys, VF3, NULL, 0), 0);
	fk.nlog = 0;
	fk_fail("unbind", 0, 1, EBUSY);
	lua_ok("local o, why = J.j:restore(1, SYS)\n"
	       "assert(o == 'failed' and why:find('unbind: ', 1, true), why)\n"
	       "assert(why:find('; " VF3 " is on vfio-pci, not ixgbevf', 1, true), why)\n");
	fk.nlog = 0;
	lua_ok("local j = J.j\n"
	       "assert(j:restore(1, SYS) == 'restored')\n"
	       "assert(j:open_count() == 0)\n");
	fk_expect("drivers/vfio-pci/unbind=" VF3, "drivers_probe=" VF3);
	fk.nlog = 0;
	lua_ok("assert(J.j:restore(1, SYS) == 'unchanged')");
	fk_expect_none();
	assert_string_equal(fk_driver(VF3), "ixgbevf");
	lua_raises("J.j:restore(3, SYS)", "bad argument #1 to 'restore' (no such journal entry)");
	lua_raises("J.j:restore(0)", "no such journal entry");
	lua_raises("J.j:restore(1, 'a\\0b')", "not a sysfs root");
	lua_ok("local j = J.j\n"
	       "assert(j:forget(1) == true)\n"
	       "local e = j:entries()\n"
	       "assert(#e == 1 and e[1].addr == '0000:03:1f.7')\n"
	       "assert(j:save())\n"
	       "assert(#assert(J.open(P)):entries() == 1)\n");
}

static void test_bind_journal_close(void **state)
{
	(void)state;
	lua_ok("assert(J.create(P))");
	lua_raises("local k\n"
	           "do local j <close> = assert(J.open(P)); k = j end\n"
	           "k:entries()", "journal is closed");
	lua_raises("J.open(P).path(42)", "bad argument #1 to 'path'");
	lua_ok("collectgarbage(); collectgarbage()");
}

/* vfnet records cross from Lua and back; their restore runs netsim.c (the tree is not /sys). */
static void test_bind_journal_vfnet(void **state)
{
	(void)state;
	lua_ok("local j = assert(J.create(P))\n"
	       "assert(j:add{ { kind = 'vfnet', addr = '" VF3 "', mac = '52:54:00:AB:CD:EF', vlan = 0,\n"
	       "  qos = 0, trust = 0, link = 0, max_rate = 0, min_rate = 0 } } == 1)\n"
	       "local e = assert(J.open(P)):entries()[1]\n"
	       "assert(e.kind == 'vfnet' and e.mac == '52:54:00:ab:cd:ef' and e.spoofchk == -1, e.mac)\n"
	       "assert(e.trust == 0 and e.link == 0 and e.max_rate == 0 and e.driver == nil)\n"
	       "local o, why = j:restore(1, SYS)\n"
	       "assert(o == 'restored' and why == nil, why)\n"
	       "assert(j:restore(1, SYS) == 'unchanged')\n");
	lua_raises("assert(J.open(P)):add{ { kind = 'vfnet', addr = '" VF3 "', mac = '52:54:00:ab:cd',\n"
	           "  vlan = 0, qos = 0, link = 0, max_rate = 0, min_rate = 0 } }",
	           "entry 1: mac is not a MAC address");
	lua_raises("assert(J.open(P)):add{ { kind = 'vfnet', addr = '" VF3 "', vlan = 0, qos = 0,\n"
	           "  link = 0, max_rate = 0, min_rate = 0 } }", "entry 1: mac is missing");
	lua_raises("assert(J.open(P)):add{ { kind = 'vfnet', addr = '" VF3 "', mac = '00:00:00:00:00:00',\n"
	           "  vlan = 0, qos = 8, link = 0, max_rate = 0, min_rate = 0 } }",
	           "entry 1: qos is not an integer in 0..7");
}

/* The path-string API hostprep.lua and driver.lua use until their rewrite, on the new C. */
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_bind_journal_create_add_entries),
		T(test_bind_journal_host_failures),
		T(test_bind_journal_len_lie),
		T(test_bind_journal_bad_entries),
		T(test_bind_journal_restore),
		T(test_bind_journal_vfnet),
		T(test_bind_journal_close),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
