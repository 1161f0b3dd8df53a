// SPDX-License-Identifier: MIT
// The launch journal: record kinds in one table, strict bounded parsing, atomic saves, and
// restores whose outcome is read back from sysfs.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "errbuf.h"
#include "files.h"
#include "sysfs.h"
#include "vfnet.h"

#define MAGIC "vflaunch-journal 1"
#define LINEMAX 1024   /* the longest valid line is under 500 bytes */

/* vfio_restore and sriov_restore read back: > 0 given back, 0 already so, -ENODEV only when
 * the device or PF does not exist; anything else is a failure. */
static enum journal_outcome outcome_of(int rc)
{
	return rc > 0 ? JOURNAL_RESTORED : rc == 0 ? JOURNAL_UNCHANGED :
	       rc == -ENODEV ? JOURNAL_GONE : JOURNAL_FAILED;
}

static enum journal_outcome device_restore(const char *root, const struct journal_entry *e,
                                           char *why, size_t whylen)
{
	return outcome_of(vfio_restore(root, e->addr, e->driver, e->override, why, whylen));
}

/* Autoprobe first inside sriov_restore, so VFs the count brings back probe as they once did. */
static enum journal_outcome sriov_give_back(const char *root, const struct journal_entry *e,
                                            char *why, size_t whylen)
{
	return outcome_of(sriov_restore(root, e->addr, e->numvfs, e->autoprobe, why, whylen));
}

/* The recorded values of a VF (vfnet.c finds its PF, reads first, writes what differs). */
static enum journal_outcome vfnet_give_back(const char *root, const struct journal_entry *e,
                                            char *why, size_t whylen)
{
	struct nl_vf v;

	nl_vf_unknown(&v, 0);
	if (nl_mac_parse(e->mac, v.mac) < 0)
		return JOURNAL_FAILED;  /* journal_set_name checked it: cannot happen */
	v.has_mac = 1;
	v.vlan = e->vlan;
	v.qos = e->qos;
	v.spoofchk = e->spoofchk;
	v.trust = e->trust;
	v.link = e->link;
	v.max_rate = e->max_rate;
	v.min_rate = e->min_rate;
	return outcome_of(vfnet_restore(root, e->addr, &v, why, whylen));
}

#define NAME(key) { #key, JOURNAL_NAME, offsetof(struct journal_entry, key), 0, 0, 0 }
#define MAC(key) { #key, JOURNAL_MAC, offsetof(struct journal_entry, key), 0, 0, 0 }
#define INT(key, lo, hi, optional) \
	{ #key, JOURNAL_INT, offsetof(struct journal_entry, key), lo, hi, optional }

static const struct journal_field device_fields[] = { NAME(driver), NAME(override) };
static const struct journal_field sriov_fields[] = {
	INT(numvfs, 0, 65535, 0),
	INT(autoprobe, -1, 1, 1),    /* -1: the kernel had no sriov_drivers_autoprobe */
};

static const struct journal_field vfnet_fields[] = {
	MAC(mac),
	INT(vlan, 0, 4095, 0),
	INT(qos, 0, 7, 0),
	INT(spoofchk, -1, 1, 1),     /* -1: the driver does not report it */
	INT(trust, -1, 1, 1),
	INT(link, 0, 2, 0),
	INT(max_rate, 0, INT_MAX, 0),
	INT(min_rate, 0, INT_MAX, 0),
};

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* The kinds, indexed by enum journal_kind. */
static const struct journal_kind_info kinds[JOURNAL_NKINDS] = {
	[JOURNAL_DEVICE] = { "device", device_fields, NFIELDS(device_fields), device_restore },
	[JOURNAL_SRIOV] = { "sriov", sriov_fields, NFIELDS(sriov_fields), sriov_give_back },
	[JOURNAL_VFNET] = { "vfnet", vfnet_fields, NFIELDS(vfnet_fields), vfnet_give_back },
};

static const char *const state_names[JOURNAL_NSTATES] = {
	"recorded", "applied", "restored", "gone"
};

static const char *const outcome_names[] = { "restored", "unchanged", "gone", "failed" };

const struct journal_kind_info *journal_kind_info(enum journal_kind kind)
{
	return (unsigned)kind < JOURNAL_NKINDS ? &kinds[kind] : NULL;
}

int journal_kind_parse(const char *name)
{
	for (int k = 0; name && k < JOURNAL_NKINDS; k++)
		if (strcmp(name, kinds[k].name) == 0)
			return k;
	return -1;
}

const char *journal_state_name(enum journal_state s)
{
	return (unsigned)s < JOURNAL_NSTATES ? state_names[s] : "?";
}

int journal_state_parse(const char *name)
{
	for (int i = 0; name && i < JOURNAL_NSTATES; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

const char *journal_outcome_name(enum journal_outcome o)
{
	return (unsigned)o <= JOURNAL_FAILED ? outcome_names[o] : "?";
}

static char *name_at(struct journal_entry *e, const struct journal_field *f)
{
	return (char *)e + f->offset;
}

static int *int_at(struct journal_entry *e, const struct journal_field *f)
{
	return (int *)(void *)((char *)e + f->offset);
}

const char *journal_get_name(const struct journal_entry *e, const struct journal_field *f)
{
	return (const char *)e + f->offset;
}

int journal_get_int(const struct journal_entry *e, const struct journal_field *f)
{
	return *(const int *)(const void *)((const char *)e + f->offset);
}

/* The size of a string field's buffer. */
static size_t string_size(const struct journal_field *f)
{
	return f->type == JOURNAL_MAC ? JOURNAL_MACLEN : VFIO_NAMELEN;
}

int journal_set_name(struct journal_entry *e, const struct journal_field *f, const char *value)
{
	unsigned char mac[NL_MACLEN];

	if (!value)
		return -EINVAL;
	if (f->type == JOURNAL_MAC) {
		if (nl_mac_parse(value, mac) < 0)
			return -EINVAL;
		nl_mac_format(mac, name_at(e, f));      /* lower case, whatever the caller wrote */
		return 0;
	}
	if (f->type != JOURNAL_NAME || (value[0] && !vfio_driver_ok(value)))
		return -EINVAL;
	memcpy(name_at(e, f), value, strlen(value) + 1);
	return 0;
}

int journal_set_int(struct journal_entry *e, const struct journal_field *f, long long value)
{
	if (f->type != JOURNAL_INT || value < f->lo || value > f->hi)
		return -EINVAL;
	*int_at(e, f) = (int)value;
	return 0;
}

int journal_entry_init(struct journal_entry *e, enum journal_kind kind, const char *addr)
{
	const struct journal_kind_info *k = journal_kind_info(kind);

	memset(e, 0, sizeof *e);
	if (!k || !vfio_addr_ok(addr))
		return -EINVAL;
	e->kind = kind;
	memcpy(e->addr, addr, strlen(addr) + 1);
	for (size_t i = 0; i < k->nfields; i++)
		if (k->fields[i].type == JOURNAL_INT && k->fields[i].optional)
			*int_at(e, &k->fields[i]) = k->fields[i].lo;
	return 0;
}

/* A copy of e holding only what its kind uses, each value checked. 0 or -EINVAL. */
static int normalize(const struct journal_entry *e, struct journal_entry *out)
{
	const struct journal_kind_info *k = journal_kind_info(e->kind);

	if (!k || (unsigned)e->state >= JOURNAL_NSTATES || !memchr(e->addr, '\0', sizeof e->addr) ||
	    journal_entry_init(out, e->kind, e->addr) < 0)
		return -EINVAL;
	out->state = e->state;
	for (size_t i = 0; i < k->nfields; i++) {
		const struct journal_field *f = &k->fields[i];
		const char *name = journal_get_name(e, f);
		int rc = f->type != JOURNAL_INT ?
		         (memchr(name, '\0', string_size(f)) ? journal_set_name(out, f, name) : -EINVAL) :
		         journal_set_int(out, f, journal_get_int(e, f));
		if (rc < 0)
			return rc;
	}
	return 0;
}

int journal_add(struct journal *j, const struct journal_entry *e)
{
	struct journal_entry c;

	if (normalize(e, &c) < 0)
		return -EINVAL;
	for (size_t i = 0; i < j->count; i++)
		if (j->entries[i].kind == c.kind && strcmp(j->entries[i].addr, c.addr) == 0)
			return 1;       /* the first record is the original: keep it */
	if (j->count == j->cap) {
		size_t cap = j->cap ? 2 * j->cap : 16;
		struct journal_entry *bigger = cap > SIZE_MAX / sizeof *bigger ? NULL :
		                               realloc(j->entries, cap * sizeof *bigger);
		if (!bigger)
			return -ENOMEM;
		j->entries = bigger;
		j->cap = cap;
	}
	j->entries[j->count++] = c;
	return 0;
}

int journal_mark(struct journal *j, size_t index, enum journal_state state)
{
	if (index >= j->count || (unsigned)state >= JOURNAL_NSTATES)
		return -EINVAL;
	j->entries[index].state = state;
	return 0;
}

int journal_forget(struct journal *j, size_t index)
{
	if (index >= j->count)
		return -EINVAL;
	memmove(&j->entries[index], &j->entries[index + 1],
	        (j->count - index - 1) * sizeof *j->entries);
	j->count--;
	return 0;
}

int journal_entry_open(const struct journal_entry *e)
{
	return e->state != JOURNAL_STATE_RESTORED && e->state != JOURNAL_STATE_GONE;
}

size_t journal_open_count(const struct journal *j)
{
	size_t n = 0;

	for (size_t i = 0; i < j->count; i++)
		n += journal_entry_open(&j->entries[i]);
	return n;
}

void journal_free(struct journal *j)
{
	free(j->entries);
	j->entries = NULL;
	j->count = j->cap = 0;
}

/* ---- The text format ---- */

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

/* The whole file in memory, so that one write() puts it down. */
static int render(const struct journal *j, char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);

	if (!f)
		return -errno;
	fputs(MAGIC "\n", f);
	for (size_t i = 0; i < j->count; i++) {
		const struct journal_entry *e = &j->entries[i];
		const struct journal_kind_info *k = journal_kind_info(e->kind);

		fprintf(f, "%s %s", k->name, e->addr);
		for (size_t n = 0; n < k->nfields; n++) {
			const struct journal_field *fd = &k->fields[n];
			fprintf(f, " %s=", fd->key);
			if (fd->type != JOURNAL_INT)
				put_escaped(f, journal_get_name(e, fd));
			else
				fprintf(f, "%d", journal_get_int(e, fd));
		}
		fprintf(f, " state=%s\n", journal_state_name(e->state));
	}
	if (fclose(f) != 0) {
		free(*text);
		*text = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int parse_int(const char *s, long long *out)
{
	char *end;

	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || s[0] == '+' || s[0] == ' ')
		return -EINVAL;
	*out = v;
	return 0;
}

/* One value of field f from its file text into e; a reason into why on failure. */
static int parse_value(struct journal_entry *e, const struct journal_field *f, const char *text,
                       char *why, size_t whylen)
{
	char name[VFIO_NAMELEN];
	long long v;

	if (f->type == JOURNAL_INT) {
		if (parse_int(text, &v) < 0 || journal_set_int(e, f, v) < 0) {
			errbuf_printf(why, whylen, "%s is not an integer in %d..%d", f->key, f->lo, f->hi);
			return -EINVAL;
		}
		return 0;
	}
	if (unescape(name, string_size(f), text) < 0 || journal_set_name(e, f, name) < 0) {
		if (f->type == JOURNAL_MAC)
			errbuf_printf(why, whylen, "%s is not a MAC address (aa:bb:cc:dd:ee:ff)", f->key);
		else
			errbuf_printf(why, whylen, "%s is not a kernel driver name (1 to %d of A-Z a-z "
			              "0-9 _ . : + -, or empty)", f->key, VFIO_NAMELEN - 1);
		return -EINVAL;
	}
	return 0;
}

/* The field of kind k named key, or NULL. */
static const struct journal_field *field_of(const struct journal_kind_info *k, const char *key,
                                            size_t *index)
{
	for (size_t i = 0; i < k->nfields; i++)
		if (strcmp(k->fields[i].key, key) == 0) {
			*index = i;
			return &k->fields[i];
		}
	return NULL;
}

/* A reason into why; -EINVAL, for `return refuse(...)`. */
static int refuse(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* One entry line: KIND ADDR key=value...; every key of the kind, and state, exactly once.
 * Values from the file are never echoed: they may hold anything. */
static int parse_line(char *line, struct journal_entry *e, char *why, size_t whylen)
{
	char *save = NULL, *kind = strtok_r(line, " ", &save), *addr = strtok_r(NULL, " ", &save);
	const struct journal_kind_info *k;
	unsigned long seen = 0, state_bit;
	int st = -1, kn = journal_kind_parse(kind);

	if (kn < 0 || !(k = journal_kind_info((enum journal_kind)kn)))
		return refuse(why, whylen, "not a record kind the journal knows");
	if (!addr || journal_entry_init(e, (enum journal_kind)kn, addr) < 0)
		return refuse(why, whylen, "not a PCI address \"dddd:bb:dd.f\"");
	state_bit = 1ul << k->nfields;
	for (char *tok; (tok = strtok_r(NULL, " ", &save));) {
		char *val = strchr(tok, '=');
		const struct journal_field *f;
		size_t i = 0;

		if (!val)
			return refuse(why, whylen, "a field without '='");
		*val++ = '\0';
		if (strcmp(tok, "state") == 0) {
			if (seen & state_bit)
				return refuse(why, whylen, "state given twice");
			if ((st = journal_state_parse(val)) < 0)
				return refuse(why, whylen, "state is not recorded, applied, restored "
				                     "or gone");
			seen |= state_bit;
			continue;
		}
		if (!(f = field_of(k, tok, &i)))
			return refuse(why, whylen, "a key a %s record does not have", k->name);
		if (seen & (1ul << i))
			return refuse(why, whylen, "%s given twice", f->key);
		if (parse_value(e, f, val, why, whylen) < 0)
			return -EINVAL;
		seen |= 1ul << i;
	}
	for (size_t i = 0; i < k->nfields; i++)
		if (!(seen & (1ul << i)))
			return refuse(why, whylen, "%s is missing", k->fields[i].key);
	if (!(seen & state_bit))
		return refuse(why, whylen, "state is missing");
	e->state = (enum journal_state)st;
	return 0;
}

/* Line lineno (1-based) of text: header or entry, added to j. 0 or -errno with err set. */
static int parse_one(struct journal *j, char *line, size_t lineno, const char *label,
                     char *err, size_t errlen)
{
	struct journal_entry e;
	char why[160];
	int rc;

	if (lineno == 1) {
		if (strcmp(line, MAGIC) == 0)
			return 0;
		errbuf_printf(err, errlen, "%s: not a version 1 vflaunch journal", label);
		return -EINVAL;
	}
	if (parse_line(line, &e, why, sizeof why) < 0) {
		errbuf_printf(err, errlen, "%s:%zu: %s", label, lineno, why);
		return -EINVAL;
	}
	if ((rc = journal_add(j, &e)) == 1) {
		errbuf_printf(err, errlen, "%s:%zu: a second %s record of %s", label, lineno,
		              journal_kind_info(e.kind)->name, e.addr);
		return -EINVAL;
	}
	if (rc < 0)
		errbuf_printf(err, errlen, "%s:%zu: %s", label, lineno, strerror(-rc));
	return rc;
}

int journal_parse(struct journal *j, const char *text, size_t len, const char *label,
                  char *err, size_t errlen)
{
	char line[LINEMAX];
	size_t pos = 0, lineno = 0;
	int rc = 0;

	memset(j, 0, sizeof *j);
	label = label ? label : "journal";
	if (len > JOURNAL_MAXSIZE) {
		errbuf_printf(err, errlen, "%s: larger than %d bytes: not a journal", label, JOURNAL_MAXSIZE);
		return -EFBIG;
	}
	if (len == 0) {
		errbuf_printf(err, errlen, "%s: empty journal", label);
		return -EINVAL;
	}
	while (rc == 0 && pos < len) {
		const char *start = text + pos, *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;

		lineno++;
		if (!nl)
			errbuf_printf(err, errlen, "%s:%zu: no newline at the end (a truncated journal)",
			              label, lineno);
		else if (memchr(start, '\0', n))
			errbuf_printf(err, errlen, "%s:%zu: a NUL byte", label, lineno);
		else if (n >= sizeof line)
			errbuf_printf(err, errlen, "%s:%zu: line too long", label, lineno);
		if (!nl || memchr(start, '\0', n) || n >= sizeof line) {
			rc = -EINVAL;
			break;
		}
		memcpy(line, start, n);
		line[n] = '\0';
		pos += n + 1;
		rc = parse_one(j, line, lineno, label, err, errlen);
	}
	if (rc < 0)
		journal_free(j);
	return rc;
}

/* All of fd, which fstat said is a regular file of about hint bytes, into a malloc'd buffer;
 * -EFBIG as soon as it passes JOURNAL_MAXSIZE (the file may have grown since). */
static int read_bounded(int fd, size_t hint, char **text, size_t *len)
{
	size_t cap = (hint < JOURNAL_MAXSIZE ? hint : JOURNAL_MAXSIZE) + 1, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			char *bigger = cap > JOURNAL_MAXSIZE ? NULL : realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				return cap > JOURNAL_MAXSIZE ? -EFBIG : -ENOMEM;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int rc = -errno;
			free(buf);
			return rc;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n > JOURNAL_MAXSIZE) {
		free(buf);
		return -EFBIG;
	}
	*text = buf;
	*len = n;
	return 0;
}

int journal_load(struct journal *j, const char *path, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	struct stat sb;
	int fd, rc;

	memset(j, 0, sizeof *j);
	if (!path || (rc = sysfs_path(j->path, sizeof j->path, "%s", path)) < 0) {
		errbuf_printf(err, errlen, "%s: %s", path ? path : "(null)", strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	/* O_NOFOLLOW: a journal names what root will write to sysfs; O_NONBLOCK: a FIFO here
	 * must not hang the open. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ELOOP) {
		errbuf_printf(err, errlen, "%s: a symbolic link; a journal is never read through one",
		              path);
		return -ELOOP;
	}
	if (fd < 0 || fstat(fd, &sb) < 0) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		errbuf_printf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > JOURNAL_MAXSIZE) {
		close(fd);
		rc = S_ISREG(sb.st_mode) ? -EFBIG : -EINVAL;
		errbuf_printf(err, errlen, rc == -EFBIG ? "%s: larger than 1 MiB: not a journal" :
		              "%s: not a regular file: not a journal", path);
		return rc;
	}
	rc = read_bounded(fd, (size_t)sb.st_size, &text, &len);
	close(fd);
	if (rc < 0) {
		errbuf_printf(err, errlen, rc == -EFBIG ? "%s: larger than 1 MiB: not a journal" : "%s: %s",
		              path, strerror(-rc));
		return rc;
	}
	rc = journal_parse(j, text, len, path, err, errlen);
	free(text);
	if (rc == 0)
		sysfs_path(j->path, sizeof j->path, "%s", path); /* fits: checked above */
	return rc;
}

/* ---- Writing ---- */

static int forbidden(const char *path, const char *what, char *err, size_t errlen)
{
	errbuf_printf(err, errlen, "%s: not %s: this run is print-only (host writes are forbidden)",
	              path, what);
	return -EROFS;
}

static int fail(char *err, size_t errlen, int rc, const char *path)
{
	errbuf_printf(err, errlen, "%s: %s", path, strerror(-rc));
	return rc;
}

int journal_save(const struct journal *j, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (sysfs_writes_forbidden())
		return forbidden(j->path, "saved", err, errlen);
	if ((rc = render(j, &text, &len)) < 0)
		return fail(err, errlen, rc, j->path);
	/* Never a file the next load would refuse. */
	if (len > JOURNAL_MAXSIZE) {
		free(text);
		errbuf_printf(err, errlen, "%s: %zu entries would make it larger than 1 MiB", j->path,
		              j->count);
		return -EFBIG;
	}
	/* Temp file, fsync, rename, directory fsync (files.c); no link is followed in /run. */
	rc = file_write_atomic(j->path, text, len, 0600, err, errlen);
	free(text);
	return rc;
}

int journal_create(struct journal *j, const char *path, char *err, size_t errlen)
{
	int rc;

	memset(j, 0, sizeof *j);
	if (!path || (rc = sysfs_path(j->path, sizeof j->path, "%s", path)) < 0)
		return fail(err, errlen, -ENAMETOOLONG, path ? path : "(null)");
	if (sysfs_writes_forbidden())
		return forbidden(path, "created", err, errlen);
	/* Written at once: its existence says a launch began. Never over an existing file, never
	 * through a link; 0600: it names a root tool's devices. */
	return file_create(path, MAGIC "\n", strlen(MAGIC "\n"), 0600, err, errlen);
}

/* ---- Giving back ---- */

enum journal_outcome journal_restore_entry(const char *root, struct journal *j, size_t i,
                                           char *why, size_t whylen)
{
	struct journal_entry *e;
	enum journal_outcome o;

	if (why && whylen)
		why[0] = '\0';
	if (i >= j->count) {
		errbuf_printf(why, whylen, "no journal entry %zu", i + 1);
		return JOURNAL_FAILED;
	}
	e = &j->entries[i];
	if (e->state == JOURNAL_STATE_RESTORED)
		return JOURNAL_UNCHANGED;
	if (e->state == JOURNAL_STATE_GONE)
		return JOURNAL_GONE;
	o = journal_kind_info(e->kind)->restore(root, e, why, whylen);
	if (o == JOURNAL_RESTORED || o == JOURNAL_UNCHANGED)
		e->state = JOURNAL_STATE_RESTORED;
	else if (o == JOURNAL_GONE)
		e->state = JOURNAL_STATE_GONE;
	if (o != JOURNAL_FAILED && why && whylen)
		why[0] = '\0';
	return o;
}

int journal_restore(const char *root, struct journal *j, char *err, size_t errlen)
{
	char why[512];
	int first = 0, marked = 0, rc;

	for (size_t k = j->count; k-- > 0;) {
		if (!journal_entry_open(&j->entries[k]))
			continue;
		if (journal_restore_entry(root, j, k, why, sizeof why) != JOURNAL_FAILED) {
			marked = 1;
			continue;
		}
		if (first == 0) {
			first = -EIO;
			errbuf_printf(err, errlen, "restore %s: %s", j->entries[k].addr, why);
		}
	}
	if (!marked || (rc = journal_save(j, why, sizeof why)) == 0)
		return first;
	if (first == 0) {
		errbuf_printf(err, errlen, "every entry was given back, but the journal could not be "
		              "marked so: %s", why);
		return rc;
	}
	size_t n = strlen(err);
	if (n < errlen)
		errbuf_printf(err + n, errlen - n, " (and the journal could not be marked: %s)", why);
	return first;
}
