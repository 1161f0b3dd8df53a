// SPDX-License-Identifier: MIT
// Lua binding "vflaunch.core.sys": running a child with captured output, and a monotonic clock.
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "run.h"

/* run(argv, timeout_seconds, echo) -> {status=, timed_out=, output=} | nil, message, errno
 * echo: copy the child's output to stderr as it comes. */
static int sys_run(lua_State *L)
{
	lua_Integer n, timeout = luaL_optinteger(L, 2, 600);
	int echo = lua_toboolean(L, 3), err;
	struct run_result res;
	char **argv;

	luaL_checktype(L, 1, LUA_TTABLE);
	n = luaL_len(L, 1);
	luaL_argcheck(L, n > 0, 1, "empty argv");
	luaL_argcheck(L, timeout > 0, 2, "timeout must be positive");
	/* GC-owned, so a raise while filling it cannot leak. */
	argv = lua_newuserdatauv(L, sizeof(char *) * ((size_t)n + 1), 0);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, 1, i);
		luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING, 1, "argv holds a non-string");
		argv[i - 1] = (char *)lua_tostring(L, -1);
		lua_pop(L, 1); /* still referenced by the table at index 1 */
	}
	argv[n] = NULL;
	err = run_capture(argv, (int)timeout, echo ? 2 : -1, &res);
	if (err < 0) {
		luaL_pushfail(L);
		lua_pushfstring(L, "%s: %s", argv[0], strerror(-err));
		lua_pushinteger(L, -err);
		return 3;
	}
	lua_createtable(L, 0, 3);
	lua_pushinteger(L, res.status);
	lua_setfield(L, -2, "status");
	lua_pushboolean(L, res.timed_out);
	lua_setfield(L, -2, "timed_out");
	lua_pushboolean(L, run_stop_signal != 0);
	lua_setfield(L, -2, "interrupted");
	lua_pushlstring(L, res.output, res.length);
	run_result_free(&res);
	lua_setfield(L, -2, "output");
	return 1;
}

/* clock() -> seconds from an arbitrary point, monotonic */
static int sys_clock(lua_State *L)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
	return 1;
}

/* access(path, mode) -> true | nil, message, errno; mode is a string of r, w, x */
static int sys_access(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1), *m = luaL_optstring(L, 2, "");
	int mode = F_OK;

	mode |= strchr(m, 'r') ? R_OK : 0;
	mode |= strchr(m, 'w') ? W_OK : 0;
	mode |= strchr(m, 'x') ? X_OK : 0;
	if (access(path, mode) < 0)
		return luaL_fileresult(L, 0, path);
	lua_pushboolean(L, 1);
	return 1;
}

/* geteuid() -> the effective user id */
static int sys_geteuid(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)geteuid());
	return 1;
}

int luaopen_core_sys(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "access", sys_access },
		{ "clock", sys_clock },
		{ "geteuid", sys_geteuid },
		{ "run", sys_run },
		{ NULL, NULL }
	};

	luaL_newlib(L, funcs);
	return 1;
}
