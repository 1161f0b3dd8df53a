// SPDX-License-Identifier: MIT
// Process facts from /proc: start times and the holders of open files.
#include "proc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysfs.h"

#define PROC(r) ((r) ? (r) : "/proc")

/* Fields 3 (state) and 22 (start time) of /proc/PID/stat. Read as "PID/stat" under a
 * descriptor of the proc directory, not by its absolute path: qemu-user (make check-arm64)
 * answers a path "/proc/<its own pid>/stat" itself, with the start time rounded to a second,
 * so that a launch's own record would not match what every other process reads. */
static int read_stat(const char *procroot, pid_t pid, char *state, unsigned long long *start)
{
	char rel[32], buf[1024], *p;
	int n, dir;

	if (pid <= 0)
		return -ESRCH;
	if ((dir = open(PROC(procroot), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	snprintf(rel, sizeof rel, "%d/stat", (int)pid);
	n = sysfs_read_at(dir, rel, buf, sizeof buf);
	close(dir);
	if (n < 0)
		return n == -ENOENT ? -ESRCH : n;
	/* comm (field 2) is in parentheses and may hold anything, ')' included: skip past the
	 * last ')'. Then field 3 is the state; start time is field 22, 20 fields on. */
	if (!(p = strrchr(buf, ')')))
		return -EINVAL;
	p++;
	while (*p == ' ')
		p++;
	*state = *p;
	for (int field = 3; field < 22; field++) {
		while (*p == ' ')
			p++;
		while (*p && *p != ' ')
			p++;
	}
	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	*start = strtoull(p, &p, 10);
	if (errno || (*p && *p != ' '))
		return -EINVAL;
	return 0;
}

int proc_starttime(const char *procroot, pid_t pid, unsigned long long *start)
{
	char state;

	return read_stat(procroot, pid, &state, start);
}

int proc_alive(const char *procroot, pid_t pid, unsigned long long start)
{
	unsigned long long now;
	char state;

	/* A zombie has ended, its files are closed (a guest's /dev/vfio among them); only its
	 * parent has not reaped it yet, and may not until later (a launcher that waits for its
	 * children only now and then): it is not alive. */
	return read_stat(procroot, pid, &state, &now) == 0 && now == start &&
	       state != 'Z' && state != 'X';
}

void proc_comm(const char *procroot, pid_t pid, char *buf, size_t size)
{
	char path[PATH_MAX];

	if (sysfs_path(path, sizeof path, "%s/%d/comm", PROC(procroot), (int)pid) < 0 ||
	    sysfs_read(path, buf, size) < 0)
		buf[0] = '\0';
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* One descriptor (name, in the directory dir of process pid): appended when its target
 * begins with prefix. 0, or -ENOMEM. */
static int holder(int dir, const char *pid, const char *name, const char *prefix, size_t plen,
                  char *target, size_t size, struct proc_holder **v, size_t *n, size_t *cap)
{
	if (!all_digits(name))
		return 0;       /* ".", ".." */
	ssize_t len = readlinkat(dir, name, target, size - 1);
	if (len < 0 || (size_t)len < plen)
		return 0;
	target[len] = '\0';
	if (strncmp(target, prefix, plen) != 0 || (size_t)len >= sizeof (*v)->target)
		return 0;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct proc_holder *bigger = realloc(*v, ncap * sizeof **v);
		if (!bigger)
			return -ENOMEM;
		*v = bigger;
		*cap = ncap;
	}
	(*v)[*n].pid = (pid_t)strtol(pid, NULL, 10);
	memcpy((*v)[*n].target, target, (size_t)len + 1);
	(*n)++;
	return 0;
}

/* Append the holders among one process's descriptors (procfd: the proc directory). Its fd
 * directory is listed with getdents64 and its links read relative to it: opendir would fstat
 * each directory, and an absolute path is walked again for every descriptor (a hundred kernel
 * threads with no descriptors cost three calls each, not five). */
static int scan_fds(int procfd, const char *pid, const char *prefix,
                    struct proc_holder **v, size_t *n, size_t *cap)
{
	char rel[NAME_MAX + 8], target[PATH_MAX];
	size_t plen = strlen(prefix);
	union {
		struct dirent64 first;          /* for the alignment of the entries */
		char bytes[8192];
	} buf;
	ssize_t got;
	int rc = 0;

	if (sysfs_path(rel, sizeof rel, "%s/fd", pid) < 0)
		return 0;
	int dir = openat(procfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return 0;       /* gone, or not ours to inspect */
	while (rc == 0 && (got = getdents64(dir, buf.bytes, sizeof buf.bytes)) > 0)
		for (ssize_t off = 0; rc == 0 && off < got;) {
			struct dirent64 *de = (struct dirent64 *)(void *)(buf.bytes + off);
			off += de->d_reclen;
			rc = holder(dir, pid, de->d_name, prefix, plen, target, sizeof target, v, n, cap);
		}
	close(dir);
	return rc;
}

int proc_holders(const char *procroot, const char *prefix, struct proc_holder **out, size_t *count)
{
	struct proc_holder *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int rc = 0;

	*out = NULL;
	*count = 0;
	DIR *d = opendir(PROC(procroot));
	if (!d)
		return -errno;
	while (rc == 0 && (de = readdir(d)))
		if (all_digits(de->d_name))
			rc = scan_fds(dirfd(d), de->d_name, prefix, &v, &n, &cap);
	closedir(d);
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	*count = n;
	return 0;
}
