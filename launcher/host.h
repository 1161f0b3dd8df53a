// SPDX-License-Identifier: MIT
// The Lua host: a state with the embedded modules preloaded, and protected calls that report once.
#ifndef VFLAUNCH_HOST_H
#define VFLAUNCH_HOST_H

#include <lua.h>

/* A fresh state: standard libraries, package.path/cpath stripped of relative entries,
 * the embedded lua/ modules and the C cores in package.preload. NULL when out of memory. */
lua_State *host_new(void);

/* Call the function below its nargs arguments under a traceback handler. On error, print
 * one line ("vflaunch: MESSAGE") on stderr, the traceback too when verbose, and return
 * the exit status the error carries (1 when it carries none). 0 on success, with nresults
 * results left on the stack. */
int host_pcall(lua_State *L, int nargs, int nresults, int verbose);

/* The C cores the host preloads (bind_*.c). */
int luaopen_core_journal(lua_State *L);
int luaopen_core_pci(lua_State *L);
int luaopen_core_sys(lua_State *L);
int luaopen_core_vfio(lua_State *L);

#endif
