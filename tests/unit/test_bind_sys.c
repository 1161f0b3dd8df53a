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
#include "sysfs.h"

static lua_State *L;

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

/* Run chunk: it must succeed (want NULL) or raise an error containing want. */
static void run(const char *chunk, const char *want)
{
	int rc = luaL_dostring(L, chunk);
	const char *msg = rc == LUA_OK ? "" : lua_tostring(L, -1);

	if ((want == NULL) != (rc == LUA_OK) || (want && (!msg || !strstr(msg, want)))) {
		print_message("chunk: %s\nresult: %s\nwanted: %s\n", chunk, rc == LUA_OK ? "ok" : msg,
		              want ? want : "ok");
		fail();
	}
	lua_settop(L, 0);
}

static void test_bind_sys_argv_checked(void **state)
{
	(void)state;
	run("S.exec({ {} })", "argv[1] is a table, not a string");
	run("S.exec({ '/bin/true', 42 })", "argv[2] is a number, not a string");
	run("S.spawn({ '/bin/true', true })", "argv[2] is a boolean, not a string");
	run("S.run({ '/k\\0hidden' }, 5)", "argv[1] holds a NUL byte");
	run("S.exec({})", "empty argv");
	run("S.run('x', 5)", "table expected");
}

static void test_bind_sys_len_lie(void **state)
{
	(void)state;
	/* The length is the table's own: __len cannot size the buffer (1 << 61 words). */
	run("local r = assert(S.run(setmetatable({ '/bin/echo', 'x' },\n"
	    "  { __len = function() return (1 << 61) - 1 end }), 5))\n"
	    "assert(r.status == 0 and r.output == 'x\\n', r.output)", NULL);
}

static void test_bind_sys_exec_fails_cleanly(void **state)
{
	(void)state;
	run("local ok, msg, st = S.exec({ '/nonexistent/qemu' })\n"
	    "assert(ok == nil and st == 127 and msg:find('cannot execute /nonexistent/qemu'), msg)", NULL);
	run("local ok, msg, st = S.exec({ '/etc/hostname' })\n"
	    "assert(ok == nil and st == 126, msg)", NULL);
}

static void test_bind_sys_spawn_wait(void **state)
{
	(void)state;
	run("local pid = assert(S.spawn({ '/bin/sh', '-c', 'exit 7' }))\n"
	    "assert(S.wait(pid) == 7)\n"
	    "local st = assert(S.starttime(S.getpid()))\n"
	    "assert(S.alive(S.getpid(), st) and not S.alive(S.getpid(), st + 1))", NULL);
}

static void test_bind_sys_forbid_writes(void **state)
{
	(void)state;
	run("S.forbid_writes()", NULL);
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
