// SPDX-License-Identifier: MIT
// Lua binding "sys" of vflaunch's core: processes (exec, a supervised child, run-and-capture),
// signals that interrupt the Lua code at a safe point, /proc facts, clocks, the write latch.
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "proc.h"
#include "run.h"
#include "sysfs.h"

#define ARGV_MAX (1 << 20)   /* more words than any kernel takes (E2BIG long before) */

/* argv at index arg: a proper list of 1..ARGV_MAX strings without NUL bytes. Raises before
 * anything is held; the array lives in GC-owned memory (pushed on the stack). */
static char **check_argv(lua_State *L, int arg)
{
	luaL_checktype(L, arg, LUA_TTABLE);
	lua_Unsigned n = lua_rawlen(L, arg); /* never __len: a lying length cannot size a buffer */
	luaL_argcheck(L, n > 0, arg, "empty argv");
	luaL_argcheck(L, n <= ARGV_MAX, arg, "argv too long");
	char **argv = lua_newuserdatauv(L, sizeof(char *) * ((size_t)n + 1), 0);
	for (lua_Unsigned i = 1; i <= n; i++) {
		size_t len;
		if (lua_rawgeti(L, arg, (lua_Integer)i) != LUA_TSTRING)
			luaL_argerror(L, arg, lua_pushfstring(L, "argv[%d] is a %s, not a string",
			              (int)i, luaL_typename(L, -1)));
		const char *s = lua_tolstring(L, -1, &len);
		if (strlen(s) != len)
			luaL_argerror(L, arg, lua_pushfstring(L, "argv[%d] holds a NUL byte", (int)i));
		argv[i - 1] = (char *)s; /* the table at arg keeps the string alive */
		lua_pop(L, 1);
	}
	argv[n] = NULL;
	return argv;
}

static int fail(lua_State *L, int rc, const char *what)
{
	luaL_pushfail(L);
	lua_pushfstring(L, "%s: %s", what, strerror(-rc));
	lua_pushinteger(L, -rc);
	return 3;
}

/* exec(argv) -> (only on failure) nil, message, status: 127 not found, 126 not executable */
static int sys_exec(lua_State *L)
{
	char **argv = check_argv(L, 1);
	int rc = run_exec(argv);

	luaL_pushfail(L);
	lua_pushfstring(L, "cannot execute %s: %s", argv[0], strerror(-rc));
	lua_pushinteger(L, rc == -ENOENT ? EXIT_EXEC_NOTFOUND : EXIT_EXEC_FAILED);
	return 3;
}

/* spawn(argv) -> pid | nil, message, errno; SIGINT/SIGTERM/SIGHUP are forwarded to the child
 * from the moment it exists until wait(pid) returns */
static int sys_spawn(lua_State *L)
{
	char **argv = check_argv(L, 1);
	pid_t pid;
	int rc = run_spawn(argv, &pid);

	if (rc < 0)
		return fail(L, rc, argv[0]);
	lua_pushinteger(L, pid);
	return 1;
}

/* wait(pid) -> exit status (128 + N when signal N ended it) | nil, message, errno */
static int sys_wait(lua_State *L)
{
	lua_Integer pid = luaL_checkinteger(L, 1);
	luaL_argcheck(L, pid > 0 && pid <= 0x7fffffff, 1, "not a pid");
	int st = run_wait((pid_t)pid);
	if (st < 0)
		return fail(L, st, "waitpid");
	lua_pushinteger(L, st);
	return 1;
}

/* run(argv, timeout_seconds, echo) -> {status=, timed_out=, interrupted=, output=}
 * | nil, message, errno. echo: copy the child's output to stderr as it comes. */
static int sys_run(lua_State *L)
{
	/* The other arguments first: check_argv pushes its buffer, which a missing argument 2 or 3
	 * would then read as (a userdata is true: run(argv, 30) echoed QEMU's -machine help). */
	lua_Integer timeout = luaL_optinteger(L, 2, 600);
	int echo = lua_toboolean(L, 3), err;
	char **argv = check_argv(L, 1);
	struct run_result res;

	luaL_argcheck(L, timeout > 0 && timeout <= 86400 * 7, 2, "timeout out of range");
	err = run_capture(argv, (int)timeout, echo ? 2 : -1, &res);
	if (err < 0)
		return fail(L, err, argv[0]);
	lua_createtable(L, 0, 4);
	lua_pushinteger(L, res.status);
	lua_setfield(L, -2, "status");
	lua_pushboolean(L, res.timed_out);
	lua_setfield(L, -2, "timed_out");
	lua_pushboolean(L, run_stop_signal != 0);
	lua_setfield(L, -2, "interrupted");
	/* Pushing the output may raise (memory): the result must not leak, so copy first. */
	lua_pushlstring(L, res.output, res.length);
	run_result_free(&res);
	lua_setfield(L, -2, "output");
	return 1;
}

/* --- signals: SIGINT, SIGTERM and SIGHUP stop the Lua code at its next instruction, unless
 * held (while a host change or a give-back is half done), or forwarded to a supervised QEMU. */

static lua_State *signal_state;
static volatile sig_atomic_t pending_signal, signals_held, interrupted;

static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	lua_sethook(L, NULL, 0, 0);
	interrupted = 1; /* once: what runs after (the give-back) is not interrupted again */
	lua_getfield(L, LUA_REGISTRYINDEX, "vflaunch.interrupt");
	lua_pushinteger(L, pending_signal);
	lua_call(L, 1, 0); /* raises the run's "interrupted" error */
}

static void arm_hook(void)
{
	/* lua_sethook is safe to call from a signal handler (lua.c does it). */
	if (signal_state)
		lua_sethook(signal_state, interrupt_hook,
		            LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static void on_signal(int sig)
{
	if (run_forward_pid > 0) {
		kill((pid_t)run_forward_pid, sig);
		return;
	}
	run_stop_signal = sig;      /* run_capture stops its child */
	if (pending_signal)
		return;                 /* the first one decides the exit status */
	pending_signal = sig;
	if (!signals_held && !interrupted)
		arm_hook();
}

/* catch_signals(fn): from now on SIGINT/SIGTERM/SIGHUP call fn(signo) at the next Lua
 * instruction (fn raises). Blocking system calls return EINTR instead of restarting. */
static int sys_catch_signals(lua_State *L)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_pushvalue(L, 1);
	lua_setfield(L, LUA_REGISTRYINDEX, "vflaunch.interrupt");
	lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
	signal_state = lua_tothread(L, -1);
	lua_pop(L, 1);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
	return 0;
}

/* hold_signals(true|false): while held a signal is only recorded; released, a recorded one
 * interrupts at once. Returns the previous setting. */
static int sys_hold_signals(lua_State *L)
{
	int was = signals_held;

	signals_held = lua_toboolean(L, 1);
	if (!signals_held && pending_signal && !interrupted)
		arm_hook();
	lua_pushboolean(L, was);
	return 1;
}

/* pending_signal() -> the first signal received, or nil */
static int sys_pending_signal(lua_State *L)
{
	if (pending_signal)
		lua_pushinteger(L, pending_signal);
	else
		luaL_pushfail(L);
	return 1;
}

/* kill(pid, signo) -> true | nil, message, errno */
static int sys_kill(lua_State *L)
{
	lua_Integer pid = luaL_checkinteger(L, 1), sig = luaL_checkinteger(L, 2);
	luaL_argcheck(L, pid > 0 && pid <= 0x7fffffff, 1, "not a pid");
	luaL_argcheck(L, sig >= 0 && sig < 65, 2, "not a signal number");
	if (kill((pid_t)pid, (int)sig) < 0)
		return fail(L, -errno, "kill");
	lua_pushboolean(L, 1);
	return 1;
}

/* --- /proc */

static pid_t check_pid(lua_State *L, int arg)
{
	lua_Integer pid = luaL_checkinteger(L, arg);
	luaL_argcheck(L, pid > 0 && pid <= 0x7fffffff, arg, "not a pid");
	return (pid_t)pid;
}

/* starttime(pid [, procroot]) -> clock ticks after boot | nil, message, errno */
static int sys_starttime(lua_State *L)
{
	pid_t pid = check_pid(L, 1);
	unsigned long long start;
	int rc = proc_starttime(luaL_optstring(L, 2, NULL), pid, &start);

	if (rc < 0)
		return fail(L, rc, "process start time");
	lua_pushinteger(L, (lua_Integer)start);
	return 1;
}

/* alive(pid, start [, procroot]) -> boolean: pid runs and is the process that started then */
static int sys_alive(lua_State *L)
{
	pid_t pid = check_pid(L, 1);
	lua_Integer start = luaL_checkinteger(L, 2);

	lua_pushboolean(L, proc_alive(luaL_optstring(L, 3, NULL), pid, (unsigned long long)start));
	return 1;
}

/* comm(pid [, procroot]) -> command name ("" when unreadable) */
static int sys_comm(lua_State *L)
{
	char buf[64];

	proc_comm(luaL_optstring(L, 2, NULL), check_pid(L, 1), buf, sizeof buf);
	lua_pushstring(L, buf);
	return 1;
}

struct holders_box {
	struct proc_holder *v;
};

static int holders_gc(lua_State *L)
{
	struct holders_box *b = lua_touserdata(L, 1);
	free(b->v);
	b->v = NULL;
	return 0;
}

/* holders(prefix [, procroot]) -> { {pid=, target=}, ... }: open descriptors of every process
 * whose target starts with prefix ("/dev/vfio/") */
static int sys_holders(lua_State *L)
{
	const char *prefix = luaL_checkstring(L, 1), *procroot = luaL_optstring(L, 2, NULL);
	struct holders_box *b = lua_newuserdatauv(L, sizeof *b, 0);
	size_t n;

	b->v = NULL;
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, holders_gc);
	lua_setfield(L, -2, "__gc");
	lua_setmetatable(L, -2);
	int rc = proc_holders(procroot, prefix, &b->v, &n);
	if (rc < 0)
		return fail(L, rc, "scanning open files");
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_createtable(L, 0, 2);
		lua_pushinteger(L, b->v[i].pid);
		lua_setfield(L, -2, "pid");
		lua_pushstring(L, b->v[i].target);
		lua_setfield(L, -2, "target");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* --- clocks and identity */

/* clock() -> seconds from an arbitrary point, monotonic */
static int sys_clock(lua_State *L)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
	return 1;
}

/* time() -> seconds since the epoch (wall clock, for records a person reads) */
static int sys_time(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)time(NULL));
	return 1;
}

/* sleep(seconds): a signal cuts it short (the interrupt hook then runs) */
static int sys_sleep(lua_State *L)
{
	lua_Number s = luaL_checknumber(L, 1);
	luaL_argcheck(L, s >= 0 && s <= 3600, 1, "seconds out of range");
	struct timespec ts = { (time_t)s, (long)((s - (lua_Number)(time_t)s) * 1e9) };
	nanosleep(&ts, NULL);
	return 0;
}

/* uptime() -> seconds since boot, as /proc/PID/stat start times count (CLOCK_BOOTTIME) */
static int sys_uptime(lua_State *L)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
	return 1;
}

/* clock_ticks() -> the unit of /proc start times (sysconf(_SC_CLK_TCK)) */
static int sys_clock_ticks(lua_State *L)
{
	lua_pushinteger(L, sysconf(_SC_CLK_TCK));
	return 1;
}

static int sys_getpid(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)getpid());
	return 1;
}

static int sys_geteuid(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)geteuid());
	return 1;
}

/* access(path, mode) -> true | nil, message, errno; mode is a string of r, w, x */
static int sys_access(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1), *m = luaL_optstring(L, 2, "");
	int mode = F_OK;

	mode |= strchr(m, 'r') ? R_OK : 0;
	mode |= strchr(m, 'w') ? W_OK : 0;
	mode |= strchr(m, 'x') ? X_OK : 0;
	if (access(path, mode) < 0)
		return luaL_fileresult(L, 0, path);
	lua_pushboolean(L, 1);
	return 1;
}

/* forbid_writes(): from now on no host write can happen (sysfs, journal, state, modprobe) */
static int sys_forbid_writes(lua_State *L)
{
	(void)L;
	sysfs_forbid_writes();
	return 0;
}

int luaopen_core_sys(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "access", sys_access },
		{ "alive", sys_alive },
		{ "catch_signals", sys_catch_signals },
		{ "clock", sys_clock },
		{ "clock_ticks", sys_clock_ticks },
		{ "comm", sys_comm },
		{ "exec", sys_exec },
		{ "forbid_writes", sys_forbid_writes },
		{ "geteuid", sys_geteuid },
		{ "getpid", sys_getpid },
		{ "hold_signals", sys_hold_signals },
		{ "holders", sys_holders },
		{ "kill", sys_kill },
		{ "pending_signal", sys_pending_signal },
		{ "run", sys_run },
		{ "sleep", sys_sleep },
		{ "spawn", sys_spawn },
		{ "starttime", sys_starttime },
		{ "time", sys_time },
		{ "uptime", sys_uptime },
		{ "wait", sys_wait },
		{ NULL, NULL }
	};

	luaL_newlib(L, funcs);
#ifdef VFLAUNCH_TESTING
	lua_pushboolean(L, 1);
#else
	lua_pushboolean(L, 0);
#endif
	lua_setfield(L, -2, "testing"); /* a test build: honours VFLAUNCH_TEST_* fault injection */
	return 1;
}
