// SPDX-License-Identifier: MIT
// The launch journal: what each device and PF was before vflaunch changed it, to give it back.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "errbuf.h"
#include "sysfs.h"

#define MAGIC "vflaunch-journal 1"

static const char *const state_names[] = { "recorded", "applied", "restored" };

const char *journal_state_name(enum journal_state s)
{
	return (unsigned)s < 3 ? state_names[s] : "?";
}

int journal_state_parse(const char *name)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

static int fail(char *err, size_t errlen, int rc, const char *path)
{
	errbuf_printf(err, errlen, "%s: %s", path, strerror(-rc));
	return rc;
}

/* Only bytes that can never be a separator pass through; everything else is %XX. */
static int plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '+' || c == '-';
}

static void put_escaped(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (plain(*p))
			fputc(*p, f);
		else
			fprintf(f, "%%%02X", *p);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Strict: "%" needs two hex digits and may not encode NUL; a raw byte must be plain. */
static int unescape(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	for (; *src; src++) {
		int c = (unsigned char)*src;
		if (c == '%') {
			int hi = hexval(src[1]), lo = hi < 0 ? -1 : hexval(src[2]);
			if (lo < 0 || (c = hi << 4 | lo) == 0)
				return -EINVAL;
			src += 2;
		} else if (!plain((unsigned char)c)) {
			return -EINVAL;
		}
		if (n + 1 >= size)
			return -EOVERFLOW;
		dst[n++] = (char)c;
	}
	dst[n] = '\0';
	return 0;
}

static int copy_field(char *dst, size_t size, const char *src)
{
	size_t len = src ? strlen(src) : 0;
	if (len >= size)
		return -EINVAL;
	memcpy(dst, src ? src : "", len + 1);
	return 0;
}

int journal_add(struct journal *j, const struct journal_entry *e)
{
	struct journal_entry c;

	memset(&c, 0, sizeof c);
	if (!vfio_addr_ok(e->addr) || (e->kind != JOURNAL_DEVICE && e->kind != JOURNAL_SRIOV) ||
	    (unsigned)e->state > JOURNAL_RESTORED || copy_field(c.driver, sizeof c.driver, e->driver) ||
	    copy_field(c.override, sizeof c.override, e->override) || e->numvfs < 0 ||
	    e->autoprobe < -1 || e->autoprobe > 1)
		return -EINVAL;
	for (size_t i = 0; i < j->count; i++)
		if (j->entries[i].kind == e->kind && strcmp(j->entries[i].addr, e->addr) == 0)
			return 1;       /* the first record is the original: keep it */
	if (j->count == j->cap) {
		size_t cap = j->cap ? 2 * j->cap : 16;
		struct journal_entry *bigger = realloc(j->entries, cap * sizeof *bigger);
		if (!bigger)
			return -ENOMEM;
		j->entries = bigger;
		j->cap = cap;
	}
	c.kind = e->kind;
	c.state = e->state;
	memcpy(c.addr, e->addr, sizeof c.addr);
	c.numvfs = e->kind == JOURNAL_SRIOV ? e->numvfs : 0;
	c.autoprobe = e->kind == JOURNAL_SRIOV ? e->autoprobe : -1;
	j->entries[j->count++] = c;
	return 0;
}

int journal_mark(struct journal *j, size_t index, enum journal_state state)
{
	if (index >= j->count || (unsigned)state > JOURNAL_RESTORED)
		return -EINVAL;
	j->entries[index].state = state;
	return 0;
}

void journal_free(struct journal *j)
{
	free(j->entries);
	j->entries = NULL;
	j->count = j->cap = 0;
}

/* The whole file in memory, so that one write() puts it down. */
static int render(const struct journal *j, char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);

	if (!f)
		return -errno;
	fputs(MAGIC "\n", f);
	for (size_t i = 0; i < j->count; i++) {
		const struct journal_entry *e = &j->entries[i];
		if (e->kind == JOURNAL_DEVICE) {
			fprintf(f, "device %s driver=", e->addr);
			put_escaped(f, e->driver);
			fputs(" override=", f);
			put_escaped(f, e->override);
		} else {
			fprintf(f, "sriov %s numvfs=%d autoprobe=%d", e->addr, e->numvfs, e->autoprobe);
		}
		fprintf(f, " state=%s\n", journal_state_name(e->state));
	}
	return fclose(f) == 0 ? 0 : -ENOMEM;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int journal_save(const struct journal *j, char *err, size_t errlen)
{
	char tmp[JOURNAL_PATHLEN + 8], dir[JOURNAL_PATHLEN];
	char *text = NULL;
	size_t len = 0;
	int fd, rc;

	if ((rc = sysfs_path(tmp, sizeof tmp, "%s.tmp", j->path)) < 0)
		return fail(err, errlen, rc, j->path);
	if ((rc = render(j, &text, &len)) < 0)
		return fail(err, errlen, rc, j->path);
	/* O_NOFOLLOW: /run is shared; a planted link must not redirect a root-owned write. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		free(text);
		return fail(err, errlen, -errno, tmp);
	}
	rc = write_all(fd, text, len);
	free(text);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, j->path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return fail(err, errlen, rc, tmp);
	}
	/* The rename itself is durable only once the directory is synced. */
	const char *slash = strrchr(j->path, '/');
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - j->path) + (slash == j->path) : 1,
	         slash ? j->path : ".");
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

int journal_create(struct journal *j, const char *dir, char *err, size_t errlen)
{
	char stamp[32];
	struct stat sb;
	struct timespec now;
	struct tm tm;
	int rc;

	memset(j, 0, sizeof *j);
	dir = dir ? dir : JOURNAL_DIR;
	/* 0700: the journal names devices and drivers of a root-run tool. */
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return fail(err, errlen, -errno, dir);
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return fail(err, errlen, errno ? -errno : -ENOTDIR, dir);
	/* Nanoseconds too: names must differ and sort by age even within one second. */
	clock_gettime(CLOCK_REALTIME, &now);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", gmtime_r(&now.tv_sec, &tm));
	if ((rc = sysfs_path(j->path, sizeof j->path, "%s/%s.%09ldZ-%ld.journal", dir, stamp,
	                     now.tv_nsec, (long)getpid())) < 0)
		return fail(err, errlen, rc, dir);
	if (lstat(j->path, &sb) == 0)
		return fail(err, errlen, -EEXIST, j->path);
	return journal_save(j, err, errlen);
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* One entry line: KIND ADDR key=value...; every key of the kind exactly once. */
static int parse_line(char *line, struct journal_entry *e)
{
	char *save = NULL, *kind = strtok_r(line, " ", &save), *addr = strtok_r(NULL, " ", &save);
	unsigned seen = 0, want;
	int st = -1;

	memset(e, 0, sizeof *e);
	if (!kind || !addr || !vfio_addr_ok(addr))
		return -EINVAL;
	memcpy(e->addr, addr, strlen(addr) + 1);
	if (strcmp(kind, "device") == 0)
		e->kind = JOURNAL_DEVICE, want = 1 | 2 | 16;
	else if (strcmp(kind, "sriov") == 0)
		e->kind = JOURNAL_SRIOV, want = 4 | 8 | 16;
	else
		return -EINVAL;
	for (char *tok; (tok = strtok_r(NULL, " ", &save));) {
		char *val = strchr(tok, '=');
		unsigned bit;
		int rc;
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		if (strcmp(tok, "driver") == 0)
			bit = 1, rc = unescape(e->driver, sizeof e->driver, val);
		else if (strcmp(tok, "override") == 0)
			bit = 2, rc = unescape(e->override, sizeof e->override, val);
		else if (strcmp(tok, "numvfs") == 0)
			bit = 4, rc = parse_int(val, 0, 65535, &e->numvfs);
		else if (strcmp(tok, "autoprobe") == 0)
			bit = 8, rc = parse_int(val, -1, 1, &e->autoprobe);
		else if (strcmp(tok, "state") == 0)
			bit = 16, rc = (st = journal_state_parse(val)) < 0 ? -EINVAL : 0;
		else
			return -EINVAL;
		if (rc < 0 || (seen & bit) || !(want & bit))
			return -EINVAL;
		seen |= bit;
	}
	if (seen != want)
		return -EINVAL;
	e->state = (enum journal_state)st;
	if (e->kind == JOURNAL_DEVICE)
		e->autoprobe = -1;
	return 0;
}

int journal_load(struct journal *j, const char *path, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int rc = 0;

	memset(j, 0, sizeof *j);
	if ((rc = sysfs_path(j->path, sizeof j->path, "%s", path)) < 0)
		return fail(err, errlen, rc, path);
	rc = 0;
	FILE *f = fopen(path, "re");
	if (!f)
		return fail(err, errlen, -errno, path);
	while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
		struct journal_entry e;
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (lineno == 1) {
			if (strcmp(line, MAGIC) != 0) {
				errbuf_printf(err, errlen, "%s: not a version 1 vflaunch journal", path);
				rc = -EINVAL;
			}
			continue;
		}
		if ((rc = parse_line(line, &e)) < 0 || (rc = journal_add(j, &e)) != 0) {
			errbuf_printf(err, errlen, "%s:%zu: malformed or repeated entry", path, lineno);
			rc = rc == -ENOMEM ? rc : -EINVAL;
		}
	}
	if (rc == 0 && ferror(f))
		rc = fail(err, errlen, -EIO, path);
	if (rc == 0 && lineno == 0) {
		errbuf_printf(err, errlen, "%s: empty journal", path);
		rc = -EINVAL;
	}
	free(line);
	fclose(f);
	if (rc < 0)
		journal_free(j);
	return rc;
}

int journal_restore(const char *root, struct journal *j, char *err, size_t errlen)
{
	char why[512];
	int first = 0;

	for (size_t k = j->count; k-- > 0;) {
		struct journal_entry *e = &j->entries[k];
		int rc = 0;

		if (e->state == JOURNAL_RESTORED)
			continue;
		/* vfio_restore and sriov_restore read the state back: > 0 given back, 0 already
		 * so, -ENODEV only when the device or PF no longer exists (a VF removed with its
		 * PF's count: nothing left to give back). */
		if (e->kind == JOURNAL_DEVICE)
			rc = vfio_restore(root, e->addr, e->driver, e->override, why, sizeof why);
		else
			rc = sriov_restore(root, e->addr, e->numvfs, e->autoprobe, why, sizeof why);
		if (rc > 0 || rc == -ENODEV)
			rc = 0;
		if (rc == 0) {
			e->state = JOURNAL_RESTORED;
			rc = journal_save(j, why, sizeof why);
		}
		if (rc < 0 && first == 0) {
			first = rc;
			errbuf_printf(err, errlen, "restore %s: %s", e->addr, why);
		}
	}
	return first;
}

int journal_latest(const char *dir, char *path, size_t size)
{
	char best[NAME_MAX + 1] = "";
	struct dirent *de;

	DIR *d = opendir(dir ? dir : JOURNAL_DIR);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] != '.' && len > 8 && strcmp(de->d_name + len - 8, ".journal") == 0 &&
		    strcmp(de->d_name, best) > 0)
			memcpy(best, de->d_name, len + 1);
	}
	closedir(d);
	if (!best[0])
		return -ENOENT;
	int rc = sysfs_path(path, size, "%s/%s", dir ? dir : JOURNAL_DIR, best);
	return rc < 0 ? rc : 0;
}
