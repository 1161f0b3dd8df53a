// SPDX-License-Identifier: MIT
// Unit tests of sysfs.c against files in a private mkdtemp directory; write(2) is wrapped
// only to produce the short and failed writes a real file cannot.
// LDWRAP: -Wl,--wrap=write
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "simhost.h"
#include "sysfs.h"

/* The wrapper: passes through unless a test arms it with a result to fake. */
ssize_t __real_write(int fd, const void *buf, size_t count);
ssize_t __wrap_write(int fd, const void *buf, size_t count);
static int fake_write;         /* 0 pass through, 1 short write, 2 fail with fake_errno */
static int fake_errno;
ssize_t __wrap_write(int fd, const void *buf, size_t count)
{
	if (fake_write == 1 && count > 1)
		return __real_write(fd, buf, count - 1);
	if (fake_write == 2) {
		errno = fake_errno;
		return -1;
	}
	return __real_write(fd, buf, count);
}

struct fixture {
	char dir[PATH_MAX];
	char path[PATH_MAX];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	const char *tmp = getenv("TMPDIR");

	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "%s/test_sysfs.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = rmtree(f->dir);

	fake_write = 0;
	free(f);
	return rc;
}

/* The path of name in the fixture, into f->path. */
static const char *at(struct fixture *f, const char *name)
{
	assert_true(sysfs_path(f->path, sizeof f->path, "%s/%s", f->dir, name) > 0);
	return f->path;
}

/* A file named name in the fixture holding text; its path is left in f->path. */
static const char *put(struct fixture *f, const char *name, const char *text)
{
	FILE *fp;

	fp = fopen(at(f, name), "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	return f->path;
}

static void test_sysfs_path_fits(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(sysfs_path(buf, sizeof buf, "%s/%d", "abc", 42), 6);
	assert_string_equal(buf, "abc/42");
	assert_int_equal(sysfs_path(buf, sizeof buf, "%s", "123456789012345"), 15);
}

static void test_sysfs_path_truncated(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(sysfs_path(buf, sizeof buf, "%s", "1234567890123456"), -ENAMETOOLONG);
	assert_string_equal(buf, ""); /* never a shortened path that names another file */
}

static void test_sysfs_read_strip(void **state)
{
	struct fixture *f = *state;
	char buf[32];

	assert_int_equal(sysfs_read(put(f, "a", "ixgbe\n"), buf, sizeof buf), 5);
	assert_string_equal(buf, "ixgbe");
	assert_int_equal(sysfs_read(put(f, "b", "two\n\n"), buf, sizeof buf), 4);
	assert_string_equal(buf, "two\n"); /* only one newline is the kernel's */
	assert_int_equal(sysfs_read(put(f, "c", "bare"), buf, sizeof buf), 4);
	assert_string_equal(buf, "bare");
	assert_int_equal(sysfs_read(put(f, "d", ""), buf, sizeof buf), 0);
	assert_string_equal(buf, "");
}

static void test_sysfs_read_overflow(void **state)
{
	struct fixture *f = *state;
	char buf[8];

	/* 7 bytes fit (size - 1), 8 do not, even when the 8th is the newline. */
	assert_int_equal(sysfs_read(put(f, "a", "1234567"), buf, sizeof buf), 7);
	assert_int_equal(sysfs_read(put(f, "b", "1234567\n"), buf, sizeof buf), -EOVERFLOW);
	assert_int_equal(sysfs_read(put(f, "c", "123456789012"), buf, sizeof buf), -EOVERFLOW);
	assert_string_equal(buf, "");
	assert_int_equal(sysfs_read(f->path, buf, 0), -EINVAL);
}

static void test_sysfs_read_missing(void **state)
{
	struct fixture *f = *state;
	char buf[8];

	at(f, "nope");
	assert_int_equal(sysfs_read(f->path, buf, sizeof buf), -ENOENT);
	assert_int_equal(sysfs_read(f->dir, buf, sizeof buf), -EINVAL); /* not an attribute */
}

/* A FIFO where an attribute should be (a corrupt tree) is refused at once: before, the open
 * waited for a writer and the precheck hung for good. So is a character device. */
static void test_sysfs_read_fifo(void **state)
{
	struct fixture *f = *state;
	struct timespec t0, t1;
	char buf[8];

	assert_int_equal(mkfifo(at(f, "vendor"), 0644), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(sysfs_read(f->path, buf, sizeof buf), -EINVAL);
	assert_int_equal(sysfs_read_long(f->path, &(long){ 0 }), -EINVAL);
	assert_int_equal(sysfs_read("/dev/zero", buf, sizeof buf), -EINVAL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	/* Writing one nobody reads does not block either. */
	assert_int_equal(sysfs_write(f->path, "1"), -ENXIO);
}

/* The inventory's one-read reader gives what sysfs_read gives, and refuses what it refuses,
 * without blocking: the FIFO, the device and the directory a corrupt tree can hold. */
static void test_sysfs_read_attr(void **state)
{
	struct fixture *f = *state;
	struct timespec t0, t1;
	unsigned char byte = 0;
	char buf[8];

	assert_int_equal(sysfs_read_attr(put(f, "a", "0x8086\n"), buf, sizeof buf), 6);
	assert_string_equal(buf, "0x8086");
	assert_int_equal(sysfs_read_attr(put(f, "b", ""), buf, sizeof buf), 0);
	assert_string_equal(buf, "");
	assert_int_equal(sysfs_read_attr(put(f, "c", "1234567"), buf, sizeof buf), 7);
	assert_int_equal(sysfs_read_attr(put(f, "d", "1234567\n"), buf, sizeof buf), -EOVERFLOW);
	assert_string_equal(buf, "");
	assert_int_equal(sysfs_read_attr(at(f, "nope"), buf, sizeof buf), -ENOENT);
	assert_int_equal(sysfs_read_attr(f->dir, buf, sizeof buf), -EINVAL);
	assert_int_equal(mkfifo(at(f, "vendor"), 0644), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(sysfs_read_attr(f->path, buf, sizeof buf), -EINVAL);
	assert_int_equal(sysfs_read_attr("/dev/zero", buf, sizeof buf), -EINVAL);
	assert_int_equal(sysfs_read_offset(f->path, &byte, 1, 0x0e), -EINVAL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	/* One byte at an offset, as config space is read. */
	assert_int_equal(sysfs_read_offset(put(f, "config", "0123456789abcdefgh"), &byte, 1, 0x0e), 1);
	assert_int_equal(byte, 'e');
	assert_int_equal(sysfs_read_offset(put(f, "short", "0123"), &byte, 1, 0x0e), 0);
}

/* sysfs_read_at reads a path relative to a directory descriptor (proc.c reads PID/stat so),
 * with sysfs_read's rules: one newline stripped, a missing file, a FIFO refused at once. */
static void test_sysfs_read_at(void **state)
{
	struct fixture *f = *state;
	char buf[32];
	int dir;

	put(f, "stat", "42 (a b) S 1\n");
	assert_int_equal(mkfifo(at(f, "fifo"), 0644), 0);
	dir = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dir >= 0);
	assert_int_equal(sysfs_read_at(dir, "stat", buf, sizeof buf), 12);
	assert_string_equal(buf, "42 (a b) S 1");
	assert_int_equal(sysfs_read_at(dir, "nope", buf, sizeof buf), -ENOENT);
	assert_int_equal(sysfs_read_at(dir, "fifo", buf, sizeof buf), -EINVAL);
	assert_int_equal(sysfs_read_at(dir, "stat", buf, 8), -EOVERFLOW);
	/* An absolute path ignores the descriptor, as openat does; AT_FDCWD is sysfs_read. */
	assert_int_equal(sysfs_read_at(dir, at(f, "stat"), buf, sizeof buf), 12);
	assert_int_equal(sysfs_read_at(AT_FDCWD, f->path, buf, sizeof buf), 12);
	close(dir);
}

static void test_sysfs_read_long(void **state)
{
	struct fixture *f = *state;
	long v = 0;

	assert_int_equal(sysfs_read_long(put(f, "a", "63\n"), &v), 0);
	assert_int_equal(v, 63);
	assert_int_equal(sysfs_read_long(put(f, "b", "0x10fb\n"), &v), 0);
	assert_int_equal(v, 0x10fb);
	assert_int_equal(sysfs_read_long(put(f, "c", "-1\n"), &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(sysfs_read_long(put(f, "d", "010\n"), &v), 0);
	assert_int_equal(v, 10); /* decimal, not octal */
	v = 5;
	assert_int_equal(sysfs_read_long(put(f, "e", "12abc\n"), &v), -EINVAL);
	assert_int_equal(sysfs_read_long(put(f, "f", "\n"), &v), -EINVAL);
	assert_int_equal(sysfs_read_long(put(f, "g", "0x\n"), &v), -EINVAL);
	assert_int_equal(sysfs_read_long(put(f, "h", " 5\n"), &v), -EINVAL);
	assert_int_equal(sysfs_read_long(put(f, "i", "0x-5\n"), &v), -EINVAL);
	assert_int_equal(sysfs_read_long(put(f, "j", "99999999999999999999999\n"), &v), -ERANGE);
	/* Found by fuzzing: a NUL inside the value hid the rest ("PF 7/8 VFs" from "7\0garbage"),
	 * and a malformed hex value out of range said ERANGE rather than EINVAL. */
	FILE *fp = fopen(at(f, "k"), "w");
	assert_non_null(fp);
	assert_int_equal(fwrite("7\0garbage\n", 1, 10, fp), 10);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(sysfs_read_long(f->path, &v), -EINVAL);
	assert_int_equal(sysfs_read_long(put(f, "l", "0X999999999999999999z\n"), &v), -EINVAL);
	assert_int_equal(sysfs_read_long(put(f, "m", "0X0X9"), &v), -EINVAL); /* strtol took it: 9 */
	assert_int_equal(sysfs_read_long(put(f, "n", "-\n"), &v), -EINVAL);
	assert_int_equal(v, 5); /* untouched on error */
	at(f, "nope");
	assert_int_equal(sysfs_read_long(f->path, &v), -ENOENT);
}

static void test_sysfs_write_whole(void **state)
{
	struct fixture *f = *state;
	char buf[32];

	put(f, "a", "old contents\n");
	assert_int_equal(sysfs_write(f->path, "vfio-pci"), 0);
	assert_int_equal(sysfs_read(f->path, buf, sizeof buf), 8);
	assert_string_equal(buf, "vfio-pci"); /* the value alone, as an attribute would hold it */
}

static void test_sysfs_write_missing(void **state)
{
	struct fixture *f = *state;

	at(f, "nope");
	assert_int_equal(sysfs_write(f->path, "1"), -ENOENT); /* never creates an attribute */
	assert_int_equal(sysfs_write(f->dir, "1"), -EISDIR);
}

static void test_sysfs_write_short(void **state)
{
	struct fixture *f = *state;

	put(f, "a", "");
	fake_write = 1;
	assert_int_equal(sysfs_write(f->path, "0002:81:10.0"), -EIO);
}

static void test_sysfs_write_error(void **state)
{
	struct fixture *f = *state;

	put(f, "a", "");
	fake_write = 2;
	fake_errno = EBUSY; /* what a store method returns, e.g. sriov_numvfs from non-zero */
	assert_int_equal(sysfs_write(f->path, "4"), -EBUSY);
}

/* The latch, in a child: it is one-way, and the tests after this one still write. */
static int latched(struct fixture *f)
{
	char buf[32];

	if (sysfs_writes_forbidden())
		return 1;
	sysfs_forbid_writes();
	sysfs_forbid_writes(); /* twice is still on */
	if (!sysfs_writes_forbidden() ||
	    /* -EROFS, not -ENOENT: nothing was opened */
	    sysfs_write(at(f, "no/such/dir/attr"), "1") != -EROFS ||
	    sysfs_write(at(f, "a"), "vfio-pci") != -EROFS ||
	    sysfs_read(at(f, "a"), buf, sizeof buf) != 3 || strcmp(buf, "old") != 0)
		return 2;
	return 0;
}

static void test_sysfs_forbid_writes(void **state)
{
	struct fixture *f = *state;
	int status;

	put(f, "a", "old\n");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(latched(f));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* This process never set it. */
	assert_false(sysfs_writes_forbidden());
	assert_int_equal(sysfs_write(f->path, "new"), 0);
}

static void test_sysfs_link_name(void **state)
{
	struct fixture *f = *state;
	char buf[16], tiny[4];

	at(f, "driver");
	assert_int_equal(symlink("../../../bus/pci/drivers/ixgbe", f->path), 0);
	assert_int_equal(sysfs_link_name(f->path, buf, sizeof buf), 5);
	assert_string_equal(buf, "ixgbe");
	assert_int_equal(sysfs_link_name(f->path, tiny, sizeof tiny), -EOVERFLOW);
	at(f, "physfn");
	assert_int_equal(symlink("../0002:81:00.0/", f->path), 0);
	assert_int_equal(sysfs_link_name(f->path, buf, sizeof buf), 12);
	assert_string_equal(buf, "0002:81:00.0");
	at(f, "none");
	assert_int_equal(sysfs_link_name(f->path, buf, sizeof buf), -ENOENT);
	assert_int_equal(sysfs_link_name(put(f, "plain", "x"), buf, sizeof buf), -EINVAL);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sysfs_path_fits),
		cmocka_unit_test(test_sysfs_path_truncated),
		T(test_sysfs_read_strip),
		T(test_sysfs_read_overflow),
		T(test_sysfs_read_missing),
		T(test_sysfs_read_fifo),
		T(test_sysfs_read_attr),
		T(test_sysfs_read_at),
		T(test_sysfs_read_long),
		T(test_sysfs_write_whole),
		T(test_sysfs_write_missing),
		T(test_sysfs_write_short),
		T(test_sysfs_write_error),
		T(test_sysfs_forbid_writes),
		T(test_sysfs_link_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
