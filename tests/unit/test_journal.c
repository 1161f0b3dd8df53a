// SPDX-License-Identifier: MIT
// Unit tests of journal.c: format round trip, hostile names, strict parsing, atomic saves,
// and restore against a fake kernel (idempotent, keeps going past a failure).
// LDWRAP: -Wl,--wrap=write -Wl,--wrap=open
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakekernel.h"
#include "journal.h"
#include "vfio.h"

#define PF  "0000:03:00.0"
#define VF3 "0000:03:10.6"

static char err[1024];
static struct journal j;

static int setup(void **state)
{
	(void)state;
	err[0] = '\0';
	memset(&j, 0, sizeof j);
	return fk_setup("shared-group");
}

static int teardown(void **state)
{
	(void)state;
	journal_free(&j);
	return fk_teardown();
}

static struct journal_entry device(const char *addr, const char *drv, const char *ovr)
{
	struct journal_entry e = { .kind = JOURNAL_DEVICE, .autoprobe = -1 };
	fk_fmt(e.addr, sizeof e.addr, "%s", addr);
	fk_fmt(e.driver, sizeof e.driver, "%s", drv);
	fk_fmt(e.override, sizeof e.override, "%s", ovr);
	return e;
}

static struct journal_entry sriov(const char *addr, int numvfs, int autoprobe)
{
	struct journal_entry e = { .kind = JOURNAL_SRIOV, .numvfs = numvfs, .autoprobe = autoprobe };
	fk_fmt(e.addr, sizeof e.addr, "%s", addr);
	return e;
}

static size_t count_lines(const char *path)
{
	FILE *f = fopen(path, "re");
	size_t n = 0;
	int c;

	assert_non_null(f);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void test_journal_round_trip(void **state)
{
	/* A driver name a hostile module could register, built to forge a line and a field. */
	static const char evil[] = "x state=restored\nsriov 0000:00:00.0 numvfs=0";
	struct journal back;
	struct stat sb;

	(void)state;
	assert_int_equal(journal_create(&j, fk.run, err, sizeof err), 0);
	assert_int_equal(stat(fk.run, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	struct journal_entry a = sriov(PF, 4, 1), b = device(VF3, "ixgbevf", ""),
	                     c = device("0000:04:00.0", evil, "a=b%c d");
	b.state = JOURNAL_APPLIED;
	assert_int_equal(journal_add(&j, &a), 0);
	assert_int_equal(journal_add(&j, &b), 0);
	assert_int_equal(journal_add(&j, &c), 0);
	assert_int_equal(journal_save(&j, err, sizeof err), 0);
	assert_int_equal(count_lines(j.path), 4);
	assert_int_equal(stat(j.path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	assert_int_equal(journal_load(&back, j.path, err, sizeof err), 0);
	assert_int_equal(back.count, 3);
	assert_int_equal(back.entries[0].kind, JOURNAL_SRIOV);
	assert_string_equal(back.entries[0].addr, PF);
	assert_int_equal(back.entries[0].numvfs, 4);
	assert_int_equal(back.entries[0].autoprobe, 1);
	assert_int_equal(back.entries[1].state, JOURNAL_APPLIED);
	assert_string_equal(back.entries[1].driver, "ixgbevf");
	assert_string_equal(back.entries[1].override, "");
	assert_string_equal(back.entries[2].driver, evil);
	assert_string_equal(back.entries[2].override, "a=b%c d");
	assert_int_equal(back.entries[2].state, JOURNAL_RECORDED);
	journal_free(&back);
}

static void test_journal_first_record_wins(void **state)
{
	(void)state;
	assert_int_equal(journal_create(&j, fk.run, err, sizeof err), 0);
	struct journal_entry a = device(VF3, "ixgbevf", ""), b = device(VF3, "vfio-pci", "vfio-pci");
	assert_int_equal(journal_add(&j, &a), 0);
	assert_int_equal(journal_add(&j, &b), 1);
	assert_int_equal(j.count, 1);
	assert_string_equal(j.entries[0].driver, "ixgbevf");
	struct journal_entry bad = device("0000:03:10.6/..", "x", "");
	assert_int_equal(journal_add(&j, &bad), -EINVAL);
}

static void test_journal_strict_parse(void **state)
{
	static const char *const bad[] = {
		"vflaunch-journal 2\n",
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=%G1 override= state=recorded\n",
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=%00 override= state=recorded\n",
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=a\"b override= state=recorded\n",
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=a override= state=done\n",
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=a override=\n",
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=a driver=b override= state=recorded\n",
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=a override= state=recorded color=red\n",
		"vflaunch-journal 1\ndevice 03:10.6 driver=a override= state=recorded\n",
		"vflaunch-journal 1\nsriov 0000:03:00.0 numvfs=-1 autoprobe=1 state=recorded\n",
		"vflaunch-journal 1\nsriov 0000:03:00.0 numvfs=4 autoprobe=2 state=recorded\n",
		"vflaunch-journal 1\nsriov 0000:03:00.0 numvfs=4 driver=x state=recorded\n",
		"vflaunch-journal 1\nfirmware 0000:03:00.0 state=recorded\n",
		"",
	};
	char path[PATH_MAX];

	(void)state;
	assert_int_equal(mkdir(fk.run, 0700), 0);
	fk_fmt(path, sizeof path, "%s/bad.journal", fk.run);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(fk_put(path, bad[i]), 0);
		err[0] = '\0';
		if (journal_load(&j, path, err, sizeof err) != -EINVAL) {
			print_message("accepted: %s", bad[i]);
			fail();
		}
		assert_non_null(strstr(err, path));
	}
	assert_int_equal(fk_put(path, "vflaunch-journal 1\n"), 0);
	assert_int_equal(journal_load(&j, path, err, sizeof err), 0);
	assert_int_equal(j.count, 0);
}

static void test_journal_atomic_save(void **state)
{
	char tmp[PATH_MAX];

	(void)state;
	assert_int_equal(journal_create(&j, fk.run, err, sizeof err), 0);
	struct journal_entry a = device(VF3, "ixgbevf", "");
	assert_int_equal(journal_add(&j, &a), 0);
	assert_int_equal(journal_mark(&j, 0, JOURNAL_APPLIED), 0);
	assert_int_equal(journal_mark(&j, 1, JOURNAL_APPLIED), -EINVAL);
	assert_int_equal(journal_save(&j, err, sizeof err), 0);
	fk_fmt(tmp, sizeof tmp, "%s.tmp", j.path);
	assert_int_equal(access(tmp, F_OK), -1);  /* renamed over, nothing left behind */
	/* A planted link where the temp file goes is refused, not followed. */
	assert_int_equal(symlink("/tmp/elsewhere", tmp), 0);
	assert_int_equal(journal_save(&j, err, sizeof err), -ELOOP);
	unlink(tmp);
}

static void test_journal_latest(void **state)
{
	char path[PATH_MAX], first[JOURNAL_PATHLEN];
	struct journal k;

	(void)state;
	assert_int_equal(journal_latest(fk.run, path, sizeof path), -ENOENT);
	assert_int_equal(journal_create(&j, fk.run, err, sizeof err), 0);
	fk_fmt(first, sizeof first, "%s", j.path);
	assert_int_equal(journal_create(&k, fk.run, err, sizeof err), 0);
	assert_string_not_equal(first, k.path);
	assert_int_equal(journal_latest(fk.run, path, sizeof path), 0);
	assert_string_equal(path, k.path);
	journal_free(&k);
}

/* The launch the journal describes: PF from 4 to 6 VFs with autoprobe off, VF3 to vfio-pci. */
static void launch(void)
{
	struct journal_entry a = sriov(PF, 4, 1), b = device(VF3, "ixgbevf", "");

	assert_int_equal(journal_create(&j, fk.run, err, sizeof err), 0);
	assert_int_equal(journal_add(&j, &a), 0);
	assert_int_equal(journal_save(&j, err, sizeof err), 0);
	assert_int_equal(sriov_set_numvfs(fk.sys, PF, 6, 0, err, sizeof err), 0);
	assert_int_equal(journal_add(&j, &b), 0);
	assert_int_equal(journal_save(&j, err, sizeof err), 0);
	assert_int_equal(vfio_bind(fk.sys, VF3, err, sizeof err), 0);
	fk.nlog = 0;
}

static void test_journal_restore_sequence(void **state)
{
	(void)state;
	launch();
	assert_int_equal(journal_restore(fk.sys, &j, err, sizeof err), 0);
	/* Newest first: the VF, then the PF's autoprobe, then its count (through 0). */
	fk_expect(VF3 "/driver_override=\\n", "drivers/vfio-pci/unbind=" VF3, "drivers_probe=" VF3,
	          PF "/sriov_drivers_autoprobe=1", PF "/sriov_numvfs=0", PF "/sriov_numvfs=4");
	assert_string_equal(fk_driver(VF3), "ixgbevf");
	assert_string_equal(fk_attr(PF, "sriov_numvfs"), "4");

	/* Twice: nothing. From the file, with the marks: nothing. */
	fk.nlog = 0;
	assert_int_equal(journal_restore(fk.sys, &j, err, sizeof err), 0);
	struct journal back;
	assert_int_equal(journal_load(&back, j.path, err, sizeof err), 0);
	assert_int_equal(back.entries[0].state, JOURNAL_RESTORED);
	assert_int_equal(back.entries[1].state, JOURNAL_RESTORED);
	/* Marks lost (a crash before the save): the state compare still writes nothing. */
	journal_mark(&back, 0, JOURNAL_RECORDED);
	journal_mark(&back, 1, JOURNAL_APPLIED);
	assert_int_equal(journal_restore(fk.sys, &back, err, sizeof err), 0);
	journal_free(&back);
	fk_expect_none();
}

static void test_journal_restore_keeps_going(void **state)
{
	(void)state;
	launch();
	fk_fail("unbind", 0, 1, EBUSY);
	assert_int_equal(journal_restore(fk.sys, &j, err, sizeof err), -EBUSY);
	assert_non_null(strstr(err, "restore " VF3 ": unbind: "));
	/* The PF was still given back; the VF stays for the next run. */
	assert_string_equal(fk_attr(PF, "sriov_numvfs"), "4");
	assert_int_equal(j.entries[0].state, JOURNAL_RESTORED);
	assert_int_not_equal(j.entries[1].state, JOURNAL_RESTORED);
	fk.nlog = 0;
	assert_int_equal(journal_restore(fk.sys, &j, err, sizeof err), 0);
	fk_expect("drivers/vfio-pci/unbind=" VF3, "drivers_probe=" VF3);
	assert_string_equal(fk_driver(VF3), "ixgbevf");
}

static void test_journal_restore_gone(void **state)
{
	(void)state;
	/* A VF that went away with its PF's count has nothing left to give back. */
	struct journal_entry a = device("0000:03:1f.7", "ixgbevf", "");
	assert_int_equal(journal_create(&j, fk.run, err, sizeof err), 0);
	assert_int_equal(journal_add(&j, &a), 0);
	assert_int_equal(journal_restore(fk.sys, &j, err, sizeof err), 0);
	assert_int_equal(j.entries[0].state, JOURNAL_RESTORED);
	fk_expect_none();
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_journal_round_trip),
		T(test_journal_first_record_wins),
		T(test_journal_strict_parse),
		T(test_journal_atomic_save),
		T(test_journal_latest),
		T(test_journal_restore_sequence),
		T(test_journal_restore_keeps_going),
		T(test_journal_restore_gone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
