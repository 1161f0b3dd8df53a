// SPDX-License-Identifier: MIT
// Careful sysfs attribute access: bounded paths, O_CLOEXEC, whole writes, -errno results.
#ifndef VFLAUNCH_SYSFS_H
#define VFLAUNCH_SYSFS_H

#include <stddef.h>

/* snprintf into buf; -ENAMETOOLONG when the result does not fit, else its length. */
int sysfs_path(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Read a whole attribute into buf (NUL-terminated, one trailing newline stripped).
 * Returns the length, or -errno (-EOVERFLOW when it does not fit in size - 1 bytes). */
int sysfs_read(const char *path, char *buf, size_t size);

/* Read an attribute holding an integer (decimal, or 0x-prefixed hex). 0 or -errno
 * (-EINVAL when the text is not an integer). */
int sysfs_read_long(const char *path, long *value);

/* Write value in one write(2): 0, or -errno (a short write is -EIO). */
int sysfs_write(const char *path, const char *value);

/* A one-way latch for print-only runs: once set, sysfs_write (and every other host write of
 * vflaunch: journal, state files, modprobe) fails with -EROFS without touching anything. */
void sysfs_forbid_writes(void);
int sysfs_writes_forbidden(void);

/* The last component of a symlink's target (a "driver" link gives "ixgbe"). Length or -errno. */
int sysfs_link_name(const char *path, char *buf, size_t size);

#endif
