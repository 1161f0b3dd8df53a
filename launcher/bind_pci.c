// SPDX-License-Identifier: MIT
// Lua binding "vflaunch.core.pci": the inventory (devices listed, facts read on demand into
// plain tables) and PCI address parsing.
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

#include "acs.h"
#include "host.h"
#include "inventory.h"
#include "pciaddr.h"

/* Fields are set raw: a device table's __newindex (lua/inventory.lua) is for scripts. */
static void set_str(lua_State *L, const char *key, const char *value)
{
	if (!value || !value[0])
		return; /* absent stays nil, so Lua tests `if dev.driver then` */
	lua_pushstring(L, key);
	lua_pushstring(L, value);
	lua_rawset(L, -3);
}

static void set_int(lua_State *L, const char *key, long value)
{
	lua_pushstring(L, key);
	lua_pushinteger(L, value);
	lua_rawset(L, -3);
}

/* The fields that come from the address (domain, bus, slot, func): in no INV_* read, known
 * from the listing, put in a device's table with its first fact rather than when the table is
 * made (most of the thousands made are never looked at). A bit of `given` only. */
#define GIVEN_ADDR 0x80000000u

/* Each field of a device table and the facts (INV_*) that give it. */
static const struct {
	const char *key;
	unsigned what;
} FIELDS[] = {
	{ "vendor", INV_VENDOR }, { "device", INV_DEVICE }, { "class", INV_CLASS },
	{ "subsys_vendor", INV_SUBSYS }, { "subsys_device", INV_SUBSYS },
	{ "header_type", INV_HEADER },
	{ "vendor_name", INV_NAMES }, { "device_name", INV_NAMES },
	{ "class_name", INV_CLASS_NAME },
	{ "driver", INV_DRIVER }, { "driver_override", INV_OVERRIDE },
	{ "iommu_group", INV_GROUP }, { "numa_node", INV_NUMA },
	{ "sriov_totalvfs", INV_SRIOV }, { "sriov_numvfs", INV_SRIOV },
	{ "sriov_offset", INV_SRIOV }, { "sriov_stride", INV_SRIOV },
	{ "physfn", INV_PHYSFN }, { "vfs_addresses", INV_SRIOV | INV_VFS },
	{ "domain", GIVEN_ADDR }, { "bus", GIVEN_ADDR }, { "slot", GIVEN_ADDR },
	{ "func", GIVEN_ADDR },
	{ "*", INV_ALL | GIVEN_ADDR },
};

/* The fields of the facts in what into the table on top of the stack. */
static void push_facts(lua_State *L, const struct pci_device *d, unsigned what)
{
	if (what & INV_VENDOR)
		set_int(L, "vendor", d->vendor);
	if (what & INV_DEVICE)
		set_int(L, "device", d->device);
	if (what & INV_CLASS)
		set_int(L, "class", d->class);
	if (what & INV_SUBSYS) {
		set_int(L, "subsys_vendor", d->subsys_vendor);
		set_int(L, "subsys_device", d->subsys_device);
	}
	if (what & INV_HEADER)
		set_int(L, "header_type", d->header_type);
	if (what & INV_NAMES) {
		set_str(L, "vendor_name", d->vendor_name);
		set_str(L, "device_name", d->device_name);
	}
	if (what & INV_CLASS_NAME)
		set_str(L, "class_name", d->class_name);
	if (what & INV_DRIVER)
		set_str(L, "driver", d->driver);
	if (what & INV_OVERRIDE)
		set_str(L, "driver_override", d->driver_override);
	if ((what & INV_GROUP) && d->iommu_group >= 0)
		set_int(L, "iommu_group", d->iommu_group);
	if ((what & INV_NUMA) && d->numa_node >= 0)
		set_int(L, "numa_node", d->numa_node);
	if ((what & INV_SRIOV) && d->sriov_totalvfs >= 0) {
		set_int(L, "sriov_totalvfs", d->sriov_totalvfs);
		set_int(L, "sriov_numvfs", d->sriov_numvfs);
		set_int(L, "sriov_offset", d->sriov_offset);
		set_int(L, "sriov_stride", d->sriov_stride);
	}
	if (what & INV_PHYSFN)
		set_str(L, "physfn", d->physfn);
	/* A PF's VFs: a list only for an SR-IOV device, as pf:vfs() reads them. */
	if ((what & INV_VFS) && (d->known & INV_SRIOV) && d->sriov_totalvfs >= 0) {
		lua_createtable(L, (int)d->nvfs, 0);
		for (size_t i = 0; i < d->nvfs; i++) {
			lua_pushstring(L, d->vfs[i]);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		lua_pushstring(L, "vfs_addresses");
		lua_insert(L, -2);
		lua_rawset(L, -3);
	}
}

/* The address's fields into the table on top of the stack, each unless the table has it
 * already (a value a script set stays). */
static void push_address(lua_State *L, const struct pci_device *d)
{
	const struct {
		const char *key;
		unsigned value;
	} f[] = { { "domain", d->addr.domain }, { "bus", d->addr.bus }, { "slot", d->addr.dev },
	          { "func", d->addr.func } };

	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		int absent;

		lua_pushstring(L, f[i].key);
		absent = lua_rawget(L, -2) == LUA_TNIL;
		lua_pop(L, 1);
		if (absent)
			set_int(L, f[i].key, f[i].value);
	}
}

#define INVENTORY_META "vflaunch.core.pci.inventory"

static int inventory_gc(lua_State *L)
{
	inventory_free(luaL_checkudata(L, 1, INVENTORY_META));
	return 0;
}

/* open(sysfs_root) -> inventory | nil, message: the devices listed, none of their facts read */
static int pci_open(lua_State *L)
{
	const char *root = luaL_checkstring(L, 1);
	struct inventory *inv;
	char err[512];

	/* The inventory lives in GC-owned memory with a __gc, so that a raise while it is used
	 * (out of memory) cannot leak it. */
	inv = lua_newuserdatauv(L, sizeof(*inv), 0);
	inv->devs = NULL;
	inv->count = 0;
	inv->root = NULL;
	inv->names = NULL;
	inv->named = NULL;
	luaL_setmetatable(L, INVENTORY_META);
	if (inventory_list(root, inv, err, sizeof(err)) < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, err);
		return 2;
	}
	return 1;
}

/* inv:devices(mt, owner) -> devices, by_address: a table per device in address order (address
 * and _inventory = owner, with metatable mt: its other fields, domain, bus, slot and func among
 * them, come through fill), and the same tables by address, both made at their final size. */
static int inventory_devices(lua_State *L)
{
	const struct inventory *inv = luaL_checkudata(L, 1, INVENTORY_META);

	luaL_checktype(L, 2, LUA_TTABLE);
	luaL_checkany(L, 3);
	lua_settop(L, 3);
	lua_createtable(L, (int)inv->count, 0);
	lua_createtable(L, 0, (int)inv->count);
	for (size_t i = 0; i < inv->count; i++) {
		const struct pci_device *d = &inv->devs[i];

		lua_pushstring(L, d->name); /* the address, made once: the table's and the key */
		lua_createtable(L, 0, 2);
		lua_pushvalue(L, -2);
		lua_setfield(L, -2, "address");
		lua_pushvalue(L, 3);
		lua_setfield(L, -2, "_inventory");
		lua_pushvalue(L, 2);
		lua_setmetatable(L, -2);
		lua_pushvalue(L, -1);
		lua_rawseti(L, -5, (lua_Integer)i + 1);
		lua_rawset(L, -3);
	}
	return 2;
}

/* The facts that give field key, 0 when it is none. */
static unsigned facts_of(const char *key)
{
	for (size_t k = 0; k < sizeof FIELDS / sizeof FIELDS[0]; k++)
		if (strcmp(key, FIELDS[k].key) == 0)
			return FIELDS[k].what;
	return 0;
}

/* inv:fill(address, key, t) -> true when key is a fact of a device ("*": all of them), read
 * now if it was not yet and set in t with every other field that read gave; false when key is
 * no fact; nil, message when the tree is corrupt. key may be a list of keys, for a caller that
 * shows them all (list): one call reads them, in the order of the INV_* bits. */
static int inventory_fill(lua_State *L)
{
	struct inventory *inv = luaL_checkudata(L, 1, INVENTORY_META);
	struct pci_device *d = inventory_find(inv, luaL_checkstring(L, 2));
	unsigned what = 0;
	char err[512];

	luaL_argcheck(L, d != NULL, 2, "no such device");
	luaL_checktype(L, 4, LUA_TTABLE);
	if (lua_type(L, 3) == LUA_TTABLE) {
		for (lua_Integer i = 1; lua_rawgeti(L, 3, i) != LUA_TNIL; i++) {
			what |= facts_of(luaL_checkstring(L, -1));
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	} else {
		what = facts_of(luaL_checkstring(L, 3));
	}
	if (!what) {
		lua_pushboolean(L, 0);
		return 1;
	}
	if (inventory_read(inv, d, what & INV_ALL, err, sizeof err) < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_settop(L, 4);
	/* Every fact read and not yet in the table: read now, or earlier for another device's
	 * sake (a VF's physfn check reads its PF's SR-IOV counts). Each goes in once, so that a
	 * value a script set stays. */
	push_facts(L, d, d->known & ~d->given);
	if (!(d->given & GIVEN_ADDR))
		push_address(L, d);
	d->given = d->known | GIVEN_ADDR;
	lua_pushboolean(L, 1);
	return 1;
}

/* acs(sysfs_root, address) -> capability, control (the ACS registers) | false when the device
 * has no ACS capability | nil, message when its config space cannot be read that far */
static int pci_acs(lua_State *L)
{
	const char *root = luaL_checkstring(L, 1), *addr = luaL_checkstring(L, 2);
	struct pci_acs acs;
	char err[512];
	int rc = pci_acs_read(root, addr, &acs, err, sizeof err);

	if (rc < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, err);
		return 2;
	}
	if (rc == 0) {
		lua_pushboolean(L, 0);
		return 1;
	}
	lua_pushinteger(L, acs.cap);
	lua_pushinteger(L, acs.ctrl);
	return 2;
}

/* parse_address(text) -> canonical "dddd:bb:dd.f" | nil, why */
static int pci_parse_address(lua_State *L)
{
	const char *text = luaL_checkstring(L, 1), *why = NULL;
	struct pci_addr a;
	char buf[PCI_ADDR_LEN + 1];

	if (pci_addr_parse(text, &a, &why) < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, why ? why : "not a PCI address");
		return 2;
	}
	pci_addr_format(&a, buf, sizeof(buf));
	lua_pushstring(L, buf);
	return 1;
}

int luaopen_core_pci(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "acs", pci_acs },
		{ "open", pci_open },
		{ "parse_address", pci_parse_address },
		{ NULL, NULL }
	};

	static const luaL_Reg methods[] = {
		{ "devices", inventory_devices },
		{ "fill", inventory_fill },
		{ NULL, NULL }
	};

	luaL_newmetatable(L, INVENTORY_META);
	lua_pushcfunction(L, inventory_gc);
	lua_setfield(L, -2, "__gc");
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}
