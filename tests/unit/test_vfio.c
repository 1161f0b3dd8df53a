// SPDX-License-Identifier: MIT
// Unit tests of vfio.c: exact sysfs write sequences, rollback at each step, groups, host checks.
// LDWRAP: -Wl,--wrap=write -Wl,--wrap=open
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakekernel.h"
#include "vfio.h"

/* shared-group (simhost.c): 03:00.0 PF ixgbe (4 of 8 VFs, autoprobe 1); 03:10.0/.2 vfio-pci
 * in group 11; 03:10.4 vfio-pci + 04:00.0 e1000e in group 12; 03:10.6 ixgbevf in group 13. */
#define PF   "0000:03:00.0"
#define VF3  "0000:03:10.6"
#define VF0  "0000:03:10.0"
#define NIC  "0000:04:00.0"

static char err[1024];

static int setup_shared(void **state)
{
	(void)state;
	err[0] = '\0';
	return fk_setup("shared-group");
}

static int teardown(void **state)
{
	(void)state;
	return fk_teardown();
}

static void test_vfio_bind_sequence(void **state)
{
	(void)state;
	assert_int_equal(vfio_bind(fk.sys, VF3, err, sizeof err), 0);
	fk_expect(VF3 "/driver_override=vfio-pci", "drivers/ixgbevf/unbind=" VF3,
	          "drivers_probe=" VF3);
	assert_string_equal(fk_driver(VF3), "vfio-pci");
	assert_string_equal(fk_attr(VF3, "driver_override"), "vfio-pci");
}

static void test_vfio_bind_unbound(void **state)
{
	(void)state;
	/* No driver: nothing to unbind. */
	assert_int_equal(vfio_bind(fk.sys, "0000:00:00.0", err, sizeof err), 0);
	fk_expect("0000:00:00.0/driver_override=vfio-pci", "drivers_probe=0000:00:00.0");
	assert_string_equal(fk_driver("0000:00:00.0"), "vfio-pci");
}

static void test_vfio_bind_already(void **state)
{
	(void)state;
	assert_int_equal(vfio_bind(fk.sys, VF0, err, sizeof err), 0);
	fk_expect_none();
}

static void test_vfio_bind_bad_address(void **state)
{
	(void)state;
	assert_int_equal(vfio_bind(fk.sys, "../../etc", err, sizeof err), -EINVAL);
	assert_int_equal(vfio_bind(fk.sys, "0000:03:10.6\n", err, sizeof err), -EINVAL);
	assert_int_equal(vfio_bind(fk.sys, "0000:09:00.0", err, sizeof err), -ENODEV);
	fk_expect_none();
}

/* The device is back where it was: ixgbevf, no override. */
static void assert_untouched(void)
{
	assert_string_equal(fk_driver(VF3), "ixgbevf");
	assert_string_equal(fk_attr(VF3, "driver_override"), "(null)");
}

static void test_vfio_bind_fail_override(void **state)
{
	(void)state;
	fk_fail("driver_override", 0, 1, EACCES);
	assert_int_equal(vfio_bind(fk.sys, VF3, err, sizeof err), -EACCES);
	fk_expect(VF3 "/driver_override=vfio-pci !fail");
	assert_non_null(strstr(err, "driver_override: "));
	assert_non_null(strstr(err, "/driver_override: Permission denied"));
	assert_untouched();
}

static void test_vfio_bind_fail_unbind(void **state)
{
	(void)state;
	fk_fail("unbind", 0, 1, EBUSY);
	assert_int_equal(vfio_bind(fk.sys, VF3, err, sizeof err), -EBUSY);
	/* Still on ixgbevf: only the override is put back, no probe. */
	fk_expect(VF3 "/driver_override=vfio-pci", "drivers/ixgbevf/unbind=" VF3 " !fail",
	          VF3 "/driver_override=\\n");
	assert_non_null(strstr(err, "unbind: "));
	assert_non_null(strstr(err, "Device or resource busy"));
	assert_untouched();
}

static void test_vfio_bind_fail_probe(void **state)
{
	(void)state;
	fk_fail("drivers_probe", 0, 1, EINVAL);
	assert_int_equal(vfio_bind(fk.sys, VF3, err, sizeof err), -EINVAL);
	fk_expect(VF3 "/driver_override=vfio-pci", "drivers/ixgbevf/unbind=" VF3,
	          "drivers_probe=" VF3 " !fail", VF3 "/driver_override=\\n", "drivers_probe=" VF3);
	assert_non_null(strstr(err, "drivers_probe: "));
	assert_null(strstr(err, "rollback failed"));
	assert_untouched();
}

static void test_vfio_bind_short_write(void **state)
{
	(void)state;
	fk_fail("drivers_probe", 0, 1, FK_SHORT);
	assert_int_equal(vfio_bind(fk.sys, VF3, err, sizeof err), -EIO);
	fk_expect(VF3 "/driver_override=vfio-pci", "drivers/ixgbevf/unbind=" VF3,
	          "drivers_probe=" VF3 " !fail", VF3 "/driver_override=\\n", "drivers_probe=" VF3);
	assert_untouched();
}

static void test_vfio_bind_fail_verify(void **state)
{
	(void)state;
	/* vfio-pci's probe fails inside the kernel: the write succeeds, no driver binds. */
	fk.refuse = "vfio-pci";
	assert_int_equal(vfio_bind(fk.sys, VF3, err, sizeof err), -EIO);
	fk_expect(VF3 "/driver_override=vfio-pci", "drivers/ixgbevf/unbind=" VF3,
	          "drivers_probe=" VF3, VF3 "/driver_override=\\n", "drivers_probe=" VF3);
	assert_non_null(strstr(err, "verify: "));
	assert_non_null(strstr(err, "bound to no driver, not vfio-pci"));
	/* Where it is now, read back after the rollback, not assumed. */
	assert_non_null(strstr(err, "; the device is back on ixgbevf"));
	assert_untouched();
}

static void test_vfio_bind_fail_verify_other(void **state)
{
	(void)state;
	/* Another driver took the device (a race with someone else's bind): unbind it too. */
	fk.refuse = "vfio-pci";
	fk.instead = "e1000e";
	assert_int_equal(vfio_bind(fk.sys, VF3, err, sizeof err), -EIO);
	fk_expect(VF3 "/driver_override=vfio-pci", "drivers/ixgbevf/unbind=" VF3,
	          "drivers_probe=" VF3, "drivers/e1000e/unbind=" VF3, VF3 "/driver_override=\\n",
	          "drivers_probe=" VF3);
	assert_non_null(strstr(err, "bound to e1000e, not vfio-pci"));
	assert_untouched();
}

static void test_vfio_bind_rollback_fails(void **state)
{
	(void)state;
	fk_fail("drivers_probe", 0, -1, EINVAL);
	assert_int_equal(vfio_bind(fk.sys, VF3, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "(rollback failed: drivers_probe: "));
	assert_non_null(strstr(err, "; the device is now on no driver (rollback incomplete)"));
	assert_string_equal(fk_driver(VF3), "");
	assert_string_equal(fk_attr(VF3, "driver_override"), "(null)");
}

/* The original driver does not take the device back in the rollback (its probe binds
 * nothing; every write succeeds, as in Linux): the error must say so, read back, never
 * "back on ixgbevf". The VFLAUNCH_TEST_UNBINDABLE case of D1 (j_rollback_false_claim). */
static void test_vfio_bind_rollback_refused(void **state)
{
	(void)state;
	fk.refuse = "ixgbevf";
	assert_int_equal(vfio_bind_driver(fk.sys, VF3, "vflaunch-test-none", err, sizeof err), -EIO);
	fk_expect(VF3 "/driver_override=vflaunch-test-none", "drivers/ixgbevf/unbind=" VF3,
	          "drivers_probe=" VF3, VF3 "/driver_override=\\n", "drivers_probe=" VF3);
	assert_non_null(strstr(err, "bound to no driver, not vflaunch-test-none"));
	assert_null(strstr(err, "rollback failed"));
	assert_non_null(strstr(err, "; the device is now on no driver (rollback incomplete)"));
	assert_null(strstr(err, "back on"));
	assert_string_equal(fk_driver(VF3), "");
}

/* A driver name is written into driver_override: never a path or a second line. */
static void test_vfio_bind_bad_driver(void **state)
{
	(void)state;
	assert_int_equal(vfio_bind_driver(fk.sys, VF3, "../../etc", err, sizeof err), -EINVAL);
	assert_int_equal(vfio_bind_driver(fk.sys, VF3, "vfio-pci\nevil", err, sizeof err), -EINVAL);
	assert_int_equal(vfio_bind_driver(fk.sys, VF3, "", err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "not a kernel driver name"));
	fk_expect_none();
}

/* Every step of a bind fails with every kind of error: each time the device ends where it
 * began and the error says which step. */
static void test_vfio_bind_fail_matrix(void **state)
{
	static const char *const steps[] = { "driver_override", "unbind", "drivers_probe" };
	static const int errs[] = { EACCES, EBUSY, EINVAL, FK_SHORT };

	(void)state;
	for (size_t s = 0; s < 3; s++)
		for (size_t e = 0; e < 4; e++) {
			fk.nlog = 0;
			fk_fail(steps[s], 0, 1, errs[e]);
			assert_int_equal(vfio_bind(fk.sys, VF3, err, sizeof err),
			                 errs[e] == FK_SHORT ? -EIO : -errs[e]);
			assert_non_null(strstr(err, steps[s]));
			assert_null(strstr(err, "rollback failed"));
			assert_untouched();
		}
}

/* The same for an SR-IOV change: count and autoprobe end as they were. */
static void test_vfio_sriov_fail_matrix(void **state)
{
	static const int errs[] = { EACCES, EBUSY, EINVAL, FK_SHORT };

	(void)state;
	for (int step = 0; step < 3; step++)
		for (size_t e = 0; e < 4; e++) {
			/* step 0: autoprobe; 1: numvfs=0; 2: numvfs=6 */
			fk_fail(step == 0 ? "autoprobe" : "sriov_numvfs", step == 2, 1, errs[e]);
			assert_int_equal(sriov_set_numvfs(fk.sys, PF, 6, 0, err, sizeof err),
			                 errs[e] == FK_SHORT ? -EIO : -errs[e]);
			assert_string_equal(fk_attr(PF, "sriov_numvfs"), "4");
			assert_string_equal(fk_attr(PF, "sriov_drivers_autoprobe"), "1");
		}
}

static void test_vfio_restore_sequence(void **state)
{
	(void)state;
	assert_int_equal(vfio_bind(fk.sys, VF3, err, sizeof err), 0);
	fk.nlog = 0;
	assert_int_equal(vfio_restore(fk.sys, VF3, "ixgbevf", "", err, sizeof err), 1);
	fk_expect(VF3 "/driver_override=\\n", "drivers/vfio-pci/unbind=" VF3, "drivers_probe=" VF3);
	assert_untouched();
	/* Idempotent: given back already, nothing is written. */
	fk.nlog = 0;
	assert_int_equal(vfio_restore(fk.sys, VF3, "ixgbevf", "", err, sizeof err), 0);
	fk_expect_none();
}

static void test_vfio_restore_to_none(void **state)
{
	(void)state;
	/* 03:10.4 had no driver and an override "pci-stub": no probe, or its native would bind. */
	assert_int_equal(vfio_restore(fk.sys, "0000:03:10.4", "", "pci-stub", err, sizeof err), 1);
	fk_expect("0000:03:10.4/driver_override=pci-stub", "drivers/vfio-pci/unbind=0000:03:10.4");
	assert_string_equal(fk_driver("0000:03:10.4"), "");
	assert_string_equal(fk_attr("0000:03:10.4", "driver_override"), "pci-stub");
}

static void test_vfio_restore_fail(void **state)
{
	(void)state;
	assert_int_equal(vfio_bind(fk.sys, VF3, err, sizeof err), 0);
	fk.nlog = 0;
	fk_fail("unbind", 0, 1, EBUSY);
	assert_int_equal(vfio_restore(fk.sys, VF3, "ixgbevf", "", err, sizeof err), -EBUSY);
	fk_expect(VF3 "/driver_override=\\n", "drivers/vfio-pci/unbind=" VF3 " !fail");
	assert_non_null(strstr(err, "unbind: "));
	assert_non_null(strstr(err, "; " VF3 " is on vfio-pci, not ixgbevf"));
	/* A second try finishes the job. */
	fk.nlog = 0;
	assert_int_equal(vfio_restore(fk.sys, VF3, "ixgbevf", "", err, sizeof err), 1);
	fk_expect("drivers/vfio-pci/unbind=" VF3, "drivers_probe=" VF3);
	assert_untouched();
}

/* D1: the original driver does not take the device back (its probe binds nothing, which the
 * kernel reports as a successful write). The result is a failure that says where the device
 * is, and never -ENODEV, which callers read as "the device is gone". */
static void test_vfio_restore_refused(void **state)
{
	(void)state;
	assert_int_equal(vfio_bind(fk.sys, VF3, err, sizeof err), 0);
	fk.nlog = 0;
	fk.refuse = "ixgbevf";
	assert_int_equal(vfio_restore(fk.sys, VF3, "ixgbevf", "", err, sizeof err), -EIO);
	fk_expect(VF3 "/driver_override=\\n", "drivers/vfio-pci/unbind=" VF3, "drivers_probe=" VF3);
	assert_string_equal(err, VF3 " has no driver, not ixgbevf");
	/* Another driver took it instead. */
	assert_int_equal(vfio_bind(fk.sys, VF3, err, sizeof err), 0);
	fk.instead = "e1000e";
	assert_int_equal(vfio_restore(fk.sys, VF3, "ixgbevf", "", err, sizeof err), -EIO);
	assert_string_equal(err, VF3 " is on e1000e, not ixgbevf");
}

/* -ENODEV is kept for a device whose directory is gone, and nothing is written then. A store
 * method saying ENODEV while the device is there is a failure like any other. */
static void test_vfio_restore_gone(void **state)
{
	(void)state;
	assert_int_equal(vfio_restore(fk.sys, "0000:03:1f.7", "ixgbevf", "", err, sizeof err), -ENODEV);
	fk_expect_none();
	assert_int_equal(vfio_bind(fk.sys, VF3, err, sizeof err), 0);
	fk.nlog = 0;
	fk_fail("unbind", 0, 1, ENODEV);
	assert_int_equal(vfio_restore(fk.sys, VF3, "ixgbevf", "", err, sizeof err), -EIO);
	assert_non_null(strstr(err, "unbind: "));
	assert_non_null(strstr(err, "; " VF3 " is on vfio-pci, not ixgbevf"));
}

/* The override is read back too, not only the driver link. */
static void test_vfio_restore_override_readback(void **state)
{
	char path[PATH_MAX];

	(void)state;
	fk_fmt(path, sizeof path, "%s/bus/pci/devices/%s/driver_override", fk.sys, VF3);
	assert_int_equal(fk_put(path, "vfio-pci\n"), 0);
	fk.nlog = 0;
	fk_fail("driver_override", 0, 1, EACCES);
	assert_int_equal(vfio_restore(fk.sys, VF3, "ixgbevf", "", err, sizeof err), -EACCES);
	assert_non_null(strstr(err, "driver_override: "));
	assert_non_null(strstr(err, "; driver_override of " VF3 " is \"vfio-pci\", not empty"));
	assert_null(strstr(err, "is on"));
}

/* Names from a journal are never written unless they can be a driver's. */
static void test_vfio_restore_bad_names(void **state)
{
	(void)state;
	assert_int_equal(vfio_restore(fk.sys, VF3, "../../../etc", "", err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "the original driver is not a kernel driver name"));
	assert_int_equal(vfio_restore(fk.sys, VF3, "ixgbevf", "vfio-pci\nevil", err, sizeof err),
	                 -EINVAL);
	assert_non_null(strstr(err, "driver_override is not a kernel driver name"));
	fk_expect_none();
}

static void test_vfio_driver_names(void **state)
{
	static const char *const good[] = { "vfio-pci", "ixgbevf", "mlx5_core", "snd_hda_intel",
	                                    "a", "x.y:z+w-1" };
	static const char *const bad[] = { "", "../../../etc", "vfio-pci\nevil", "a b", "a/b",
	                                   "\x1b[2J", "(null)", "vfio-pci;reboot" };
	char longest[VFIO_NAMELEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_true(vfio_driver_ok(good[i]));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (vfio_driver_ok(bad[i]))
			fail_msg("accepted \"%s\"", bad[i]);
	assert_false(vfio_driver_ok(NULL));
	memset(longest, 'a', sizeof longest - 1);
	longest[VFIO_NAMELEN] = '\0';
	assert_false(vfio_driver_ok(longest));           /* 64 bytes */
	longest[VFIO_NAMELEN - 1] = '\0';
	assert_true(vfio_driver_ok(longest));            /* 63 */
}

static void test_vfio_sriov_restore(void **state)
{
	(void)state;
	assert_int_equal(sriov_set_numvfs(fk.sys, PF, 6, 0, err, sizeof err), 0);
	fk.nlog = 0;
	assert_int_equal(sriov_restore(fk.sys, PF, 4, 1, err, sizeof err), 1);
	fk_expect(PF "/sriov_drivers_autoprobe=1", PF "/sriov_numvfs=0", PF "/sriov_numvfs=4");
	fk.nlog = 0;
	assert_int_equal(sriov_restore(fk.sys, PF, 4, 1, err, sizeof err), 0);
	assert_int_equal(sriov_restore(fk.sys, PF, 4, -1, err, sizeof err), 0);
	fk_expect_none();
	/* A PF that is gone: nothing to give back, nothing written. */
	assert_int_equal(sriov_restore(fk.sys, "0000:05:00.0", 4, 1, err, sizeof err), -ENODEV);
	/* A device that is there but no PF is a failure, not "gone". */
	assert_int_equal(sriov_restore(fk.sys, VF3, 4, 1, err, sizeof err), -ENOENT);
	fk_expect_none();
}

static void test_vfio_sriov_restore_fails(void **state)
{
	(void)state;
	assert_int_equal(sriov_set_numvfs(fk.sys, PF, 6, 0, err, sizeof err), 0);
	fk.nlog = 0;
	fk_fail("sriov_numvfs", 0, -1, EBUSY);
	assert_int_equal(sriov_restore(fk.sys, PF, 4, 1, err, sizeof err), -EBUSY);
	assert_non_null(strstr(err, "sriov_numvfs: "));
	assert_non_null(strstr(err, "; sriov_numvfs of " PF " is 6, not 4"));
	assert_string_equal(fk_attr(PF, "sriov_drivers_autoprobe"), "1");
	fk_fail(NULL, 0, 0, 0);
	fk_fail("sriov_numvfs", 0, -1, ENODEV);
	assert_int_equal(sriov_restore(fk.sys, PF, 4, 1, err, sizeof err), -EIO);
}

static void test_vfio_sriov_sequence(void **state)
{
	(void)state;
	assert_int_equal(sriov_set_numvfs(fk.sys, PF, 6, 0, err, sizeof err), 0);
	fk_expect(PF "/sriov_drivers_autoprobe=0", PF "/sriov_numvfs=0", PF "/sriov_numvfs=6");
	assert_string_equal(fk_attr(PF, "sriov_numvfs"), "6");
	fk.nlog = 0;
	assert_int_equal(sriov_set_numvfs(fk.sys, PF, 6, 0, err, sizeof err), 0);
	fk_expect_none();
	assert_int_equal(sriov_set_numvfs(fk.sys, PF, 0, -1, err, sizeof err), 0);
	assert_int_equal(sriov_set_numvfs(fk.sys, PF, 2, -1, err, sizeof err), 0);
	fk_expect(PF "/sriov_numvfs=0", PF "/sriov_numvfs=2");
}

static void test_vfio_sriov_range(void **state)
{
	(void)state;
	assert_int_equal(sriov_set_numvfs(fk.sys, PF, 9, 0, err, sizeof err), -ERANGE);
	assert_non_null(strstr(err, "sriov_totalvfs is 8"));
	assert_int_equal(sriov_set_numvfs(fk.sys, VF3, 1, 0, err, sizeof err), -ENOENT);
	fk_expect_none();
}

static void test_vfio_sriov_fail_rollback(void **state)
{
	(void)state;
	fk_fail("sriov_numvfs", 1, 1, EINVAL);
	assert_int_equal(sriov_set_numvfs(fk.sys, PF, 6, 0, err, sizeof err), -EINVAL);
	fk_expect(PF "/sriov_drivers_autoprobe=0", PF "/sriov_numvfs=0", PF "/sriov_numvfs=6 !fail",
	          PF "/sriov_numvfs=4", PF "/sriov_drivers_autoprobe=1");
	assert_string_equal(fk_attr(PF, "sriov_numvfs"), "4");
	assert_string_equal(fk_attr(PF, "sriov_drivers_autoprobe"), "1");

	fk.nlog = 0;
	fk_fail("autoprobe", 0, 1, EACCES);
	assert_int_equal(sriov_set_numvfs(fk.sys, PF, 6, 0, err, sizeof err), -EACCES);
	fk_expect(PF "/sriov_drivers_autoprobe=0 !fail");
}

static void test_vfio_group_viability(void **state)
{
	struct vfio_member *m;
	size_t n;

	(void)state;
	assert_int_equal(vfio_group(fk.sys, 12, &m, &n, err, sizeof err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(m[0].addr, "0000:03:10.4");
	assert_string_equal(m[0].driver, "vfio-pci");
	assert_true(m[0].viable);
	assert_string_equal(m[1].addr, NIC);
	assert_string_equal(m[1].driver, "e1000e");
	assert_false(m[1].viable);
	free(m);

	assert_int_equal(vfio_group(fk.sys, 1, &m, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_true(m[0].bridge);             /* a root port on pcieport is fine */
	assert_true(m[0].viable);
	free(m);
	assert_int_equal(vfio_group(fk.sys, 0, &m, &n, err, sizeof err), 0);
	assert_false(m[0].bridge);            /* a host bridge is not a PCI-PCI bridge */
	assert_true(m[0].viable);             /* but it has no driver */
	free(m);
	assert_int_equal(vfio_group(fk.sys, 13, &m, &n, err, sizeof err), 0);
	assert_false(m[0].viable);
	free(m);
	assert_int_equal(vfio_group(fk.sys, 99, &m, &n, err, sizeof err), -ENOENT);
	assert_null(m);

	assert_int_equal(vfio_iommu_group(fk.sys, NIC, err, sizeof err), 12);
	assert_int_equal(vfio_iommu_group(fk.sys, "0000:09:00.0", err, sizeof err), -ENOENT);
}

static void test_vfio_viable_rules(void **state)
{
	(void)state;
	assert_true(vfio_viable_driver("vfio-pci", 0));
	assert_true(vfio_viable_driver("pci-stub", 0));
	assert_true(vfio_viable_driver("", 0));
	assert_true(vfio_viable_driver("pcieport", 1));
	assert_false(vfio_viable_driver("ixgbevf", 0));
	assert_false(vfio_viable_driver("vfio-pci-extra", 0));
}

static void test_vfio_state(void **state)
{
	struct vfio_state st;

	(void)state;
	assert_int_equal(vfio_state(fk.sys, VF3, &st, err, sizeof err), 0);
	assert_string_equal(st.driver, "ixgbevf");
	assert_string_equal(st.override, "");      /* "(null)" in sysfs */
	assert_int_equal(vfio_state(fk.sys, "0000:00:00.0", &st, err, sizeof err), 0);
	assert_string_equal(st.driver, "");
	assert_int_equal(vfio_state(fk.sys, "0000:09:00.0", &st, err, sizeof err), -ENODEV);
}

/* A driver link whose name no driver could have (terminal escapes, a newline that would forge
 * a row) is refused with the file named, so it reaches no message and no journal. */
static void test_vfio_state_hostile_driver(void **state)
{
	char link[PATH_MAX], target[PATH_MAX];
	struct vfio_state st;

	(void)state;
	fk_fmt(link, sizeof link, "%s/bus/pci/devices/%s/driver", fk.sys, VF3);
	fk_fmt(target, sizeof target, "%s/bus/pci/drivers/\x1b[2J\nFAKE", fk.sys);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(vfio_state(fk.sys, VF3, &st, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "/driver: not a kernel driver name"));
	assert_null(strchr(err, '\x1b'));
}

static void test_vfio_host_checks(void **state)
{
	char path[PATH_MAX];

	(void)state;
	assert_true(vfio_module_loaded(fk.sys));    /* bus/pci/drivers/vfio-pci */
	assert_true(vfio_iommu_present(fk.sys));
	assert_false(vfio_module_loaded(fk.dev));
	assert_false(vfio_iommu_present(fk.dev));
	fk_fmt(path, sizeof path, "%s/module", fk.dev);
	assert_int_equal(mkdir(path, 0755), 0);
	fk_fmt(path, sizeof path, "%s/module/vfio_pci", fk.dev);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_true(vfio_module_loaded(fk.dev));

	fk_fmt(path, sizeof path, "%s/vfio", fk.dev);
	assert_int_equal(mkdir(path, 0755), 0);
	fk_fmt(path, sizeof path, "%s/vfio/11", fk.dev);
	assert_int_equal(fk_put(path, ""), 0);
	assert_int_equal(vfio_check_dev(fk.dev, 11, err, sizeof err), 0);
	assert_int_equal(vfio_check_dev(fk.dev, 12, err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, "/vfio/12: No such file"));
	if (geteuid() != 0) {                   /* root passes any mode */
		chmod(path, 0);
		assert_int_equal(vfio_check_dev(fk.dev, 11, err, sizeof err), -EACCES);
	}
}

/* Root in a container may lack it: ask the kernel, not the uid. */
static int has_cap_sys_resource(void)
{
	char line[256];
	unsigned long long caps = 0;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	if (f)
		fclose(f);
	return (caps >> 24) & 1;       /* CAP_SYS_RESOURCE */
}

static void test_vfio_memlock(void **state)
{
	struct vfio_memlock ml;
	struct rlimit saved, rl;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &saved), 0);
	rl.rlim_cur = 64 << 10;
	rl.rlim_max = saved.rlim_max == RLIM_INFINITY || saved.rlim_max > (16 << 20) ? 16 << 20 : saved.rlim_max;
	if (rl.rlim_max < rl.rlim_cur)
		skip();
	/* Lowering is always allowed; restored at the end when we are root. */
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &rl), 0);

	assert_int_equal(vfio_memlock(32 << 10, 0, &ml, err, sizeof err), 0);
	assert_true(ml.ok);
	assert_false(ml.raised);
	assert_int_equal(vfio_memlock(1 << 20, 0, &ml, err, sizeof err), -ENOMEM);
	assert_false(ml.ok);
	assert_int_equal(ml.current, 64 << 10);
	assert_int_equal(ml.needed, 1 << 20);
	assert_non_null(strstr(err, "RLIMIT_MEMLOCK: soft 65536"));
	assert_int_equal(vfio_memlock(1 << 20, 1, &ml, err, sizeof err), 0);
	assert_true(ml.raised);
	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &rl), 0);
	assert_int_equal(rl.rlim_cur, 1 << 20);
	/* Past the hard limit only CAP_SYS_RESOURCE may go. */
	int rc = vfio_memlock(64ULL << 20, 1, &ml, err, sizeof err);
	if (has_cap_sys_resource()) {
		assert_int_equal(rc, 0);
		assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &saved), 0);
	} else {
		assert_int_equal(rc, -EPERM);
		assert_non_null(strstr(err, "cannot raise it"));
	}
}

/* Add attributes the simhost tree does not have: a NIC's netdev and an NVMe namespace. */
static void make_in_use_fixture(const char *flags)
{
	char d[PATH_MAX], p[PATH_MAX + 32];

	fk_fmt(d, sizeof d, "%s/bus/pci/devices/%s/net/vfltest0", fk.sys, NIC);
	fk_fmt(p, sizeof p, "%s/bus/pci/devices/%s/net", fk.sys, NIC);
	assert_true(mkdir(p, 0755) == 0 || errno == EEXIST); /* simhost gives a NIC PF its netdev */
	assert_int_equal(mkdir(d, 0755), 0);
	fk_fmt(p, sizeof p, "%s/flags", d);
	assert_int_equal(fk_put(p, flags), 0);
	fk_fmt(p, sizeof p, "%s/net", fk.proc);
	assert_int_equal(mkdir(p, 0755), 0);
	fk_fmt(p, sizeof p, "%s/self", fk.proc);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void test_vfio_in_use_net(void **state)
{
	struct vfio_use *u;
	size_t n;
	char p[PATH_MAX];

	(void)state;
	make_in_use_fixture("0x1003\n");
	assert_int_equal(vfio_in_use(fk.sys, fk.proc, NIC, &u, &n, err, sizeof err), 0);
	assert_int_equal(n, 0);                 /* up, but no address and no route */
	free(u);
	fk_fmt(p, sizeof p, "%s/net/if_inet6", fk.proc);
	assert_int_equal(fk_put(p, "fe800000000000000000000000000001 05 40 20 80 vfltest0\n"), 0);
	assert_int_equal(vfio_in_use(fk.sys, fk.proc, NIC, &u, &n, err, sizeof err), 0);
	assert_int_equal(n, 0);                 /* link-local only: every interface has one */
	free(u);
	fk_fmt(p, sizeof p, "%s/net/route", fk.proc);
	assert_int_equal(fk_put(p, "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
	                           "vfltest0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\n"), 0);
	assert_int_equal(vfio_in_use(fk.sys, fk.proc, NIC, &u, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(u[0].kind, "net");
	assert_string_equal(u[0].name, "vfltest0");
	assert_string_equal(u[0].why, "up with a route to 10.0.2.0");
	free(u);
}

static void test_vfio_in_use_down(void **state)
{
	struct vfio_use *u;
	size_t n;
	char p[PATH_MAX];

	(void)state;
	make_in_use_fixture("0x1002\n");
	fk_fmt(p, sizeof p, "%s/net/route", fk.proc);
	assert_int_equal(fk_put(p, "Iface\tDestination\nvfltest0\t0002000A\n"), 0);
	assert_int_equal(vfio_in_use(fk.sys, fk.proc, NIC, &u, &n, err, sizeof err), 0);
	assert_int_equal(n, 0);                 /* down: not in use whatever its routes */
	free(u);
}

/* A device no driver holds has no interface of its own: not looked for (a real kernel removes
 * them with the driver; this fixture keeps one to show it is not read). */
static void test_vfio_in_use_no_driver(void **state)
{
	struct vfio_use *u;
	size_t n;
	char p[PATH_MAX + 32];

	(void)state;
	make_in_use_fixture("0x1003\n");
	fk_fmt(p, sizeof p, "%s/net/route", fk.proc);
	assert_int_equal(fk_put(p, "Iface\tDestination\nvfltest0\t0002000A\n"), 0);
	assert_int_equal(vfio_in_use(fk.sys, fk.proc, NIC, &u, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);                 /* on e1000e: its interface is up with a route */
	free(u);
	fk_fmt(p, sizeof p, "%s/bus/pci/devices/%s/driver", fk.sys, NIC);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(vfio_in_use(fk.sys, fk.proc, NIC, &u, &n, err, sizeof err), 0);
	assert_int_equal(n, 0);
	free(u);
}

static void test_vfio_in_use_block(void **state)
{
	struct vfio_use *u;
	size_t n;
	char d[PATH_MAX], p[PATH_MAX + 32];

	(void)state;
	make_in_use_fixture("0x1002\n");
	/* nvme/nvme0/nvme0n1/nvme0n1p1, each with dev and a subsystem link to class/block. */
	const char *parts[] = { "nvme", "nvme0", "nvme0n1", "nvme0n1p1" };
	fk_fmt(d, sizeof d, "%s/bus/pci/devices/%s", fk.sys, NIC);
	for (int i = 0; i < 4; i++) {
		size_t len = strlen(d);
		fk_fmt(d + len, sizeof d - len, "/%s", parts[i]);
		assert_int_equal(mkdir(d, 0755), 0);
		if (i >= 2) {
			fk_fmt(p, sizeof p, "%s/dev", d);
			assert_int_equal(fk_put(p, i == 2 ? "259:0\n" : "259:1\n"), 0);
			fk_fmt(p, sizeof p, "%s/subsystem", d);
			assert_int_equal(symlink("../../../../class/block", p), 0);
		}
	}
	fk_fmt(p, sizeof p, "%s/self/mountinfo", fk.proc);
	assert_int_equal(fk_put(p, "22 1 0:21 / /proc rw - proc proc rw\n"
	                           "41 1 259:1 / /srv rw,relatime - ext4 /dev/nvme0n1p1 rw\n"), 0);
	assert_int_equal(vfio_in_use(fk.sys, fk.proc, NIC, &u, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(u[0].kind, "block");
	assert_string_equal(u[0].name, "nvme0n1p1");
	assert_string_equal(u[0].why, "mounted on /srv");
	free(u);
}

static void test_vfio_modprobe(void **state)
{
	const char *const good[] = { "/nonexistent/modprobe", "/bin/true", NULL };
	const char *const bad[] = { "/bin/false", NULL };
	const char *const none[] = { "/nonexistent/modprobe", NULL };

	(void)state;
	assert_int_equal(vfio_modprobe(good, err, sizeof err), 0);
	assert_int_equal(vfio_modprobe(bad, err, sizeof err), -EIO);
	assert_string_equal(err, "modprobe vfio-pci: /bin/false: exit status 1");
	assert_int_equal(vfio_modprobe(none, err, sizeof err), -ENOENT);
}

/* A print-only run never loads a module: in a child, since the latch cannot be cleared. */
static void test_vfio_modprobe_forbidden(void **state)
{
	const char *const good[] = { "/bin/true", NULL };
	int status;

	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sysfs_forbid_writes();
		_exit(vfio_modprobe(good, err, sizeof err) == -EROFS && strstr(err, "print-only") ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int setup_82599(void **state)
{
	(void)state;
	err[0] = '\0';
	return fk_setup("82599");
}

/* The seed's host: 63 of 63 VFs per port already on vfio-pci; bind a PF, shrink a port. */
static void test_vfio_82599_pf(void **state)
{
	(void)state;
	assert_int_equal(vfio_bind(fk.sys, "0002:81:10.0", err, sizeof err), 0);
	fk_expect_none();
	assert_int_equal(sriov_set_numvfs(fk.sys, "0002:81:00.1", 32, -1, err, sizeof err), 0);
	fk_expect("0002:81:00.1/sriov_numvfs=0", "0002:81:00.1/sriov_numvfs=32");
	fk.nlog = 0;
	assert_int_equal(vfio_bind(fk.sys, "0002:81:00.0", err, sizeof err), 0);
	fk_expect("0002:81:00.0/driver_override=vfio-pci", "drivers/ixgbe/unbind=0002:81:00.0",
	          "drivers_probe=0002:81:00.0");
	assert_string_equal(fk_driver("0002:81:00.0"), "vfio-pci");
}

/* From a state the caller read (and journaled): the same writes, no second read needed, and a
 * failed probe rolls back to that state. Names that are no driver names are refused unwritten. */
static void test_vfio_bind_from(void **state)
{
	struct vfio_state st;

	(void)state;
	assert_int_equal(vfio_state(fk.sys, VF3, &st, err, sizeof err), 0);
	fk_fail("drivers_probe", 0, 1, EINVAL);
	assert_int_equal(vfio_bind_from(fk.sys, VF3, "vfio-pci", &st, err, sizeof err), -EINVAL);
	fk_expect(VF3 "/driver_override=vfio-pci", "drivers/ixgbevf/unbind=" VF3,
	          "drivers_probe=" VF3 " !fail", VF3 "/driver_override=\\n", "drivers_probe=" VF3);
	assert_untouched();
	fk.fail = (struct fk_failrule){ 0 };
	assert_int_equal(vfio_bind_from(fk.sys, VF3, "vfio-pci", &st, err, sizeof err), 0);
	assert_string_equal(fk_driver(VF3), "vfio-pci");
	strcpy(st.override, "../x");
	assert_int_equal(vfio_bind_from(fk.sys, VF0, "vfio-pci", &st, err, sizeof err), -EINVAL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup_shared, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_vfio_bind_sequence),
		T(test_vfio_bind_unbound),
		T(test_vfio_bind_already),
		T(test_vfio_bind_bad_address),
		T(test_vfio_bind_fail_override),
		T(test_vfio_bind_fail_unbind),
		T(test_vfio_bind_fail_probe),
		T(test_vfio_bind_short_write),
		T(test_vfio_bind_from),
		T(test_vfio_bind_fail_verify),
		T(test_vfio_bind_fail_verify_other),
		T(test_vfio_bind_rollback_fails),
		T(test_vfio_bind_rollback_refused),
		T(test_vfio_bind_bad_driver),
		T(test_vfio_bind_fail_matrix),
		T(test_vfio_restore_sequence),
		T(test_vfio_restore_to_none),
		T(test_vfio_restore_fail),
		T(test_vfio_restore_refused),
		T(test_vfio_restore_gone),
		T(test_vfio_restore_override_readback),
		T(test_vfio_restore_bad_names),
		T(test_vfio_driver_names),
		T(test_vfio_sriov_restore),
		T(test_vfio_sriov_restore_fails),
		T(test_vfio_sriov_sequence),
		T(test_vfio_sriov_range),
		T(test_vfio_sriov_fail_rollback),
		T(test_vfio_sriov_fail_matrix),
		T(test_vfio_group_viability),
		T(test_vfio_viable_rules),
		T(test_vfio_state),
		T(test_vfio_state_hostile_driver),
		T(test_vfio_host_checks),
		T(test_vfio_memlock),
		T(test_vfio_in_use_net),
		T(test_vfio_in_use_down),
		T(test_vfio_in_use_no_driver),
		T(test_vfio_in_use_block),
		T(test_vfio_modprobe),
		T(test_vfio_modprobe_forbidden),
		cmocka_unit_test_setup_teardown(test_vfio_82599_pf, setup_82599, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
