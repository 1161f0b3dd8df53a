// SPDX-License-Identifier: MIT
// The QMP layer against a scripted fake QMP server (a forked child on a unix socket): the C
// transport (qmp.c: lines, deadlines, a server that closes or hangs) and the Lua session above it
// (lua/qmp.lua, loaded from the source tree: greeting, capabilities, errors, events interleaved
// with replies and kept for take_event). Run from the top of the tree, as make check-unit does.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <lauxlib.h>
#include <lua-cjson.h>
#include <lua.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host.h"
#include "qmp.h"

/* A server script: each step sends a line, reads a line that must contain a text, sleeps, or
 * closes the connection. */
enum op { SEND, EXPECT, SLEEP_MS, CLOSE, END };
struct step {
	enum op op;
	const char *text;
	int ms;
};

static char sock_path[108];
static pid_t server;

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7}}, \"capabilities\": []}}"

/* The child: accept one connection, play the script, exit 0 if every EXPECT matched. */
static void serve(int lfd, const struct step *s)
{
	int fd = accept(lfd, NULL, NULL);
	FILE *in;
	char line[4096];

	if (fd < 0)
		_exit(10);
	in = fdopen(dup(fd), "r");
	for (; s->op != END; s++) {
		switch (s->op) {
		case SEND:
			if (write(fd, s->text, strlen(s->text)) < 0 || write(fd, "\n", 1) < 0)
				_exit(11);
			break;
		case EXPECT:
			if (!fgets(line, sizeof line, in) || !strstr(line, s->text))
				_exit(12);
			break;
		case SLEEP_MS:
			usleep((useconds_t)s->ms * 1000);
			break;
		case CLOSE:
			close(fd);
			_exit(0);
		default:
			break;
		}
	}
	_exit(0);
}

static void start(const struct step *script)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sock_path, sizeof sock_path, "/tmp/vflaunch-test-qmp-%d.sock", (int)getpid());
	unlink(sock_path);
	strcpy(sa.sun_path, sock_path);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(lfd, 1), 0);
	server = fork();
	assert_true(server >= 0);
	if (server == 0)
		serve(lfd, script);
	close(lfd);
}

/* The server's verdict: 0 when it played its whole script. */
static int finish(void)
{
	int st = 0, i;

	for (i = 0; i < 400 && waitpid(server, &st, WNOHANG) == 0; i++)
		usleep(10000);
	if (i == 400) {
		kill(server, SIGTERM);
		waitpid(server, &st, 0);
	}
	unlink(sock_path);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_transport_lines(void **state)
{
	static const struct step script[] = {
		{ SEND, GREETING, 0 },
		{ EXPECT, "qmp_capabilities", 0 },
		{ SEND, "{\"return\": {}}", 0 },
		{ SLEEP_MS, NULL, 300 },
		{ END, NULL, 0 },
	};
	struct qmp_conn c;
	char line[1024];

	(void)state;
	start(script);
	assert_int_equal(qmp_connect(&c, sock_path, 2000), 0);
	assert_true(qmp_read_line(&c, line, sizeof line, 2000) > 0);
	assert_non_null(strstr(line, "\"QMP\""));
	assert_int_equal(qmp_write(&c, "{\"execute\": \"qmp_capabilities\"}\n", 32), 0);
	assert_int_equal(qmp_read_line(&c, line, sizeof line, 2000), (int)strlen("{\"return\": {}}"));
	assert_string_equal(line, "{\"return\": {}}");
	/* Nothing more comes: the deadline, not a hang. */
	assert_int_equal(qmp_read_line(&c, line, sizeof line, 100), -ETIMEDOUT);
	qmp_close(&c);
	assert_int_equal(finish(), 0);
}

static void test_transport_closed_and_missing(void **state)
{
	static const struct step script[] = {
		{ SEND, GREETING, 0 },
		{ CLOSE, NULL, 0 },
		{ END, NULL, 0 },
	};
	struct qmp_conn c;
	char line[1024];

	(void)state;
	start(script);
	assert_int_equal(qmp_connect(&c, sock_path, 2000), 0);
	assert_true(qmp_read_line(&c, line, sizeof line, 2000) > 0);
	assert_int_equal(qmp_read_line(&c, line, sizeof line, 2000), -EPIPE);
	qmp_close(&c);
	finish();
	/* No server at all, and a path no socket address holds. */
	assert_int_equal(qmp_connect(&c, "/nonexistent/qmp.sock", 500), -ENOENT);
	memset(line, 'a', 200);
	line[0] = '/';
	line[200] = '\0';
	assert_int_equal(qmp_connect(&c, line, 500), -ENAMETOOLONG);
}

/* --- The Lua session (lua/qmp.lua) over the same transport. */

static lua_State *L;

static int lua_setup(void **state)
{
	(void)state;
	L = luaL_newstate();
	luaL_openlibs(L);
	/* core: the bindings the session uses, as the host passes them to embedded modules. */
	lua_newtable(L);
	luaL_requiref(L, "qmp", luaopen_core_qmp, 0);
	lua_setfield(L, -2, "qmp");
	luaL_requiref(L, "sys", luaopen_core_sys, 0);
	lua_setfield(L, -2, "sys");
	luaL_requiref(L, "cjson", luaopen_cjson, 0);
	lua_setfield(L, -2, "cjson");
	lua_setglobal(L, "core");
	if (luaL_dostring(L, "package.preload['vflaunch.util'] = function() "
	                     "return assert(loadfile('lua/util.lua'))(nil, core) end "
	                     "package.preload['vflaunch.json'] = function() "
	                     "return assert(loadfile('lua/json.lua'))(nil, core) end "
	                     "Q = assert(loadfile('lua/qmp.lua'))(nil, core)") != LUA_OK) {
		print_message("%s\n", lua_tostring(L, -1));
		return -1;
	}
	return 0;
}

static int lua_teardown(void **state)
{
	(void)state;
	lua_close(L);
	return 0;
}

static void lua_ok(const char *chunk)
{
	lua_pushstring(L, sock_path);
	lua_setglobal(L, "SOCK");
	if (luaL_dostring(L, chunk) != LUA_OK) {
		print_message("%s\n", lua_tostring(L, -1));
		fail();
	}
}

static void test_session_events_and_errors(void **state)
{
	static const struct step script[] = {
		{ SEND, GREETING, 0 },
		{ EXPECT, "qmp_capabilities", 0 },
		{ SEND, "{\"return\": {}}", 0 },
		{ EXPECT, "device_del", 0 },
		/* An event before the reply: kept, the reply still found. */
		{ SEND, "{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"hostdev1\"}}", 0 },
		{ SEND, "{\"return\": {}}", 0 },
		{ EXPECT, "device_add", 0 },
		{ SEND, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Duplicate device ID 'x'\"}}", 0 },
		{ EXPECT, "query-pci", 0 },
		{ SLEEP_MS, NULL, 200 }, /* a slow answer within the deadline */
		{ SEND, "{\"timestamp\": {}, \"event\": \"RESUME\"}", 0 },
		{ SEND, "{\"return\": [{\"bus\": 0, \"devices\": []}]}", 0 },
		{ SLEEP_MS, NULL, 300 },
		{ SEND, "{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"hostdev2\"}}", 0 },
		{ EXPECT, "quit", 0 },
		{ SEND, "not json", 0 },
		{ SLEEP_MS, NULL, 500 },
		{ END, NULL, 0 },
	};

	(void)state;
	start(script);
	lua_ok("local s = assert(Q.connect(SOCK, 2))\n"
	       "assert(s:execute('device_del', { id = 'hostdev1' }, 2))\n"
	       "local r, e = s:execute('device_add', { id = 'x' }, 2)\n"
	       "assert(r == nil and e:find(\"Duplicate device ID 'x'\", 1, true), e)\n"
	       "local pci = assert(s:execute('query-pci', nil, 2))\n"
	       "assert(pci[1].bus == 0)\n"
	       "local function deleted(id) return function(ev) return ev.event == 'DEVICE_DELETED' "
	       "  and ev.data.device == id end end\n"
	       "assert(s:take_event(deleted('hostdev1'), 0.1), 'the event kept while waiting')\n"
	       "assert(s:take_event(deleted('hostdev2'), 2), 'the event that came later')\n"
	       "local ev, why = s:take_event(deleted('hostdev3'), 0.2)\n"
	       "assert(ev == nil and why:find('in time'), why)\n"
	       "assert(#s.events == 1 and s.events[1].event == 'RESUME', 'other events stay')\n"
	       "local q, qe = s:execute('quit', nil, 2)\n"
	       "assert(q == nil and qe:find('not a JSON object'), qe)\n"
	       "s:close()\n");
	assert_int_equal(finish(), 0);
}

static void test_session_hang_and_close(void **state)
{
	static const struct step hang[] = {
		{ SEND, GREETING, 0 },
		{ EXPECT, "qmp_capabilities", 0 },
		{ SLEEP_MS, NULL, 3000 }, /* never answers in time */
		{ END, NULL, 0 },
	};
	static const struct step not_qemu[] = {
		{ SEND, "{\"hello\": 1}", 0 },
		{ SLEEP_MS, NULL, 500 },
		{ END, NULL, 0 },
	};
	static const struct step closes[] = {
		{ SEND, GREETING, 0 },
		{ EXPECT, "qmp_capabilities", 0 },
		{ SEND, "{\"return\": {}}", 0 },
		{ EXPECT, "query-pci", 0 },
		{ CLOSE, NULL, 0 },
		{ END, NULL, 0 },
	};

	(void)state;
	start(hang);
	lua_ok("local s, e = Q.connect(SOCK, 0.5)\n"
	       "assert(s == nil and e:find('no answer in time') or e:find('no reply in time'), e)\n");
	finish();
	start(not_qemu);
	lua_ok("local s, e = Q.connect(SOCK, 1)\n"
	       "assert(s == nil and e:find('did not greet as a QEMU monitor'), e)\n");
	finish();
	start(closes);
	lua_ok("local s = assert(Q.connect(SOCK, 2))\n"
	       "local r, e = s:execute('query-pci', nil, 2)\n"
	       "assert(r == nil and e:find('QMP'), e)\n"
	       "s:close()\n");
	assert_int_equal(finish(), 0);
}

int main(void)
{
	const struct CMUnitTest transport[] = {
		cmocka_unit_test(test_transport_lines),
		cmocka_unit_test(test_transport_closed_and_missing),
	};
	const struct CMUnitTest session[] = {
		cmocka_unit_test(test_session_events_and_errors),
		cmocka_unit_test(test_session_hang_and_close),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(transport, NULL, NULL) |
	       cmocka_run_group_tests(session, lua_setup, lua_teardown);
}
