// SPDX-License-Identifier: MIT
// Lua binding "fs" of vflaunch's core: the launch state's files (atomic writes, bounded reads
// that follow no link, private directories), the host lock, and the script trust check.
// Host failures return nil, "step: path: why", errno; every write obeys the print-only latch.
#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <limits.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "host.h"
#include "sysfs.h"

#define ERRLEN 512
#define LOCK "vflaunch.fs.lock"
#define READ_MAX (64u << 20)    /* a plan of 1984 devices is about 1 MiB */

static int syscall_result(lua_State *L, int rc, const char *step, const char *path)
{
	char err[ERRLEN];

	if (rc >= 0) {
		lua_pushboolean(L, 1);
		return 1;
	}
	snprintf(err, sizeof err, "%s: %s: %s", step, path, strerror(-rc));
	return host_fail(L, rc, err);
}

/* write(path, data [, mode]) -> true | nil, message, errno: atomic replacement */
static int fs_write(lua_State *L)
{
	size_t len;
	const char *path = luaL_checkstring(L, 1), *data = luaL_checklstring(L, 2, &len);
	lua_Integer mode = luaL_optinteger(L, 3, 0600);
	char err[ERRLEN];

	luaL_argcheck(L, mode >= 0 && mode <= 0777, 3, "not a file mode");
	return host_ok(L, file_write_atomic(path, data, len, (mode_t)mode, err, sizeof err), err);
}

/* read(path [, max]) -> data | nil, message, errno: a regular file, no link followed */
static int fs_read(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	lua_Integer max = luaL_optinteger(L, 2, READ_MAX);
	char err[ERRLEN], *data;
	size_t len;

	luaL_argcheck(L, max >= 0 && max <= READ_MAX, 2, "size limit out of range");
	int rc = file_read(path, (size_t)max, &data, &len, err, sizeof err);
	if (rc < 0)
		return host_fail(L, rc, err);
	/* lua_pushlstring may raise (memory): keep the buffer owned until it returns. */
	luaL_Buffer b;
	char *p = luaL_buffinitsize(L, &b, len);
	memcpy(p, data, len);
	free(data);
	luaL_pushresultsize(&b, len);
	return 1;
}

/* private_dir(path, create) -> true | nil, message, errno */
static int fs_private_dir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	char err[ERRLEN];

	return host_ok(L, dir_private(path, lua_toboolean(L, 2), err, sizeof err), err);
}

/* trusted(path) -> true | nil, message, errno: only root can change the script */
static int fs_trusted(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	char err[ERRLEN];

	return host_ok(L, path_trusted(path, err, sizeof err), err);
}

#define DIRBOX "vflaunch.fs.dir"

static int dirbox_gc(lua_State *L)
{
	DIR **d = luaL_checkudata(L, 1, DIRBOX);
	if (*d)
		closedir(*d);
	*d = NULL;
	return 0;
}

/* list(dir) -> { name, ... } in directory order, without "." and ".." | nil, message, errno */
static int fs_list(lua_State *L)
{
	const char *dir = luaL_checkstring(L, 1);
	DIR **d = lua_newuserdatauv(L, sizeof *d, 0);  /* closed by __gc if a push raises */
	struct dirent *de;
	int n = 0;

	*d = NULL;
	luaL_setmetatable(L, DIRBOX);
	if (!(*d = opendir(dir)))
		return syscall_result(L, -errno, "list", dir);
	lua_newtable(L);
	while ((de = readdir(*d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		lua_pushstring(L, de->d_name);
		lua_rawseti(L, -2, ++n);
	}
	closedir(*d);
	*d = NULL;
	return 1;
}

/* kind(path) -> "file" | "dir" | "link" | "other" | nil (absent); lstat: links not followed */
static int fs_kind(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct stat sb;

	if (lstat(path, &sb) < 0) {
		luaL_pushfail(L);
		return 1;
	}
	lua_pushstring(L, S_ISREG(sb.st_mode) ? "file" : S_ISDIR(sb.st_mode) ? "dir" :
	                  S_ISLNK(sb.st_mode) ? "link" : "other");
	return 1;
}

/* remove(path) -> true | nil, message, errno: a file, or an empty directory */
static int fs_remove(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct stat sb;

	if (sysfs_writes_forbidden())
		return syscall_result(L, -EROFS, "remove", path);
	if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return syscall_result(L, rmdir(path) < 0 ? -errno : 0, "remove", path);
	return syscall_result(L, unlink(path) < 0 ? -errno : 0, "remove", path);
}

/* rename(from, to) -> true | nil, message, errno */
static int fs_rename(lua_State *L)
{
	const char *from = luaL_checkstring(L, 1), *to = luaL_checkstring(L, 2);

	if (sysfs_writes_forbidden())
		return syscall_result(L, -EROFS, "rename", from);
	return syscall_result(L, rename(from, to) < 0 ? -errno : 0, "rename", from);
}

/* realpath(path) -> absolute path | nil, message, errno */
static int fs_realpath(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	char real[PATH_MAX];

	if (!realpath(path, real))
		return syscall_result(L, -errno, "realpath", path);
	lua_pushstring(L, real);
	return 1;
}

/* --- the host lock: a userdata holding the flock'd descriptor */

struct lock {
	int fd;
};

static int lock_release(lua_State *L)
{
	struct lock *k = luaL_checkudata(L, 1, LOCK);
	if (k->fd >= 0)
		close(k->fd);   /* closing the last descriptor releases the flock */
	k->fd = -1;
	return 0;
}

/* lock(path) -> lock | nil, message, errno (errno EWOULDBLOCK: another process holds it) */
static int fs_lock(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct lock *k = lua_newuserdatauv(L, sizeof *k, 0);
	char err[ERRLEN] = "";
	int rc;

	k->fd = -1;
	luaL_setmetatable(L, LOCK);
	if (sysfs_writes_forbidden())
		return syscall_result(L, -EROFS, "lock", path);
	rc = file_lock(path, &k->fd, err, sizeof err);
	if (rc == -EWOULDBLOCK)
		return host_fail(L, rc, "busy");
	if (rc < 0)
		return host_fail(L, rc, err);
	return 1;
}

int luaopen_core_fs(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "kind", fs_kind },
		{ "list", fs_list },
		{ "lock", fs_lock },
		{ "private_dir", fs_private_dir },
		{ "read", fs_read },
		{ "realpath", fs_realpath },
		{ "remove", fs_remove },
		{ "rename", fs_rename },
		{ "trusted", fs_trusted },
		{ "write", fs_write },
		{ NULL, NULL }
	};
	static const luaL_Reg lock_methods[] = {
		{ "__close", lock_release },
		{ "__gc", lock_release },
		{ "release", lock_release },
		{ NULL, NULL }
	};

	luaL_newmetatable(L, DIRBOX);
	lua_pushcfunction(L, dirbox_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	luaL_newmetatable(L, LOCK);
	luaL_setfuncs(L, lock_methods, 0);
	lua_pushvalue(L, -1);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}
