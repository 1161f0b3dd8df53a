// SPDX-License-Identifier: MIT
// The Lua host: builds the state, serves lua/ from the binary through package.preload, hands
// the C cores to those modules (and to nothing else), and runs the entry point under lua_pcall.
#include "host.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

#include <lua-cjson.h>

#include "embedded.h"

#define CORE "vflaunch.core"    /* registry key of the table of C cores */

#ifndef VFLAUNCH_VERSION
#define VFLAUNCH_VERSION "dev"
#endif

/* package.preload loader for an embedded module; upvalue 1 is its index. The chunk gets its
 * name and the table of C cores as `...`: the cores are in no package table, so a site
 * script's require cannot reach them. */
static int load_embedded(lua_State *L)
{
	const struct embedded_module *m = &embedded_modules[lua_tointeger(L, lua_upvalueindex(1))];

	/* The chunk compiled at build time, which loads ten times faster than its text parses;
	 * the text when this Lua's binary format is not the builder's. No other binary chunk is
	 * ever loaded: a site script is text only (compile.lua). */
	if (luaL_loadbufferx(L, m->compiled, m->compiled_size, m->chunkname, "b") != LUA_OK) {
		lua_pop(L, 1);
		if (luaL_loadbufferx(L, m->source, m->size, m->chunkname, "t") != LUA_OK)
			return lua_error(L);
	}
	lua_pushstring(L, m->name);
	lua_getfield(L, LUA_REGISTRYINDEX, CORE);
	lua_call(L, 2, 1);
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
	{ "cjson", luaopen_cjson },          /* Debian's lua-cjson: JSON in (plans, QMP) */
	{ "fs", luaopen_core_fs },
	{ "journal", luaopen_core_journal },
	{ "net", luaopen_core_net },
	{ "pci", luaopen_core_pci },
	{ "qmp", luaopen_core_qmp },
	{ "sim", luaopen_core_sim },
	{ "sys", luaopen_core_sys },
	{ "vfio", luaopen_core_vfio },
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
	lua_pop(L, 2);
	lua_newtable(L);
	for (const luaL_Reg *c = cores; c->name; c++) {
		lua_pushcfunction(L, c->func);
		lua_call(L, 0, 1);
		lua_setfield(L, -2, c->name);
	}
	lua_pushstring(L, VFLAUNCH_VERSION);
	lua_setfield(L, -2, "version");
	lua_setfield(L, LUA_REGISTRYINDEX, CORE);
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

/* Message handler: the message and a traceback, for an error the Lua entry point did not
 * report itself (a bug in vflaunch, or memory exhaustion). */
static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);

	if (!msg)
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	luaL_traceback(L, L, msg, 1);
	return 1;
}

int host_pcall(lua_State *L, int nargs, int nresults)
{
	int base = lua_gettop(L) - nargs, status;

	lua_pushcfunction(L, traceback);
	lua_insert(L, base);
	status = lua_pcall(L, nargs, nresults, base);
	lua_remove(L, base);
	if (status == LUA_OK)
		return 0;
	fprintf(stderr, "vflaunch: internal error: %s\n", lua_tostring(L, -1));
	lua_pop(L, 1);
	return -1;
}

int host_fail(lua_State *L, int rc, const char *msg)
{
	luaL_pushfail(L);
	lua_pushstring(L, msg);
	lua_pushinteger(L, -rc);
	return 3;
}

int host_ok(lua_State *L, int rc, const char *msg)
{
	if (rc < 0)
		return host_fail(L, rc, msg);
	lua_pushboolean(L, 1);
	return 1;
}
