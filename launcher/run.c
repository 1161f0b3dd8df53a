// SPDX-License-Identifier: MIT
// Process execution: execvp with the shell's 126/127 statuses, and a bounded run-and-capture.
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

volatile sig_atomic_t run_stop_signal;

/* execve argv[0], searching PATH when it has no '/'. Unlike execvp, a file the kernel cannot
 * execute is never handed to /bin/sh: vflaunch runs as root and builds no shell command. */
static int exec_search(char *const argv[])
{
	const char *path = getenv("PATH"), *p;
	char buf[4096];
	int saw_eacces = 0;

	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, environ);
		return errno;
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p;) {
		size_t n = strcspn(p, ":");
		int len = snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? p : ".", argv[0]);

		if (len > 0 && (size_t)len < sizeof(buf) && n) { /* an empty entry (cwd) is skipped */
			execve(buf, argv, environ);
			if (errno == EACCES)
				saw_eacces = 1;
			else if (errno != ENOENT && errno != ENOTDIR)
				return errno;
		}
		p += n + (p[n] == ':');
	}
	return saw_eacces ? EACCES : ENOENT;
}

int run_exec(char *const argv[])
{
	/* Everything we printed must reach its destination before the image is replaced. */
	fflush(NULL);
	return -exec_search(argv);
}

volatile sig_atomic_t run_forward_pid;

int run_spawn(char *const argv[], pid_t *pid)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	sigset_t block, old;
	int err;

	/* A signal between fork and recording the pid would be lost: hold them until then. */
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaddset(&block, sigs[i]);
	sigprocmask(SIG_BLOCK, &block, &old);
	fflush(NULL);
	*pid = fork();
	if (*pid == 0) {
		for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			signal(sigs[i], SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		err = exec_search(argv);
		_exit(err == ENOENT ? EXIT_EXEC_NOTFOUND : EXIT_EXEC_FAILED);
	}
	err = *pid < 0 ? errno : 0;
	if (*pid > 0)
		run_forward_pid = *pid;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return -err;
}

int run_wait(pid_t pid)
{
	int wstatus = 0;

	while (waitpid(pid, &wstatus, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (run_forward_pid == pid)
		run_forward_pid = 0;
	return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int append(struct run_result *res, size_t *cap, const char *data, size_t n)
{
	if (res->length + n + 1 > *cap) {
		size_t ncap = *cap ? *cap * 2 : 65536;
		char *p;

		while (ncap < res->length + n + 1)
			ncap *= 2;
		p = realloc(res->output, ncap);
		if (!p)
			return -ENOMEM;
		res->output = p;
		*cap = ncap;
	}
	memcpy(res->output + res->length, data, n);
	res->length += n;
	res->output[res->length] = '\0';
	return 0;
}

int run_capture(char *const argv[], int timeout, int echo_fd, struct run_result *res)
{
	posix_spawn_file_actions_t fa;
	int pipefd[2], rc, wstatus = 0;
	size_t cap = 0;
	pid_t pid;
	double deadline = now() + timeout;

	memset(res, 0, sizeof(*res));
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (rc) {
		close(pipefd[0]);
		return -rc;
	}
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		double left = deadline - now();
		char buf[65536];
		ssize_t n;

		if (left <= 0 || run_stop_signal) {
			res->timed_out = !run_stop_signal;
			kill(pid, SIGKILL);
			break;
		}
		rc = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			continue;
		n = read(pipefd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (echo_fd >= 0 && write(echo_fd, buf, (size_t)n) < 0)
			echo_fd = -1; /* the echo is a courtesy; capture goes on */
		if (append(res, &cap, buf, (size_t)n) < 0) {
			kill(pid, SIGKILL);
			break;
		}
	}
	close(pipefd[0]);
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	res->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	if (!res->output)
		append(res, &cap, "", 0);
	return 0;
}

void run_result_free(struct run_result *res)
{
	free(res->output);
	res->output = NULL;
	res->length = 0;
}
