// SPDX-License-Identifier: MIT
// Process execution, in one place: exec (replacing vflaunch) and run-and-capture (rehearsal).
// argv is always built explicitly; nothing here goes through a shell.
#ifndef VFLAUNCH_RUN_H
#define VFLAUNCH_RUN_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

/* Exit statuses as the shell reports them. */
#define EXIT_EXEC_NOTFOUND 127
#define EXIT_EXEC_FAILED   126

/* Flush stdio and exec argv[0] (searching PATH when it has no '/', never handing a file the
 * kernel cannot execute to /bin/sh). Returns only on failure: -errno (-ENOENT: not found). */
int run_exec(char *const argv[]);

/* Set by a signal handler: run_capture kills its child and returns when it becomes non-zero. */
extern volatile sig_atomic_t run_stop_signal;

/* The supervised child while run_spawn's caller waits for it: the signal handler forwards
 * SIGINT, SIGTERM and SIGHUP to it instead of interrupting vflaunch. */
extern volatile sig_atomic_t run_forward_pid;

/* Start argv as a child with our stdio and default signal dispositions; from the moment it
 * exists run_forward_pid names it. 0 or -errno. The child exits 127/126 when exec fails. */
int run_spawn(char *const argv[], pid_t *pid);
/* Wait for it: its exit status, 128 + signal when killed; -errno when waitpid fails. */
int run_wait(pid_t pid);

struct run_result {
	int status;    /* exit status, or 128 + signal number */
	int timed_out; /* killed after the timeout */
	char *output;  /* stdout and stderr merged, NUL-terminated, malloc'd */
	size_t length;
};

/* Start argv with stdin from /dev/null and stdout+stderr captured, wait at most timeout
 * seconds (then SIGKILL). When echo_fd >= 0 the output is also copied there as it comes.
 * 0, or -errno when the child could not be started (ENOENT: no such binary). */
int run_capture(char *const argv[], int timeout, int echo_fd, struct run_result *res);
void run_result_free(struct run_result *res);

#endif
