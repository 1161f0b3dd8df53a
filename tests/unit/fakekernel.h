// SPDX-License-Identifier: MIT
// Test fixture: a simhost tree under mkdtemp plus a write(2) wrapper that plays the kernel.
//
// Contract. A test binary that includes this (after cmocka.h) links with -Wl,--wrap=write
// -Wl,--wrap=open. open() drops O_TRUNC under sys/, as sysfs ignores it. fk_setup(host)
// makes BASE (mkdtemp) holding sys/ (simhost_build of host), dev/, proc/, run/; fk_teardown
// removes BASE. Every write() whose fd names a file under sys/ is
//   - logged as "KEY=VALUE" (newlines shown as \n), KEY being "ADDR/attr" for a device's
//     attribute, or the path below bus/pci/ ("drivers_probe", "drivers/ixgbevf/unbind");
//     a write made to fail is logged with " !fail" appended;
//   - failed on request: fk_fail(substring of KEY, skip, count, errno or FK_SHORT) fails
//     `count` matching writes (-1: all) after skipping `skip`, with that errno or, for
//     FK_SHORT, by writing one byte less (a short write) and changing nothing;
//   - otherwise given the kernel's effect (tests/tools/fakekernel-core.h, shared with the
//     LD_PRELOAD shim build/fakekernel.so): driver_override, drivers/NAME/unbind,
//     drivers_probe (the override, else the native driver: the one the device had when the
//     tree was built, or fk_native()), sriov_numvfs (EBUSY, ERANGE; VF directories are NOT
//     created or removed), anything else holds the value. fk.refuse names a driver whose
//     probe binds nothing (the write still succeeds, as in Linux) or, when fk.instead is
//     set, binds that driver (a race).
// Writes elsewhere (the journal, cmocka's output) go to the real write().
#ifndef VFLAUNCH_TEST_FAKEKERNEL_H
#define VFLAUNCH_TEST_FAKEKERNEL_H

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "simhost.h"
#include "sysfs.h"

/* A path or log line that does not fit fails the test: a cut path would name another file. */
#define FK_CHECK(cond) assert_true(cond)
#include "../tools/fakekernel-core.h"

#define FK_LOGMAX 64
#define fk_fmt fkc_fmt

static struct {
	char base[PATH_MAX], sys[PATH_MAX], dev[PATH_MAX], proc[PATH_MAX], run[PATH_MAX];
	char log[FK_LOGMAX][192];
	size_t nlog;
	struct fk_failrule fail;
	const char *refuse, *instead;
	struct fk_native native[256];
	size_t nnative;
} fk;

ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);
ssize_t __wrap_write(int fd, const void *buf, size_t n);

/* sysfs ignores O_TRUNC (a store method sees only the write); a plain file would lose its
 * value at open, before a failing write could leave it alone. */
int __wrap_open(const char *path, int flags, ...)
{
	size_t len = strlen(fk.sys);
	mode_t mode = 0;

	if (flags & O_CREAT) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (len && strncmp(path, fk.sys, len) == 0 && path[len] == '/')
		flags &= ~O_TRUNC;
	return __real_open(path, flags, mode);
}

static void fk_fail(const char *match, int skip, int count, int err)
{
	fk.fail = (struct fk_failrule){ match, skip, count, err };
}

static void fk_native(const char *addr, const char *driver)
{
	for (size_t i = 0; i < fk.nnative; i++)
		if (strcmp(fk.native[i].addr, addr) == 0) {
			fk_fmt(fk.native[i].driver, sizeof fk.native[i].driver, "%s", driver);
			return;
		}
	if (fk.nnative < sizeof fk.native / sizeof fk.native[0]) {
		fk_fmt(fk.native[fk.nnative].addr, sizeof fk.native[0].addr, "%s", addr);
		fk_fmt(fk.native[fk.nnative++].driver, sizeof fk.native[0].driver, "%s", driver);
	}
}

/* The kernel's view of the fixture's state, for the shared effect code. */
static struct fk_kernel fk_kernel(void)
{
	return (struct fk_kernel){ fk.sys, fk.refuse, fk.instead, fk.native, fk.nnative, 0 };
}

/* The device's current driver link name, "" when unbound. */
static const char *fk_driver(const char *addr)
{
	return fkc_driver(fk.sys, addr);
}

/* A device attribute's text, "" when unreadable. */
static const char *fk_attr(const char *addr, const char *attr)
{
	return fkc_attr(fk.sys, addr, attr);
}

static int fk_put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int fk_setup(const char *host)
{
	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX], path[PATH_MAX], sys[PATH_MAX];
	struct dirent *de;

	memset(&fk, 0, sizeof fk);
	fk_fmt(dir, sizeof dir, "%s/vflaunch-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir) || !realpath(dir, fk.base))
		return -1;
	fk_fmt(sys, sizeof sys, "%s/sys", fk.base);
	fk_fmt(fk.dev, sizeof fk.dev, "%s/dev", fk.base);
	fk_fmt(fk.proc, sizeof fk.proc, "%s/proc", fk.base);
	fk_fmt(fk.run, sizeof fk.run, "%s/run", fk.base);
	if (mkdir(sys, 0755) < 0 || mkdir(fk.dev, 0755) < 0 || mkdir(fk.proc, 0755) < 0 ||
	    simhost_build(simhost_find(host), sys) < 0)
		return -1;
	/* Only now: the generator's own writes are not the kernel's business. */
	memcpy(fk.sys, sys, sizeof sys);
	fk_fmt(path, sizeof path, "%s/bus/pci/devices", fk.sys);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			fk_native(de->d_name, fk_driver(de->d_name));
	closedir(d);
	return 0;
}

static int fk_teardown(void)
{
	return rmtree(fk.base) < 0 ? -1 : 0;
}

static void fk_log(void *ctx, const char *line)
{
	size_t n = strlen(line);

	(void)ctx;
	if (fk.nlog >= FK_LOGMAX)
		return;
	n = n < sizeof fk.log[0] - 1 ? n : sizeof fk.log[0] - 1;
	memcpy(fk.log[fk.nlog], line, n);
	fk.log[fk.nlog++][n] = '\0';
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	char path[PATH_MAX];
	struct fk_kernel k = fk_kernel();

	if (!fkc_fd_path(&k, fd, path, sizeof path))
		return __real_write(fd, buf, n);
	return fkc_play(&k, &fk.fail, fd, path, buf, n, fk_log, NULL);
}

/* Compare the log with want (NULL-terminated); on mismatch print both, then fail. */
#define fk_expect(...) fk_expect_((const char *const[]){ __VA_ARGS__, NULL }, __FILE__, __LINE__)
#define fk_expect_none() fk_expect_((const char *const[]){ NULL }, __FILE__, __LINE__)

static void fk_expect_(const char *const *want, const char *file, int line)
{
	size_t n = 0;
	int same;

	while (want[n])
		n++;
	same = n == fk.nlog;
	for (size_t i = 0; same && i < n; i++)
		same = strcmp(want[i], fk.log[i]) == 0;
	if (same)
		return;
	print_message("%s:%d: sysfs writes differ\n  wanted:\n", file, line);
	for (size_t i = 0; i < n; i++)
		print_message("    %s\n", want[i]);
	print_message("  got:\n");
	for (size_t i = 0; i < fk.nlog; i++)
		print_message("    %s\n", fk.log[i]);
	_fail(file, line);
}

#endif
