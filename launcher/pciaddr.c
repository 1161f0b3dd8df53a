// SPDX-License-Identifier: MIT
// PCI addresses: strict parsing of "dddd:bb:dd.f" / "bb:dd.f" and canonical formatting.
#include "pciaddr.h"

#include <stdio.h>
#include <string.h>

/* Why a parse failed. Most reasons are string literals; an out-of-range field is named with
 * its value ("device 0x20 is out of range (0x00-0x1f)"), built in this per-thread buffer:
 * the sentence stays valid until the same thread parses again. */
static _Thread_local char range_why[64];

struct field {
	const char *name;  /* "domain", "bus", ... */
	unsigned max;
	int width;         /* digits in the range text: 0x00-0x1f */
	const char *empty; /* the sentence for a missing field */
	const char *junk;  /* ... and for a non-hex character in it */
};

static const struct field fields[] = {
	{ "domain",   0xffff, 4, "the domain is empty",   "the domain is not hexadecimal" },
	{ "bus",      0xff,   2, "the bus is empty",      "the bus is not hexadecimal" },
	{ "device",   0x1f,   2, "the device is empty",   "the device is not hexadecimal" },
	{ "function", 0x7,    1, "the function is empty", "the function is not hexadecimal (0-7)" },
};

enum { F_DOMAIN, F_BUS, F_DEV, F_FUNC };

/* Parse text[0..len) as one hex field of kind f. Values are clamped while reading (no
 * overflow on long input) and then checked against the field's range. */
static int parse_field(const char *text, size_t len, int f, unsigned *out, const char **why)
{
	const struct field *fd = &fields[f];
	unsigned long v = 0;

	if (len == 0) {
		*why = fd->empty;
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else {
			*why = fd->junk;
			return -1;
		}
		v = v * 16 + d;
		if (v > 0xffffffUL)
			v = 0x1000000UL; /* far out of every range; keeps the arithmetic bounded */
	}
	if (v > fd->max) {
		if (v > 0xffffffUL)
			snprintf(range_why, sizeof range_why, "%s is out of range (0x%0*x-0x%0*x)",
				 fd->name, fd->width, 0u, fd->width, fd->max);
		else
			snprintf(range_why, sizeof range_why, "%s 0x%lx is out of range (0x%0*x-0x%0*x)",
				 fd->name, v, fd->width, 0u, fd->width, fd->max);
		*why = range_why;
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* The value of a lower-case hex digit, or -1. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The canonical form decoded into *a without formatting it again: 1, or 0 when text is not
 * canonical. Sysfs names are read by the thousand (a listing, every virtfnN link), and
 * parsing them and printing them back to compare cost more than the reads. */
static int decode_canonical(const char *text, struct pci_addr *a)
{
	static const signed char digits[PCI_ADDR_LEN] = { 0, 1, 2, 3, -1, 5, 6, -1, 8, 9, -1, 11 };
	unsigned v[PCI_ADDR_LEN];

	if (!text)
		return 0;
	for (int i = 0; i < PCI_ADDR_LEN; i++) {
		int d;

		if (digits[i] < 0) {
			if (text[i] != (i == 10 ? '.' : ':'))
				return 0;
			continue;
		}
		if ((d = hexval(text[i])) < 0)
			return 0;
		v[i] = (unsigned)d;
	}
	/* device 0x00-0x1f, function 0-7; domain and bus take every value of their digits */
	if (text[PCI_ADDR_LEN] != '\0' || v[8] > 1 || v[11] > 7)
		return 0;
	a->domain = v[0] << 12 | v[1] << 8 | v[2] << 4 | v[3];
	a->bus = v[5] << 4 | v[6];
	a->dev = v[8] << 4 | v[9];
	a->func = v[11];
	return 1;
}

int pci_addr_parse(const char *text, struct pci_addr *addr, const char **why)
{
	const char *dummy;
	const char *c1, *c2, *dot, *bus;
	struct pci_addr a = { 0, 0, 0, 0 };

	if (decode_canonical(text, addr))
		return 0;
	if (!why)
		why = &dummy;
	if (!text || !*text) {
		*why = "the address is empty";
		return -1;
	}
	/* The shape first (colons and the dot), so a wrong shape gets one clear sentence. */
	c1 = strchr(text, ':');
	if (!c1) {
		*why = "expected \"dddd:bb:dd.f\" or \"bb:dd.f\"";
		return -1;
	}
	c2 = strchr(c1 + 1, ':');
	if (c2 && strchr(c2 + 1, ':')) {
		*why = "too many ':' (expected \"dddd:bb:dd.f\" or \"bb:dd.f\")";
		return -1;
	}
	dot = strchr(c2 ? c2 + 1 : c1 + 1, '.');
	if (!dot) {
		*why = "the function is missing (expected \"dd.f\" after the bus)";
		return -1;
	}
	if (strchr(dot + 1, '.') || strchr(text, '.') != dot) {
		*why = "too many '.' (expected \"dddd:bb:dd.f\" or \"bb:dd.f\")";
		return -1;
	}
	if (c2) {
		if (parse_field(text, (size_t)(c1 - text), F_DOMAIN, &a.domain, why))
			return -1;
		bus = c1 + 1;
	} else {
		bus = text;
		c2 = c1;
	}
	if (parse_field(bus, (size_t)(c2 - bus), F_BUS, &a.bus, why) ||
	    parse_field(c2 + 1, (size_t)(dot - c2 - 1), F_DEV, &a.dev, why) ||
	    parse_field(dot + 1, strlen(dot + 1), F_FUNC, &a.func, why))
		return -1;
	*addr = a;
	return 0;
}

void pci_addr_format(const struct pci_addr *addr, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	/* Masks keep a corrupt struct from ever producing a longer string than PCI_ADDR_LEN. */
	unsigned d = addr->domain & 0xffff, b = addr->bus & 0xff, s = addr->dev & 0x1f;
	char out[PCI_ADDR_LEN + 1] = {
		hex[d >> 12], hex[d >> 8 & 15], hex[d >> 4 & 15], hex[d & 15], ':',
		hex[b >> 4], hex[b & 15], ':', hex[s >> 4], hex[s & 15], '.', hex[addr->func & 7], '\0'
	};

	/* "%04x:%02x:%02x.%x" without printf (a listing formats thousands), cut as snprintf
	 * would cut it. */
	if (size) {
		size_t n = size - 1 < PCI_ADDR_LEN ? size - 1 : PCI_ADDR_LEN;

		memcpy(buf, out, n);
		buf[n] = '\0';
	}
}

int pci_addr_canonical(const char *text)
{
	struct pci_addr a;

	return decode_canonical(text, &a);
}

int pci_addr_decode(const char *text, struct pci_addr *addr)
{
	return decode_canonical(text, addr);
}
