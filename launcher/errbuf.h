// SPDX-License-Identifier: MIT
// Error messages into a caller's optional buffer, the way every C module reports host failures.
#ifndef VFLAUNCH_ERRBUF_H
#define VFLAUNCH_ERRBUF_H

#include <stddef.h>

/* vsnprintf into err when err is non-NULL and errlen non-zero: a long message is cut, never
 * overflowed. */
void errbuf_printf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
