// SPDX-License-Identifier: MIT
// Lua binding "vflaunch.core.vfio": binding, SR-IOV, IOMMU groups, host checks, the journal.
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
#include "journal.h"
#include "vfio.h"

#define BOX "vflaunch.vfio.box"
#define ERRLEN 512

/* C memory a function is filling while Lua may still raise (out of memory while building
 * the result): the box owns it, so __gc frees it if the function never gets to. */
struct box {
	void *mem;
	struct journal j;
};

static int box_gc(lua_State *L)
{
	struct box *b = luaL_checkudata(L, 1, BOX);
	free(b->mem);
	b->mem = NULL;
	journal_free(&b->j);
	return 0;
}

static struct box *newbox(lua_State *L)
{
	struct box *b = lua_newuserdatauv(L, sizeof *b, 0);
	memset(b, 0, sizeof *b);
	luaL_setmetatable(L, BOX);
	return b;
}

static int fail(lua_State *L, int rc, const char *msg)
{
	luaL_pushfail(L);
	lua_pushstring(L, msg);
	lua_pushinteger(L, -rc);
	return 3;
}

static int ok(lua_State *L, int rc, const char *msg)
{
	if (rc < 0)
		return fail(L, rc, msg);
	lua_pushboolean(L, 1);
	return 1;
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

/* bind(root, addr [, driver]) -> true | nil, message, errno; driver defaults to vfio-pci */
static int lvfio_bind(lua_State *L)
{
	const char *root = luaL_optstring(L, 1, NULL), *addr = check_addr(L, 2);
	const char *driver = luaL_optstring(L, 3, "vfio-pci");
	char err[ERRLEN];

	luaL_argcheck(L, driver[0] && !strchr(driver, '/') && !strchr(driver, '\n'), 3,
		      "not a driver name");
	return ok(L, vfio_bind_driver(root, addr, driver, err, sizeof err), err);
}

/* check_dev(group [, devroot]) -> true | nil, message, errno: /dev/vfio/N usable */
static int lvfio_check_dev(lua_State *L)
{
	lua_Integer g = luaL_checkinteger(L, 1);
	const char *devroot = luaL_optstring(L, 2, NULL);
	char err[ERRLEN];
	luaL_argcheck(L, g >= 0 && g <= 0x7fffffff, 1, "not an IOMMU group number");
	return ok(L, vfio_check_dev(devroot, (int)g, err, sizeof err), err);
}

/* group(root, n) -> { {addr=, driver=, bridge=, viable=}, ... } sorted by address */
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
		return fail(L, rc, err);
	const struct vfio_member *m = b->mem;
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_createtable(L, 0, 4);
		set_str(L, "addr", m[i].addr);
		set_str(L, "driver", m[i].driver);
		set_bool(L, "bridge", m[i].bridge);
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
		return fail(L, rc, err);
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
		return fail(L, g, err);
	lua_pushinteger(L, g);
	return 1;
}

/* iommu_present(root) -> boolean */
static int lvfio_iommu_present(lua_State *L)
{
	lua_pushboolean(L, vfio_iommu_present(luaL_optstring(L, 1, NULL)));
	return 1;
}

/* Fields of the journal entry on top of the stack; a bad one raises naming the entry. */
static const char *field_str(lua_State *L, int arg, lua_Integer i, const char *key, const char *def)
{
	const char *s;
	int t = lua_getfield(L, -1, key);

	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		return def;
	}
	if (t != LUA_TSTRING)
		luaL_argerror(L, arg, lua_pushfstring(L, "journal entry %I: %s is not a string", i, key));
	s = lua_tostring(L, -1);
	lua_pop(L, 1);          /* the table still holds the string */
	return s;
}

static lua_Integer field_int(lua_State *L, int arg, lua_Integer i, const char *key, lua_Integer def,
                             lua_Integer lo, lua_Integer hi)
{
	int isint, t = lua_getfield(L, -1, key);
	lua_Integer v = t == LUA_TNIL ? def : lua_tointegerx(L, -1, &isint);

	if (t != LUA_TNIL && (!isint || v < lo || v > hi))
		luaL_argerror(L, arg, lua_pushfstring(L, "journal entry %I: %s is not an integer in %I..%I",
		                                      i, key, lo, hi));
	lua_pop(L, 1);
	return v;
}

static int option(const char *s, const char *const *names)
{
	for (int k = 0; s && names[k]; k++)
		if (strcmp(s, names[k]) == 0)
			return k;
	return -1;
}

/* Journal entry i (on top of the stack) into e; raises before anything is held. */
static void check_entry(lua_State *L, int arg, lua_Integer i, struct journal_entry *e)
{
	static const char *const kinds[] = { "device", "sriov", NULL };
	static const char *const states[] = { "recorded", "applied", "restored", NULL };
	const char *addr, *drv, *ovr;
	int kind, state;

	memset(e, 0, sizeof *e);
	if (!lua_istable(L, -1))
		luaL_argerror(L, arg, lua_pushfstring(L, "journal entry %I is not a table", i));
	if ((kind = option(field_str(L, arg, i, "kind", NULL), kinds)) < 0)
		luaL_argerror(L, arg, lua_pushfstring(L, "journal entry %I: kind is \"device\" or \"sriov\"", i));
	if ((state = option(field_str(L, arg, i, "state", "recorded"), states)) < 0)
		luaL_argerror(L, arg, lua_pushfstring(L, "journal entry %I: state is \"recorded\", "
		                                      "\"applied\" or \"restored\"", i));
	addr = field_str(L, arg, i, "addr", "");
	drv = field_str(L, arg, i, "driver", "");
	ovr = field_str(L, arg, i, "override", "");
	if (!vfio_addr_ok(addr) || strlen(drv) >= sizeof e->driver || strlen(ovr) >= sizeof e->override)
		luaL_argerror(L, arg, lua_pushfstring(L, "journal entry %I: bad addr, or driver or "
		                                      "override too long", i));
	e->kind = (enum journal_kind)kind;
	e->state = (enum journal_state)state;
	memcpy(e->addr, addr, strlen(addr) + 1);
	memcpy(e->driver, drv, strlen(drv) + 1);
	memcpy(e->override, ovr, strlen(ovr) + 1);
	e->numvfs = (int)field_int(L, arg, i, "numvfs", 0, 0, 65535);
	e->autoprobe = (int)field_int(L, arg, i, "autoprobe", -1, -1, 1);
}

/* journal_add(path, {entry, ...}) -> true | nil, message, errno. Entries already in the
 * journal keep their first (original) record. Saved before it returns. */
static int lvfio_journal_add(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_Integer n = luaL_len(L, 2);
	struct journal_entry *e = lua_newuserdatauv(L, sizeof *e * (size_t)(n > 0 ? n : 1), 0);
	struct box *b = newbox(L);
	char err[ERRLEN];
	int rc;

	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, 2, i);
		check_entry(L, 2, i, &e[i - 1]);
		lua_pop(L, 1);
	}
	/* From here to journal_free nothing raises. */
	if ((rc = journal_load(&b->j, path, err, sizeof err)) < 0)
		return fail(L, rc, err);
	for (lua_Integer i = 0; i < n && rc >= 0; i++)
		rc = journal_add(&b->j, &e[i]);
	if (rc < 0)
		snprintf(err, sizeof err, "%s: %s", path, strerror(-rc));
	else
		rc = journal_save(&b->j, err, sizeof err);
	journal_free(&b->j);
	return ok(L, rc, err);
}

/* journal_create([dir]) -> path | nil, message, errno (dir: /run/vflaunch) */
static int lvfio_journal_create(lua_State *L)
{
	const char *dir = luaL_optstring(L, 1, NULL);
	struct box *b = newbox(L);
	char err[ERRLEN];
	int rc = journal_create(&b->j, dir, err, sizeof err);
	if (rc < 0)
		return fail(L, rc, err);
	lua_pushstring(L, b->j.path);
	return 1;
}

/* journal_latest([dir]) -> path | nil, message, errno */
static int lvfio_journal_latest(lua_State *L)
{
	const char *dir = luaL_optstring(L, 1, NULL);
	char path[JOURNAL_PATHLEN], err[ERRLEN];
	int rc = journal_latest(dir, path, sizeof path);
	if (rc < 0) {
		snprintf(err, sizeof err, "%s: %s", dir ? dir : JOURNAL_DIR,
		         rc == -ENOENT ? "no journal" : strerror(-rc));
		return fail(L, rc, err);
	}
	lua_pushstring(L, path);
	return 1;
}

/* journal_mark(path, index, state) -> true | nil, message, errno; index counts from 1 */
static int lvfio_journal_mark(lua_State *L)
{
	static const char *const states[] = { "recorded", "applied", "restored", NULL };
	const char *path = luaL_checkstring(L, 1);
	lua_Integer i = luaL_checkinteger(L, 2);
	int st = luaL_checkoption(L, 3, NULL, states);
	struct box *b = newbox(L);
	char err[ERRLEN];
	int rc = journal_load(&b->j, path, err, sizeof err);

	if (rc == 0 && (i < 1 || (lua_Unsigned)i > b->j.count)) {
		journal_free(&b->j);
		return luaL_argerror(L, 2, "no such journal entry");
	}
	if (rc == 0) {
		journal_mark(&b->j, (size_t)i - 1, (enum journal_state)st);
		rc = journal_save(&b->j, err, sizeof err);
	}
	journal_free(&b->j);
	return ok(L, rc, err);
}

/* journal_read(path) -> { {kind=, addr=, driver=, override=, numvfs=, autoprobe=, state=}, ... } */
static int lvfio_journal_read(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct box *b = newbox(L);
	char err[ERRLEN];
	int rc = journal_load(&b->j, path, err, sizeof err);
	if (rc < 0)
		return fail(L, rc, err);
	lua_createtable(L, (int)b->j.count, 0);
	for (size_t i = 0; i < b->j.count; i++) {
		const struct journal_entry *e = &b->j.entries[i];
		lua_createtable(L, 0, 6);
		set_str(L, "kind", e->kind == JOURNAL_DEVICE ? "device" : "sriov");
		set_str(L, "addr", e->addr);
		set_str(L, "state", journal_state_name(e->state));
		if (e->kind == JOURNAL_DEVICE) {
			set_str(L, "driver", e->driver);
			set_str(L, "override", e->override);
		} else {
			set_int(L, "numvfs", e->numvfs);
			set_int(L, "autoprobe", e->autoprobe);
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	journal_free(&b->j);
	return 1;
}

/* journal_restore(path [, root]) -> true | nil, message, errno (the first failure; the
 * rest was still given back) */
static int lvfio_journal_restore(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1), *root = luaL_optstring(L, 2, NULL);
	struct box *b = newbox(L);
	char err[ERRLEN];
	int rc = journal_load(&b->j, path, err, sizeof err);
	if (rc == 0)
		rc = journal_restore(root, &b->j, err, sizeof err);
	journal_free(&b->j);
	return ok(L, rc, err);
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
		return fail(L, rc, err);
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
	return ok(L, vfio_modprobe(NULL, err, sizeof err), err);
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
	return ok(L, vfio_restore(root, addr, drv, ovr, err, sizeof err), err);
}

/* set_autoprobe(root, pf, boolean) -> true | nil, message, errno */
static int lvfio_set_autoprobe(lua_State *L)
{
	const char *root = luaL_optstring(L, 1, NULL), *pf = check_addr(L, 2);
	char err[ERRLEN];
	luaL_checktype(L, 3, LUA_TBOOLEAN);
	return ok(L, sriov_set_autoprobe(root, pf, lua_toboolean(L, 3), err, sizeof err), err);
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
	return ok(L, sriov_set_numvfs(root, pf, (int)n, ap, err, sizeof err), err);
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
		return fail(L, rc, err);
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
		return fail(L, rc, err);
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
		{ "journal_add", lvfio_journal_add },
		{ "journal_create", lvfio_journal_create },
		{ "journal_latest", lvfio_journal_latest },
		{ "journal_mark", lvfio_journal_mark },
		{ "journal_read", lvfio_journal_read },
		{ "journal_restore", lvfio_journal_restore },
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
