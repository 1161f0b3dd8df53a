// SPDX-License-Identifier: MIT
// Files vflaunch keeps as root: atomic replacement, bounded reads, private directories, a lock.
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "sysfs.h"

static int fail(char *err, size_t errlen, int rc, const char *step, const char *path)
{
	errbuf_printf(err, errlen, "%s: %s: %s", step, path, strerror(-rc));
	return rc;
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

/* The directory part of path, for the fsync that makes a rename durable. */
static void parent_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, size, ".");
	else if (slash == path)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

int file_write_atomic(const char *path, const char *data, size_t len, mode_t mode,
                      char *err, size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, rc;

	if (sysfs_writes_forbidden())
		return fail(err, errlen, -EROFS, "write (a print-only run changes nothing)", path);
	if ((rc = sysfs_path(tmp, sizeof tmp, "%s.tmp", path)) < 0)
		return fail(err, errlen, rc, "write", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return fail(err, errlen, -errno, "write", tmp);
	rc = write_all(fd, data, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return fail(err, errlen, rc, "write", path);
	}
	parent_of(path, dir, sizeof dir);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

int file_create(const char *path, const char *data, size_t len, mode_t mode, char *err,
                size_t errlen)
{
	char dir[PATH_MAX];
	int fd, rc;

	if (sysfs_writes_forbidden())
		return fail(err, errlen, -EROFS, "create (a print-only run changes nothing)", path);
	/* O_EXCL refuses an existing file and a link alike; O_NOFOLLOW says so twice. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return fail(err, errlen, -errno, "create", path);
	rc = write_all(fd, data, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		unlink(path);           /* ours: O_EXCL created it */
		return fail(err, errlen, rc, "create", path);
	}
	parent_of(path, dir, sizeof dir);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

int file_read(const char *path, size_t max, char **data, size_t *len, char *err, size_t errlen)
{
	struct stat sb;
	char *buf;
	size_t got = 0;
	int fd, rc = 0;

	*data = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return fail(err, errlen, errno == ELOOP ? -EINVAL : -errno,
		            errno == ELOOP ? "read (a symlink is not followed)" : "read", path);
	if (fstat(fd, &sb) < 0)
		rc = -errno;
	else if (!S_ISREG(sb.st_mode))
		rc = -EINVAL;
	else if ((unsigned long long)sb.st_size > max)
		rc = -EFBIG;
	if (rc < 0) {
		close(fd);
		return fail(err, errlen, rc, rc == -EINVAL ? "read (not a regular file)" : "read", path);
	}
	/* One byte more than allowed tells a file that grew from one that did not. */
	if (!(buf = malloc(max + 1))) {
		close(fd);
		return fail(err, errlen, -ENOMEM, "read", path);
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, max + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			rc = -EFBIG;
			break;
		}
	}
	close(fd);
	if (rc < 0) {
		free(buf);
		return fail(err, errlen, rc, "read", path);
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;
}

int dir_private(const char *path, int create, char *err, size_t errlen)
{
	struct stat sb;

	if (create && mkdir(path, 0700) < 0 && errno != EEXIST) {
		if (errno == EROFS || sysfs_writes_forbidden())
			return fail(err, errlen, -EROFS, "state directory", path);
		return fail(err, errlen, -errno, "state directory", path);
	}
	if (lstat(path, &sb) < 0)
		return fail(err, errlen, -errno, "state directory", path);
	if (S_ISLNK(sb.st_mode)) {
		errbuf_printf(err, errlen, "state directory: %s is a symlink; vflaunch keeps its state "
		              "only in a real directory: remove the link", path);
		return -ELOOP;
	}
	if (!S_ISDIR(sb.st_mode)) {
		errbuf_printf(err, errlen, "state directory: %s is not a directory: remove it", path);
		return -ENOTDIR;
	}
	if (sb.st_uid != geteuid() || (sb.st_mode & 022)) {
		errbuf_printf(err, errlen, "state directory: %s is owned by uid %u with mode %04o; it "
		              "must belong to uid %u and be writable by no one else: chown %u %s; "
		              "chmod 0700 %s", path, (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777),
		              (unsigned)geteuid(), (unsigned)geteuid(), path, path);
		return -EPERM;
	}
	return 0;
}

/* One component of a root run's script path: owned by root or us, and writable by nobody else
 * unless it is a sticky directory and what lies below it is owned by root or us. */
static int component_trusted(const char *path, const struct stat *sb, const struct stat *below,
                             char *err, size_t errlen)
{
	uid_t me = geteuid();
	int owner_ok = sb->st_uid == 0 || sb->st_uid == me;
	int others_write = (sb->st_mode & 022) != 0;
	int sticky_ok = S_ISDIR(sb->st_mode) && (sb->st_mode & S_ISVTX) && sb->st_uid == 0 && below &&
	                (below->st_uid == 0 || below->st_uid == me);

	if (owner_ok && (!others_write || sticky_ok))
		return 0;
	errbuf_printf(err, errlen, "%s is %s%s%s (uid %u, mode %04o); a script run as root must be "
	              "changeable by root alone: chown root %s and chmod go-w %s, or run it from a "
	              "directory only root can write", path,
	              owner_ok ? "" : "owned by another user",
	              !owner_ok && others_write ? " and " : "",
	              others_write ? "writable by others" : "", (unsigned)sb->st_uid,
	              (unsigned)(sb->st_mode & 07777), path, path);
	return -EPERM;
}

int path_trusted(const char *path, char *err, size_t errlen)
{
	char real[PATH_MAX], part[PATH_MAX];
	struct stat sb, below;
	int have_below = 0, rc;

	if (!realpath(path, real))
		return fail(err, errlen, -errno, "script", path);
	/* From the file up to /: each component with what lies right below it. */
	snprintf(part, sizeof part, "%s", real);
	for (;;) {
		if (stat(part, &sb) < 0)
			return fail(err, errlen, -errno, "script", part);
		if ((rc = component_trusted(part, &sb, have_below ? &below : NULL, err, errlen)) < 0)
			return rc;
		if (strcmp(part, "/") == 0)
			return 0;
		below = sb;
		have_below = 1;
		char *slash = strrchr(part, '/');
		if (slash == part)
			part[1] = '\0';
		else
			*slash = '\0';
	}
}

int file_lock(const char *path, int *fd, char *err, size_t errlen)
{
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (f < 0)
		return fail(err, errlen, -errno, "lock", path);
	while (flock(f, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		if (e == EINTR)
			continue;
		close(f);
		if (e == EWOULDBLOCK)
			return -EWOULDBLOCK;
		return fail(err, errlen, -e, "lock", path);
	}
	*fd = f;
	return 0;
}
