// SPDX-License-Identifier: MIT
// Process execution, in one place: exec (replacing vflaunch) and run-and-capture (rehearsal).
// argv is always built explicitly; nothing here goes through a shell.
#ifndef VFLAUNCH_RUN_H
#define VFLAUNCH_RUN_H

#include <signal.h>
#include <stddef.h>

/* Exit statuses as the shell reports them. */
#define EXIT_EXEC_NOTFOUND 127
#define EXIT_EXEC_FAILED   126

/* Flush stdio and execvp argv. Returns only on failure: 127 when the binary was not found,
 * 126 when it could not be run, after printing one line that names it and why. */
int run_exec(char *const argv[]);

/* Set by a signal handler: run_capture kills its child and returns when it becomes non-zero. */
extern volatile sig_atomic_t run_stop_signal;

/* Run argv as a child with our stdio, forwarding SIGINT, SIGTERM and SIGHUP to it, and wait.
 * Returns its exit status (128 + signal when killed; 127/126 when it could not be executed). */
int run_supervised(char *const argv[]);

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
