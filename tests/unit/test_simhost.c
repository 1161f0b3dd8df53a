// SPDX-License-Identifier: MIT
// Unit tests of simhost.c: the host table, the trees it builds (read back as sysfs and by
// lspci itself), and rmtree's refusal to follow symlinks.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "simhost.h"
#include "sysfs.h"

struct fixture {
	char dir[PATH_MAX];   /* a built tree, or "" */
	char other[PATH_MAX]; /* a second private directory, or "" */
};

static int setup(void **state)
{
	*state = calloc(1, sizeof(struct fixture));
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = 0;

	if (f->dir[0] && rmtree(f->dir) < 0)
		rc = -1;
	if (f->other[0] && rmtree(f->other) < 0)
		rc = -1;
	free(f);
	return rc;
}

static void build(struct fixture *f, const char *name)
{
	const struct simhost *h = simhost_find(name);

	assert_non_null(h);
	assert_int_equal(simhost_materialize(h, f->dir, sizeof f->dir), 0);
}

static void read_attr(const struct fixture *f, const char *rel, char *buf, size_t size)
{
	char path[PATH_MAX];

	assert_true(sysfs_path(path, sizeof path, "%s/%s", f->dir, rel) > 0);
	if (sysfs_read(path, buf, size) < 0)
		fail_msg("cannot read %s", path);
}

static void link_name(const struct fixture *f, const char *rel, char *buf, size_t size)
{
	char path[PATH_MAX];

	assert_true(sysfs_path(path, sizeof path, "%s/%s", f->dir, rel) > 0);
	if (sysfs_link_name(path, buf, size) < 0)
		fail_msg("cannot read link %s", path);
}

/* The number of lines `lspci -n` prints for the tree, or -1 when lspci is not there. */
static int lspci_count(const struct fixture *f)
{
	char cmd[PATH_MAX + 128], line[256];
	FILE *p;
	int n = 0;

	if (access("/usr/bin/lspci", X_OK) != 0 && system("command -v lspci >/dev/null 2>&1") != 0)
		return -1;
	snprintf(cmd, sizeof cmd, "lspci -A linux-sysfs -O sysfs.path='%s/bus/pci' -D -n 2>/dev/null", f->dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof line, p))
		n++;
	assert_int_equal(pclose(p), 0);
	return n;
}

static void test_simhost_find(void **state)
{
	(void)state;
	assert_non_null(simhost_find(SIMHOST_DEFAULT));
	assert_non_null(simhost_find("large"));
	assert_non_null(simhost_find("shared-group"));
	assert_null(simhost_find("nope"));
	assert_null(simhost_find(""));
	assert_null(simhost_find(NULL));
}

static void test_simhost_list(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	(void)state;
	assert_non_null(out);
	simhost_list(out);
	assert_int_equal(fclose(out), 0);
	assert_non_null(strstr(text, "82599  "));
	assert_non_null(strstr(text, "\nlarge  "));
	assert_non_null(strstr(text, "\nshared-group  "));
	assert_int_equal(text[len - 1], '\n');
	free(text);
}

static void test_simhost_build_82599(void **state)
{
	struct fixture *f = *state;
	char buf[64];
	int n;

	build(f, SIMHOST_DEFAULT);
	read_attr(f, "bus/pci/devices/0002:81:00.0/vendor", buf, sizeof buf);
	assert_string_equal(buf, "0x8086");
	read_attr(f, "bus/pci/devices/0002:81:00.0/sriov_totalvfs", buf, sizeof buf);
	assert_string_equal(buf, "63");
	read_attr(f, "bus/pci/devices/0002:81:00.0/sriov_numvfs", buf, sizeof buf);
	assert_string_equal(buf, "63");
	read_attr(f, "bus/pci/devices/0002:81:10.0/device", buf, sizeof buf);
	assert_string_equal(buf, "0x10ed");
	read_attr(f, "bus/pci/devices/0002:81:10.0/driver_override", buf, sizeof buf);
	assert_string_equal(buf, "(null)");
	read_attr(f, "bus/pci/devices/0002:81:10.0/numa_node", buf, sizeof buf);
	assert_string_equal(buf, "1");
	/* Offset 0x80, stride 2: PF0 has the even functions, PF1 the odd ones. */
	link_name(f, "bus/pci/devices/0002:81:00.0/virtfn1", buf, sizeof buf);
	assert_string_equal(buf, "0002:81:10.2");
	link_name(f, "bus/pci/devices/0002:81:00.1/virtfn0", buf, sizeof buf);
	assert_string_equal(buf, "0002:81:10.1");
	link_name(f, "bus/pci/devices/0002:81:00.0/virtfn62", buf, sizeof buf);
	assert_string_equal(buf, "0002:81:1f.4");
	link_name(f, "bus/pci/devices/0002:81:10.3/physfn", buf, sizeof buf);
	assert_string_equal(buf, "0002:81:00.1");
	/* Links resolve inside the tree: through them to the driver's directory and back. */
	link_name(f, "bus/pci/devices/0002:81:10.0/driver", buf, sizeof buf);
	assert_string_equal(buf, "vfio-pci");
	read_attr(f, "bus/pci/devices/0002:81:10.0/driver/0002:81:10.0/vendor", buf, sizeof buf);
	assert_string_equal(buf, "0x8086");
	read_attr(f, "bus/pci/devices/0002:81:10.0/iommu_group/type", buf, sizeof buf);
	assert_string_equal(buf, "DMA");
	link_name(f, "bus/pci/devices/0002:80:02.0/driver", buf, sizeof buf);
	assert_string_equal(buf, "pcieport");
	read_attr(f, "bus/pci/drivers/ixgbe/0002:81:00.1/device", buf, sizeof buf);
	assert_string_equal(buf, "0x10fb");
	assert_int_equal(access(f->dir, W_OK), 0);
	read_attr(f, "bus/pci/drivers_autoprobe", buf, sizeof buf);
	assert_string_equal(buf, "1");
	n = lspci_count(f);
	if (n >= 0)
		assert_int_equal(n, 7 + 2 + 126); /* host devices, root port and PFs, VFs */
}

static void test_simhost_build_large(void **state)
{
	struct fixture *f = *state;
	char buf[64];
	int n;

	build(f, "large");
	read_attr(f, "bus/pci/devices/0001:98:00.0/sriov_numvfs", buf, sizeof buf);
	assert_string_equal(buf, "127");
	link_name(f, "bus/pci/devices/0001:98:00.0/virtfn126", buf, sizeof buf);
	assert_string_equal(buf, "0001:98:0f.7");
	read_attr(f, "bus/pci/devices/0001:98:0f.7/numa_node", buf, sizeof buf);
	assert_string_equal(buf, "1");
	read_attr(f, "bus/pci/devices/0000:11:00.1/numa_node", buf, sizeof buf);
	assert_string_equal(buf, "0");
	n = lspci_count(f);
	if (n >= 0)
		assert_int_equal(n, 16 + 16 * 127);
}

/* The benchmarks' scaled hosts: large:N has N PFs in large's places (large:16 is large), 128
 * functions each; out of range is refused. */
static void test_simhost_large_scaled(void **state)
{
	struct fixture *f = *state;
	struct simhost *h = simhost_large(3);
	char buf[64];
	int n;

	assert_null(simhost_large(0));
	assert_null(simhost_large(129));
	assert_non_null(h);
	assert_int_equal(simhost_materialize(h, f->dir, sizeof f->dir), 0);
	free(h);
	link_name(f, "bus/pci/devices/0000:12:00.0/virtfn126", buf, sizeof buf);
	assert_string_equal(buf, "0000:12:0f.7");
	read_attr(f, "bus/pci/devices/0001:91:0f.7/numa_node", buf, sizeof buf);
	assert_string_equal(buf, "1"); /* the third PF: the second half, domain 0001 */
	read_attr(f, "bus/pci/devices/0000:11:00.0/device", buf, sizeof buf);
	assert_string_equal(buf, "0x1017");
	n = lspci_count(f);
	if (n >= 0)
		assert_int_equal(n, 3 * 128);
}

static void test_simhost_build_shared(void **state)
{
	struct fixture *f = *state;
	char buf[64];
	int n;

	build(f, "shared-group");
	link_name(f, "bus/pci/devices/0000:03:10.0/iommu_group", buf, sizeof buf);
	assert_string_equal(buf, "11");
	link_name(f, "bus/pci/devices/0000:03:10.2/iommu_group", buf, sizeof buf);
	assert_string_equal(buf, "11");
	link_name(f, "kernel/iommu_groups/12/devices/0000:04:00.0/driver", buf, sizeof buf);
	assert_string_equal(buf, "e1000e");
	link_name(f, "kernel/iommu_groups/12/devices/0000:03:10.4/driver", buf, sizeof buf);
	assert_string_equal(buf, "vfio-pci");
	link_name(f, "kernel/iommu_groups/13/devices/0000:03:10.6/driver", buf, sizeof buf);
	assert_string_equal(buf, "ixgbevf");
	read_attr(f, "bus/pci/devices/0000:03:00.0/sriov_totalvfs", buf, sizeof buf);
	assert_string_equal(buf, "8");
	n = lspci_count(f);
	if (n >= 0)
		assert_int_equal(n, 9);
}

static void test_simhost_build_errors(void **state)
{
	struct fixture *f = *state;

	(void)f;
	assert_int_equal(simhost_build(NULL, "/tmp"), -EINVAL);
	assert_int_equal(simhost_build(simhost_find("82599"), "/nonexistent/vflaunch-test"), -ENOENT);
}

static void test_simhost_build_not_empty(void **state)
{
	struct fixture *f = *state;

	build(f, "shared-group");
	/* Building twice into one root collides on the first directory: an error, not a mix. */
	assert_int_equal(simhost_build(simhost_find("shared-group"), f->dir), -EEXIST);
}

/* rmtree removes a link to a directory outside the tree, not what it points to. */
static void test_simhost_rmtree_no_follow(void **state)
{
	struct fixture *f = *state;
	char victim[PATH_MAX + 16], tree[PATH_MAX + 16], path[PATH_MAX + 32];
	const char *tmp = getenv("TMPDIR");
	FILE *fp;

	snprintf(f->other, sizeof f->other, "%s/test_simhost.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->other));
	snprintf(victim, sizeof victim, "%s/keep", f->other);
	assert_int_equal(mkdir(victim, 0755), 0);
	snprintf(path, sizeof path, "%s/file", victim);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);

	snprintf(tree, sizeof tree, "%s/tree", f->other);
	assert_int_equal(mkdir(tree, 0755), 0);
	snprintf(path, sizeof path, "%s/link", tree);
	assert_int_equal(symlink(victim, path), 0);
	snprintf(path, sizeof path, "%s/sub", tree);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/sub/up", tree);
	assert_int_equal(symlink("../..", path), 0);

	assert_int_equal(rmtree(tree), 0);
	assert_int_equal(access(tree, F_OK), -1);
	snprintf(path, sizeof path, "%s/file", victim);
	assert_int_equal(access(path, F_OK), 0);
	/* A link given as the root is itself removed, its target kept. */
	snprintf(path, sizeof path, "%s/alias", f->other);
	assert_int_equal(symlink(victim, path), 0);
	assert_int_equal(rmtree(path), 0);
	assert_int_equal(access(victim, F_OK), 0);
	assert_int_equal(rmtree(path), -ENOENT);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simhost_find),
		cmocka_unit_test(test_simhost_list),
		T(test_simhost_build_82599),
		T(test_simhost_build_large),
		T(test_simhost_large_scaled),
		T(test_simhost_build_shared),
		T(test_simhost_build_errors),
		T(test_simhost_build_not_empty),
		T(test_simhost_rmtree_no_follow),
	};

	/* Memory-backed tmp when the caller has no preference: the "large" tree is ~60 000
	 * files, a second on tmpfs but a minute on a busy disk. */
	if (!getenv("TMPDIR") && access("/dev/shm", W_OK) == 0)
		setenv("TMPDIR", "/dev/shm", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
