// SPDX-License-Identifier: MIT
// Files vflaunch keeps as root in a shared directory (/run/vflaunch): atomic replacement,
// bounded reads that follow no link, a private directory checked before use, a host-wide lock,
// and the check that a script run as root cannot be changed by anyone but root.
// Functions return 0 or -errno and, given an error buffer, say "step: path: why".
#ifndef VFLAUNCH_FILES_H
#define VFLAUNCH_FILES_H

#include <stddef.h>
#include <sys/types.h>

/* Replace path with data: a temp file beside it (O_NOFOLLOW, mode), fsync, rename, fsync of
 * the directory. -EROFS once host writes are forbidden (a print-only run). */
int file_write_atomic(const char *path, const char *data, size_t len, mode_t mode,
                      char *err, size_t errlen);

/* A new file at path holding data (O_EXCL: never an existing file, never through a link),
 * fsync'd with its directory. -EEXIST when path exists; -EROFS once host writes are forbidden. */
int file_create(const char *path, const char *data, size_t len, mode_t mode, char *err,
                size_t errlen);

/* The whole of a regular file of at most max bytes (O_NOFOLLOW: a planted link is refused),
 * NUL-terminated, malloc'd into *data. -EFBIG when larger, -EINVAL when not a regular file. */
int file_read(const char *path, size_t max, char **data, size_t *len, char *err, size_t errlen);

/* A directory only its owner can change: created (mode 0700) when missing and create is set;
 * refused when it is a symlink, not a directory, owned by another user than the effective
 * one, or writable by group or others. */
int dir_private(const char *path, int create, char *err, size_t errlen);

/* The script a root run executes: the file and every directory on its resolved path must be
 * owned by root (or the effective user) and writable by no one else. A sticky directory
 * (/tmp) writable by all is accepted when what lies in it is owned by root, as only its owner
 * may then replace it. */
int path_trusted(const char *path, char *err, size_t errlen);

/* Take an exclusive flock on path (created 0600, O_NOFOLLOW, close-on-exec, so an exec'd QEMU
 * does not inherit it): *fd on success, -EWOULDBLOCK when another process holds it. */
int file_lock(const char *path, int *fd, char *err, size_t errlen);

#endif
