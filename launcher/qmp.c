// SPDX-License-Identifier: MIT
// The QMP transport: a unix socket to QEMU, lines in, commands out, a deadline on every wait.
#include "qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events or the deadline passes: 0, -ETIMEDOUT, -errno. */
static int wait_for(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		struct pollfd p = { .fd = fd, .events = events };
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n < 0)
			return -EINTR;  /* a signal: the caller's interrupt handling decides */
	}
}

int qmp_connect(struct qmp_conn *c, const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long long deadline = now_ms() + timeout_ms;
	int rc;

	c->fd = -1;
	c->len = 0;
	if (strlen(path) >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		rc = -errno;
		if (rc == -EINPROGRESS || rc == -EAGAIN)
			rc = wait_for(c->fd, POLLOUT, deadline);
		if (rc == 0) {
			int soerr = 0;
			socklen_t l = sizeof soerr;
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &l);
			rc = -soerr;
		}
		if (rc < 0) {
			qmp_close(c);
			return rc;
		}
	}
	return 0;
}

int qmp_read_line(struct qmp_conn *c, char *line, size_t size, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (nl) {
			size_t n = (size_t)(nl - c->buf), keep = c->len - n - 1;
			size_t out = n > 0 && c->buf[n - 1] == '\r' ? n - 1 : n;
			if (out >= size)
				return -EMSGSIZE;
			memcpy(line, c->buf, out);
			line[out] = '\0';
			memmove(c->buf, nl + 1, keep);
			c->len = keep;
			return (int)out;
		}
		if (c->len == sizeof c->buf)
			return -EMSGSIZE;
		int rc = wait_for(c->fd, POLLIN, deadline);
		if (rc < 0)
			return rc;
		ssize_t got = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
		if (got == 0)
			return -EPIPE;
		if (got < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (got > 0)
			c->len += (size_t)got;
	}
}

int qmp_write(struct qmp_conn *c, const char *data, size_t len)
{
	long long deadline = now_ms() + 5000;

	while (len > 0) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int rc = wait_for(c->fd, POLLOUT, deadline);
			if (rc < 0 && rc != -EINTR)
				return rc;
			continue;
		}
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

void qmp_close(struct qmp_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
}
