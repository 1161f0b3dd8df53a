// SPDX-License-Identifier: MIT
// Unit tests of pciaddr.c: every accepted form, every rejected one, and the canonical format.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pciaddr.h"

static void parses(const char *text, unsigned dom, unsigned bus, unsigned dev, unsigned fn)
{
	struct pci_addr a;
	const char *why = NULL;

	assert_int_equal(pci_addr_parse(text, &a, &why), 0);
	assert_int_equal(a.domain, dom);
	assert_int_equal(a.bus, bus);
	assert_int_equal(a.dev, dev);
	assert_int_equal(a.func, fn);
}

/* Rejected, with a reason containing want; the output is left alone. */
static void rejects(const char *text, const char *want)
{
	struct pci_addr a = { 9, 9, 9, 9 };
	const char *why = NULL;

	assert_int_equal(pci_addr_parse(text, &a, &why), -1);
	assert_non_null(why);
	if (!strstr(why, want))
		fail_msg("\"%s\": reason \"%s\" does not mention \"%s\"", text, why, want);
	assert_int_equal(a.domain, 9);
}

static void test_pciaddr_full(void **state)
{
	(void)state;
	parses("0002:81:10.0", 2, 0x81, 0x10, 0);
	parses("ffff:ff:1f.7", 0xffff, 0xff, 0x1f, 7);
	parses("0000:00:00.0", 0, 0, 0, 0);
	parses("ABCD:EF:1F.7", 0xabcd, 0xef, 0x1f, 7);
	parses("2:1:3.4", 2, 1, 3, 4); /* widths are not required, ranges are */
	parses("0:0:000000000000000000001f.0", 0, 0, 0x1f, 0); /* leading zeros never overflow */
}

static void test_pciaddr_short(void **state)
{
	(void)state;
	parses("81:10.2", 0, 0x81, 0x10, 2);
	parses("00:1f.3", 0, 0, 0x1f, 3);
}

static void test_pciaddr_ranges(void **state)
{
	(void)state;
	rejects("0002:81:20.0", "device 0x20 is out of range (0x00-0x1f)");
	rejects("0002:81:ff.0", "device 0xff is out of range");
	rejects("0002:81:00.8", "function 0x8 is out of range");
	rejects("0002:100:00.0", "bus 0x100 is out of range");
	rejects("10000:00:00.0", "domain 0x10000 is out of range");
}

static void test_pciaddr_overflow(void **state)
{
	(void)state;
	/* Far too many digits: no wrap-around into a small valid number. */
	rejects("100000000000000000:00:00.0", "domain is out of range");
	rejects("0:00:1000000000000000000000.0", "device is out of range");
}

static void test_pciaddr_empty_fields(void **state)
{
	(void)state;
	rejects("", "empty");
	rejects(":81:10.0", "domain is empty");
	rejects("0002::10.0", "bus is empty");
	rejects("0002:81:.0", "device is empty");
	rejects("0002:81:10.", "function is empty");
	rejects("81:.0", "device is empty");
}

static void test_pciaddr_junk(void **state)
{
	(void)state;
	rejects("0002:81:10.0 ", "function is not hexadecimal");
	rejects(" 0002:81:10.0", "domain is not hexadecimal");
	rejects("0002:81:10.0x", "function is not hexadecimal");
	rejects("00g2:81:10.0", "domain is not hexadecimal");
	rejects("0002:+1:10.0", "bus is not hexadecimal");
	rejects("0002:81:-1.0", "device is not hexadecimal");
	rejects("0002:81:10", "function is missing");
	rejects("81", "expected");
	rejects("0:0002:81:10.0", "too many ':'");
	rejects("0002:81:10.0.1", "too many '.'");
	rejects("0002.1:81:10.0", "too many '.'");
}

static void test_pciaddr_null_why(void **state)
{
	struct pci_addr a;

	(void)state;
	assert_int_equal(pci_addr_parse("zz", &a, NULL), -1);
	assert_int_equal(pci_addr_parse(NULL, &a, NULL), -1);
}

static void test_pciaddr_format(void **state)
{
	struct pci_addr a = { 2, 0x81, 0x10, 4 };
	char buf[PCI_ADDR_LEN + 1], small[8];

	(void)state;
	pci_addr_format(&a, buf, sizeof buf);
	assert_string_equal(buf, "0002:81:10.4");
	assert_int_equal(strlen(buf), strlen("dddd:bb:dd.f"));
	a = (struct pci_addr){ 0xabcd, 0xef, 0x1f, 7 };
	pci_addr_format(&a, buf, sizeof buf);
	assert_string_equal(buf, "abcd:ef:1f.7");
	pci_addr_format(&a, small, sizeof small); /* truncates, still terminated */
	assert_string_equal(small, "abcd:ef");
}

static void test_pciaddr_roundtrip(void **state)
{
	char buf[PCI_ADDR_LEN + 1];
	struct pci_addr a, b;

	(void)state;
	for (unsigned dev = 0; dev <= 0x1f; dev++)
		for (unsigned fn = 0; fn <= 7; fn++) {
			a = (struct pci_addr){ 0x1234, dev * 7 & 0xff, dev, fn };
			pci_addr_format(&a, buf, sizeof buf);
			assert_int_equal(pci_addr_parse(buf, &b, NULL), 0);
			assert_memory_equal(&a, &b, sizeof a);
		}
}

/* What a sysfs tree or a journal may name a device: only the kernel's own spelling. */
static void test_pciaddr_canonical(void **state)
{
	static const char *const bad[] = {
		"81:10.0",          /* short form: libpci cannot parse it as an entry name */
		"0002:81:10.0x",    /* libpci's sscanf would read this as 0002:81:10.0 */
		"0002:81:1F.0",     /* upper case */
		"0002:81:20.0",     /* device out of range */
		"0002:81:10.8",     /* function out of range */
		"2:81:10.0",        /* short domain */
		" 0002:81:10.0",
		"$(reboot)",
		"",
	};

	(void)state;
	assert_true(pci_addr_canonical("0002:81:10.0"));
	assert_true(pci_addr_canonical("ffff:ff:1f.7"));
	assert_false(pci_addr_canonical(NULL));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (pci_addr_canonical(bad[i]))
			fail_msg("accepted \"%s\"", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pciaddr_full),
		cmocka_unit_test(test_pciaddr_short),
		cmocka_unit_test(test_pciaddr_ranges),
		cmocka_unit_test(test_pciaddr_overflow),
		cmocka_unit_test(test_pciaddr_empty_fields),
		cmocka_unit_test(test_pciaddr_junk),
		cmocka_unit_test(test_pciaddr_null_why),
		cmocka_unit_test(test_pciaddr_format),
		cmocka_unit_test(test_pciaddr_roundtrip),
		cmocka_unit_test(test_pciaddr_canonical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
