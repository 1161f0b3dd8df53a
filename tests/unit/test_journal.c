// SPDX-License-Identifier: MIT
// Unit tests of journal.c: format round trip, strict and bounded parsing, exact creation,
// atomic saves, the write latch, and restores whose outcome is read back from a fake kernel.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fakekernel.h"
#include "journal.h"
#include "vfio.h"

/* shared-group (simhost.c): 03:00.0 PF ixgbe, 4 of 8 VFs, autoprobe 1; 03:10.6 on ixgbevf. */
#define PF  "0000:03:00.0"
#define VF3 "0000:03:10.6"

static char err[1024], why[512], jpath[PATH_MAX];
static struct journal j;

static int setup(void **state)
{
	(void)state;
	err[0] = why[0] = '\0';
	memset(&j, 0, sizeof j);
	if (fk_setup("shared-group") < 0 || mkdir(fk.run, 0700) < 0)
		return -1;
	fk_fmt(jpath, sizeof jpath, "%s/a.journal", fk.run);
	return 0;
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

/* Load text as a journal file; the result of journal_load. */
static int load_text(const char *text)
{
	assert_int_equal(fk_put(jpath, text), 0);
	err[0] = '\0';
	journal_free(&j);
	return journal_load(&j, jpath, err, sizeof err);
}

static void test_journal_round_trip(void **state)
{
	struct journal back;
	struct stat sb;

	(void)state;
	assert_int_equal(journal_create(&j, jpath, err, sizeof err), 0);
	assert_string_equal(j.path, jpath);
	struct journal_entry a = sriov(PF, 4, 1), b = device(VF3, "ixgbevf", ""),
	                     c = device("0000:04:00.0", "e1000e", "pci-stub"), d = sriov("0000:05:00.0", 2, -1);
	b.state = JOURNAL_STATE_APPLIED;
	d.state = JOURNAL_STATE_GONE;
	assert_int_equal(journal_add(&j, &a), 0);
	assert_int_equal(journal_add(&j, &b), 0);
	assert_int_equal(journal_add(&j, &c), 0);
	assert_int_equal(journal_add(&j, &d), 0);
	assert_int_equal(journal_save(&j, err, sizeof err), 0);
	assert_int_equal(count_lines(j.path), 5);
	assert_int_equal(stat(j.path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	assert_int_equal(journal_load(&back, j.path, err, sizeof err), 0);
	assert_string_equal(back.path, j.path);
	assert_int_equal(back.count, 4);
	assert_int_equal(back.entries[0].kind, JOURNAL_SRIOV);
	assert_string_equal(back.entries[0].addr, PF);
	assert_int_equal(back.entries[0].numvfs, 4);
	assert_int_equal(back.entries[0].autoprobe, 1);
	assert_int_equal(back.entries[1].state, JOURNAL_STATE_APPLIED);
	assert_string_equal(back.entries[1].driver, "ixgbevf");
	assert_string_equal(back.entries[1].override, "");
	assert_string_equal(back.entries[2].override, "pci-stub");
	assert_int_equal(back.entries[2].state, JOURNAL_STATE_RECORDED);
	assert_int_equal(back.entries[3].autoprobe, -1);
	assert_int_equal(back.entries[3].state, JOURNAL_STATE_GONE);
	assert_int_equal(journal_open_count(&back), 3);
	journal_free(&back);
}

/* A journal written by the previous version (escapes, applied) still loads. */
static void test_journal_old_format(void **state)
{
	(void)state;
	assert_int_equal(load_text("vflaunch-journal 1\n"
	                           "sriov 0000:03:00.0 numvfs=4 autoprobe=1 state=applied\n"
	                           "device 0000:03:10.6 driver=ixgbevf override= state=recorded\n"
	                           "device 0000:03:10.4 override=pci%2Dstub driver= state=restored\n"), 0);
	assert_int_equal(j.count, 3);
	assert_string_equal(j.entries[2].override, "pci-stub");
	assert_string_equal(j.entries[2].driver, "");
	assert_int_equal(journal_open_count(&j), 2);
}

static void test_journal_first_record_wins(void **state)
{
	(void)state;
	assert_int_equal(journal_create(&j, jpath, err, sizeof err), 0);
	struct journal_entry a = device(VF3, "ixgbevf", ""), b = device(VF3, "vfio-pci", "vfio-pci");
	assert_int_equal(journal_add(&j, &a), 0);
	assert_int_equal(journal_add(&j, &b), 1);
	assert_int_equal(j.count, 1);
	assert_string_equal(j.entries[0].driver, "ixgbevf");
	struct journal_entry bad = device("0000:03:10.6/..", "x", "");
	assert_int_equal(journal_add(&j, &bad), -EINVAL);
	bad = device("0000:03:1f.6", "x", "");
	bad.kind = JOURNAL_NKINDS;
	assert_int_equal(journal_add(&j, &bad), -EINVAL);
	bad = sriov(PF, 70000, 1);
	assert_int_equal(journal_add(&j, &bad), -EINVAL);
}

/* D22: names are checked as kernel driver names wherever they enter. */
static void test_journal_names_checked(void **state)
{
	static const char *const names[] = { "../../../etc", "vfio-pci\nevil", "a b", "\x1b[2J",
	                                      "x state=restored" };
	char want[PATH_MAX + 128];

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct journal_entry a = device(VF3, names[i], ""), b = device(VF3, "", names[i]);
		assert_int_equal(journal_add(&j, &a), -EINVAL);
		assert_int_equal(journal_add(&j, &b), -EINVAL);
	}
	assert_int_equal(j.count, 0);

	assert_int_equal(load_text("vflaunch-journal 1\n"
	                           "device 0000:81:10.0 driver=ixgbevf override=vfio-pci%0Aevil "
	                           "state=applied\n"), -EINVAL);
	fk_fmt(want, sizeof want, "%s:2: override is not a kernel driver name (1 to 63 of A-Z a-z "
	       "0-9 _ . : + -, or empty)", jpath);
	assert_string_equal(err, want);
	assert_int_equal(load_text("vflaunch-journal 1\n"
	                           "device 0000:81:10.0 driver=..%2F..%2F..%2Fetc override= "
	                           "state=applied\n"), -EINVAL);
	assert_non_null(strstr(err, ":2: driver is not a kernel driver name"));
	assert_int_equal(load_text("vflaunch-journal 1\n"
	                           "device 0000:81:10.0 driver=../../../etc override= state=applied\n"),
	                 -EINVAL);
	assert_non_null(strstr(err, ":2: driver is not a kernel driver name"));
}

static void test_journal_strict_parse(void **state)
{
	static const char *const bad[] = {
		"vflaunch-journal 2\n",
		"vflaunch-journal 1",                                       /* no newline */
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=a override= state=recorded",
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=%G1 override= state=recorded\n",
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=%00 override= state=recorded\n",
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=a\"b override= state=recorded\n",
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=a override= state=done\n",
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=a override=\n",
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=a driver=b override= state=recorded\n",
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=a override= state=recorded state=gone\n",
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=a override= state=recorded color=red\n",
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=a override= state=recorded\r\n",
		"vflaunch-journal 1\ndevice 03:10.6 driver=a override= state=recorded\n",
		"vflaunch-journal 1\ndevice 0000:03:20.0 driver=a override= state=recorded\n",
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaa override= state=recorded\n",                     /* 64 bytes */
		"vflaunch-journal 1\nsriov 0000:03:00.0 numvfs=-1 autoprobe=1 state=recorded\n",
		"vflaunch-journal 1\nsriov 0000:03:00.0 numvfs=70000 autoprobe=1 state=recorded\n",
		"vflaunch-journal 1\nsriov 0000:03:00.0 numvfs=+4 autoprobe=1 state=recorded\n",
		"vflaunch-journal 1\nsriov 0000:03:00.0 numvfs=4 autoprobe=2 state=recorded\n",
		"vflaunch-journal 1\nsriov 0000:03:00.0 numvfs=4 driver=x state=recorded\n",
		"vflaunch-journal 1\nsriov 0000:03:00.0 numvfs=4 state=recorded\n",
		"vflaunch-journal 1\nfirmware 0000:03:00.0 state=recorded\n",
		"vflaunch-journal 1\n\n",
		"vflaunch-journal 1\ndevice 0000:03:10.6 driver=a override= state=recorded\n"
		"device 0000:03:10.6 driver=b override= state=recorded\n",                 /* repeated */
		"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (load_text(bad[i]) != -EINVAL) {
			print_message("accepted: %s", bad[i]);
			fail();
		}
		assert_non_null(strstr(err, jpath));
		assert_int_equal(j.count, 0);
	}
	assert_int_equal(load_text("vflaunch-journal 1\n"), 0);
	assert_int_equal(j.count, 0);
}

/* From memory, as a fuzzer calls it: NUL bytes, sizes, the label in every message. */
static void test_journal_parse_memory(void **state)
{
	static const char nul[] = "vflaunch-journal 1\ndevice 0000:03:10.6 driver=ixgbevf\0x "
	                          "override= state=recorded\n";
	static const char good[] = "vflaunch-journal 1\ndevice 0000:03:10.6 driver=ixgbevf override= "
	                           "state=recorded\n";
	(void)state;
	assert_int_equal(journal_parse(&j, nul, sizeof nul - 1, "<mem>", err, sizeof err), -EINVAL);
	assert_string_equal(err, "<mem>:2: a NUL byte");
	assert_int_equal(journal_parse(&j, good, sizeof good - 1, "<mem>", err, sizeof err), 0);
	assert_int_equal(j.count, 1);
	assert_string_equal(j.path, "");
	journal_free(&j);
	assert_int_equal(journal_parse(&j, good, JOURNAL_MAXSIZE + 1, "<mem>", err, sizeof err), -EFBIG);
	assert_int_equal(journal_parse(&j, good, 10, NULL, err, sizeof err), -EINVAL);
	assert_string_equal(err, "journal:1: no newline at the end (a truncated journal)");
}

/* D22: /dev/zero, a FIFO or a directory is refused at once, without reading; so is a file
 * over JOURNAL_MAXSIZE. */
static void test_journal_load_bounded(void **state)
{
	char fifo[PATH_MAX];
	struct timespec t0, t1;
	FILE *f;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(journal_load(&j, "/dev/zero", err, sizeof err), -EINVAL);
	assert_string_equal(err, "/dev/zero: not a regular file: not a journal");
	fk_fmt(fifo, sizeof fifo, "%s/fifo.journal", fk.run);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(journal_load(&j, fifo, err, sizeof err), -EINVAL);
	assert_int_equal(journal_load(&j, fk.run, err, sizeof err), -EINVAL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);

	f = fopen(jpath, "we");
	assert_non_null(f);
	fputs("vflaunch-journal 1\n", f);
	for (size_t n = 0; n <= JOURNAL_MAXSIZE / 64; n++)
		fputs("device 0000:03:10.6 driver=ixgbevf override= state=recorded          \n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(journal_load(&j, jpath, err, sizeof err), -EFBIG);
	assert_non_null(strstr(err, "larger than 1 MiB"));
	assert_int_equal(journal_load(&j, "/nonexistent/a.journal", err, sizeof err), -ENOENT);
	assert_string_equal(err, "/nonexistent/a.journal: No such file or directory");
}

/* D22: a journal is never read through a symlink. */
static void test_journal_load_symlink(void **state)
{
	char link[PATH_MAX];

	(void)state;
	assert_int_equal(fk_put(jpath, "vflaunch-journal 1\n"), 0);
	fk_fmt(link, sizeof link, "%s/b.journal", fk.run);
	assert_int_equal(symlink(jpath, link), 0);
	assert_int_equal(journal_load(&j, link, err, sizeof err), -ELOOP);
	assert_non_null(strstr(err, "b.journal: a symbolic link; a journal is never read through one"));
}

/* journal_create makes exactly that file: no directory, no name of its own, never over an
 * existing file or through a link. */
static void test_journal_create_exact(void **state)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct journal k;
	struct stat sb;

	(void)state;
	assert_int_equal(journal_create(&j, jpath, err, sizeof err), 0);
	assert_int_equal(lstat(jpath, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(count_lines(jpath), 1);
	assert_int_equal(journal_create(&k, jpath, err, sizeof err), -EEXIST);
	assert_non_null(strstr(err, "a.journal: File exists"));

	fk_fmt(link, sizeof link, "%s/link.journal", fk.run);
	fk_fmt(path, sizeof path, "%s/target", fk.run);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(journal_create(&k, link, err, sizeof err), -EEXIST);
	assert_int_equal(access(path, F_OK), -1);       /* the link was not followed */

	fk_fmt(path, sizeof path, "%s/no/such/dir/a.journal", fk.run);
	assert_int_equal(journal_create(&k, path, err, sizeof err), -ENOENT);
	fk_fmt(path, sizeof path, "%s/no", fk.run);
	assert_int_equal(access(path, F_OK), -1);       /* no directory was made */
}

static void test_journal_atomic_save(void **state)
{
	char tmp[PATH_MAX];

	(void)state;
	assert_int_equal(journal_create(&j, jpath, err, sizeof err), 0);
	struct journal_entry a = device(VF3, "ixgbevf", "");
	assert_int_equal(journal_add(&j, &a), 0);
	assert_int_equal(journal_mark(&j, 0, JOURNAL_STATE_APPLIED), 0);
	assert_int_equal(journal_mark(&j, 1, JOURNAL_STATE_APPLIED), -EINVAL);
	assert_int_equal(journal_mark(&j, 0, JOURNAL_NSTATES), -EINVAL);
	assert_int_equal(journal_save(&j, err, sizeof err), 0);
	fk_fmt(tmp, sizeof tmp, "%s.tmp", j.path);
	assert_int_equal(access(tmp, F_OK), -1);  /* renamed over, nothing left behind */
	/* A planted link where the temp file goes is refused, not followed. */
	assert_int_equal(symlink("/tmp/elsewhere", tmp), 0);
	assert_int_equal(journal_save(&j, err, sizeof err), -ELOOP);
	unlink(tmp);
}

/* Never written larger than a load accepts. */
static void test_journal_save_bounded(void **state)
{
	char name[VFIO_NAMELEN];

	(void)state;
	memset(name, 'd', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	assert_int_equal(journal_create(&j, jpath, err, sizeof err), 0);
	/* About 180 bytes a line: 6000 lines pass 1 MiB. */
	for (unsigned n = 0; n < 6000; n++) {
		char addr[16];
		fk_fmt(addr, sizeof addr, "%04x:%02x:%02x.%x", n >> 8, n & 0xff, 0, 0);
		struct journal_entry e = device(addr, name, name);
		assert_int_equal(journal_add(&j, &e), 0);
	}
	assert_int_equal(journal_save(&j, err, sizeof err), -EFBIG);
	assert_non_null(strstr(err, "larger than 1 MiB"));
	assert_int_equal(count_lines(jpath), 1);        /* the file is as it was */
}

static void test_journal_forget(void **state)
{
	struct journal_entry a = device(VF3, "ixgbevf", ""), b = sriov(PF, 4, 1),
	                     c = device("0000:03:10.4", "", "pci-stub");
	(void)state;
	assert_int_equal(journal_create(&j, jpath, err, sizeof err), 0);
	assert_int_equal(journal_add(&j, &a), 0);
	assert_int_equal(journal_add(&j, &b), 0);
	assert_int_equal(journal_add(&j, &c), 0);
	assert_int_equal(journal_forget(&j, 1), 0);
	assert_int_equal(journal_forget(&j, 2), -EINVAL);
	assert_int_equal(j.count, 2);
	assert_string_equal(j.entries[0].addr, VF3);
	assert_string_equal(j.entries[1].addr, "0000:03:10.4");
	/* The PF's record can come back (from another launch's journal). */
	assert_int_equal(journal_add(&j, &b), 0);
}

/* The kind table drives both directions: every field of every kind round-trips. */
static void test_journal_kind_table(void **state)
{
	(void)state;
	for (int k = 0; k < JOURNAL_NKINDS; k++) {
		const struct journal_kind_info *info = journal_kind_info((enum journal_kind)k);
		assert_non_null(info);
		assert_int_equal(journal_kind_parse(info->name), k);
		assert_non_null(info->restore);
		assert_true(info->nfields > 0);
	}
	assert_null(journal_kind_info(JOURNAL_NKINDS));
	assert_int_equal(journal_kind_parse("firmware"), -1);
	assert_int_equal(journal_kind_parse(NULL), -1);
	for (int s = 0; s < JOURNAL_NSTATES; s++)
		assert_int_equal(journal_state_parse(journal_state_name((enum journal_state)s)), s);
	assert_string_equal(journal_outcome_name(JOURNAL_FAILED), "failed");

	struct journal_entry e;
	const struct journal_kind_info *sr = journal_kind_info(JOURNAL_SRIOV);
	assert_int_equal(journal_entry_init(&e, JOURNAL_SRIOV, PF), 0);
	assert_int_equal(e.autoprobe, -1);      /* optional: unknown until set */
	assert_int_equal(journal_set_int(&e, &sr->fields[0], 65536), -EINVAL);
	assert_int_equal(journal_set_int(&e, &sr->fields[0], 7), 0);
	assert_int_equal(journal_get_int(&e, &sr->fields[0]), 7);
	assert_int_equal(journal_set_name(&e, &sr->fields[0], "x"), -EINVAL);  /* wrong type */
	assert_int_equal(journal_entry_init(&e, JOURNAL_DEVICE, "81:10.0"), -EINVAL);
}

/* The launch the journal describes: PF from 4 to 6 VFs with autoprobe off, VF3 to vfio-pci. */
static void launch(void)
{
	struct journal_entry a = sriov(PF, 4, 1), b = device(VF3, "ixgbevf", "");

	assert_int_equal(journal_create(&j, jpath, err, sizeof err), 0);
	assert_int_equal(journal_add(&j, &a), 0);
	assert_int_equal(journal_add(&j, &b), 0);
	assert_int_equal(journal_save(&j, err, sizeof err), 0);
	assert_int_equal(sriov_set_numvfs(fk.sys, PF, 6, 0, err, sizeof err), 0);
	assert_int_equal(vfio_bind(fk.sys, VF3, err, sizeof err), 0);
	fk.nlog = 0;
}

static void test_journal_restore_entry_sequence(void **state)
{
	(void)state;
	launch();
	/* Newest first: the VF, then the PF's autoprobe, then its count (through 0). */
	assert_int_equal(journal_restore_entry(fk.sys, &j, 1, why, sizeof why), JOURNAL_RESTORED);
	assert_string_equal(why, "");
	assert_int_equal(journal_restore_entry(fk.sys, &j, 0, why, sizeof why), JOURNAL_RESTORED);
	fk_expect(VF3 "/driver_override=\\n", "drivers/vfio-pci/unbind=" VF3, "drivers_probe=" VF3,
	          PF "/sriov_drivers_autoprobe=1", PF "/sriov_numvfs=0", PF "/sriov_numvfs=4");
	assert_string_equal(fk_driver(VF3), "ixgbevf");
	assert_string_equal(fk_attr(PF, "sriov_numvfs"), "4");
	assert_int_equal(j.entries[0].state, JOURNAL_STATE_RESTORED);
	assert_int_equal(j.entries[1].state, JOURNAL_STATE_RESTORED);
	assert_int_equal(journal_open_count(&j), 0);
	/* In memory only: the caller saves once. */
	struct journal back;
	assert_int_equal(journal_load(&back, jpath, err, sizeof err), 0);
	assert_int_equal(journal_open_count(&back), 2);

	/* The file still says recorded (a crash before the save): the state already equals the
	 * record, so nothing is written and the outcome says so. */
	fk.nlog = 0;
	assert_int_equal(journal_restore_entry(fk.sys, &back, 1, why, sizeof why), JOURNAL_UNCHANGED);
	assert_int_equal(journal_restore_entry(fk.sys, &back, 0, why, sizeof why), JOURNAL_UNCHANGED);
	fk_expect_none();
	assert_int_equal(back.entries[1].state, JOURNAL_STATE_RESTORED);
	/* Closed entries are not touched again. */
	assert_int_equal(journal_restore_entry(fk.sys, &back, 1, why, sizeof why), JOURNAL_UNCHANGED);
	assert_int_equal(journal_restore_entry(fk.sys, &back, 2, why, sizeof why), JOURNAL_FAILED);
	assert_string_equal(why, "no journal entry 3");
	fk_expect_none();
	journal_free(&back);
}

/* D1: the original driver does not take the device back (fk.refuse: its probe binds nothing,
 * and the write succeeds, as in Linux). Before, vfio_restore's -ENODEV from the verify was
 * read as "the device is gone" and the entry was marked restored. */
static void test_journal_restore_refused(void **state)
{
	struct journal back;

	(void)state;
	launch();
	fk.refuse = "ixgbevf";
	assert_int_equal(journal_restore_entry(fk.sys, &j, 1, why, sizeof why), JOURNAL_FAILED);
	assert_string_equal(why, VF3 " has no driver, not ixgbevf");
	assert_int_equal(j.entries[1].state, JOURNAL_STATE_RECORDED);      /* still open */
	assert_int_equal(journal_open_count(&j), 2);

	/* Another driver took it instead: the message names it. */
	assert_int_equal(vfio_bind(fk.sys, VF3, err, sizeof err), 0);
	fk.instead = "e1000e";
	assert_int_equal(journal_restore_entry(fk.sys, &j, 1, why, sizeof why), JOURNAL_FAILED);
	assert_string_equal(why, VF3 " is on e1000e, not ixgbevf");

	/* The whole-journal loop: a failure, the PF still given back, the VF left open on disk. */
	fk.instead = NULL;
	assert_int_equal(journal_restore(fk.sys, &j, err, sizeof err), -EIO);
	assert_non_null(strstr(err, "restore " VF3 ": "));
	assert_int_equal(j.entries[0].state, JOURNAL_STATE_RESTORED);
	assert_int_equal(j.entries[1].state, JOURNAL_STATE_RECORDED);
	assert_int_equal(journal_load(&back, jpath, err, sizeof err), 0);
	assert_int_equal(back.entries[1].state, JOURNAL_STATE_RECORDED);
	assert_int_equal(back.entries[0].state, JOURNAL_STATE_RESTORED);
	journal_free(&back);

	/* Once the driver takes it, the next restore finishes the job. */
	fk.refuse = NULL;
	fk.nlog = 0;
	assert_int_equal(journal_restore(fk.sys, &j, err, sizeof err), 0);
	fk_expect("drivers_probe=" VF3);
	assert_string_equal(fk_driver(VF3), "ixgbevf");
	assert_int_equal(journal_open_count(&j), 0);
}

/* A step that fails says which, and where the device is. */
static void test_journal_restore_step_fails(void **state)
{
	(void)state;
	launch();
	fk_fail("unbind", 0, 1, EBUSY);
	assert_int_equal(journal_restore_entry(fk.sys, &j, 1, why, sizeof why), JOURNAL_FAILED);
	assert_non_null(strstr(why, "unbind: "));
	assert_non_null(strstr(why, "Device or resource busy; " VF3 " is on vfio-pci, not ixgbevf"));
	assert_int_equal(j.entries[1].state, JOURNAL_STATE_RECORDED);
	/* A PF whose count does not go back. */
	fk_fail("sriov_numvfs", 0, -1, EBUSY);
	assert_int_equal(journal_restore_entry(fk.sys, &j, 0, why, sizeof why), JOURNAL_FAILED);
	assert_non_null(strstr(why, "sriov_numvfs of " PF " is 6, not 4"));
	assert_int_equal(j.entries[0].state, JOURNAL_STATE_RECORDED);
}

/* A device or PF that no longer exists is gone: nothing written, marked gone, counted closed.
 * A vanished PF no longer fails every later restore (D22). */
static void test_journal_restore_gone(void **state)
{
	struct journal back;

	(void)state;
	struct journal_entry a = sriov("0000:05:00.0", 4, 1), b = device("0000:03:1f.7", "ixgbevf", "");
	assert_int_equal(journal_create(&j, jpath, err, sizeof err), 0);
	assert_int_equal(journal_add(&j, &a), 0);
	assert_int_equal(journal_add(&j, &b), 0);
	assert_int_equal(journal_restore_entry(fk.sys, &j, 1, why, sizeof why), JOURNAL_GONE);
	assert_int_equal(journal_restore_entry(fk.sys, &j, 0, why, sizeof why), JOURNAL_GONE);
	assert_string_equal(why, "");
	fk_expect_none();
	assert_int_equal(j.entries[0].state, JOURNAL_STATE_GONE);
	assert_int_equal(journal_open_count(&j), 0);
	assert_int_equal(journal_restore_entry(fk.sys, &j, 0, why, sizeof why), JOURNAL_GONE);
	assert_int_equal(journal_save(&j, err, sizeof err), 0);
	assert_int_equal(journal_load(&back, jpath, err, sizeof err), 0);
	assert_int_equal(back.entries[1].state, JOURNAL_STATE_GONE);
	journal_free(&back);
	/* The whole-journal loop agrees. */
	j.entries[0].state = j.entries[1].state = JOURNAL_STATE_RECORDED;
	assert_int_equal(journal_restore(fk.sys, &j, err, sizeof err), 0);
	fk_expect_none();
}

/* D22: every device given back but the journal cannot be marked: the message says both. */
static void test_journal_restore_save_fails(void **state)
{
	char moved[PATH_MAX];

	(void)state;
	launch();
	fk_fmt(moved, sizeof moved, "%s.moved", fk.run);
	assert_int_equal(rename(fk.run, moved), 0);      /* the save's directory is gone */
	assert_int_equal(journal_restore(fk.sys, &j, err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, "every entry was given back, but the journal could not be marked"));
	assert_string_equal(fk_driver(VF3), "ixgbevf");
	assert_string_equal(fk_attr(PF, "sriov_numvfs"), "4");
	assert_int_equal(rename(moved, fk.run), 0);
}

/* The latch, in a child (it is one-way): no journal is created or saved in a print-only run. */
static int latched(void)
{
	struct journal k;
	char path[PATH_MAX];

	sysfs_forbid_writes();
	fk_fmt(path, sizeof path, "%s/b.journal", fk.run);
	if (journal_create(&k, path, err, sizeof err) != -EROFS || !strstr(err, "print-only") ||
	    access(path, F_OK) == 0)
		return 1;
	if (journal_save(&j, err, sizeof err) != -EROFS || !strstr(err, "print-only"))
		return 2;
	return 0;
}

static void test_journal_forbid_writes(void **state)
{
	struct journal back;
	int status;

	(void)state;
	assert_int_equal(journal_create(&j, jpath, err, sizeof err), 0);
	struct journal_entry a = device(VF3, "ixgbevf", "");
	assert_int_equal(journal_add(&j, &a), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(latched());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(journal_load(&back, jpath, err, sizeof err), 0);
	assert_int_equal(back.count, 0);                /* the child's save never happened */
	journal_free(&back);
}

/* The vfnet kind: its line, a MAC stored in lower case, strict values, and a restore through
 * the simulated kernel (the tree is not /sys): restored, unchanged, then gone with its PF. */
static void test_journal_vfnet(void **state)
{
	char link[PATH_MAX], buf[512];

	(void)state;
	assert_int_equal(load_text("vflaunch-journal 1\n"
	                           "vfnet " VF3 " mac=52:54:00:AB:CD:EF vlan=100 qos=3 spoofchk=-1 "
	                           "trust=1 link=2 max_rate=1000 min_rate=0 state=recorded\n"), 0);
	assert_int_equal(j.count, 1);
	assert_int_equal(j.entries[0].kind, JOURNAL_VFNET);
	assert_string_equal(j.entries[0].mac, "52:54:00:ab:cd:ef");
	assert_int_equal(j.entries[0].vlan, 100);
	assert_int_equal(j.entries[0].spoofchk, -1);
	assert_int_equal(j.entries[0].link, 2);
	assert_int_equal(j.entries[0].max_rate, 1000);
	assert_int_equal(journal_save(&j, err, sizeof err), 0);
	assert_true(sysfs_read(jpath, buf, sizeof buf) > 0);
	assert_string_equal(buf, "vflaunch-journal 1\n"
	                         "vfnet " VF3 " mac=52:54:00:ab:cd:ef vlan=100 qos=3 spoofchk=-1 "
	                         "trust=1 link=2 max_rate=1000 min_rate=0 state=recorded");
	static const struct { const char *fields, *want; } bad[] = {
		{ "mac=52:54:00:ab:cd vlan=0 qos=0 spoofchk=1 trust=0 link=0 max_rate=0 min_rate=0",
		  "mac is not a MAC address (aa:bb:cc:dd:ee:ff)" },
		{ "mac=52%3A54:00:ab:cd:ef vlan=0 qos=0 spoofchk=1 trust=0 link=0 max_rate=0 min_rate=0", NULL },
		{ "mac= vlan=0 qos=0 spoofchk=1 trust=0 link=0 max_rate=0 min_rate=0", "mac is not a MAC address" },
		{ "mac=00:00:00:00:00:00 vlan=4096 qos=0 spoofchk=1 trust=0 link=0 max_rate=0 min_rate=0",
		  "vlan is not an integer in 0..4095" },
		{ "mac=00:00:00:00:00:00 vlan=0 qos=0 spoofchk=1 trust=0 link=3 max_rate=0 min_rate=0",
		  "link is not an integer in 0..2" },
		{ "mac=00:00:00:00:00:00 vlan=0 qos=0 spoofchk=1 trust=0 link=0 max_rate=-1 min_rate=0",
		  "max_rate is not an integer" },
		{ "mac=00:00:00:00:00:00 vlan=0 qos=0 spoofchk=1 trust=0 link=0 max_rate=0", "min_rate is missing" },
		{ "mac=00:00:00:00:00:00 vlan=0 qos=0 trust=0 link=0 max_rate=0 min_rate=0",
		  "spoofchk is missing" },
		{ "mac=00:00:00:00:00:00 vlan=0 qos=0 spoofchk=1 trust=0 link=0 max_rate=0 min_rate=0 driver=x",
		  "a key a vfnet record does not have" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char text[512];
		fk_fmt(text, sizeof text, "vflaunch-journal 1\nvfnet " VF3 " %s state=recorded\n",
		       bad[i].fields);
		int rc = load_text(text);
		if (!bad[i].want) {
			assert_int_equal(rc, 0);        /* an escaped ':' is still a MAC */
			continue;
		}
		assert_int_equal(rc, -EINVAL);
		assert_non_null(strstr(err, bad[i].want));
	}
	/* Restore: the record is the simulated defaults; the VF was changed. */
	assert_int_equal(load_text("vflaunch-journal 1\n"
	                           "vfnet " VF3 " mac=00:00:00:00:00:00 vlan=0 qos=0 spoofchk=1 "
	                           "trust=0 link=0 max_rate=0 min_rate=0 state=recorded\n"), 0);
	assert_int_equal(journal_restore_entry(fk.sys, &j, 0, why, sizeof why), JOURNAL_UNCHANGED);
	j.entries[0].state = JOURNAL_STATE_RECORDED;
	fk_fmt(link, sizeof link, "%s/bus/pci/devices/" PF "/net/enp3s0/vflaunch-sim", fk.sys);
	assert_int_equal(mkdir(link, 0755), 0);
	fk_fmt(link, sizeof link, "%s/bus/pci/devices/" PF "/net/enp3s0/vflaunch-sim/vf3", fk.sys);
	assert_int_equal(fk_put(link, "mac=52:54:00:00:00:03 vlan=5 qos=0 spoofchk=0 trust=1 link=1 "
	                              "max_rate=100 min_rate=0\n"), 0);
	assert_int_equal(journal_restore_entry(fk.sys, &j, 0, why, sizeof why), JOURNAL_RESTORED);
	assert_string_equal(why, "");
	assert_true(sysfs_read(link, buf, sizeof buf) > 0);
	assert_string_equal(buf, "mac=00:00:00:00:00:00 vlan=0 qos=0 spoofchk=1 trust=0 link=0 "
	                         "max_rate=0 min_rate=0");
	assert_int_equal(j.entries[0].state, JOURNAL_STATE_RESTORED);
	/* The PF gone: the VF's record is gone too. */
	j.entries[0].state = JOURNAL_STATE_RECORDED;
	fk_fmt(link, sizeof link, "%s/bus/pci/devices/" PF, fk.sys);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(journal_restore_entry(fk.sys, &j, 0, why, sizeof why), JOURNAL_GONE);
	assert_int_equal(j.entries[0].state, JOURNAL_STATE_GONE);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_journal_round_trip),
		T(test_journal_old_format),
		T(test_journal_first_record_wins),
		T(test_journal_names_checked),
		T(test_journal_strict_parse),
		T(test_journal_parse_memory),
		T(test_journal_load_bounded),
		T(test_journal_load_symlink),
		T(test_journal_create_exact),
		T(test_journal_atomic_save),
		T(test_journal_save_bounded),
		T(test_journal_forget),
		T(test_journal_kind_table),
		T(test_journal_restore_entry_sequence),
		T(test_journal_restore_refused),
		T(test_journal_restore_step_fails),
		T(test_journal_restore_gone),
		T(test_journal_vfnet),
		T(test_journal_restore_save_fails),
		T(test_journal_forbid_writes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
