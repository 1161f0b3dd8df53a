// SPDX-License-Identifier: MIT
// The host's PCI devices as libpci sees them through a sysfs tree, copied into plain structs.
// libpci is released before inventory_scan returns: nothing of it stays open (no fds across exec).
#ifndef VFLAUNCH_INVENTORY_H
#define VFLAUNCH_INVENTORY_H

#include <stddef.h>
#include "pciaddr.h"

struct pci_device {
	struct pci_addr addr;
	char name[PCI_ADDR_LEN + 1];  /* "0002:81:10.0" */
	unsigned vendor, device;      /* ids */
	unsigned class;               /* 24 bits: base class, subclass, prog-if (0x020000) */
	unsigned subsys_vendor, subsys_device;
	unsigned header_type;         /* low 7 bits of config 0x0e: 0 endpoint, 1 bridge, 2 cardbus */
	char vendor_name[128];        /* from pci.ids, "" when unknown */
	char device_name[192];
	char class_name[96];
	char driver[64];              /* "" when no driver is bound */
	char driver_override[64];     /* "" when none */
	int iommu_group;              /* -1 when the device has none */
	int numa_node;                /* -1 when unknown */
	char physfn[PCI_ADDR_LEN + 1];/* a VF's PF, "" when not a VF */
	int sriov_totalvfs;           /* -1 when not SR-IOV capable */
	int sriov_numvfs;
	int sriov_offset, sriov_stride;
	size_t nvfs;                  /* a PF's enabled VFs, from its virtfnN links, in N order */
	char (*vfs)[PCI_ADDR_LEN + 1];
};

struct inventory {
	struct pci_device *devs;      /* sorted by address */
	size_t count;
};

/* Scan sysfs_root ("/sys" or a fake tree) with libpci's sysfs method. 0, or -1 with a
 * message in err ("libpci: cannot open /x/bus/pci/devices: No such file or directory").
 * A tree the kernel could not have made is refused, the message naming the file and what is
 * wrong, before libpci reads it (so libpci can neither abort nor block on a FIFO): entry names
 * not in the canonical dddd:bb:dd.f form, malformed ids, attributes that are not regular
 * files, SR-IOV counts outside 0..65535 or numvfs above totalvfs, physfn/virtfnN links that
 * do not lead to a PCI address (physfn: to an SR-IOV PF in the tree, not the device itself),
 * driver and driver_override values that are not kernel driver names. */
int inventory_scan(const char *sysfs_root, struct inventory *inv, char *err, size_t errlen);
void inventory_free(struct inventory *inv);
const struct pci_device *inventory_find(const struct inventory *inv, const char *name);

#endif
