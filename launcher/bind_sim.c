// SPDX-License-Identifier: MIT
// Lua binding "sim" of vflaunch's core: the embedded simulated hosts (--simulate). A tree built
// here is removed when the process ends, however it ends short of SIGKILL: at exit, or by the
// caller once it is done.
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "simhost.h"

static char built[4096];   /* the tree this process made, "" when none */

static void remove_built(void)
{
	if (built[0])
		rmtree(built);
	built[0] = '\0';
}

/* build(name) -> dir | nil, message: a private temporary tree of simulated host name */
static int sim_build(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const struct simhost *h = simhost_find(name);
	static int registered;
	int rc;

	luaL_argcheck(L, !built[0], 1, "a simulated host is already built");
	if (!h) {
		luaL_pushfail(L);
		lua_pushfstring(L, "no simulated host '%s'", name);
		return 2;
	}
	if (!registered)
		registered = atexit(remove_built) == 0;
	if ((rc = simhost_materialize(h, built, sizeof built)) < 0) {
		built[0] = '\0';
		luaL_pushfail(L);
		lua_pushfstring(L, "cannot build simulated host '%s': %s", name, strerror(-rc));
		return 2;
	}
	lua_pushstring(L, built);
	return 1;
}

/* remove(): remove the tree built by this process, if any */
static int sim_remove(lua_State *L)
{
	(void)L;
	remove_built();
	return 0;
}

/* hosts() -> the text of --simulate=help: one line per simulated host */
static int sim_hosts(lua_State *L)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return luaL_error(L, "out of memory");
	simhost_list(f);
	fclose(f);
	/* Reserve first (which may raise) while text is still ours to free only after copying. */
	luaL_Buffer b;
	char *p = luaL_buffinitsize(L, &b, len + 1);
	memcpy(p, text ? text : "", len);
	free(text);
	luaL_pushresultsize(&b, len);
	return 1;
}

int luaopen_core_sim(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "build", sim_build },
		{ "hosts", sim_hosts },
		{ "remove", sim_remove },
		{ NULL, NULL }
	};

	luaL_newlib(L, funcs);
	lua_pushstring(L, SIMHOST_DEFAULT);
	lua_setfield(L, -2, "default");
	return 1;
}
