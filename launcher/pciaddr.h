// SPDX-License-Identifier: MIT
// PCI addresses: "dddd:bb:dd.f" (domain optional on input), strict parsing and formatting.
#ifndef VFLAUNCH_PCIADDR_H
#define VFLAUNCH_PCIADDR_H

#include <stddef.h>

struct pci_addr {
	unsigned domain; /* 0..0xffff */
	unsigned bus;    /* 0..0xff */
	unsigned dev;    /* 0..0x1f */
	unsigned func;   /* 0..7 */
};

#define PCI_ADDR_LEN 12 /* strlen("dddd:bb:dd.f") */

/* Parse "dddd:bb:dd.f" or "bb:dd.f" (domain 0). Hex digits, either case, exact field
 * widths are not required but ranges are. Returns 0, or -1 with *why set to a static
 * sentence naming the fault ("device 0x20 is out of range (0x00-0x1f)"). */
int pci_addr_parse(const char *text, struct pci_addr *addr, const char **why);

/* Canonical lower-case form "dddd:bb:dd.f" into buf (at least PCI_ADDR_LEN + 1 bytes). */
void pci_addr_format(const struct pci_addr *addr, char *buf, size_t size);

/* 1 when text is already the canonical form, as the kernel names devices in sysfs (full
 * width, lower-case, fields in range), else 0. The test for names read from a sysfs tree
 * or a journal, which must never be the short or upper-case forms a user may type. */
int pci_addr_canonical(const char *text);

/* pci_addr_canonical that also gives the address: 1 and *addr, or 0 (and *addr untouched). */
int pci_addr_decode(const char *text, struct pci_addr *addr);

#endif
