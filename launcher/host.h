// SPDX-License-Identifier: MIT
// The Lua host: a state with the embedded modules preloaded, and protected calls that report once.
#ifndef VFLAUNCH_HOST_H
#define VFLAUNCH_HOST_H

#include <lua.h>

/* A fresh state: standard libraries, package.path/cpath stripped of relative entries, the
 * embedded lua/ modules in package.preload, each loaded with (name, cores) as its `...`, the
 * table of C cores (bind_*.c) kept in the registry only. NULL when out of memory. */
lua_State *host_new(void);

/* Call the function below its nargs arguments under a traceback handler. 0 on success, with
 * nresults results left on the stack; on an error (which the Lua entry point should never
 * let through), print it with its traceback as an internal error and return -1. */
int host_pcall(lua_State *L, int nargs, int nresults);

/* For the bindings: a host failure returned as Lua's own libraries return one — nil, the
 * message, errno (rc is -errno) — and host_ok: true, or that failure when rc < 0. */
int host_fail(lua_State *L, int rc, const char *msg);
int host_ok(lua_State *L, int rc, const char *msg);

/* The C cores (bind_*.c). */
int luaopen_core_fs(lua_State *L);
int luaopen_core_journal(lua_State *L);
int luaopen_core_net(lua_State *L);
int luaopen_core_pci(lua_State *L);
int luaopen_core_qmp(lua_State *L);
int luaopen_core_sim(lua_State *L);
int luaopen_core_sys(lua_State *L);
int luaopen_core_vfio(lua_State *L);

#endif
