// SPDX-License-Identifier: MIT
// Process facts from /proc: a process's start time (so a reused pid is never taken for the
// guest that had it), and which processes hold a file open (a guest holding /dev/vfio/N).
// Every function takes the procfs root first (NULL: "/proc") and returns 0 or -errno.
#ifndef VFLAUNCH_PROC_H
#define VFLAUNCH_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* Field 22 of /proc/PID/stat: clock ticks after boot when the process started. It survives
 * exec, so the pid and start time vflaunch records before exec'ing QEMU name QEMU too.
 * -ENOENT (-ESRCH) when there is no such process. */
int proc_starttime(const char *procroot, pid_t pid, unsigned long long *start);

/* 1 when pid runs and started at start, 0 when it is gone, a zombie (ended, not reaped yet),
 * or another process now. */
int proc_alive(const char *procroot, pid_t pid, unsigned long long start);

/* A process's command name (/proc/PID/comm), "" when unreadable. */
void proc_comm(const char *procroot, pid_t pid, char *buf, size_t size);

struct proc_holder {
	pid_t pid;
	char target[256];            /* what the descriptor names, e.g. "/dev/vfio/12" */
};

/* Every open descriptor, of every process we may inspect, whose target (the readlink of
 * /proc/PID/fd/N) begins with prefix. *out is malloc'd; free it. Processes that vanish or
 * that we may not inspect are skipped, as lsof and fuser skip them. */
int proc_holders(const char *procroot, const char *prefix, struct proc_holder **out, size_t *count);

#endif
