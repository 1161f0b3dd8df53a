// SPDX-License-Identifier: MIT
// Unit tests of acs.c: a bridge's ACS registers read through libpci from the simulated host
// acs-off (a root port with ACS off, one with it on, endpoints without it), and config space
// that cannot be read that far (cut at 64 bytes as the kernel cuts it for a user who is not
// root, missing, a FIFO) reported as such, never as a device without ACS, and without blocking.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acs.h"
#include "simhost.h"
#include "sysfs.h"

struct fixture {
	char dir[PATH_MAX]; /* the acs-off tree, removed in teardown */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f || simhost_materialize(simhost_find("acs-off"), f->dir, sizeof f->dir) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = rmtree(f->dir) < 0 ? -1 : 0;

	free(f);
	return rc;
}

/* The config file of a device of the tree, through its bus/pci/devices link. */
static void config_path(const struct fixture *f, const char *addr, char *out, size_t size)
{
	char link[PATH_MAX];

	assert_true(sysfs_path(link, sizeof link, "%s/bus/pci/devices/%s", f->dir, addr) > 0);
	assert_non_null(realpath(link, out));
	assert_true(strlen(out) + sizeof "/config" <= size);
	strcat(out, "/config");
}

static void test_acs_off_and_on(void **state)
{
	struct fixture *f = *state;
	struct pci_acs acs;
	char err[512];

	assert_int_equal(pci_acs_read(f->dir, "0000:00:01.0", &acs, err, sizeof err), 1);
	assert_int_equal(acs.cap, 0x001f);
	assert_int_equal(acs.ctrl, 0x0000);
	assert_int_equal(pci_acs_read(f->dir, "0000:00:02.0", &acs, err, sizeof err), 1);
	assert_int_equal(acs.ctrl, 0x001d);
}

/* A PF has an extended capability (SR-IOV) but not ACS; a VF none at all. */
static void test_acs_none(void **state)
{
	struct fixture *f = *state;
	struct pci_acs acs;
	char err[512];

	assert_int_equal(pci_acs_read(f->dir, "0000:01:00.0", &acs, err, sizeof err), 0);
	assert_int_equal(pci_acs_read(f->dir, "0000:01:00.1", &acs, err, sizeof err), 0);
}

static void test_acs_unreadable(void **state)
{
	struct fixture *f = *state;
	struct pci_acs acs;
	char err[512], path[PATH_MAX];

	/* What the kernel gives a user who is not root: 64 bytes. */
	config_path(f, "0000:00:01.0", path, sizeof path);
	assert_int_equal(truncate(path, 64), 0);
	assert_int_equal(pci_acs_read(f->dir, "0000:00:01.0", &acs, err, sizeof err), -1);
	assert_non_null(strstr(err, "beyond its first 64 bytes: reading a device's capabilities needs root"));
	/* Not a regular file: refused without blocking on the open. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(pci_acs_read(f->dir, "0000:00:01.0", &acs, err, sizeof err), -1);
	assert_non_null(strstr(err, "not a regular file"));
	/* A device that is not there, and a name that is no address. */
	assert_int_equal(pci_acs_read(f->dir, "0000:09:00.0", &acs, err, sizeof err), -1);
	assert_non_null(strstr(err, "No such file or directory"));
	assert_int_equal(pci_acs_read(f->dir, "x", &acs, err, sizeof err), -1);
	assert_non_null(strstr(err, "not a PCI address"));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_acs_off_and_on),
		T(test_acs_none),
		T(test_acs_unreadable),
	};
#undef T
	return cmocka_run_group_tests_name("acs", tests, NULL, NULL);
}
