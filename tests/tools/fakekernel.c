// SPDX-License-Identifier: MIT
// Test tool: a fake kernel for the real binary, as an LD_PRELOAD shim (build/fakekernel.so).
//
// Contract. With FK_ROOT=DIR, whose sys/ is a simulated sysfs tree (build/mksimhost HOST DIR/sys),
// every write(2) to a file below DIR/sys is "played": given the effect the kernel's store method
// would have (tests/tools/fakekernel-core.h, the same code the unit fixture uses), instead of
// plain file contents. open/open64/openat/openat64 drop O_TRUNC below DIR/sys, as sysfs ignores
// it. Nothing else is touched; without FK_ROOT the shim passes everything through.
// The native driver of each device (what drivers_probe binds without an override) is the one
// it had when a shim first played a write on the tree, kept in DIR/fk-native ("ADDR=DRIVER"
// lines) so that separate processes (a launch, then a restore) agree. Knobs (environment):
//   FK_LOG=FILE      append each played write as "KEY=VALUE" (" !fail" when it failed)
//   FK_REFUSE=DRV    a probe that would bind DRV binds nothing (the write succeeds, as in Linux)
//   FK_FAIL=SUBSTRING[:SKIP[:COUNT[:ERRNO]]]
//                    fail COUNT (default all; -1 all) writes whose KEY contains SUBSTRING, after
//                    letting SKIP (default 0) through, with ERRNO (a number, a name such as EBUSY,
//                    or "short" for a write one byte short; default EIO). Counted per process.
//                    Trailing fields are taken from the right while they parse, so a SUBSTRING
//                    whose last ':' part is a bare number needs all three fields.
//   FK_SLOW=MS       sleep MS milliseconds before every played write
//   FK_KILL_AT=N     SIGKILL the process just before its N-th played write (1-based), or, with
//                    FK_COUNT, before the N-th write of the running count
//   FK_COUNT=FILE    keep the number of played writes so far in FILE (a running count across
//                    processes; absent or empty is 0), under flock
//   FK_SRIOV_VFS=1   VFs lose their drivers when sriov_numvfs goes to 0 and probe their native
//                    driver when it comes back with sriov_drivers_autoprobe on (their directories
//                    stay; see fakekernel-core.h)
//   FK_MEMLOCK=BYTES|unlimited
//                    RLIMIT_MEMLOCK as this process sees it (getrlimit, setrlimit, prlimit):
//                    soft and hard start at BYTES and setrlimit may change them, in this
//                    process only (a container without CAP_SYS_RESOURCE cannot raise the real one)
// A failed or short played write counts as played.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

static void fk_die(const char *what) __attribute__((noreturn));
#define FK_CHECK(cond) do { if (!(cond)) fk_die("a path or value does not fit: " #cond); } while (0)
#include "fakekernel-core.h"

static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);

static struct {
	int ready;                      /* environment read */
	char sys[PATH_MAX];             /* FK_ROOT/sys, canonical */
	char sys_given[PATH_MAX];       /* FK_ROOT/sys as given, for open() paths */
	char root[PATH_MAX];
	const char *log, *count_file;
	long slow_ms, kill_at, played;
	struct fk_failrule fail;
	const char *refuse;
	int sriov_vfs;
	struct fk_native *native;
	size_t nnative;
	int native_loaded;
	int memlock_fake;               /* FK_MEMLOCK given */
	struct rlimit memlock;
} fk;

static void fk_die(const char *what)
{
	char msg[512];
	int n = snprintf(msg, sizeof msg, "fakekernel: %s\n", what);

	if (n > 0 && real_write)
		real_write(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
	abort();
}

static void *next(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (!f)
		fk_die("dlsym failed");
	return f;
}

static void bind_real(void)
{
	if (real_write)
		return;
	real_write = (ssize_t (*)(int, const void *, size_t))next("write");
	real_open = (int (*)(const char *, int, ...))next("open");
	real_open64 = (int (*)(const char *, int, ...))next("open64");
	real_openat = (int (*)(int, const char *, int, ...))next("openat");
	real_openat64 = (int (*)(int, const char *, int, ...))next("openat64");
}

static const struct { const char *name; int err; } errnames[] = {
	{ "EPERM", EPERM }, { "ENOENT", ENOENT }, { "EIO", EIO }, { "ENXIO", ENXIO },
	{ "EAGAIN", EAGAIN }, { "ENOMEM", ENOMEM }, { "EACCES", EACCES }, { "EBUSY", EBUSY },
	{ "EEXIST", EEXIST }, { "ENODEV", ENODEV }, { "EINVAL", EINVAL }, { "ENOSPC", ENOSPC },
	{ "ERANGE", ERANGE }, { "ENOSYS", ENOSYS }, { "ETIMEDOUT", ETIMEDOUT }, { "EINTR", EINTR },
};

/* A whole integer, or -1 with *ok = 0. */
static long whole(const char *s, int *ok)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	*ok = *s && !*end && !errno;
	return v;
}

static int errno_of(const char *s)
{
	int ok;
	long v = whole(s, &ok);

	if (ok && v > 0)
		return (int)v;
	if (strcmp(s, "short") == 0)
		return FK_SHORT;
	for (size_t i = 0; i < sizeof errnames / sizeof errnames[0]; i++)
		if (strcmp(s, errnames[i].name) == 0)
			return errnames[i].err;
	return 0;
}

/* FK_FAIL=SUBSTRING[:SKIP[:COUNT[:ERRNO]]]: the most trailing fields that parse win. */
static void parse_fail(const char *spec)
{
	static char match[256];
	char *cut[4];   /* the ':' before each trailing field, rightmost first */
	int ncut = 0;

	fkc_fmt(match, sizeof match, "%s", spec);
	for (char *p = match + strlen(match); p-- > match && ncut < 3;)
		if (*p == ':')
			cut[ncut++] = p;
	for (int take = ncut; take >= 0; take--) {
		long skip = 0, count = -1;
		int err = EIO, ok = 1, t;
		/* fields SKIP, COUNT, ERRNO start after cut[take-1], cut[take-2], cut[take-3] */
		for (int i = 0; ok && i < take; i++) {
			char field[64];
			const char *start = cut[take - 1 - i] + 1;
			const char *end = i + 1 < take ? cut[take - 2 - i] : match + strlen(match);
			if ((size_t)(end - start) >= sizeof field) {
				ok = 0;
				break;
			}
			memcpy(field, start, (size_t)(end - start));
			field[end - start] = '\0';
			if (i == 0)
				skip = whole(field, &t), ok = t && skip >= 0;
			else if (i == 1)
				count = whole(field, &t), ok = t && count >= -1;
			else
				ok = (err = errno_of(field)) != 0;
		}
		if (ok) {
			if (take)
				*cut[take - 1] = '\0';
			fk.fail = (struct fk_failrule){ match, (int)skip, (int)count, err };
			return;
		}
	}
}

static void setup(void)
{
	const char *root = getenv("FK_ROOT"), *s;
	char sys[PATH_MAX];

	bind_real();
	if (fk.ready)
		return;
	fk.ready = 1;
	if (!root || !*root)
		return;
	fkc_fmt(fk.sys_given, sizeof fk.sys_given, "%s/sys", root);
	if (!realpath(root, fk.root))
		return; /* no tree yet: nothing to play on */
	fkc_fmt(sys, sizeof sys, "%s/sys", fk.root);
	memcpy(fk.sys, sys, sizeof sys);
	fk.log = getenv("FK_LOG");
	fk.count_file = getenv("FK_COUNT");
	fk.refuse = getenv("FK_REFUSE");
	fk.sriov_vfs = (s = getenv("FK_SRIOV_VFS")) && *s && strcmp(s, "0") != 0;
	if ((s = getenv("FK_SLOW")))
		fk.slow_ms = atol(s);
	if ((s = getenv("FK_KILL_AT")))
		fk.kill_at = atol(s);
	if ((s = getenv("FK_FAIL")) && *s)
		parse_fail(s);
}

/* FK_MEMLOCK, read on the first rlimit call: it does not need FK_ROOT. */
static int memlock_faked(void)
{
	static int read;
	const char *s = getenv("FK_MEMLOCK");

	if (!read && s && *s) {
		rlim_t v = strcmp(s, "unlimited") == 0 ? RLIM_INFINITY : (rlim_t)strtoull(s, NULL, 10);
		fk.memlock = (struct rlimit){ v, v };
		fk.memlock_fake = 1;
	}
	read = 1;
	return fk.memlock_fake;
}

static void add_native(const char *addr, const char *driver)
{
	if ((fk.nnative & (fk.nnative - 1)) == 0) { /* grow at powers of two */
		void *grown = realloc(fk.native, (fk.nnative ? fk.nnative * 2 : 64) * sizeof *fk.native);
		if (!grown)
			fk_die("out of memory");
		fk.native = grown;
	}
	fkc_fmt(fk.native[fk.nnative].addr, sizeof fk.native[0].addr, "%s", addr);
	fkc_fmt(fk.native[fk.nnative++].driver, sizeof fk.native[0].driver, "%s", driver);
}

/* DIR/fk-native, written from the tree by the first shim to play a write on it. */
static void load_native(void)
{
	char path[PATH_MAX], tmp[PATH_MAX], line[256];
	FILE *f;

	if (fk.native_loaded)
		return;
	fk.native_loaded = 1;
	fkc_fmt(path, sizeof path, "%s/fk-native", fk.root);
	if (!(f = fopen(path, "re"))) {
		char dir[PATH_MAX];
		struct dirent *de;
		DIR *d;

		if (errno != ENOENT)
			fk_die("cannot read FK_ROOT/fk-native");
		fkc_fmt(dir, sizeof dir, "%s/bus/pci/devices", fk.sys);
		if (!(d = opendir(dir)))
			fk_die("cannot list FK_ROOT/sys/bus/pci/devices");
		fkc_fmt(tmp, sizeof tmp, "%s.%ld", path, (long)getpid());
		if (!(f = fopen(tmp, "we")))
			fk_die("cannot write FK_ROOT/fk-native");
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				fprintf(f, "%s=%s\n", de->d_name, fkc_driver(fk.sys, de->d_name));
		closedir(d);
		if (fclose(f) != 0)
			fk_die("cannot write FK_ROOT/fk-native");
		/* link(): the first process to get there wins; every other one reads its file. */
		if (link(tmp, path) < 0 && errno != EEXIST)
			fk_die("cannot write FK_ROOT/fk-native");
		unlink(tmp);
		if (!(f = fopen(path, "re")))
			fk_die("cannot read FK_ROOT/fk-native");
	}
	while (fgets(line, sizeof line, f)) {
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq++ = '\0';
		eq[strcspn(eq, "\n")] = '\0';
		add_native(line, eq);
	}
	fclose(f);
}

/* One more played write: the count (per process, or FK_COUNT's running one), and FK_KILL_AT. */
static void count_write(void)
{
	long n = ++fk.played;
	int fd = -1;

	if (fk.count_file) {
		char buf[32] = "";
		ssize_t got;

		fd = real_open(fk.count_file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0 || flock(fd, LOCK_EX) < 0)
			fk_die("cannot open FK_COUNT");
		got = pread(fd, buf, sizeof buf - 1, 0);
		buf[got > 0 ? got : 0] = '\0';
		n = atol(buf) + 1;
	}
	if (fk.kill_at > 0 && n == fk.kill_at)
		kill(getpid(), SIGKILL); /* raise() would do too; kill() cannot be caught either way */
	if (fd >= 0) {
		char text[32];
		int len = snprintf(text, sizeof text, "%ld\n", n);
		if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)len, 0) != len)
			fk_die("cannot write FK_COUNT");
		close(fd);
	}
}

static void log_line(void *ctx, const char *line)
{
	char text[600];
	int fd, n;

	(void)ctx;
	if (!fk.log)
		return;
	n = snprintf(text, sizeof text, "%s\n", line);
	if (n < 0 || (size_t)n >= sizeof text)
		fk_die("log line too long");
	/* O_APPEND and one write per line: processes writing one log do not mix lines. */
	fd = real_open(fk.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || real_write(fd, text, (size_t)n) != n)
		fk_die("cannot write FK_LOG");
	close(fd);
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	char path[PATH_MAX];
	struct fk_kernel k;
	int saved = errno;

	setup();
	k = (struct fk_kernel){ fk.sys, fk.refuse, NULL, NULL, 0, fk.sriov_vfs };
	if (!fkc_fd_path(&k, fd, path, sizeof path)) {
		errno = saved;
		return real_write(fd, buf, n);
	}
	load_native();
	k.native = fk.native;
	k.nnative = fk.nnative;
	count_write();
	if (fk.slow_ms > 0) {
		struct timespec ts = { fk.slow_ms / 1000, (fk.slow_ms % 1000) * 1000000L };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	errno = saved;
	return fkc_play(&k, &fk.fail, fd, path, buf, n, log_line, NULL);
}

/* Whether path (relative to dirfd) lies below FK_ROOT/sys, as given or canonical. */
static int below_tree(int dirfd, const char *path)
{
	char full[PATH_MAX];

	if (!fk.sys[0])
		return 0;
	if (path[0] != '/') {
		char proc[64];
		ssize_t got;
		if (dirfd == AT_FDCWD) {
			if (!getcwd(full, sizeof full))
				return 0;
			got = (ssize_t)strlen(full);
		} else {
			snprintf(proc, sizeof proc, "/proc/self/fd/%d", dirfd);
			if ((got = readlink(proc, full, sizeof full - 1)) < 0)
				return 0;
		}
		if (snprintf(full + got, sizeof full - (size_t)got, "/%s", path) >= (int)(sizeof full - (size_t)got))
			return 0;
		path = full;
	}
	for (int i = 0; i < 2; i++) {
		const char *sys = i ? fk.sys : fk.sys_given;
		size_t len = strlen(sys);
		if (len && strncmp(path, sys, len) == 0 && path[len] == '/')
			return 1;
	}
	return 0;
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	setup();
	if ((flags & O_TRUNC) && below_tree(AT_FDCWD, path))
		flags &= ~O_TRUNC;
	return real_open(path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	setup();
	if ((flags & O_TRUNC) && below_tree(AT_FDCWD, path))
		flags &= ~O_TRUNC;
	return real_open64(path, flags, mode);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	setup();
	if ((flags & O_TRUNC) && below_tree(dirfd, path))
		flags &= ~O_TRUNC;
	return real_openat(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	setup();
	if ((flags & O_TRUNC) && below_tree(dirfd, path))
		flags &= ~O_TRUNC;
	return real_openat64(dirfd, path, flags, mode);
}

/* RLIMIT_MEMLOCK under FK_MEMLOCK; every other resource, and everything without it, is real. */
static int fake_rlimit(int resource, const struct rlimit *set, struct rlimit *get)
{
	if (resource != RLIMIT_MEMLOCK || !memlock_faked())
		return 0;
	if (get)
		*get = fk.memlock;
	if (set) {
		if (set->rlim_cur > set->rlim_max) {
			errno = EINVAL;
			return -1;
		}
		fk.memlock = *set;
	}
	return 1;
}

EXPORT int getrlimit(__rlimit_resource_t resource, struct rlimit *rl)
{
	static int (*real)(__rlimit_resource_t, struct rlimit *);
	int faked = fake_rlimit((int)resource, NULL, rl);

	if (faked)
		return faked < 0 ? -1 : 0;
	if (!real)
		real = (int (*)(__rlimit_resource_t, struct rlimit *))next("getrlimit");
	return real(resource, rl);
}

EXPORT int getrlimit64(__rlimit_resource_t resource, struct rlimit64 *rl)
{
	static int (*real)(__rlimit_resource_t, struct rlimit64 *);
	struct rlimit r;
	int faked = fake_rlimit((int)resource, NULL, &r);

	if (faked > 0)
		*rl = (struct rlimit64){ r.rlim_cur, r.rlim_max };
	if (faked)
		return faked < 0 ? -1 : 0;
	if (!real)
		real = (int (*)(__rlimit_resource_t, struct rlimit64 *))next("getrlimit64");
	return real(resource, rl);
}

EXPORT int setrlimit(__rlimit_resource_t resource, const struct rlimit *rl)
{
	static int (*real)(__rlimit_resource_t, const struct rlimit *);
	int faked = fake_rlimit((int)resource, rl, NULL);

	if (faked)
		return faked < 0 ? -1 : 0;
	if (!real)
		real = (int (*)(__rlimit_resource_t, const struct rlimit *))next("setrlimit");
	return real(resource, rl);
}

EXPORT int setrlimit64(__rlimit_resource_t resource, const struct rlimit64 *rl)
{
	static int (*real)(__rlimit_resource_t, const struct rlimit64 *);
	struct rlimit r = { rl->rlim_cur, rl->rlim_max };
	int faked = fake_rlimit((int)resource, &r, NULL);

	if (faked)
		return faked < 0 ? -1 : 0;
	if (!real)
		real = (int (*)(__rlimit_resource_t, const struct rlimit64 *))next("setrlimit64");
	return real(resource, rl);
}

EXPORT int prlimit(pid_t pid, __rlimit_resource_t resource, const struct rlimit *set,
                   struct rlimit *old)
{
	static int (*real)(pid_t, __rlimit_resource_t, const struct rlimit *, struct rlimit *);
	int faked = (pid == 0 || pid == getpid()) ? fake_rlimit((int)resource, set, old) : 0;

	if (faked)
		return faked < 0 ? -1 : 0;
	if (!real)
		real = (int (*)(pid_t, __rlimit_resource_t, const struct rlimit *, struct rlimit *))
		       next("prlimit");
	return real(pid, resource, set, old);
}
