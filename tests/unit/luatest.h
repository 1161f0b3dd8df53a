// SPDX-License-Identifier: MIT
// Test helpers for the cmocka tests of the Lua bindings: run a chunk in the test's Lua state L
// and require it to succeed, or to raise an error whose message holds a given text.
//
// Contract. Include after cmocka.h, lua.h and lauxlib.h. This header defines the state the
// helpers use, `static lua_State *L`: the test's setup creates it, its teardown closes it. A
// failure names the test file's line and Lua's message; the stack is emptied after each chunk.
#ifndef VFLAUNCH_TEST_LUATEST_H
#define VFLAUNCH_TEST_LUATEST_H

#include <string.h>

static lua_State *L;

/* Run chunk; fail the test with Lua's message if it raises. */
#define lua_ok(chunk) lua_ok_(chunk, __FILE__, __LINE__)
static void lua_ok_(const char *chunk, const char *file, int line)
{
	if (luaL_dostring(L, chunk) != LUA_OK) {
		print_message("%s:%d: %s\n", file, line, lua_tostring(L, -1));
		_fail(file, line);
	}
	lua_settop(L, 0);
}

/* Run chunk; it must raise an error whose message contains want. */
#define lua_raises(chunk, want) lua_raises_(chunk, want, __FILE__, __LINE__)
static void lua_raises_(const char *chunk, const char *want, const char *file, int line)
{
	if (luaL_dostring(L, chunk) == LUA_OK) {
		print_message("%s:%d: no error, wanted one with \"%s\"\n", file, line, want);
		_fail(file, line);
	}
	const char *msg = lua_tostring(L, -1);
	if (!msg || !strstr(msg, want)) {
		print_message("%s:%d: error \"%s\", wanted one with \"%s\"\n", file, line,
		              msg ? msg : "(not a string)", want);
		_fail(file, line);
	}
	lua_settop(L, 0);
}

#endif
