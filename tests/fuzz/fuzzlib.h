// SPDX-License-Identifier: MIT
// Helpers of the libFuzzer targets: checks of a promise, and a private scratch directory for
// files (on tmpfs, /dev/shm, when there is one, so that fsync and file creation cost little).
// A target defines FUZZ_NAME ("fuzz_journal") before including this.
#ifndef VFLAUNCH_FUZZLIB_H
#define VFLAUNCH_FUZZLIB_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simhost.h" /* rmtree */

static char fuzz_dir[PATH_MAX];

static void fuzz_cleanup(void)
{
	if (fuzz_dir[0])
		rmtree(fuzz_dir);
}

/* The scratch directory, made on first use; aborts when it cannot be. */
static __attribute__((unused)) const char *fuzz_tmp(void)
{
	if (!fuzz_dir[0]) {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(fuzz_dir, sizeof fuzz_dir, "%s/vflaunch-fuzz.XXXXXX", base);
		if (!mkdtemp(fuzz_dir)) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(fuzz_cleanup);
	}
	return fuzz_dir;
}

static const uint8_t *fuzz_in;
static size_t fuzz_in_size;

/* The input being run, for fuzz_check to keep. */
static void fuzz_begin(const uint8_t *data, size_t size)
{
	fuzz_in = data;
	fuzz_in_size = size;
}

/* A broken promise: "FUZZ_NAME: what" on stderr. Rerun on one input, it aborts (a crash, with
 * a stack). Under tests/fuzz/run.sh (FUZZ_FINDINGS=DIR) the input is kept as DIR/finding-SUM,
 * once per message, and fuzzing goes on: a defect that is hit every few inputs would otherwise
 * cost the run most of its speed (fork mode restarts after each crash). 1 when cond holds. */
static int fuzz_check(int cond, const char *what)
{
	static char seen[32][128];
	static size_t nseen;
	const char *dir = getenv("FUZZ_FINDINGS");
	char path[PATH_MAX];
	unsigned long sum = 5381;
	int fd;

	if (cond)
		return 1;
	if (!dir || !*dir) {
		fprintf(stderr, "%s: %s\n", FUZZ_NAME, what);
		abort();
	}
	for (size_t i = 0; i < nseen; i++)
		if (strcmp(seen[i], what) == 0)
			return 0;
	if (nseen < 32)
		snprintf(seen[nseen++], sizeof seen[0], "%s", what);
	for (const char *p = what; *p; p++)
		sum = sum * 33 + (unsigned char)*p;
	snprintf(path, sizeof path, "%s/finding-%08lx", dir, sum & 0xffffffffUL);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		fprintf(stderr, "%s: %s (kept as %s)\n", FUZZ_NAME, what, path);
		if (write(fd, fuzz_in, fuzz_in_size) < 0)
			perror(path);
		close(fd);
	}
	return 0;
}

/* path = scratch/name */
static __attribute__((unused)) void fuzz_path(char *path, size_t size, const char *name)
{
	if ((size_t)snprintf(path, size, "%s/%s", fuzz_tmp(), name) >= size)
		abort();
}

/* Write data to path (created or replaced); aborts on failure. */
static __attribute__((unused)) void fuzz_put(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "w");

	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
		perror(path);
		abort();
	}
}

#endif
