// SPDX-License-Identifier: MIT
// A bridge's Access Control Services (the PCIe ACS extended capability) read from config space
// through libpci: whether the kernel can tell the devices below the bridge apart, which decides
// how it makes IOMMU groups.
#ifndef VFLAUNCH_ACS_H
#define VFLAUNCH_ACS_H

#include <stddef.h>

struct pci_acs {
	unsigned cap;                 /* ACS Capability register: what the bridge can do */
	unsigned ctrl;                /* ACS Control register: what is switched on (same bits) */
};

/* The ACS registers of device addr ("dddd:bb:dd.f") in the tree sysfs_root ("/sys"): 1 with
 * *acs when it has the capability, 0 when it has none (a PCI device, a PCIe device without it),
 * -1 with a message when its config space cannot be read that far: the kernel gives the first
 * 64 bytes to anyone and the rest only to root ("cannot read PATH beyond its first 64 bytes:
 * reading a device's capabilities needs root"), or the file is missing or not a regular file. */
int pci_acs_read(const char *sysfs_root, const char *addr, struct pci_acs *acs, char *err,
                 size_t errlen);

#endif
