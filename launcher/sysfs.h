// SPDX-License-Identifier: MIT
// Careful sysfs attribute access: bounded paths, O_CLOEXEC, whole writes, -errno results.
#ifndef VFLAUNCH_SYSFS_H
#define VFLAUNCH_SYSFS_H

#include <stddef.h>

/* snprintf into buf; -ENAMETOOLONG when the result does not fit, else its length. */
int sysfs_path(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Read a whole attribute into buf (NUL-terminated, one trailing newline stripped).
 * Returns the length, or -errno (-EOVERFLOW when it does not fit in size - 1 bytes).
 * Only a regular file is read: a FIFO, device or directory in a corrupt tree is -EINVAL,
 * found without blocking (the open is O_NONBLOCK, then fstat decides). */
int sysfs_read(const char *path, char *buf, size_t size);

/* sysfs_read of path relative to the directory dirfd (AT_FDCWD: sysfs_read). */
int sysfs_read_at(int dirfd, const char *path, char *buf, size_t size);

/* Read an attribute holding an integer (decimal, or 0x-prefixed hex). 0 or -errno
 * (-EINVAL when the text is not an integer). */
int sysfs_read_long(const char *path, long *value);

/* The integer text of an attribute, n bytes in buf: what sysfs_read_long checks. 0 or -errno. */
int sysfs_parse_long(const char *buf, int n, long *value);

/* sysfs_read for the inventory's many small reads: open, one read(2), close. A value is whole
 * when one read returns it short of size (as sysfs serves an attribute, and as a regular file
 * ends); only an empty, full or failed read asks fstat, so a FIFO, device or directory in a
 * corrupt tree is still -EINVAL, found without blocking (a FIFO a process is writing into is
 * read as what it holds). Length, or -errno (-EOVERFLOW when it does not fit in size - 1 bytes). */
int sysfs_read_attr(const char *path, char *buf, size_t size);

/* Up to size bytes at offset of a regular file (config space): the count read, or -errno
 * (-EINVAL for a FIFO or directory, found without blocking; open, pread, close, and fstat
 * only when pread gives nothing). */
int sysfs_read_offset(const char *path, void *buf, size_t size, long offset);

/* Write value in one write(2) to a regular file: 0, or -errno (a short write is -EIO; anything
 * but a regular file is -EINVAL, or -ENXIO for a FIFO nobody reads, found without blocking).
 * -EROFS, without opening anything, once writes are forbidden. */
int sysfs_write(const char *path, const char *value);

/* The host-write latch. A print-only run (a dry run, --json, a tree) sets it before any host
 * access; from then on sysfs_write, journal_create/journal_save and vfio_modprobe refuse with
 * -EROFS. One-way on purpose: nothing can clear it, so no later code path can write. */
void sysfs_forbid_writes(void);
int sysfs_writes_forbidden(void);      /* 1 once forbidden, else 0 */

/* The last component of a symlink's target (a "driver" link gives "ixgbe"). Length or -errno. */
int sysfs_link_name(const char *path, char *buf, size_t size);
/* The same for path relative to the directory dirfd (AT_FDCWD: as sysfs_link_name). */
int sysfs_link_name_at(int dirfd, const char *path, char *buf, size_t size);

#endif
