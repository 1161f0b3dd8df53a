// SPDX-License-Identifier: MIT
// The QMP transport: a unix stream socket to a QEMU monitor, read line by line with a deadline.
// QMP itself (JSON, capabilities, commands) is policy and lives in lua/qmp.lua.
#ifndef VFLAUNCH_QMP_H
#define VFLAUNCH_QMP_H

#include <stddef.h>

struct qmp_conn {
	int fd;
	char buf[65536];     /* bytes read and not yet returned as lines */
	size_t len;
};

/* Connect to the socket at path within timeout_ms. 0 or -errno (-ENAMETOOLONG: a path longer
 * than a socket address holds, -ETIMEDOUT). */
int qmp_connect(struct qmp_conn *c, const char *path, int timeout_ms);
/* The next line (without its "\r\n") into line, NUL-terminated: its length, -ETIMEDOUT when
 * none came within timeout_ms, -EPIPE when QEMU closed the socket, -EMSGSIZE for a line longer
 * than the buffer. */
int qmp_read_line(struct qmp_conn *c, char *line, size_t size, int timeout_ms);
/* Write all of data (a JSON command and its newline). 0 or -errno. */
int qmp_write(struct qmp_conn *c, const char *data, size_t len);
void qmp_close(struct qmp_conn *c);

#endif
