// SPDX-License-Identifier: MIT
// Unit tests of bind_sys.c at the C/Lua boundary: every argv crossing it is checked where it
// crosses (D3: a table in argv crashed the exec path; D9: a lying __len sized a buffer; D12: a
// NUL cut a word short), and the write latch holds.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <errno.h>
#include <string.h>

#include "host.h"
#include "luatest.h"
#include "sysfs.h"


static int setup(void **state)
{
	(void)state;
	if (!(L = luaL_newstate()))
		return -1;
	luaL_openlibs(L);
	luaL_requiref(L, "S", luaopen_core_sys, 1);
	lua_pop(L, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	lua_close(L);
	return 0;
}

static void test_bind_sys_argv_checked(void **state)
{
	(void)state;
	lua_raises("S.exec({ {} })", "argv[1] is a table, not a string");
	lua_raises("S.exec({ '/bin/true', 42 })", "argv[2] is a number, not a string");
	lua_raises("S.spawn({ '/bin/true', true })", "argv[2] is a boolean, not a string");
	lua_raises("S.run({ '/k\\0hidden' }, 5)", "argv[1] holds a NUL byte");
	lua_raises("S.exec({})", "empty argv");
	lua_raises("S.run('x', 5)", "table expected");
}

static void test_bind_sys_len_lie(void **state)
{
	(void)state;
	/* The length is the table's own: __len cannot size the buffer (1 << 61 words). */
	lua_ok("local r = assert(S.run(setmetatable({ '/bin/echo', 'x' },\n"
	    "  { __len = function() return (1 << 61) - 1 end }), 5))\n"
	    "assert(r.status == 0 and r.output == 'x\\n', r.output)");
}

static void test_bind_sys_exec_fails_cleanly(void **state)
{
	(void)state;
	lua_ok("local ok, msg, st = S.exec({ '/nonexistent/qemu' })\n"
	    "assert(ok == nil and st == 127 and msg:find('cannot execute /nonexistent/qemu'), msg)");
	lua_ok("local ok, msg, st = S.exec({ '/etc/hostname' })\n"
	    "assert(ok == nil and st == 126, msg)");
}

static void test_bind_sys_spawn_wait(void **state)
{
	(void)state;
	lua_ok("local pid = assert(S.spawn({ '/bin/sh', '-c', 'exit 7' }))\n"
	    "assert(S.wait(pid) == 7)\n"
	    "local st = assert(S.starttime(S.getpid()))\n"
	    "assert(S.alive(S.getpid(), st) and not S.alive(S.getpid(), st + 1))");
}

static void test_bind_sys_forbid_writes(void **state)
{
	(void)state;
	lua_ok("S.forbid_writes()");
	assert_int_equal(sysfs_write("/nonexistent/attr", "1"), -EROFS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind_sys_argv_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_sys_len_lie, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_sys_exec_fails_cleanly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_sys_spawn_wait, setup, teardown),
		/* last: the latch is one-way for the whole process */
		cmocka_unit_test_setup_teardown(test_bind_sys_forbid_writes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
