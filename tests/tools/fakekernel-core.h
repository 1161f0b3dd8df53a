// SPDX-License-Identifier: MIT
// The fake kernel's behaviour: what the kernel's PCI sysfs store methods do, played on a
// simulated tree. One copy, shared by the unit fixture (tests/unit/fakekernel.h, linked with
// --wrap=write/open) and the LD_PRELOAD shim for the real binary (tests/tools/fakekernel.c).
//
// Contract. The includer defines FK_CHECK(cond), what to do when a path or line does not fit
// (fail the test, or abort): a cut path would name another file. A write is played when the fd
// names a file below k->sys (a canonical path):
//   KEY   "ADDR/attr" for a device's attribute (the canonical path is devices/.../ADDR/attr),
//         the path below bus/pci/ otherwise ("drivers_probe", "drivers/ixgbevf/unbind");
//   VALUE the bytes written, up to the first newline (the kernel strips one trailing newline);
//   fail  a fk_failrule fails `count` matching writes (-1: all) after skipping `skip`, with its
//         errno or, for FK_SHORT, by writing one byte less; nothing changes;
//   effect as the kernel's store methods have it, which a fake tree cannot have by itself:
//       driver_override      the file holds the value without its newline, "(null)" if empty;
//       drivers/NAME/unbind  removes the device's driver link (ENODEV if not bound to NAME);
//       drivers_probe        an unbound device gets a driver link: its override when set and
//                            that driver exists, else its native driver (k->native); k->refuse
//                            names a driver whose probe binds nothing (the write still succeeds,
//                            as in Linux) or, when k->instead is set, binds that driver (a race);
//       sriov_numvfs         EBUSY between two non-zero counts, ERANGE above sriov_totalvfs;
//                            VF directories are NOT created or removed; with k->sriov_vfs, VFs
//                            act as if they were: a count of 0 unbinds every VF (virtfnN) and
//                            clears its override, and a count n from 0 probes VFs 0..n-1 with
//                            their native driver when sriov_drivers_autoprobe is not 0;
//       anything else        the file holds the value.
#ifndef VFLAUNCH_TEST_FAKEKERNEL_CORE_H
#define VFLAUNCH_TEST_FAKEKERNEL_CORE_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "sysfs.h"

#ifndef FK_CHECK
#error "define FK_CHECK(cond) before including fakekernel-core.h"
#endif

#define FK_SHORT (-1)

struct fk_native {
	char addr[16];
	char driver[64];               /* "" when the device had no driver */
};

/* The kernel's state that is not in the tree. */
struct fk_kernel {
	const char *sys;               /* the tree's root, canonical; "" plays nothing */
	const char *refuse, *instead;  /* probe of this driver binds nothing, or `instead` */
	const struct fk_native *native;/* each device's driver when the tree was first seen */
	size_t nnative;
	int sriov_vfs;                 /* VFs lose and regain drivers with sriov_numvfs */
};

struct fk_failrule {
	const char *match;             /* substring of KEY; NULL fails nothing */
	int skip, count, err;          /* count -1: every match; err an errno or FK_SHORT */
};

/* snprintf that FK_CHECKs truncation. */
static void fkc_fmt(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fkc_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	FK_CHECK(n >= 0 && (size_t)n < size);
}

static const char *fkc_native_of(const struct fk_kernel *k, const char *addr)
{
	for (size_t i = 0; i < k->nnative; i++)
		if (strcmp(k->native[i].addr, addr) == 0)
			return k->native[i].driver;
	return "";
}

/* The device's current driver link name, "" when unbound (a static buffer). */
static const char *fkc_driver(const char *sys, const char *addr)
{
	static char name[64];
	char path[PATH_MAX];

	fkc_fmt(path, sizeof path, "%s/bus/pci/devices/%s/driver", sys, addr);
	if (sysfs_link_name(path, name, sizeof name) < 0)
		name[0] = '\0';
	return name;
}

/* A device attribute's text, "" when unreadable (a static buffer). */
static const char *fkc_attr(const char *sys, const char *addr, const char *attr)
{
	static char value[256];
	char path[PATH_MAX];

	fkc_fmt(path, sizeof path, "%s/bus/pci/devices/%s/%s", sys, addr, attr);
	if (sysfs_read(path, value, sizeof value) < 0)
		value[0] = '\0';
	return value;
}

/* The canonical path of fd into path when it names a file below k->sys: 1, else 0. */
static int fkc_fd_path(const struct fk_kernel *k, int fd, char *path, size_t size)
{
	char proc[64];
	size_t len = k->sys ? strlen(k->sys) : 0;
	ssize_t got;

	if (!len)
		return 0;
	fkc_fmt(proc, sizeof proc, "/proc/self/fd/%d", fd);
	got = readlink(proc, path, size - 1);
	if (got < 0 || (size_t)got <= len || strncmp(path, k->sys, len) != 0 || path[len] != '/')
		return 0;
	path[got] = '\0';
	return 1;
}

/* KEY of a canonical path below k->sys: below bus/pci/ as is; a device attribute ADDR/attr. */
static void fkc_key(const struct fk_kernel *k, const char *path, char *key, size_t size)
{
	const char *rel = path + strlen(k->sys) + 1, *p = strrchr(rel, '/');

	if (strncmp(rel, "bus/pci/", 8) == 0) {
		fkc_fmt(key, size, "%s", rel + 8);
		return;
	}
	p = p ? p : rel;
	while (p > rel && p[-1] != '/')
		p--;
	fkc_fmt(key, size, "%s", p);
}

/* VALUE: the bytes up to the first newline, cut to fit. */
static void fkc_value(const void *buf, size_t n, char *value, size_t size)
{
	fkc_fmt(value, size, "%.*s", (int)(n < size ? n : size - 1), (const char *)buf);
	value[strcspn(value, "\n")] = '\0';
}

/* The log line "KEY=VALUE" (newlines shown as \n), " !fail" appended for a failed write. */
static void fkc_logline(char *out, size_t size, const char *key, const void *buf, size_t n,
                        int failed)
{
	const char *b = buf;
	size_t k;

	fkc_fmt(out, size, "%s=", key);
	k = strlen(out);
	for (size_t i = 0; i < n && k + 3 < size; i++) {
		if (b[i] == '\n') {
			out[k++] = '\\';
			out[k++] = 'n';
		} else {
			out[k++] = b[i];
		}
	}
	out[k] = '\0';
	if (failed)
		fkc_fmt(out + k, size - k, " !fail");
}

/* Whether the rule fails this write: 0, or the errno (FK_SHORT: a short write). */
static int fkc_fails(struct fk_failrule *r, const char *key)
{
	if (!r->match || !strstr(key, r->match) || r->count == 0)
		return 0;
	if (r->skip > 0) {
		r->skip--;
		return 0;
	}
	if (r->count > 0)
		r->count--;
	return r->err;
}

/* sriov_numvfs from cur to n (one of them 0) with k->sriov_vfs: VFs removed lose their driver
 * and override; VFs created probe their native driver if the PF's autoprobe is on. */
static void fkc_vfs(const struct fk_kernel *k, const char *pf, long cur, long n)
{
	char link[PATH_MAX], vf[64], path[PATH_MAX], target[PATH_MAX];
	int autoprobe = strcmp(fkc_attr(k->sys, pf, "sriov_drivers_autoprobe"), "0") != 0;

	for (long i = 0; i < (cur > n ? cur : n); i++) {
		fkc_fmt(link, sizeof link, "%s/bus/pci/devices/%s/virtfn%ld", k->sys, pf, i);
		if (sysfs_link_name(link, vf, sizeof vf) < 0 || strchr(vf, '/'))
			continue;
		const char *drv = fkc_driver(k->sys, vf);
		if (n == 0) {           /* removed: nothing of it stays bound */
			fkc_fmt(path, sizeof path, "%s/bus/pci/drivers/%s/%s", k->sys, drv, vf);
			if (drv[0])
				unlink(path);
			fkc_fmt(path, sizeof path, "%s/bus/pci/devices/%s/driver", k->sys, vf);
			unlink(path);
			fkc_fmt(path, sizeof path, "%s/bus/pci/devices/%s/driver_override", k->sys, vf);
			FILE *f = fopen(path, "w");
			if (f) {
				fputs("(null)\n", f);
				fclose(f);
			}
		} else if (i < n && autoprobe && !drv[0]) {  /* created, probed as the kernel would */
			const char *native = fkc_native_of(k, vf);
			fkc_fmt(target, sizeof target, "%s/bus/pci/drivers/%s", k->sys, native);
			if (!native[0] || strchr(native, '/') || access(target, F_OK) < 0)
				continue;
			fkc_fmt(path, sizeof path, "%s/bus/pci/devices/%s", k->sys, vf);
			fkc_fmt(link, sizeof link, "%s/driver", path);
			if (symlink(target, link) < 0 || !realpath(path, link))
				continue;
			fkc_fmt(target, sizeof target, "%s/bus/pci/drivers/%s/%s", k->sys, native, vf);
			unlink(target);
			if (symlink(link, target) < 0) { /* the device's own link is what is read */ }
		}
	}
}

/* Effects, as the kernel's store methods have them. 0, or an errno to fail with. */
static int fkc_effect(const struct fk_kernel *k, int fd, const char *key, const char *value)
{
	char dev[PATH_MAX], link[PATH_MAX], target[PATH_MAX], text[256];
	const char *base = strrchr(key, '/') ? strrchr(key, '/') + 1 : key;

	if (strcmp(key, "drivers_probe") == 0) {
		const char *drv;
		fkc_fmt(dev, sizeof dev, "%s/bus/pci/devices/%s", k->sys, value);
		if (strchr(value, '/') || access(dev, F_OK) < 0)
			return ENODEV;
		if (fkc_driver(k->sys, value)[0])
			return 0;
		drv = fkc_attr(k->sys, value, "driver_override");
		drv = strcmp(drv, "(null)") && drv[0] ? drv : fkc_native_of(k, value);
		if (k->refuse && !strcmp(k->refuse, drv))
			drv = k->instead ? k->instead : "";
		fkc_fmt(target, sizeof target, "%s/bus/pci/drivers/%s", k->sys, drv);
		if (!drv[0] || strchr(drv, '/') || access(target, F_OK) < 0)
			return 0;
		fkc_fmt(link, sizeof link, "%s/driver", dev);
		if (symlink(target, link) < 0 || !realpath(dev, link))
			return errno;
		fkc_fmt(target, sizeof target, "%s/bus/pci/drivers/%s/%s", k->sys, drv, value);
		unlink(target); /* a stale link back from an edited tree: the kernel has one per device */
		return symlink(link, target) < 0 ? errno : 0;
	}
	if (strcmp(base, "unbind") == 0 && strncmp(key, "drivers/", 8) == 0) {
		char drv[64];
		fkc_fmt(drv, sizeof drv, "%.*s", (int)(base - 1 - key - 8), key + 8);
		if (strchr(value, '/') || strcmp(fkc_driver(k->sys, value), drv) != 0)
			return ENODEV;
		fkc_fmt(link, sizeof link, "%s/bus/pci/devices/%s/driver", k->sys, value);
		fkc_fmt(target, sizeof target, "%s/bus/pci/drivers/%s/%s", k->sys, drv, value);
		unlink(target);
		return unlink(link) < 0 ? errno : 0;
	}
	if (strcmp(base, "sriov_numvfs") == 0) {
		char addr[16];
		long cur, total, n = strtol(value, NULL, 10);
		fkc_fmt(addr, sizeof addr, "%.*s", (int)(base - 1 - key), key);
		cur = strtol(fkc_attr(k->sys, addr, "sriov_numvfs"), NULL, 10);
		total = strtol(fkc_attr(k->sys, addr, "sriov_totalvfs"), NULL, 10);
		if (n > total)
			return ERANGE;
		if (cur && n && cur != n)
			return EBUSY;
		if (k->sriov_vfs && cur != n)
			fkc_vfs(k, addr, cur, n);
	}
	fkc_fmt(text, sizeof text, "%s\n", strcmp(base, "driver_override") || value[0] ? value : "(null)");
	return ftruncate(fd, 0) < 0 || pwrite(fd, text, strlen(text), 0) < 0 ? errno : 0;
}

/* Play one write of n bytes to fd, whose canonical path is below k->sys: the rule, then the
 * effect. log(ctx, line) gets the write's log line. Returns what write(2) would. */
static ssize_t fkc_play(const struct fk_kernel *k, struct fk_failrule *rule, int fd,
                        const char *path, const void *buf, size_t n,
                        void (*log)(void *ctx, const char *line), void *ctx)
{
	char key[PATH_MAX], value[240], line[512];   /* values: attributes, netsim.c VF lines */
	int err;

	fkc_key(k, path, key, sizeof key);
	fkc_value(buf, n, value, sizeof value);
	if ((err = fkc_fails(rule, key)) != 0) {
		fkc_logline(line, sizeof line, key, buf, n, 1);
		log(ctx, line);
		if (err == FK_SHORT)
			return (ssize_t)n - 1;
		errno = err;
		return -1;
	}
	err = fkc_effect(k, fd, key, value);
	fkc_logline(line, sizeof line, key, buf, n, err != 0);
	log(ctx, line);
	if (err) {
		errno = err;
		return -1;
	}
	return (ssize_t)n;
}

#endif
