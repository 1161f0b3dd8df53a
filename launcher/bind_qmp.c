// SPDX-License-Identifier: MIT
// Lua binding "qmp" of vflaunch's core: a connection to a QEMU monitor socket, line by line.
// The protocol (greeting, qmp_capabilities, commands, events) is lua/qmp.lua's business.
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

#include "host.h"
#include "qmp.h"

#define CONN "vflaunch.qmp.conn"

static int fail(lua_State *L, int rc, const char *what)
{
	luaL_pushfail(L);
	lua_pushfstring(L, "%s: %s", what, rc == -ETIMEDOUT ? "no answer in time" :
	                rc == -EPIPE ? "QEMU closed the connection" : strerror(-rc));
	lua_pushinteger(L, -rc);
	return 3;
}

static int check_ms(lua_State *L, int arg)
{
	lua_Number s = luaL_checknumber(L, arg);
	luaL_argcheck(L, s >= 0 && s <= 3600, arg, "seconds out of range");
	return (int)(s * 1000);
}

/* connect(path, timeout_seconds) -> conn | nil, message, errno */
static int qmp_lconnect(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int ms = check_ms(L, 2);
	struct qmp_conn *c = lua_newuserdatauv(L, sizeof *c, 0);
	int rc;

	c->fd = -1;
	luaL_setmetatable(L, CONN);
	if ((rc = qmp_connect(c, path, ms)) < 0)
		return fail(L, rc, path);
	return 1;
}

static struct qmp_conn *check_conn(lua_State *L)
{
	struct qmp_conn *c = luaL_checkudata(L, 1, CONN);
	luaL_argcheck(L, c->fd >= 0, 1, "connection is closed");
	return c;
}

/* conn:read_line(timeout_seconds) -> line | nil, message, errno */
static int conn_read_line(lua_State *L)
{
	struct qmp_conn *c = check_conn(L);
	int ms = check_ms(L, 2);
	luaL_Buffer b;
	char *line = luaL_buffinitsize(L, &b, sizeof c->buf);
	int n = qmp_read_line(c, line, sizeof c->buf, ms);

	if (n < 0)
		return fail(L, n, "QMP");
	luaL_pushresultsize(&b, (size_t)n);
	return 1;
}

/* conn:write(data) -> true | nil, message, errno */
static int conn_write(lua_State *L)
{
	struct qmp_conn *c = check_conn(L);
	size_t len;
	const char *data = luaL_checklstring(L, 2, &len);
	int rc = qmp_write(c, data, len);

	if (rc < 0)
		return fail(L, rc, "QMP");
	lua_pushboolean(L, 1);
	return 1;
}

static int conn_close(lua_State *L)
{
	qmp_close(luaL_checkudata(L, 1, CONN));
	return 0;
}

int luaopen_core_qmp(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "connect", qmp_lconnect },
		{ NULL, NULL }
	};
	static const luaL_Reg methods[] = {
		{ "__close", conn_close },
		{ "__gc", conn_close },
		{ "close", conn_close },
		{ "read_line", conn_read_line },
		{ "write", conn_write },
		{ NULL, NULL }
	};

	luaL_newmetatable(L, CONN);
	luaL_setfuncs(L, methods, 0);
	lua_pushvalue(L, -1);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}
