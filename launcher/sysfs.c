// SPDX-License-Identifier: MIT
// Careful sysfs attribute access: bounded paths, O_CLOEXEC, whole writes, -errno results.
#include "sysfs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Set once, never cleared (see sysfs.h). */
static int writes_forbidden;

void sysfs_forbid_writes(void)
{
	writes_forbidden = 1;
}

int sysfs_writes_forbidden(void)
{
	return writes_forbidden;
}

/* Open path for an attribute access: O_NONBLOCK so a FIFO or a device node in a corrupt tree
 * cannot hang the open, then anything but a regular file is refused before a read or write
 * could block or mean something else. An fd, or -errno. */
static int open_attr(int dirfd, const char *path, int flags)
{
	struct stat sb;
	int fd = dirfd == AT_FDCWD ? open(path, flags | O_CLOEXEC | O_NONBLOCK) :
	                             openat(dirfd, path, flags | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		int err = errno; /* close() may clobber errno */
		close(fd);
		return -err;
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int sysfs_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	/* A truncated path names some other file: never hand it on. */
	if ((size_t)n >= size) {
		if (size)
			buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return n;
}

int sysfs_read(const char *path, char *buf, size_t size)
{
	return sysfs_read_at(AT_FDCWD, path, buf, size);
}

int sysfs_read_at(int dirfd, const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int fd, err = 0;

	if (size == 0 || size > INT_MAX)
		return -EINVAL;
	buf[0] = '\0';
	fd = open_attr(dirfd, path, O_RDONLY);
	if (fd < 0)
		return fd;
	/* Read one byte past what fits: that is how an oversized attribute is told apart. */
	for (;;) {
		ssize_t n = read(fd, buf + len, size - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno; /* close() may clobber errno */
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len >= size) {
			err = EOVERFLOW;
			break;
		}
	}
	close(fd);
	if (err) {
		buf[0] = '\0';
		return -err;
	}
	buf[len] = '\0';
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	return (int)len;
}

/* Text of an integer attribute (n bytes in buf) as a long: decimal, or 0x-prefixed hex. */
int sysfs_parse_long(const char *buf, int n, long *value)
{
	char *end;
	long v;

	/* A NUL inside the value would end strtol's text early and hide the rest ("7\0junk"). */
	if (n <= 0 || memchr(buf, '\0', (size_t)n))
		return -EINVAL;
	/* Base 0 would read "010" as octal; sysfs prints decimal or 0x-prefixed hex only. */
	const char *digits = buf;
	int base = 10;

	if (buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')) {
		digits = buf + 2;
		base = 16;
	}
	/* Only digits of the base after the prefix (and a '-' first in decimal): strtol would skip
	 * blanks, take a sign after "0x", and a second "0x" after the first ("0X0X9" is 9). */
	const char *p = digits + (base == 10 && digits[0] == '-');
	if (!*p)
		return -EINVAL;         /* no digit at all */
	for (; *p; p++)
		if (base == 16 ? !isxdigit((unsigned char)*p) : !isdigit((unsigned char)*p))
			return -EINVAL;
	errno = 0;
	v = strtol(digits, &end, base);
	if (end == digits || *end != '\0')
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*value = v;
	return 0;
}

int sysfs_read_long(const char *path, long *value)
{
	char buf[64];
	int n = sysfs_read(path, buf, sizeof buf);

	if (n < 0)
		return n;
	return sysfs_parse_long(buf, n, value);
}

int sysfs_read_attr(const char *path, char *buf, size_t size)
{
	struct stat sb;
	ssize_t n;
	int fd, err = 0;

	if (size < 2 || size > INT_MAX)
		return -EINVAL;
	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, size);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		err = errno;
	/* A value that reads whole, short of the buffer, is an attribute's (sysfs serves one in a
	 * single read, and a regular file ends where a read comes up short). Nothing, a full
	 * buffer or an error may instead come from a FIFO, a device or a directory in a corrupt
	 * tree: only then is fstat asked, and anything but a regular file is -EINVAL. */
	if (n <= 0 || (size_t)n >= size) {
		if (fstat(fd, &sb) < 0)
			err = errno;
		else if (!S_ISREG(sb.st_mode))
			err = EINVAL;
		else if (n > 0)
			err = EOVERFLOW;
	}
	close(fd);
	if (err) {
		buf[0] = '\0';
		return -err;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return (int)n;
}

int sysfs_read_offset(const char *path, void *buf, size_t size, long offset)
{
	struct stat sb;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), err = 0;

	if (fd < 0)
		return -errno;
	do
		n = pread(fd, buf, size, offset);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		err = errno;
	/* As in sysfs_read_attr, fstat only when the read did not give what a file gives: a FIFO
	 * or directory fails pread (ESPIPE, EISDIR) and is -EINVAL. */
	if (n <= 0 && (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)))
		err = EINVAL;
	close(fd);
	return err ? -err : (int)n;
}

int sysfs_write(const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t n;
	int fd, err = 0;

	if (writes_forbidden)
		return -EROFS;
	/* O_TRUNC is what `echo > attr` does and sysfs ignores it; in a simulated tree it makes
	 * the file hold the value last written, as an attribute would. */
	fd = open_attr(AT_FDCWD, path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return fd;
	/* sysfs takes an attribute in one write; a partial one would be a different value. */
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		err = errno;
	else if ((size_t)n != len)
		err = EIO;
	/* A store method may report its failure only at close on some filesystems. */
	if (close(fd) < 0 && !err && errno != EINTR)
		err = errno;
	return -err;
}

int sysfs_link_name(const char *path, char *buf, size_t size)
{
	return sysfs_link_name_at(AT_FDCWD, path, buf, size);
}

int sysfs_link_name_at(int dirfd, const char *path, char *buf, size_t size)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;
	size_t len;

	if (size == 0)
		return -EINVAL;
	buf[0] = '\0';
	n = readlinkat(dirfd, path, target, sizeof target);
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof target)
		return -ENAMETOOLONG;
	target[n] = '\0';
	while (n > 1 && target[n - 1] == '/')
		target[--n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	len = strlen(base);
	if (len >= size)
		return -EOVERFLOW;
	memcpy(buf, base, len + 1);
	return (int)len;
}
