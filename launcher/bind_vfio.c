// SPDX-License-Identifier: MIT
// Lua binding "vfio" of vflaunch's core: binding, SR-IOV, IOMMU groups, host checks.
// Every sysfs function takes the sysfs root first (nil: "/sys"). Bad arguments raise; host
// failures return nil, "step: path: strerror", errno. Absent strings (no driver) stay nil.
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "sysfs.h"
#include "vfio.h"

#define BOX "vflaunch.vfio.box"
#define ERRLEN 512

/* C memory a function is filling while Lua may still raise (out of memory while building
 * the result): the box owns it, so __gc frees it if the function never gets to. */
struct box {
	void *mem;
};

static int box_gc(lua_State *L)
{
	struct box *b = luaL_checkudata(L, 1, BOX);
	free(b->mem);
	b->mem = NULL;
	return 0;
}

static struct box *newbox(lua_State *L)
{
	struct box *b = lua_newuserdatauv(L, sizeof *b, 0);
	memset(b, 0, sizeof *b);
	luaL_setmetatable(L, BOX);
	return b;
}

static const char *check_addr(lua_State *L, int arg)
{
	const char *a = luaL_checkstring(L, arg);
	luaL_argcheck(L, vfio_addr_ok(a), arg, "not a PCI address \"dddd:bb:dd.f\"");
	return a;
}

static void set_str(lua_State *L, const char *key, const char *value)
{
	if (value && value[0]) {
		lua_pushstring(L, value);
		lua_setfield(L, -2, key);
	}
}

static void set_int(lua_State *L, const char *key, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, key);
}

static void set_bool(lua_State *L, const char *key, int v)
{
	lua_pushboolean(L, v);
	lua_setfield(L, -2, key);
}

/* RLIM_INFINITY (and anything past Lua's integers) becomes math.huge. */
static void set_limit(lua_State *L, const char *key, unsigned long long v)
{
	if (v <= (unsigned long long)LUA_MAXINTEGER)
		lua_pushinteger(L, (lua_Integer)v);
	else
		lua_pushnumber(L, HUGE_VAL);
	lua_setfield(L, -2, key);
}

/* A name field of a state table into buf: "" when absent. */
static void state_name(lua_State *L, int arg, const char *key, char *buf, size_t size)
{
	size_t len = 0;
	const char *v = "";

	if (lua_getfield(L, arg, key) == LUA_TSTRING)
		v = lua_tolstring(L, -1, &len);
	luaL_argcheck(L, (lua_isnil(L, -1) || lua_type(L, -1) == LUA_TSTRING) && len < size &&
	              (len == 0 || vfio_driver_ok(v)), arg, "state: not a kernel driver name");
	memcpy(buf, v, len + 1);
	lua_pop(L, 1);
}

/* bind(root, addr [, driver [, state]]) -> true | nil, message, errno; driver defaults to
 * vfio-pci. state: {driver=, override=} as state() gave it just before (and the journal
 * keeps), so that the device is not read a second time; without it, bind reads it. */
static int lvfio_bind(lua_State *L)
{
	const char *root = luaL_optstring(L, 1, NULL), *addr = check_addr(L, 2);
	const char *driver = luaL_optstring(L, 3, "vfio-pci");
	struct vfio_state st;
	char err[ERRLEN];

	luaL_argcheck(L, vfio_driver_ok(driver), 3, "not a kernel driver name");
	if (lua_isnoneornil(L, 4))
		return host_ok(L, vfio_bind_driver(root, addr, driver, err, sizeof err), err);
	luaL_checktype(L, 4, LUA_TTABLE);
	state_name(L, 4, "driver", st.driver, sizeof st.driver);
	state_name(L, 4, "override", st.override, sizeof st.override);
	return host_ok(L, vfio_bind_from(root, addr, driver, &st, err, sizeof err), err);
}

/* check_dev(group [, devroot]) -> true | nil, message, errno: /dev/vfio/N usable */
static int lvfio_check_dev(lua_State *L)
{
	lua_Integer g = luaL_checkinteger(L, 1);
	const char *devroot = luaL_optstring(L, 2, NULL);
	char err[ERRLEN];
	luaL_argcheck(L, g >= 0 && g <= 0x7fffffff, 1, "not an IOMMU group number");
	return host_ok(L, vfio_check_dev(devroot, (int)g, err, sizeof err), err);
}

/* group(root, n) -> { {addr=, driver=, viable=}, ... } sorted by address */
static int lvfio_group(lua_State *L)
{
	const char *root = luaL_optstring(L, 1, NULL);
	lua_Integer g = luaL_checkinteger(L, 2);
	struct box *b = newbox(L);
	char err[ERRLEN];
	size_t n;
	luaL_argcheck(L, g >= 0 && g <= 0x7fffffff, 2, "not an IOMMU group number");
	int rc = vfio_group(root, (int)g, (struct vfio_member **)&b->mem, &n, err, sizeof err);
	if (rc < 0)
		return host_fail(L, rc, err);
	const struct vfio_member *m = b->mem;
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_createtable(L, 0, 3);
		set_str(L, "addr", m[i].addr);
		set_str(L, "driver", m[i].driver);
		set_bool(L, "viable", m[i].viable);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* in_use(root, procroot, addr) -> { {kind="net"|"block", name=, why=}, ... } */
static int lvfio_in_use(lua_State *L)
{
	const char *root = luaL_optstring(L, 1, NULL), *proc = luaL_optstring(L, 2, NULL);
	const char *addr = check_addr(L, 3);
	struct box *b = newbox(L);
	char err[ERRLEN];
	size_t n;
	int rc = vfio_in_use(root, proc, addr, (struct vfio_use **)&b->mem, &n, err, sizeof err);
	if (rc < 0)
		return host_fail(L, rc, err);
	const struct vfio_use *u = b->mem;
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_createtable(L, 0, 3);
		set_str(L, "kind", u[i].kind);
		set_str(L, "name", u[i].name);
		set_str(L, "why", u[i].why);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* iommu_group(root, addr) -> n | nil, message, errno */
static int lvfio_iommu_group(lua_State *L)
{
	const char *root = luaL_optstring(L, 1, NULL), *addr = check_addr(L, 2);
	char err[ERRLEN];
	int g = vfio_iommu_group(root, addr, err, sizeof err);
	if (g < 0)
		return host_fail(L, g, err);
	lua_pushinteger(L, g);
	return 1;
}

/* iommu_present(root) -> boolean */
static int lvfio_iommu_present(lua_State *L)
{
	lua_pushboolean(L, vfio_iommu_present(luaL_optstring(L, 1, NULL)));
	return 1;
}

/* memlock(bytes [, raise]) -> {ok=, current=, max=, needed=, raised=, message=}
 * | nil, message, errno when the limit cannot be read. Unlimited is math.huge. */
static int lvfio_memlock(lua_State *L)
{
	lua_Integer need = luaL_checkinteger(L, 1);
	int raise = lua_toboolean(L, 2);
	struct vfio_memlock ml;
	char err[ERRLEN] = "";
	luaL_argcheck(L, need >= 0, 1, "negative size");
	int rc = vfio_memlock((unsigned long long)need, raise, &ml, err, sizeof err);
	if (rc < 0 && rc != -ENOMEM && rc != -EPERM)
		return host_fail(L, rc, err);
	lua_createtable(L, 0, 6);
	set_bool(L, "ok", ml.ok);
	set_bool(L, "raised", ml.raised);
	set_limit(L, "needed", ml.needed);
	set_limit(L, "current", ml.current);
	set_limit(L, "max", ml.max);
	set_str(L, "message", rc < 0 ? err : NULL);
	return 1;
}

/* modprobe() -> true | nil, message, errno: load vfio-pci (needs root) */
static int lvfio_modprobe(lua_State *L)
{
	char err[ERRLEN];
	return host_ok(L, vfio_modprobe(NULL, err, sizeof err), err);
}

/* module_loaded(root) -> boolean */
static int lvfio_module_loaded(lua_State *L)
{
	lua_pushboolean(L, vfio_module_loaded(luaL_optstring(L, 1, NULL)));
	return 1;
}

/* restore(root, addr, driver, override) -> true | nil, message, errno; nil: none */
static int lvfio_restore(lua_State *L)
{
	const char *root = luaL_optstring(L, 1, NULL), *addr = check_addr(L, 2);
	const char *drv = luaL_optstring(L, 3, ""), *ovr = luaL_optstring(L, 4, "");
	char err[ERRLEN];
	return host_ok(L, vfio_restore(root, addr, drv, ovr, err, sizeof err), err);
}

/* set_autoprobe(root, pf, boolean) -> true | nil, message, errno */
static int lvfio_set_autoprobe(lua_State *L)
{
	const char *root = luaL_optstring(L, 1, NULL), *pf = check_addr(L, 2);
	char err[ERRLEN];
	luaL_checktype(L, 3, LUA_TBOOLEAN);
	return host_ok(L, sriov_set_autoprobe(root, pf, lua_toboolean(L, 3), err, sizeof err), err);
}

/* set_numvfs(root, pf, n [, autoprobe]) -> true | nil, message, errno
 * autoprobe false keeps new VFs off host drivers; nil leaves the PF's setting alone. */
static int lvfio_set_numvfs(lua_State *L)
{
	const char *root = luaL_optstring(L, 1, NULL), *pf = check_addr(L, 2);
	lua_Integer n = luaL_checkinteger(L, 3);
	int ap = lua_isnoneornil(L, 4) ? -1 : lua_toboolean(L, 4);
	char err[ERRLEN];
	luaL_argcheck(L, n >= 0 && n <= 65535, 3, "VF count out of range");
	return host_ok(L, sriov_set_numvfs(root, pf, (int)n, ap, err, sizeof err), err);
}

/* sriov(root, pf) -> {numvfs=, totalvfs=, autoprobe=} | nil, message, errno;
 * autoprobe is nil on kernels without sriov_drivers_autoprobe */
static int lvfio_sriov(lua_State *L)
{
	const char *root = luaL_optstring(L, 1, NULL), *pf = check_addr(L, 2);
	int num, total, ap;
	char err[ERRLEN];
	int rc = vfio_sriov_read(root, pf, &num, &total, &ap, err, sizeof err);
	if (rc < 0)
		return host_fail(L, rc, err);
	lua_createtable(L, 0, 3);
	set_int(L, "numvfs", num);
	set_int(L, "totalvfs", total);
	if (ap >= 0)
		set_bool(L, "autoprobe", ap);
	return 1;
}

/* state(root, addr) -> {driver=, override=} (nil fields: none) | nil, message, errno */
static int lvfio_state(lua_State *L)
{
	const char *root = luaL_optstring(L, 1, NULL), *addr = check_addr(L, 2);
	struct vfio_state st;
	char err[ERRLEN];
	int rc = vfio_state(root, addr, &st, err, sizeof err);
	if (rc < 0)
		return host_fail(L, rc, err);
	lua_createtable(L, 0, 2);
	set_str(L, "driver", st.driver);
	set_str(L, "override", st.override);
	return 1;
}

int luaopen_core_vfio(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "bind", lvfio_bind },
		{ "check_dev", lvfio_check_dev },
		{ "group", lvfio_group },
		{ "in_use", lvfio_in_use },
		{ "iommu_group", lvfio_iommu_group },
		{ "iommu_present", lvfio_iommu_present },
		{ "memlock", lvfio_memlock },
		{ "modprobe", lvfio_modprobe },
		{ "module_loaded", lvfio_module_loaded },
		{ "restore", lvfio_restore },
		{ "set_autoprobe", lvfio_set_autoprobe },
		{ "set_numvfs", lvfio_set_numvfs },
		{ "sriov", lvfio_sriov },
		{ "state", lvfio_state },
		{ NULL, NULL }
	};

	luaL_newmetatable(L, BOX);
	lua_pushcfunction(L, box_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}
