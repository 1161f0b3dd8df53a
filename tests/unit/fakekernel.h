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
//   - otherwise given the kernel's effect, which a fake tree cannot have by itself:
//       driver_override      the file holds the value without its newline, "(null)" if empty;
//       drivers/NAME/unbind  removes the device's driver link (ENODEV if not bound to NAME);
//       drivers_probe        an unbound device gets a driver link: its override when set and
//                            that driver exists, else its native driver (the one it had when
//                            the tree was built, or fk_native()); fk.refuse names a driver
//                            whose probe binds nothing (the write still succeeds, as in Linux)
//                            or, when fk.instead is set, binds that driver (a race);
//       sriov_numvfs         EBUSY between two non-zero counts, ERANGE above sriov_totalvfs;
//                            VF directories are NOT created or removed;
//       anything else        the file holds the value.
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

#define FK_SHORT (-1)
#define FK_LOGMAX 64

struct fk_native {
	char addr[16];
	char driver[64];
};

static struct {
	char base[PATH_MAX], sys[PATH_MAX], dev[PATH_MAX], proc[PATH_MAX], run[PATH_MAX];
	char log[FK_LOGMAX][192];
	size_t nlog;
	const char *fail_match;
	int fail_skip, fail_count, fail_errno;
	const char *refuse, *instead;
	struct fk_native native[256];
	size_t nnative;
} fk;

ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);

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

/* snprintf that aborts the test on truncation: a cut path would name another file. */
static void fk_fmt(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fk_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < size);
}
ssize_t __wrap_write(int fd, const void *buf, size_t n);

static void fk_fail(const char *match, int skip, int count, int err)
{
	fk.fail_match = match;
	fk.fail_skip = skip;
	fk.fail_count = count;
	fk.fail_errno = err;
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

static const char *native_of(const char *addr)
{
	for (size_t i = 0; i < fk.nnative; i++)
		if (strcmp(fk.native[i].addr, addr) == 0)
			return fk.native[i].driver;
	return "";
}

/* The device's current driver link name, "" when unbound. */
static const char *fk_driver(const char *addr)
{
	static char name[64];
	char path[PATH_MAX];

	fk_fmt(path, sizeof path, "%s/bus/pci/devices/%s/driver", fk.sys, addr);
	if (sysfs_link_name(path, name, sizeof name) < 0)
		name[0] = '\0';
	return name;
}

/* A device attribute's text, "" when unreadable. */
static const char *fk_attr(const char *addr, const char *attr)
{
	static char value[256];
	char path[PATH_MAX];

	fk_fmt(path, sizeof path, "%s/bus/pci/devices/%s/%s", fk.sys, addr, attr);
	if (sysfs_read(path, value, sizeof value) < 0)
		value[0] = '\0';
	return value;
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

static void fk_log(const char *key, const char *buf, size_t n, int failed)
{
	char *out;
	size_t k;

	if (fk.nlog >= FK_LOGMAX)
		return;
	out = fk.log[fk.nlog++];
	fk_fmt(out, sizeof fk.log[0], "%s=", key);
	k = strlen(out);
	for (size_t i = 0; i < n && k + 3 < sizeof fk.log[0]; i++) {
		if (buf[i] == '\n') {
			out[k++] = '\\';
			out[k++] = 'n';
		} else {
			out[k++] = buf[i];
		}
	}
	out[k] = '\0';
	if (failed)
		fk_fmt(out + k, sizeof fk.log[0] - k, " !fail");
}

/* Effects, as the kernel's store methods have them. 0, or an errno to fail with. */
static int fk_effect(int fd, const char *key, const char *path, const char *value)
{
	char dev[PATH_MAX], link[PATH_MAX], target[PATH_MAX], text[80];
	const char *base = strrchr(key, '/') ? strrchr(key, '/') + 1 : key;

	if (strcmp(key, "drivers_probe") == 0) {
		const char *drv;
		fk_fmt(dev, sizeof dev, "%s/bus/pci/devices/%s", fk.sys, value);
		if (access(dev, F_OK) < 0)
			return ENODEV;
		if (fk_driver(value)[0])
			return 0;
		drv = fk_attr(value, "driver_override");
		drv = strcmp(drv, "(null)") && drv[0] ? drv : native_of(value);
		if (fk.refuse && !strcmp(fk.refuse, drv))
			drv = fk.instead ? fk.instead : "";
		fk_fmt(target, sizeof target, "%s/bus/pci/drivers/%s", fk.sys, drv);
		if (!drv[0] || access(target, F_OK) < 0)
			return 0;
		fk_fmt(link, sizeof link, "%s/driver", dev);
		if (symlink(target, link) < 0 || !realpath(dev, link))
			return errno;
		fk_fmt(target, sizeof target, "%s/bus/pci/drivers/%s/%s", fk.sys, drv, value);
		return symlink(link, target) < 0 ? errno : 0;
	}
	if (strcmp(base, "unbind") == 0) {
		char drv[64];
		fk_fmt(drv, sizeof drv, "%.*s", (int)(base - 1 - key - 8), key + 8);
		if (strcmp(fk_driver(value), drv) != 0)
			return ENODEV;
		fk_fmt(link, sizeof link, "%s/bus/pci/devices/%s/driver", fk.sys, value);
		fk_fmt(target, sizeof target, "%s/bus/pci/drivers/%s/%s", fk.sys, drv, value);
		unlink(target);
		return unlink(link) < 0 ? errno : 0;
	}
	if (strcmp(base, "sriov_numvfs") == 0) {
		char addr[16];
		long cur, total, n = strtol(value, NULL, 10);
		fk_fmt(addr, sizeof addr, "%.*s", (int)(base - 1 - key), key);
		cur = strtol(fk_attr(addr, "sriov_numvfs"), NULL, 10);
		total = strtol(fk_attr(addr, "sriov_totalvfs"), NULL, 10);
		if (n > total)
			return ERANGE;
		if (cur && n && cur != n)
			return EBUSY;
	}
	fk_fmt(text, sizeof text, "%s\n", strcmp(base, "driver_override") || value[0] ? value : "(null)");
	(void)path;
	return ftruncate(fd, 0) < 0 || pwrite(fd, text, strlen(text), 0) < 0 ? errno : 0;
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	char proc[64], path[PATH_MAX], key[PATH_MAX], value[80];
	size_t len = strlen(fk.sys);
	ssize_t got;

	fk_fmt(proc, sizeof proc, "/proc/self/fd/%d", fd);
	got = fk.sys[0] ? readlink(proc, path, sizeof path - 1) : -1;
	if (got < 0 || (size_t)got <= len || strncmp(path, fk.sys, len) != 0 || path[len] != '/')
		return __real_write(fd, buf, n);
	path[got] = '\0';
	/* KEY: below bus/pci/ as is; a device attribute as ADDR/attr. */
	const char *rel = path + len + 1, *slash = strrchr(rel, '/');
	if (strncmp(rel, "bus/pci/", 8) == 0) {
		fk_fmt(key, sizeof key, "%s", rel + 8);
	} else {
		const char *p = slash;
		while (p > rel && p[-1] != '/')
			p--;
		fk_fmt(key, sizeof key, "%s", p);
	}
	fk_fmt(value, sizeof value, "%.*s", (int)(n < sizeof value ? n : sizeof value - 1),
	         (const char *)buf);
	value[strcspn(value, "\n")] = '\0';   /* the kernel strips one trailing newline */

	if (fk.fail_match && strstr(key, fk.fail_match) && fk.fail_count != 0) {
		if (fk.fail_skip > 0) {
			fk.fail_skip--;
		} else {
			if (fk.fail_count > 0)
				fk.fail_count--;
			fk_log(key, buf, n, 1);
			if (fk.fail_errno == FK_SHORT)
				return (ssize_t)n - 1;
			errno = fk.fail_errno;
			return -1;
		}
	}
	int err = fk_effect(fd, key, path, value);
	fk_log(key, buf, n, err != 0);
	if (err) {
		errno = err;
		return -1;
	}
	return (ssize_t)n;
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
