// SPDX-License-Identifier: MIT
// Unit tests of proc.c against a fake procfs under mkdtemp: start times, and what "alive" means
// (the process that started then, and not a zombie).
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "proc.h"

static char root[64];

static int setup(void **state)
{
	(void)state;
	strcpy(root, "/tmp/vflaunch-proc-XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* A /proc/PID/stat as the kernel writes it: comm in parentheses, then state, ..., field 22. */
static void stat_file(int pid, const char *comm, char state, unsigned long long start)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%d", root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/%d/stat", root, pid);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "%d (%s) %c 1 %d %d 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 %llu 1000 10 "
	        "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n", pid, comm, state, pid,
	        pid, start);
	fclose(f);
}

static void test_proc_starttime(void **state)
{
	unsigned long long start = 0;

	(void)state;
	stat_file(100, "qemu-system-aar", 'S', 4242);
	assert_int_equal(proc_starttime(root, 100, &start), 0);
	assert_int_equal(start, 4242);
	stat_file(101, "a) b) Z c", 'R', 77); /* a comm holding ") Z" is not the state */
	assert_int_equal(proc_starttime(root, 101, &start), 0);
	assert_int_equal(start, 77);
	assert_int_equal(proc_starttime(root, 999, &start), -ESRCH);
}

static void test_proc_alive(void **state)
{
	(void)state;
	stat_file(200, "qemu", 'S', 500);
	assert_true(proc_alive(root, 200, 500));
	assert_false(proc_alive(root, 200, 501)); /* the pid was reused */
	assert_false(proc_alive(root, 201, 500)); /* gone */
	stat_file(202, "a) b) Z c", 'S', 9);
	assert_true(proc_alive(root, 202, 9));
}

/* An ended process its parent has not reaped yet holds nothing: not alive. */
static void test_proc_zombie_not_alive(void **state)
{
	(void)state;
	stat_file(300, "qemu-system-aar", 'Z', 600);
	assert_false(proc_alive(root, 300, 600));
	stat_file(301, "qemu-system-aar", 'X', 600);
	assert_false(proc_alive(root, 301, 600));
	stat_file(302, "qemu-system-aar", 'D', 600); /* blocked in the kernel: alive */
	assert_true(proc_alive(root, 302, 600));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proc_starttime),
		cmocka_unit_test(test_proc_alive),
		cmocka_unit_test(test_proc_zombie_not_alive),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
