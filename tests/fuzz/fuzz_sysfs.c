// SPDX-License-Identifier: MIT
// libFuzzer target: the sysfs attribute readers on a file holding the input, each checked
// against what sysfs.h promises. Input: byte 0 chooses the reader's buffer size (1-256), the
// rest is the attribute's content (and, for sysfs_link_name, a symlink's target).
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysfs.h"

#define FUZZ_NAME "fuzz_sysfs"
#include "fuzzlib.h"

/* sysfs_read_long's promise: decimal (optionally negative) or 0x/0X hex, nothing else, after
 * one trailing newline is stripped; -ERANGE outside long; -EOVERFLOW past 63 bytes. */
static int model_long(const uint8_t *text, size_t len, long *out)
{
	size_t i = 0;
	int neg = 0, base = 10;
	__int128 v = 0;

	if (len >= 64)
		return -EOVERFLOW;
	if (len && text[len - 1] == '\n')
		len--;
	if (len == 0)
		return -EINVAL;
	if (len >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		base = 16, i = 2;
	else if (text[0] == '-')
		neg = 1, i = 1;
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		int d;
		if (text[i] >= '0' && text[i] <= '9')
			d = text[i] - '0';
		else if (base == 16 && text[i] >= 'a' && text[i] <= 'f')
			d = text[i] - 'a' + 10;
		else if (base == 16 && text[i] >= 'A' && text[i] <= 'F')
			d = text[i] - 'A' + 10;
		else
			return -EINVAL;
		if (v <= (__int128)1 << 70)
			v = v * base + d;
	}
	if (neg)
		v = -v;
	if (v > LONG_MAX || v < LONG_MIN)
		return -ERANGE;
	*out = (long)v;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[PATH_MAX], link[PATH_MAX];
	size_t bufsize, len;
	char *buf;
	long v = 12345, want = 0;
	int rc, mrc;

	fuzz_begin(data, size);
	if (size < 1)
		return 0;
	bufsize = 1 + data[0];
	data++, size--;
	fuzz_path(path, sizeof path, "attr");
	fuzz_put(path, data, size);

	/* sysfs_read: the content, one trailing newline stripped; -EOVERFLOW when it does not fit
	 * in bufsize - 1 bytes; buf is "" after an error. */
	buf = malloc(bufsize);
	if (!buf)
		abort();
	rc = sysfs_read(path, buf, bufsize);
	if (size >= bufsize) {
		fuzz_check(rc == -EOVERFLOW, "sysfs_read: oversized content not -EOVERFLOW");
		fuzz_check(buf[0] == '\0', "sysfs_read: buffer not emptied after an error");
	} else {
		len = size && data[size - 1] == '\n' ? size - 1 : size;
		fuzz_check(rc >= 0 && (size_t)rc == len, "sysfs_read: wrong length");
		fuzz_check(memcmp(buf, data, len) == 0 && buf[len] == '\0', "sysfs_read: wrong content");
	}
	free(buf);

	/* sysfs_read_long: strict integers only; a value with a NUL byte is not an integer. */
	rc = sysfs_read_long(path, &v);
	mrc = model_long(data, size, &want);
	if (mrc == -EOVERFLOW) {
		fuzz_check(rc < 0, "sysfs_read_long: accepted an oversized value");
	} else {
		char what[96];
		snprintf(what, sizeof what, "sysfs_read_long gave %s, the promise is %s",
		         rc ? strerror(-rc) : "a value", mrc ? strerror(-mrc) : "a value");
		fuzz_check(rc == mrc, what);
		fuzz_check(rc < 0 || mrc < 0 || v == want, "sysfs_read_long: value differs");
		fuzz_check(rc == 0 || v == 12345, "sysfs_read_long: value written on error");
	}

	/* sysfs_link_name: the last component of the target, trailing slashes dropped. */
	if (size > 0 && size < 1024 && !memchr(data, '\0', size)) {
		char target[1024], *base;
		fuzz_path(link, sizeof link, "link");
		memcpy(target, data, size);
		target[size] = '\0';
		unlink(link);
		if (symlink(target, link) < 0)
			abort();
		buf = malloc(bufsize);
		if (!buf)
		abort();
		rc = sysfs_link_name(link, buf, bufsize);
		len = size;
		while (len > 1 && target[len - 1] == '/')
			target[--len] = '\0';
		base = strrchr(target, '/');
		base = base ? base + 1 : target;
		if (strlen(base) >= bufsize) {
			fuzz_check(rc == -EOVERFLOW, "sysfs_link_name: long name not -EOVERFLOW");
		} else {
			fuzz_check(rc >= 0 && (size_t)rc == strlen(base), "sysfs_link_name: wrong length");
			fuzz_check(strcmp(buf, base) == 0, "sysfs_link_name: wrong name");
		}
		free(buf);
	}
	return 0;
}
