// SPDX-License-Identifier: MIT
// Lua binding "vflaunch.core.pci": the inventory scan and PCI address parsing, as plain tables.
#include <lauxlib.h>
#include <lua.h>

#include "host.h"
#include "inventory.h"
#include "pciaddr.h"

static void set_str(lua_State *L, const char *key, const char *value)
{
	if (!value[0])
		return; /* absent stays nil, so Lua tests `if dev.driver then` */
	lua_pushstring(L, value);
	lua_setfield(L, -2, key);
}

static void set_int(lua_State *L, const char *key, long value)
{
	lua_pushinteger(L, value);
	lua_setfield(L, -2, key);
}

static void push_device(lua_State *L, const struct pci_device *d)
{
	lua_createtable(L, 0, 24);
	set_str(L, "address", d->name);
	set_int(L, "domain", d->addr.domain);
	set_int(L, "bus", d->addr.bus);
	set_int(L, "slot", d->addr.dev);
	set_int(L, "func", d->addr.func);
	set_int(L, "vendor", d->vendor);
	set_int(L, "device", d->device);
	set_int(L, "class", d->class);
	set_int(L, "subsys_vendor", d->subsys_vendor);
	set_int(L, "subsys_device", d->subsys_device);
	set_int(L, "header_type", d->header_type);
	set_str(L, "vendor_name", d->vendor_name);
	set_str(L, "device_name", d->device_name);
	set_str(L, "class_name", d->class_name);
	set_str(L, "driver", d->driver);
	set_str(L, "driver_override", d->driver_override);
	if (d->iommu_group >= 0)
		set_int(L, "iommu_group", d->iommu_group);
	if (d->numa_node >= 0)
		set_int(L, "numa_node", d->numa_node);
	set_str(L, "physfn", d->physfn);
	if (d->sriov_totalvfs >= 0) {
		set_int(L, "sriov_totalvfs", d->sriov_totalvfs);
		set_int(L, "sriov_numvfs", d->sriov_numvfs);
		set_int(L, "sriov_offset", d->sriov_offset);
		set_int(L, "sriov_stride", d->sriov_stride);
		lua_createtable(L, (int)d->nvfs, 0);
		for (size_t i = 0; i < d->nvfs; i++) {
			lua_pushstring(L, d->vfs[i]);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		lua_setfield(L, -2, "vfs");
	}
}

#define INVENTORY_META "vflaunch.core.pci.inventory"

static int inventory_gc(lua_State *L)
{
	inventory_free(luaL_checkudata(L, 1, INVENTORY_META));
	return 0;
}

/* scan(sysfs_root) -> array of device tables | nil, message */
static int pci_scan(lua_State *L)
{
	const char *root = luaL_checkstring(L, 1);
	struct inventory *inv;
	char err[512];

	/* The scan lives in GC-owned memory with a __gc, so a raise while the tables are built
	 * (out of memory) cannot leak it. */
	inv = lua_newuserdatauv(L, sizeof(*inv), 0);
	inv->devs = NULL;
	inv->count = 0;
	luaL_setmetatable(L, INVENTORY_META);
	if (inventory_scan(root, inv, err, sizeof(err)) < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_createtable(L, (int)inv->count, 0);
	for (size_t i = 0; i < inv->count; i++) {
		push_device(L, &inv->devs[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	inventory_free(inv); /* now, not at the next collection: it can be large */
	return 1;
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
		{ "parse_address", pci_parse_address },
		{ "scan", pci_scan },
		{ NULL, NULL }
	};

	luaL_newmetatable(L, INVENTORY_META);
	lua_pushcfunction(L, inventory_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}
