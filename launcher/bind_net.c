// SPDX-License-Identifier: MIT
// Lua binding "net" of vflaunch's core: VF MAC, VLAN, rates and flags on a PF (vfnet.c). The
// sysfs root picks the backend: nil or "/sys" the kernel's rtnetlink, a tree's root the
// simulated kernel. Mechanism only: which values a VF gets, and when, is lua/'s.
//   net.get(sysroot, pf) -> { ifname=, ifindex=, operstate=, speed=, num_vf=, vfs = {
//       { vf=0, mac=, vlan=, qos=, spoofchk=, trust=, link=, max_rate=, min_rate= }, ... } }
//   net.set(sysroot, pf, { {vf=N, mac=?, vlan=?, qos=?, spoofchk=?, trust=?, link=?,
//       max_rate=?, min_rate=?}, ... }) -> true
//   net.locate(sysroot, vf) -> pf, index
// Host failures: nil, message, errno. Bad arguments raise.
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>
#include <string.h>

#include "host.h"
#include "vfio.h"
#include "vfnet.h"

#define ERRLEN 512
#define PF_META "vflaunch.core.net.pf"   /* a reply being turned into tables: freed by __gc */

static const char *check_root(lua_State *L, int arg)
{
	size_t len;
	const char *s;

	if (lua_isnoneornil(L, arg))
		return NULL;
	s = luaL_checklstring(L, arg, &len);
	luaL_argcheck(L, len > 0 && strlen(s) == len, arg, "not a sysfs root");
	return s;
}

static const char *check_addr(lua_State *L, int arg)
{
	const char *s = luaL_checkstring(L, arg);
	luaL_argcheck(L, vfio_addr_ok(s), arg, "not a PCI address \"dddd:bb:dd.f\"");
	return s;
}

/* -1 (not reported) stays out of the table: nil. */
static void set_int(lua_State *L, const char *key, long long v)
{
	if (v < 0)
		return;
	lua_pushinteger(L, v);
	lua_setfield(L, -2, key);
}

static void set_flag(lua_State *L, const char *key, int v)
{
	if (v < 0)
		return;
	lua_pushboolean(L, v);
	lua_setfield(L, -2, key);
}

static void push_vf(lua_State *L, const struct nl_vf *v)
{
	char mac[NL_MACSTRLEN];

	lua_createtable(L, 0, 9);
	lua_pushinteger(L, v->vf);
	lua_setfield(L, -2, "vf");
	if (v->has_mac) {
		nl_mac_format(v->mac, mac);
		lua_pushstring(L, mac);
		lua_setfield(L, -2, "mac");
	}
	set_int(L, "vlan", v->vlan);
	set_int(L, "qos", v->qos);
	set_flag(L, "spoofchk", v->spoofchk);
	set_flag(L, "trust", v->trust);
	if (nl_link_state_name(v->link)) {
		lua_pushstring(L, nl_link_state_name(v->link));
		lua_setfield(L, -2, "link");
	}
	set_int(L, "max_rate", v->max_rate);
	set_int(L, "min_rate", v->min_rate);
}

/* get(sysroot, pf) -> table | nil, message, errno */
static int net_get(lua_State *L)
{
	const char *root = check_root(L, 1), *pf = check_addr(L, 2);
	/* The reply's VFs are malloc'd: the userdata's __gc frees them if a table below cannot be
	 * allocated and raises. */
	struct vfnet_pf *pp = lua_newuserdatauv(L, sizeof *pp, 0);
	char err[ERRLEN];
	int rc;

	memset(pp, 0, sizeof *pp);
	luaL_setmetatable(L, PF_META);
	if ((rc = vfnet_get(root, pf, pp, err, sizeof err)) < 0)
		return host_fail(L, rc, err);
	struct vfnet_pf p = *pp;
	lua_createtable(L, 0, 6);
	lua_pushstring(L, p.link.ifname);
	lua_setfield(L, -2, "ifname");
	lua_pushinteger(L, p.link.ifindex);
	lua_setfield(L, -2, "ifindex");
	lua_pushstring(L, nl_operstate_name(p.link.operstate));
	lua_setfield(L, -2, "operstate");
	set_int(L, "speed", p.speed);
	lua_pushinteger(L, p.link.num_vf);
	lua_setfield(L, -2, "num_vf");
	lua_createtable(L, p.link.num_vf, 0);
	for (int i = 0; i < p.link.num_vf; i++) {
		const struct nl_vf *v = nl_link_vf(&p.link, i);
		struct nl_vf none;
		if (!v) {               /* not in the reply: a VF with nothing known */
			nl_vf_unknown(&none, i);
			v = &none;
		}
		push_vf(L, v);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "vfs");
	nl_link_free(&pp->link);
	return 1;
}

/* ---- set ---- */

static int change_error(lua_State *L, lua_Integer i, const char *what)
{
	return luaL_argerror(L, 3, lua_pushfstring(L, "change %I: %s", i, what));
}

/* Integer field key of the table on top, in lo..hi: 1 and *out when given, 0 when nil. */
static int opt_int(lua_State *L, lua_Integer i, const char *key, long long lo, long long hi,
                   long long *out)
{
	int isint = 0, type = lua_getfield(L, -1, key);
	lua_Integer v = lua_tointegerx(L, -1, &isint);

	lua_pop(L, 1);
	if (type == LUA_TNIL)
		return 0;
	if (type != LUA_TNUMBER || !isint || v < lo || v > hi)
		change_error(L, i, lua_pushfstring(L, "%s is not an integer in %I..%I", key,
		                                   (lua_Integer)lo, (lua_Integer)hi));
	*out = v;
	return 1;
}

static int opt_bool(lua_State *L, lua_Integer i, const char *key, int *out)
{
	int type = lua_getfield(L, -1, key);

	if (type != LUA_TNIL && type != LUA_TBOOLEAN)
		change_error(L, i, lua_pushfstring(L, "%s is not a boolean", key));
	*out = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return type == LUA_TBOOLEAN;
}

static const char *const known_keys[] = { "vf", "mac", "vlan", "qos", "spoofchk", "trust",
                                          "link", "max_rate", "min_rate", NULL };

/* Change i, the table on top of the stack, into c; raises naming the change and key. */
static void check_change(lua_State *L, lua_Integer i, struct vfnet_change *c)
{
	long long v;
	int flag;

	if (!lua_istable(L, -1))
		change_error(L, i, "not a table");
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		int known = 0;
		for (int k = 0; known_keys[k] && lua_type(L, -2) == LUA_TSTRING; k++)
			known |= strcmp(lua_tostring(L, -2), known_keys[k]) == 0;
		if (!known)
			change_error(L, i, "a key that is not vf, mac, vlan, qos, spoofchk, trust, link, "
			             "max_rate or min_rate");
		lua_pop(L, 1);
	}
	memset(c, 0, sizeof *c);
	if (!opt_int(L, i, "vf", 0, NL_MAXVFS - 1, &v))
		change_error(L, i, "vf is missing");
	nl_vf_unknown(&c->want, (int)v);
	if (lua_getfield(L, -1, "mac") != LUA_TNIL) {
		if (!lua_isstring(L, -1) || nl_mac_parse(lua_tostring(L, -1), c->want.mac) < 0)
			change_error(L, i, "mac is not a MAC address \"aa:bb:cc:dd:ee:ff\"");
		c->want.has_mac = 1;
		c->fields |= VFNET_MAC;
	}
	lua_pop(L, 1);
	if (opt_int(L, i, "vlan", 0, 4095, &v)) {
		c->want.vlan = (int)v;
		c->fields |= VFNET_VLAN;
	}
	if (opt_int(L, i, "qos", 0, 7, &v)) {
		c->want.qos = (int)v;
		c->fields |= VFNET_QOS;
	}
	if (opt_int(L, i, "max_rate", 0, UINT32_MAX, &v)) {
		c->want.max_rate = v;
		c->fields |= VFNET_MAX_RATE;
	}
	if (opt_int(L, i, "min_rate", 0, UINT32_MAX, &v)) {
		c->want.min_rate = v;
		c->fields |= VFNET_MIN_RATE;
	}
	if (opt_bool(L, i, "spoofchk", &flag)) {
		c->want.spoofchk = flag;
		c->fields |= VFNET_SPOOFCHK;
	}
	if (opt_bool(L, i, "trust", &flag)) {
		c->want.trust = flag;
		c->fields |= VFNET_TRUST;
	}
	if (lua_getfield(L, -1, "link") != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TSTRING ||
		    (c->want.link = nl_link_state_parse(lua_tostring(L, -1))) < 0)
			change_error(L, i, "link is not \"auto\", \"enable\" or \"disable\"");
		c->fields |= VFNET_LINK;
	}
	lua_pop(L, 1);
}

/* set(sysroot, pf, changes) -> true | nil, message, errno */
static int net_set(lua_State *L)
{
	const char *root = check_root(L, 1), *pf = check_addr(L, 2);
	char err[ERRLEN];
	lua_Unsigned n;

	luaL_checktype(L, 3, LUA_TTABLE);
	n = lua_rawlen(L, 3);
	luaL_argcheck(L, n <= NL_MAXVFS * 8, 3, "too many changes");
	/* GC-owned, so a raise while it is filled leaks nothing. */
	struct vfnet_change *c = lua_newuserdatauv(L, (size_t)n * sizeof *c + 1, 0);
	for (lua_Unsigned i = 0; i < n; i++) {
		lua_rawgeti(L, 3, (lua_Integer)i + 1);
		check_change(L, (lua_Integer)i + 1, &c[i]);
		lua_pop(L, 1);
	}
	return host_ok(L, vfnet_set(root, pf, c, (size_t)n, err, sizeof err), err);
}

/* locate(sysroot, vf) -> pf, index | nil, message, errno */
static int net_locate(lua_State *L)
{
	const char *root = check_root(L, 1), *vf = check_addr(L, 2);
	char err[ERRLEN], pf[16];
	int index, rc = vfnet_locate(root, vf, pf, &index, err, sizeof err);

	if (rc < 0)
		return host_fail(L, rc, err);
	lua_pushstring(L, pf);
	lua_pushinteger(L, index);
	return 2;
}

static int pf_gc(lua_State *L)
{
	nl_link_free(&((struct vfnet_pf *)luaL_checkudata(L, 1, PF_META))->link);
	return 0;
}

int luaopen_core_net(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "get", net_get },
		{ "locate", net_locate },
		{ "set", net_set },
		{ NULL, NULL }
	};

	if (luaL_newmetatable(L, PF_META)) {
		lua_pushcfunction(L, pf_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}
