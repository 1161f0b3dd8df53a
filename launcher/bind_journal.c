// SPDX-License-Identifier: MIT
// Lua binding "vflaunch.core.journal": a launch journal as an object (journal.c underneath).
// An entry is a table {kind=, addr=, state=, <its kind's fields>}: device {driver, override},
// sriov {numvfs, autoprobe}, vfnet {mac, vlan, qos, spoofchk, trust, link, max_rate, min_rate}
// (spoofchk and trust -1 or absent: not reported; link 0 auto, 1 enable, 2 disable).
//   J.create(path) / J.open(path) -> obj | nil, message, errno
//   obj:path() obj:entries() obj:open_count() obj:add(list) obj:restore(i [, root])
//   obj:forget(i) obj:save()
// Indexes count from 1. Bad arguments raise naming the entry and field; host failures return
// nil, "path: strerror", errno. The journal lives in the userdata (freed by __gc/__close), so
// a raise at any point leaks nothing; between a change and its save nothing raises.
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "host.h"
#include "journal.h"

#define JOURNAL_META "vflaunch.core.journal"
#define ERRLEN 512

struct ljournal {
	struct journal j;
	int closed;                  /* __close ran: methods raise */
};

static struct ljournal *check_journal(lua_State *L)
{
	struct ljournal *o = luaL_checkudata(L, 1, JOURNAL_META);
	luaL_argcheck(L, !o->closed, 1, "journal is closed");
	return o;
}

/* A string argument that C will read to its first NUL: there must be no other one. */
static const char *check_cstring(lua_State *L, int arg, const char *what)
{
	size_t len;
	const char *s = luaL_checklstring(L, arg, &len);
	luaL_argcheck(L, len > 0 && strlen(s) == len, arg, what);
	return s;
}

static size_t check_index(lua_State *L, const struct ljournal *o, int arg)
{
	lua_Integer i = luaL_checkinteger(L, arg);
	luaL_argcheck(L, i >= 1 && (lua_Unsigned)i <= o->j.count, arg, "no such journal entry");
	return (size_t)i - 1;
}

static struct ljournal *new_journal(lua_State *L)
{
	struct ljournal *o = lua_newuserdatauv(L, sizeof *o, 0);
	memset(o, 0, sizeof *o);
	luaL_setmetatable(L, JOURNAL_META);
	return o;
}

/* create(path) -> obj | nil, message, errno: a new, empty journal file at exactly path */
static int ljournal_create(lua_State *L)
{
	const char *path = check_cstring(L, 1, "not a path");
	struct ljournal *o = new_journal(L);
	char err[ERRLEN];
	int rc = journal_create(&o->j, path, err, sizeof err);
	return rc < 0 ? host_fail(L, rc, err) : 1;
}

/* open(path) -> obj | nil, message, errno: strict, bounded, never through a symlink */
static int ljournal_open(lua_State *L)
{
	const char *path = check_cstring(L, 1, "not a path");
	struct ljournal *o = new_journal(L);
	char err[ERRLEN];
	int rc = journal_load(&o->j, path, err, sizeof err);
	return rc < 0 ? host_fail(L, rc, err) : 1;
}

/* ---- Entries to Lua ---- */

static void push_entry(lua_State *L, const struct journal_entry *e)
{
	const struct journal_kind_info *k = journal_kind_info(e->kind);

	lua_createtable(L, 0, 3 + (int)k->nfields);
	lua_pushstring(L, k->name);
	lua_setfield(L, -2, "kind");
	lua_pushstring(L, e->addr);
	lua_setfield(L, -2, "addr");
	lua_pushstring(L, journal_state_name(e->state));
	lua_setfield(L, -2, "state");
	for (size_t i = 0; i < k->nfields; i++) {
		const struct journal_field *f = &k->fields[i];
		if (f->type == JOURNAL_INT)
			lua_pushinteger(L, journal_get_int(e, f));
		else if (journal_get_name(e, f)[0])
			lua_pushstring(L, journal_get_name(e, f));
		else
			continue;       /* absent stays nil: `if e.driver then` */
		lua_setfield(L, -2, f->key);
	}
}

/* entries() -> { {kind=, addr=, state=, <the kind's fields>}, ... } */
static int ljournal_entries(lua_State *L)
{
	struct ljournal *o = check_journal(L);

	lua_createtable(L, o->j.count > INT32_MAX ? INT32_MAX : (int)o->j.count, 0);
	for (size_t i = 0; i < o->j.count; i++) {
		push_entry(L, &o->j.entries[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* ---- Entries from Lua ---- */

static int entry_error(lua_State *L, lua_Integer i, const char *what)
{
	return luaL_argerror(L, 2, lua_pushfstring(L, "entry %I: %s", i, what));
}

static int kind_error(lua_State *L, lua_Integer i)
{
	luaL_Buffer b;

	luaL_buffinit(L, &b);
	luaL_addstring(&b, "kind is not a record kind (");
	for (int k = 0; k < JOURNAL_NKINDS; k++) {
		luaL_addstring(&b, k ? ", \"" : "\"");
		luaL_addstring(&b, journal_kind_info((enum journal_kind)k)->name);
		luaL_addchar(&b, '"');
	}
	luaL_addchar(&b, ')');
	luaL_pushresult(&b);
	return entry_error(L, i, lua_tostring(L, -1));
}

/* Field key of the entry table at t, read raw (no __index runs): NULL when nil; raises
 * unless it is a string without NUL bytes. */
static const char *raw_string(lua_State *L, int t, lua_Integer i, const char *key)
{
	size_t len;
	const char *s;

	lua_pushstring(L, key);
	if (lua_rawget(L, t) == LUA_TNIL) {
		lua_pop(L, 1);
		return NULL;
	}
	if (lua_type(L, -1) != LUA_TSTRING)
		entry_error(L, i, lua_pushfstring(L, "%s is not a string", key));
	s = lua_tolstring(L, -1, &len);
	if (strlen(s) != len)
		entry_error(L, i, lua_pushfstring(L, "%s holds a NUL byte", key));
	lua_pop(L, 1);          /* the entry table still holds the string */
	return s;
}

static void check_field(lua_State *L, int t, lua_Integer i, struct journal_entry *e,
                        const struct journal_field *f)
{
	if (f->type == JOURNAL_NAME) {
		const char *s = raw_string(L, t, i, f->key);
		if (journal_set_name(e, f, s ? s : "") < 0)
			entry_error(L, i, lua_pushfstring(L, "%s is not a kernel driver name (1 to %d of "
			                                  "A-Z a-z 0-9 _ . : + -)", f->key, VFIO_NAMELEN - 1));
		return;
	}
	if (f->type == JOURNAL_MAC) {
		const char *s = raw_string(L, t, i, f->key);
		if (!s)
			entry_error(L, i, lua_pushfstring(L, "%s is missing", f->key));
		if (journal_set_name(e, f, s) < 0)
			entry_error(L, i, lua_pushfstring(L, "%s is not a MAC address "
			                                  "(\"aa:bb:cc:dd:ee:ff\")", f->key));
		return;
	}
	int isint = 0;
	lua_pushstring(L, f->key);
	int type = lua_rawget(L, t);
	lua_Integer v = lua_tointegerx(L, -1, &isint);
	lua_pop(L, 1);
	if (type == LUA_TNIL && f->optional)
		return;                 /* journal_entry_init left it at lo: unknown */
	if (type == LUA_TNIL)
		entry_error(L, i, lua_pushfstring(L, "%s is missing", f->key));
	if (type != LUA_TNUMBER || !isint || journal_set_int(e, f, v) < 0)
		entry_error(L, i, lua_pushfstring(L, "%s is not an integer in %d..%d", f->key, f->lo, f->hi));
}

/* A key fit to quote in a message: short, letters, digits and '_' (no escapes reach a
 * terminal through an error). */
static int printable_key(const char *key)
{
	size_t n = 0;

	for (; key[n]; n++)
		if (n >= 32 || !(key[n] == '_' || (key[n] >= 'a' && key[n] <= 'z') ||
		                 (key[n] >= 'A' && key[n] <= 'Z') || (key[n] >= '0' && key[n] <= '9')))
			return 0;
	return n > 0;
}

/* Every key of the entry is one its kind knows: a typo ("overide") is an error, not a value
 * silently left out. */
static void check_keys(lua_State *L, int t, lua_Integer i, const struct journal_kind_info *k)
{
	lua_pushnil(L);
	while (lua_next(L, t)) {
		const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		int known = key && (!strcmp(key, "kind") || !strcmp(key, "addr") || !strcmp(key, "state"));
		for (size_t n = 0; key && !known && n < k->nfields; n++)
			known = strcmp(key, k->fields[n].key) == 0;
		if (!known && key && printable_key(key))
			entry_error(L, i, lua_pushfstring(L, "a %s record has no key %s", k->name, key));
		if (!known)
			entry_error(L, i, lua_pushfstring(L, "a key a %s record does not have", k->name));
		lua_pop(L, 1);
	}
}

/* Entry i, the table on top of the stack, into e; raises naming the entry and field. */
static void check_entry(lua_State *L, lua_Integer i, struct journal_entry *e)
{
	int t = lua_absindex(L, -1), kind, state = JOURNAL_STATE_RECORDED;
	const char *s;

	if (lua_type(L, t) != LUA_TTABLE)
		entry_error(L, i, "not a table");
	if ((kind = journal_kind_parse(raw_string(L, t, i, "kind"))) < 0)
		kind_error(L, i);
	if (journal_entry_init(e, (enum journal_kind)kind, raw_string(L, t, i, "addr")) < 0)
		entry_error(L, i, "addr is not a PCI address \"dddd:bb:dd.f\"");
	if ((s = raw_string(L, t, i, "state")) && (state = journal_state_parse(s)) < 0)
		entry_error(L, i, "state is not \"recorded\", \"applied\", \"restored\" or \"gone\"");
	e->state = (enum journal_state)state;
	const struct journal_kind_info *k = journal_kind_info(e->kind);
	for (size_t n = 0; n < k->nfields; n++)
		check_field(L, t, i, e, &k->fields[n]);
	check_keys(L, t, i, k);
}

/* add({entry, ...}) -> n_added | nil, message, errno. Every entry is checked before any is
 * added; a device or PF already there keeps its first record; then the journal is saved.
 * On failure the journal in memory is as it was. */
static int ljournal_add(lua_State *L)
{
	struct ljournal *o = check_journal(L);
	char err[ERRLEN];
	int rc = 0;

	luaL_checktype(L, 2, LUA_TTABLE);
	/* lua_rawlen: the real border of the list. luaL_len would believe a __len that says
	 * 1 << 61 and the size below would wrap (D9). */
	lua_Unsigned n = lua_rawlen(L, 2);
	luaL_argcheck(L, n <= SIZE_MAX / sizeof(struct journal_entry), 2, "too many entries");
	/* GC-owned, so a raise while it is filled leaks nothing. */
	struct journal_entry *e = lua_newuserdatauv(L, (size_t)n * sizeof *e, 0);
	for (lua_Unsigned i = 0; i < n; i++) {
		lua_rawgeti(L, 2, (lua_Integer)i + 1);
		check_entry(L, (lua_Integer)i + 1, &e[i]);
		lua_pop(L, 1);
	}
	/* From here nothing raises until the journal is saved or put back. */
	size_t before = o->j.count;
	lua_Integer added = 0;
	for (lua_Unsigned i = 0; i < n && rc >= 0; i++)
		if ((rc = journal_add(&o->j, &e[i])) == 0)
			added++;
	if (rc < 0)
		snprintf(err, sizeof err, "%s: %s", o->j.path, strerror(-rc));
	else
		rc = journal_save(&o->j, err, sizeof err);
	if (rc < 0) {
		o->j.count = before;    /* memory stays what the file holds */
		return host_fail(L, rc, err);
	}
	lua_pushinteger(L, added);
	return 1;
}

/* ---- The rest ---- */

/* restore(i [, root]) -> "restored" | "unchanged" | "gone" | "failed", why (nil unless
 * failed). Marks entry i in memory; save() writes the marks. root nil: /sys. */
static int ljournal_restore(lua_State *L)
{
	struct ljournal *o = check_journal(L);
	size_t i = check_index(L, o, 2);
	const char *root = lua_isnoneornil(L, 3) ? NULL : check_cstring(L, 3, "not a sysfs root");
	char why[ERRLEN];
	enum journal_outcome r = journal_restore_entry(root, &o->j, i, why, sizeof why);

	lua_pushstring(L, journal_outcome_name(r));
	if (r == JOURNAL_FAILED)
		lua_pushstring(L, why);
	else
		lua_pushnil(L);
	return 2;
}

/* forget(i) -> true: entry i leaves this journal (in memory; save() writes it) */
static int ljournal_forget(lua_State *L)
{
	struct ljournal *o = check_journal(L);
	journal_forget(&o->j, check_index(L, o, 2));
	lua_pushboolean(L, 1);
	return 1;
}

/* save() -> true | nil, message, errno */
static int ljournal_save(lua_State *L)
{
	struct ljournal *o = check_journal(L);
	char err[ERRLEN];
	int rc = journal_save(&o->j, err, sizeof err);
	if (rc < 0)
		return host_fail(L, rc, err);
	lua_pushboolean(L, 1);
	return 1;
}

static int ljournal_path(lua_State *L)
{
	lua_pushstring(L, check_journal(L)->j.path);
	return 1;
}

/* open_count() -> entries neither restored nor gone */
static int ljournal_open_count(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)journal_open_count(&check_journal(L)->j));
	return 1;
}

/* __gc and __close: free the entries; a closed journal's methods raise. */
static int ljournal_gc(lua_State *L)
{
	struct ljournal *o = luaL_checkudata(L, 1, JOURNAL_META);
	journal_free(&o->j);
	o->closed = 1;
	return 0;
}

int luaopen_core_journal(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "create", ljournal_create },
		{ "open", ljournal_open },
		{ NULL, NULL }
	};
	static const luaL_Reg methods[] = {
		{ "add", ljournal_add },
		{ "entries", ljournal_entries },
		{ "forget", ljournal_forget },
		{ "open_count", ljournal_open_count },
		{ "path", ljournal_path },
		{ "restore", ljournal_restore },
		{ "save", ljournal_save },
		{ NULL, NULL }
	};
	static const luaL_Reg meta[] = {
		{ "__close", ljournal_gc },
		{ "__gc", ljournal_gc },
		{ NULL, NULL }
	};

	if (luaL_newmetatable(L, JOURNAL_META)) {
		luaL_setfuncs(L, meta, 0);
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}
