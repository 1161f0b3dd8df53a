// SPDX-License-Identifier: MIT
// Unit tests of inventory.c: libpci scans of simulated hosts (simhost.c trees under mkdtemp).
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
#include <time.h>
#include <unistd.h>

#include "inventory.h"
#include "simhost.h"
#include "sysfs.h"

/* Trees are built once for the whole run (group setup) and only read by the tests; a test
 * that damages a tree builds its own into f->dir. */
static char tree_82599[PATH_MAX], tree_shared[PATH_MAX], tree_large[PATH_MAX];

struct fixture {
	char dir[PATH_MAX]; /* a test's own tree, or "" */
	struct inventory inv;
	char err[256];
};

static int group_setup(void **state)
{
	(void)state;
	if (simhost_materialize(simhost_find(SIMHOST_DEFAULT), tree_82599, sizeof tree_82599) < 0 ||
	    simhost_materialize(simhost_find("shared-group"), tree_shared, sizeof tree_shared) < 0 ||
	    simhost_materialize(simhost_find("large"), tree_large, sizeof tree_large) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	int rc = 0;

	(void)state;
	if (tree_82599[0] && rmtree(tree_82599) < 0)
		rc = -1;
	if (tree_shared[0] && rmtree(tree_shared) < 0)
		rc = -1;
	if (tree_large[0] && rmtree(tree_large) < 0)
		rc = -1;
	return rc;
}

static int setup(void **state)
{
	*state = calloc(1, sizeof(struct fixture));
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = f->dir[0] ? rmtree(f->dir) : 0;

	inventory_free(&f->inv);
	free(f);
	return rc;
}

static void scan(struct fixture *f, const char *host)
{
	const char *root = strcmp(host, "large") == 0 ? tree_large :
			   strcmp(host, "shared-group") == 0 ? tree_shared : tree_82599;

	if (inventory_scan(root, &f->inv, f->err, sizeof f->err) != 0)
		fail_msg("inventory_scan: %s", f->err);
}

static const struct pci_device *get(const struct fixture *f, const char *name)
{
	const struct pci_device *d = inventory_find(&f->inv, name);

	if (!d)
		fail_msg("%s not in the inventory", name);
	return d;
}

static void test_inventory_82599_counts(void **state)
{
	struct fixture *f = *state;
	size_t pfs = 0, vfs = 0;

	scan(f, SIMHOST_DEFAULT);
	assert_int_equal(f->inv.count, 135);
	for (size_t i = 0; i < f->inv.count; i++) {
		const struct pci_device *d = &f->inv.devs[i];

		pfs += d->sriov_totalvfs > 0;
		vfs += d->physfn[0] != '\0';
		if (i > 0) /* sorted by address */
			assert_true(strcmp(f->inv.devs[i - 1].name, d->name) < 0);
	}
	assert_int_equal(pfs, 2);
	assert_int_equal(vfs, 126);
}

static void test_inventory_82599_ids_names(void **state)
{
	struct fixture *f = *state;
	const struct pci_device *pf, *vf, *rp;

	scan(f, SIMHOST_DEFAULT);
	pf = get(f, "0002:81:00.0");
	assert_int_equal(pf->vendor, 0x8086);
	assert_int_equal(pf->device, 0x10fb);
	assert_int_equal(pf->class, 0x020000);
	assert_int_equal(pf->subsys_vendor, 0x8086);
	assert_int_equal(pf->subsys_device, 0x0003);
	assert_int_equal(pf->header_type, 0);
	assert_string_equal(pf->vendor_name, "Intel Corporation");
	assert_string_equal(pf->device_name, "82599ES 10-Gigabit SFI/SFP+ Network Connection");
	assert_string_equal(pf->class_name, "Ethernet controller");
	assert_string_equal(pf->driver, "ixgbe");
	assert_string_equal(pf->driver_override, ""); /* "(null)" in sysfs */
	assert_int_equal(pf->numa_node, 1);
	vf = get(f, "0002:81:10.0");
	assert_int_equal(vf->device, 0x10ed);
	assert_string_equal(vf->device_name, "82599 Ethernet Controller Virtual Function");
	assert_string_equal(vf->driver, "vfio-pci");
	rp = get(f, "0002:80:02.0");
	assert_int_equal(rp->header_type, 1);
	assert_int_equal(rp->class, 0x060400);
	assert_string_equal(rp->driver, "pcieport");
	assert_string_equal(get(f, "0000:00:17.0")->driver, "ahci");
	assert_string_equal(get(f, "0000:01:00.0")->driver, "nvme");
	assert_int_equal(get(f, "0000:00:17.0")->class, 0x010601); /* prog-if from CLASS_EXT */
	assert_string_equal(get(f, "0000:00:00.0")->driver, "");
	assert_null(inventory_find(&f->inv, "0002:81:20.0")); /* not an address */
	assert_null(inventory_find(&f->inv, "0002:81:01.0")); /* not present */
	assert_non_null(inventory_find(&f->inv, "00:17.0"));  /* short form: domain 0 */
}

static void test_inventory_82599_sriov(void **state)
{
	struct fixture *f = *state;
	const struct pci_device *pf0, *pf1, *vf;

	scan(f, SIMHOST_DEFAULT);
	pf0 = get(f, "0002:81:00.0");
	pf1 = get(f, "0002:81:00.1");
	assert_int_equal(pf0->sriov_totalvfs, 63);
	assert_int_equal(pf0->sriov_numvfs, 63);
	assert_int_equal(pf0->sriov_offset, 0x80);
	assert_int_equal(pf0->sriov_stride, 2);
	assert_int_equal(pf0->nvfs, 63);
	assert_string_equal(pf0->vfs[0], "0002:81:10.0");
	assert_string_equal(pf0->vfs[1], "0002:81:10.2");
	assert_string_equal(pf1->vfs[0], "0002:81:10.1");
	assert_string_equal(pf1->vfs[62], "0002:81:1f.5");
	for (size_t i = 0; i < pf1->nvfs; i++) {
		vf = get(f, pf1->vfs[i]);
		assert_string_equal(vf->physfn, "0002:81:00.1");
		assert_int_equal(vf->sriov_totalvfs, -1);
		assert_int_equal(vf->nvfs, 0);
	}
	assert_string_equal(get(f, "0000:00:00.0")->physfn, "");
}

static void test_inventory_82599_groups(void **state)
{
	struct fixture *f = *state;

	scan(f, SIMHOST_DEFAULT);
	/* Every device in its own group: no number twice. */
	for (size_t i = 0; i < f->inv.count; i++) {
		assert_true(f->inv.devs[i].iommu_group >= 0);
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(f->inv.devs[i].iommu_group, f->inv.devs[j].iommu_group);
	}
}

static void test_inventory_shared_group(void **state)
{
	struct fixture *f = *state;

	scan(f, "shared-group");
	assert_int_equal(f->inv.count, 9);
	assert_int_equal(get(f, "0000:03:00.0")->iommu_group, 10);
	assert_int_equal(get(f, "0000:03:00.0")->sriov_numvfs, 4);
	assert_int_equal(get(f, "0000:03:00.0")->sriov_totalvfs, 8);
	assert_int_equal(get(f, "0000:03:10.0")->iommu_group, 11);
	assert_int_equal(get(f, "0000:03:10.2")->iommu_group, 11);
	assert_int_equal(get(f, "0000:03:10.4")->iommu_group, 12);
	assert_int_equal(get(f, "0000:04:00.0")->iommu_group, 12);
	assert_string_equal(get(f, "0000:04:00.0")->driver, "e1000e");
	assert_int_equal(get(f, "0000:03:10.6")->iommu_group, 13);
	assert_string_equal(get(f, "0000:03:10.6")->driver, "ixgbevf");
}

static void test_inventory_large(void **state)
{
	struct fixture *f = *state;
	size_t node[2] = { 0, 0 }, vfs = 0;

	scan(f, "large");
	assert_int_equal(f->inv.count, 16 + 2032);
	for (size_t i = 0; i < f->inv.count; i++) {
		const struct pci_device *d = &f->inv.devs[i];

		assert_true(d->numa_node == 0 || d->numa_node == 1);
		node[d->numa_node]++;
		if (d->physfn[0]) {
			vfs++;
			assert_int_equal(d->device, 0x1018);
			assert_string_equal(d->driver, "vfio-pci");
		}
	}
	assert_int_equal(vfs, 2032);
	assert_int_equal(node[0], 1024);
	assert_int_equal(get(f, "0001:91:00.0")->nvfs, 127);
	assert_string_equal(get(f, "0001:91:00.0")->device_name, "MT27800 Family [ConnectX-5]");
	assert_string_equal(get(f, "0001:91:00.0")->driver, "mlx5_core");
	assert_string_equal(get(f, "0001:91:0f.7")->physfn, "0001:91:00.0");
}

static void test_inventory_missing_root(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(inventory_scan("/nonexistent/vflaunch", &f->inv, f->err, sizeof f->err), -1);
	assert_string_equal(f->err, "libpci: cannot open /nonexistent/vflaunch/bus/pci/devices: "
			    "No such file or directory");
	assert_int_equal(f->inv.count, 0);
	assert_null(f->inv.devs);
}

/* A tree libpci itself would die on (a device without its vendor attribute) is refused
 * with a message instead of ending the process. */
static void test_inventory_broken_tree(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];

	assert_int_equal(simhost_materialize(simhost_find("shared-group"), f->dir, sizeof f->dir), 0);
	assert_true(sysfs_path(path, sizeof path, "%s/bus/pci/devices/0000:03:10.2/vendor", f->dir) > 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(inventory_scan(f->dir, &f->inv, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "0000:03:10.2/vendor: No such file or directory"));
	assert_null(f->inv.devs);
}

/* One way to damage a shared-group tree: what to put at bus/pci/devices/DEV/ATTR, and a
 * piece of the message the scan must fail with. */
enum damage { TEXT, FIFO, LINK, ENTRY };
struct corrupt {
	enum damage how;
	const char *dev, *attr;
	const char *value;  /* TEXT: contents; LINK: target; ENTRY: the new entry's name */
	const char *want;
};

static void damage(struct fixture *f, const struct corrupt *c)
{
	char path[PATH_MAX], target[PATH_MAX];
	FILE *fp;

	if (c->how == ENTRY) {
		/* A second name for the device, beside the real one. */
		assert_true(sysfs_path(path, sizeof path, "%s/bus/pci/devices/%s", f->dir, c->dev) > 0);
		ssize_t n = readlink(path, target, sizeof target - 1);
		assert_true(n > 0);
		target[n] = '\0';
		assert_true(sysfs_path(path, sizeof path, "%s/bus/pci/devices/%s", f->dir, c->value) > 0);
		assert_int_equal(symlink(target, path), 0);
		return;
	}
	assert_true(sysfs_path(path, sizeof path, "%s/bus/pci/devices/%s/%s", f->dir, c->dev,
	                       c->attr) > 0);
	if (unlink(path) < 0)
		assert_int_equal(errno, ENOENT);
	if (c->how == FIFO) {
		assert_int_equal(mkfifo(path, 0644), 0);
	} else if (c->how == LINK) {
		assert_int_equal(symlink(c->value, path), 0);
	} else {
		assert_non_null(fp = fopen(path, "w"));
		fputs(c->value, fp);
		assert_int_equal(fclose(fp), 0);
	}
}

/* Each damage in a fresh tree: the scan refuses it with a message naming the file, at once
 * (a FIFO must not hang it), and leaves nothing allocated. */
static void expect_refused(struct fixture *f, const struct corrupt *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct timespec t0, t1;
		char file[PATH_MAX];

		assert_int_equal(simhost_materialize(simhost_find("shared-group"), f->dir, sizeof f->dir), 0);
		damage(f, &cases[i]);
		f->err[0] = '\0';
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (inventory_scan(f->dir, &f->inv, f->err, sizeof f->err) != -1)
			fail_msg("case %zu (%s/%s): accepted", i, cases[i].dev, cases[i].attr);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		assert_true(t1.tv_sec - t0.tv_sec < 5);
		assert_null(f->inv.devs);
		if (cases[i].how == ENTRY)
			snprintf(file, sizeof file, "devices/%s: ", cases[i].value);
		else
			snprintf(file, sizeof file, "%s/%s: ", cases[i].dev, cases[i].attr);
		if (!strstr(f->err, cases[i].want) || !strstr(f->err, file))
			fail_msg("case %zu: \"%s\" lacks \"%s\" or \"%s\"", i, f->err, cases[i].want, file);
		assert_int_equal(rmtree(f->dir), 0);
		f->dir[0] = '\0';
	}
}

/* D21: an entry libpci cannot parse (the short form) made it abort the process (exit 134);
 * one it parses loosely would have it read another device's files. */
static void test_inventory_entry_names(void **state)
{
	static const struct corrupt cases[] = {
		{ ENTRY, "0000:03:10.2", NULL, "03:10.2", "not a PCI address in the kernel's form" },
		{ ENTRY, "0000:03:10.2", NULL, "0000:03:1F.2", "not a PCI address in the kernel's form" },
		{ ENTRY, "0000:03:10.2", NULL, "0000:03:10.2x", "not a PCI address: " },
		{ ENTRY, "0000:03:10.2", NULL, "banana", "not a PCI address: " },
	};
	expect_refused(*state, cases, sizeof cases / sizeof cases[0]);
}

/* D21: a FIFO where libpci or vflaunch opens an attribute hung the scan forever. (revision,
 * which libpci read and vflaunch never showed, is no longer opened at all.) */
static void test_inventory_fifo_attributes(void **state)
{
	static const struct corrupt cases[] = {
		{ FIFO, "0000:03:10.2", "vendor", NULL, "not a regular file" },
		{ FIFO, "0000:03:10.2", "device", NULL, "not a regular file" },
		{ FIFO, "0000:03:10.2", "config", NULL, "not a regular file" },
		{ FIFO, "0000:03:10.2", "numa_node", NULL, "not a regular file" },
		{ FIFO, "0000:03:10.2", "subsystem_device", NULL, "not a regular file" },
		{ FIFO, "0000:03:00.0", "sriov_totalvfs", NULL, "not a regular file" },
		{ FIFO, "0000:03:10.2", "driver_override", NULL, "not a regular file" },
	};
	expect_refused(*state, cases, sizeof cases / sizeof cases[0]);
}

/* D20: ids libpci would read as 0 without a word. */
static void test_inventory_bad_ids(void **state)
{
	static const struct corrupt cases[] = {
		{ TEXT, "0000:03:10.2", "vendor", "banana\n", "not an id (0x and 4 hex digits)" },
		{ TEXT, "0000:03:10.2", "device", "0x10ed0\n", "not an id (0x and 4 hex digits)" },
		{ TEXT, "0000:03:10.2", "device", "\n", "not an id (0x and 4 hex digits)" },
		{ TEXT, "0000:03:10.2", "class", "0x0200\n", "not an id (0x and 6 hex digits)" },
	};
	expect_refused(*state, cases, sizeof cases / sizeof cases[0]);
}

/* D20: SR-IOV values the kernel could not have, which were passed on quietly. */
static void test_inventory_bad_sriov(void **state)
{
	static const struct corrupt cases[] = {
		{ TEXT, "0000:03:00.0", "sriov_numvfs", "100\n", "100 VFs enabled, more than sriov_totalvfs (8)" },
		{ TEXT, "0000:03:00.0", "sriov_totalvfs", "99999999999\n", "not an integer in 0..65535" },
		{ TEXT, "0000:03:00.0", "sriov_totalvfs", "-1\n", "not an integer in 0..65535" },
		{ TEXT, "0000:03:00.0", "sriov_numvfs", "four\n", "not an integer in 0..65535" },
		{ TEXT, "0000:03:00.0", "sriov_stride", "70000\n", "not an integer in 0..65535" },
	};
	expect_refused(*state, cases, sizeof cases / sizeof cases[0]);
}

/* D20: physfn and virtfnN links that cannot be the kernel's. */
static void test_inventory_bad_links(void **state)
{
	static const struct corrupt cases[] = {
		{ LINK, "0000:03:10.2", "physfn", "../$(reboot)", "does not point to a PCI device" },
		{ LINK, "0000:03:10.2", "physfn", "../0000:03:10.2", "points to the device itself" },
		{ LINK, "0000:03:10.2", "physfn", "../0000:04:00.0", "not an SR-IOV PF (0000:04:00.0)" },
		{ LINK, "0000:03:10.2", "physfn", "../0000:03:10.0", "not an SR-IOV PF (0000:03:10.0)" },
		{ LINK, "0000:03:10.2", "physfn", "../0000:0f:00.0", "not in bus/pci/devices" },
		{ LINK, "0000:03:00.0", "virtfn0", "../$(reboot)", "does not point to a PCI device" },
		{ LINK, "0000:03:00.0", "virtfn1", "../81:10.0", "does not point to a PCI device" },
	};
	expect_refused(*state, cases, sizeof cases / sizeof cases[0]);
}

/* D20: driver names with escapes or newlines reached --list raw. */
static void test_inventory_bad_driver_names(void **state)
{
	static const struct corrupt cases[] = {
		{ TEXT, "0000:03:10.2", "driver_override", "\x1b[2J\n", "not a kernel driver name" },
		{ TEXT, "0000:03:10.2", "driver_override", "a\nFAKE 0000:00:00.0\n", "not a kernel driver name" },
		{ LINK, "0000:04:00.0", "driver", "../../../../bus/pci/drivers/e1000e\x1b]0;pwned\a",
		  "the link does not name a kernel driver" },
	};
	struct fixture *f = *state;
	char dir[PATH_MAX];

	expect_refused(f, cases, 2);
	/* libpci reports a driver only when the link resolves: give the odd name a directory. */
	assert_int_equal(simhost_materialize(simhost_find("shared-group"), f->dir, sizeof f->dir), 0);
	assert_true(sysfs_path(dir, sizeof dir, "%s/bus/pci/drivers/e1000e\x1b]0;pwned\a", f->dir) > 0);
	assert_int_equal(mkdir(dir, 0755), 0);
	damage(f, &cases[2]);
	assert_int_equal(inventory_scan(f->dir, &f->inv, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "0000:04:00.0/driver: the link does not name a kernel driver"));
}

/* A listing reads bus/pci/devices and nothing of a device; each fact is read when asked for,
 * alone (a filter on vendor reads vendor), and a corrupt file fails the read that touches it,
 * naming it, while the other devices read as before. */
static void test_inventory_lazy(void **state)
{
	struct fixture *f = *state;
	struct pci_device *vf, *pf;
	char path[PATH_MAX];

	assert_int_equal(simhost_materialize(simhost_find("shared-group"), f->dir, sizeof f->dir), 0);
	assert_true(sysfs_path(path, sizeof path, "%s/bus/pci/devices/0000:03:10.2/vendor", f->dir) > 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(inventory_list(f->dir, &f->inv, f->err, sizeof f->err), 0);
	assert_int_equal(f->inv.count, 9);
	vf = inventory_find(&f->inv, "0000:03:10.2");
	pf = inventory_find(&f->inv, "0000:03:00.0");
	assert_non_null(vf);
	assert_non_null(pf);
	assert_int_equal(vf->known, 0);
	assert_int_equal(vf->sriov_totalvfs, -1);
	assert_int_equal(vf->iommu_group, -1);

	assert_int_equal(inventory_read(&f->inv, pf, INV_VENDOR, f->err, sizeof f->err), 0);
	assert_int_equal(pf->known, INV_VENDOR);
	assert_int_equal(pf->vendor, 0x8086);
	assert_int_equal(pf->device, 0); /* not read */
	assert_null(pf->vendor_name);
	assert_int_equal(inventory_read(&f->inv, pf, INV_NAMES, f->err, sizeof f->err), 0);
	assert_int_equal(pf->known, INV_VENDOR | INV_DEVICE | INV_NAMES);
	assert_null(pf->class_name); /* a file of its own, not read for the others */
	assert_string_equal(pf->vendor_name, "Intel Corporation");

	assert_int_equal(inventory_read(&f->inv, vf, INV_VENDOR, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "0000:03:10.2/vendor: No such file or directory"));
	assert_false(vf->known & INV_VENDOR);
	/* What else the device has still reads; its physfn is checked against its PF. */
	assert_int_equal(inventory_read(&f->inv, vf, INV_DRIVER | INV_GROUP | INV_PHYSFN, f->err,
	                                sizeof f->err), 0);
	assert_string_equal(vf->physfn, "0000:03:00.0");
	assert_int_equal(vf->iommu_group, 11);
	assert_true(pf->known & INV_SRIOV);
	assert_int_equal(pf->sriov_numvfs, 4);
	assert_int_equal(pf->nvfs, 0); /* the virtfn links were not asked for */
	assert_int_equal(inventory_read(&f->inv, pf, INV_VFS, f->err, sizeof f->err), 0);
	assert_int_equal(pf->nvfs, 4);
	assert_string_equal(pf->vfs[1], "0000:03:10.2");
	/* The whole scan of the same tree fails, at that file. */
	inventory_free(&f->inv);
	assert_int_equal(inventory_scan(f->dir, &f->inv, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "0000:03:10.2/vendor: No such file or directory"));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_inventory_82599_counts),
		T(test_inventory_82599_ids_names),
		T(test_inventory_82599_sriov),
		T(test_inventory_82599_groups),
		T(test_inventory_shared_group),
		T(test_inventory_large),
		T(test_inventory_missing_root),
		T(test_inventory_broken_tree),
		T(test_inventory_entry_names),
		T(test_inventory_fifo_attributes),
		T(test_inventory_bad_ids),
		T(test_inventory_bad_sriov),
		T(test_inventory_bad_links),
		T(test_inventory_bad_driver_names),
		T(test_inventory_lazy),
	};

	/* Memory-backed tmp when the caller has no preference: a 2000-device tree is ~60 000
	 * files, seconds on tmpfs but minutes on a busy disk. */
	if (!getenv("TMPDIR") && access("/dev/shm", W_OK) == 0)
		setenv("TMPDIR", "/dev/shm", 0);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
