// SPDX-License-Identifier: MIT
// The Lua host: builds the state, serves lua/ from the binary through package.preload, and
// runs code under lua_pcall with a traceback handler, reporting an error once (as lua.c does).
#include "host.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

#include "embedded.h"

/* package.preload loader for an embedded module; upvalue 1 is its index. */
static int load_embedded(lua_State *L)
{
	const struct embedded_module *m = &embedded_modules[lua_tointeger(L, lua_upvalueindex(1))];

	/* Text only: a binary chunk is never loaded. */
	if (luaL_loadbufferx(L, m->source, m->size, m->chunkname, "t") != LUA_OK)
		return lua_error(L);
	lua_pushstring(L, m->name);
	lua_call(L, 1, 1);
	return 1;
}

/* Keep only absolute entries of a search path: a module is never taken from the working
 * directory (the defaults start with "./?.lua", and LUA_PATH may add more). */
static void keep_absolute(lua_State *L, const char *field)
{
	const char *path, *p;
	luaL_Buffer b;

	lua_getfield(L, -1, field);
	path = lua_tostring(L, -1);
	luaL_buffinit(L, &b);
	for (p = path ? path : ""; *p;) {
		size_t n = strcspn(p, ";");

		if (*p == '/') {
			if (luaL_bufflen(&b))
				luaL_addchar(&b, ';');
			luaL_addlstring(&b, p, n);
		}
		p += n + (p[n] == ';');
	}
	luaL_pushresult(&b);
	lua_setfield(L, -3, field);
	lua_pop(L, 1);
}

static const luaL_Reg cores[] = {
	{ "vflaunch.core.journal", luaopen_core_journal },
	{ "vflaunch.core.pci", luaopen_core_pci },
	{ "vflaunch.core.sys", luaopen_core_sys },
	{ "vflaunch.core.vfio", luaopen_core_vfio },
	{ NULL, NULL }
};

static int setup(lua_State *L)
{
	luaL_openlibs(L);
	lua_getglobal(L, "package");
	keep_absolute(L, "path");
	keep_absolute(L, "cpath");
	lua_getfield(L, -1, "preload");
	for (int i = 0; embedded_modules[i].name; i++) {
		lua_pushinteger(L, i);
		lua_pushcclosure(L, load_embedded, 1);
		lua_setfield(L, -2, embedded_modules[i].name);
	}
	for (const luaL_Reg *c = cores; c->name; c++) {
		lua_pushcfunction(L, c->func);
		lua_setfield(L, -2, c->name);
	}
	lua_pop(L, 2);
	return 0;
}

lua_State *host_new(void)
{
	lua_State *L = luaL_newstate();

	if (!L)
		return NULL;
	lua_pushcfunction(L, setup);
	if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
		fprintf(stderr, "vflaunch: %s\n", lua_tostring(L, -1));
		lua_close(L);
		return NULL;
	}
	return L;
}

/* Message handler: keep a structured error ({message=, status=}) as it is, give a string
 * a traceback in field "traceback" so the reporter can show it only when asked to. */
static int traceback(lua_State *L)
{
	const char *msg;

	if (lua_type(L, 1) == LUA_TTABLE)
		return 1;
	msg = lua_tostring(L, 1);
	if (!msg) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			msg = lua_tostring(L, -1);
		else
			msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	lua_createtable(L, 0, 2);
	lua_pushstring(L, msg);
	lua_setfield(L, -2, "message");
	luaL_traceback(L, L, NULL, 1);
	lua_setfield(L, -2, "traceback");
	return 1;
}

int host_pcall(lua_State *L, int nargs, int nresults, int verbose)
{
	int base = lua_gettop(L) - nargs, status;

	lua_pushcfunction(L, traceback);
	lua_insert(L, base);
	status = lua_pcall(L, nargs, nresults, base);
	lua_remove(L, base);
	if (status == LUA_OK)
		return 0;
	if (lua_type(L, -1) == LUA_TTABLE) {
		int code;

		lua_getfield(L, -1, "message");
		fprintf(stderr, "vflaunch: %s\n", lua_isstring(L, -1) ? lua_tostring(L, -1) : "error");
		lua_pop(L, 1);
		if (verbose) {
			if (lua_getfield(L, -1, "traceback") == LUA_TSTRING)
				fprintf(stderr, "%s\n", lua_tostring(L, -1));
			lua_pop(L, 1);
		}
		lua_getfield(L, -1, "status");
		code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : 1;
		lua_pop(L, 2);
		return code;
	}
	fprintf(stderr, "vflaunch: %s\n", lua_tostring(L, -1));
	lua_pop(L, 1);
	return 1;
}
