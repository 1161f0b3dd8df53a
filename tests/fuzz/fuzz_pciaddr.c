// SPDX-License-Identifier: MIT
// libFuzzer target: pci_addr_parse against an independent model of the documented grammar,
// and the round trip parse -> pci_addr_format -> parse.
// Grammar (pciaddr.h): [DOMAIN:]BUS:DEV.FUNC, hex digits of either case, any number of them,
// each field within its range (domain 0-ffff, bus 0-ff, device 0-1f, function 0-7).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pciaddr.h"

#define FUZZ_NAME "fuzz_pciaddr"
#include "fuzzlib.h"

/* A field of text[0..len): -1 when empty or not hex, else its value saturated at 0x1000000. */
static long model_field(const char *text, size_t len)
{
	unsigned long v = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		const char *hex = "0123456789abcdef0123456789ABCDEF", *p;
		if (!text[i] || !(p = strchr(hex, text[i])))
			return -1;
		v = v * 16 + (unsigned long)((p - hex) % 16);
		if (v > 0x1000000)
			v = 0x1000000;
	}
	return (long)v;
}

/* The grammar, written as plainly as possible: split at ':' and '.', check each field. */
static int model_parse(const char *text, struct pci_addr *a)
{
	const char *part[4];
	size_t plen[4], nparts = 0, start = 0, len = strlen(text);
	long v[4];

	for (size_t i = 0; i <= len; i++) {
		if (i == len || text[i] == ':') {
			if (nparts == 3)
				return -1;
			part[nparts] = text + start;
			plen[nparts++] = i - start;
			start = i + 1;
		}
	}
	if (nparts < 2)
		return -1;
	/* the last part is DEV.FUNC: exactly one '.'; no '.' anywhere else */
	const char *last = part[nparts - 1];
	const char *dot = memchr(last, '.', plen[nparts - 1]);
	if (!dot || memchr(dot + 1, '.', plen[nparts - 1] - (size_t)(dot - last) - 1))
		return -1;
	for (size_t i = 0; i + 1 < nparts; i++)
		if (memchr(part[i], '.', plen[i]))
			return -1;
	size_t k = 0;
	if (nparts == 3)
		v[k++] = model_field(part[0], plen[0]);
	else
		v[k++] = 0;
	v[k++] = model_field(part[nparts - 2], plen[nparts - 2]);
	v[k++] = model_field(last, (size_t)(dot - last));
	v[k++] = model_field(dot + 1, plen[nparts - 1] - (size_t)(dot - last) - 1);
	if (v[0] < 0 || v[0] > 0xffff || v[1] < 0 || v[1] > 0xff || v[2] < 0 || v[2] > 0x1f ||
	    v[3] < 0 || v[3] > 7)
		return -1;
	*a = (struct pci_addr){ (unsigned)v[0], (unsigned)v[1], (unsigned)v[2], (unsigned)v[3] };
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), buf[PCI_ADDR_LEN + 1], again[PCI_ADDR_LEN + 8];
	struct pci_addr a = { 9, 9, 9, 9 }, m, b;
	const char *why = NULL;
	int rc, want;

	fuzz_begin(data, size);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	rc = pci_addr_parse(text, &a, &why);
	want = model_parse(text, &m);
	fuzz_check(rc == 0 || rc == -1, "result neither 0 nor -1");
	if (!fuzz_check((rc == 0) == (want == 0), rc == 0 ? "accepted what the grammar refuses" :
	                "refused what the grammar accepts") || rc < 0) {
		if (rc < 0 && fuzz_check(why && why[0], "refused without a reason"))
			fuzz_check(strlen(why) < 200, "reason too long");
		free(text);
		return 0;
	}
	fuzz_check(a.domain == m.domain && a.bus == m.bus && a.dev == m.dev && a.func == m.func,
	           "value differs from the grammar's");
	pci_addr_format(&a, buf, sizeof buf);
	fuzz_check(strlen(buf) == PCI_ADDR_LEN, "formatted length is not 12");
	snprintf(again, sizeof again, "%04x:%02x:%02x.%x", m.domain, m.bus, m.dev, m.func);
	fuzz_check(strcmp(buf, again) == 0, "format is not canonical");
	if (fuzz_check(pci_addr_parse(buf, &b, &why) == 0, "the formatted address does not parse"))
		fuzz_check(b.domain == a.domain && b.bus == a.bus && b.dev == a.dev && b.func == a.func,
		           "round trip changed the address");
	/* A short buffer is cut, never overrun (ASan watches the heap copy). */
	char *small = malloc(5);
	if (small) {
		pci_addr_format(&a, small, 5);
		fuzz_check(strlen(small) == 4, "format into 5 bytes is not cut to 4");
		free(small);
	}
	free(text);
	return 0;
}
