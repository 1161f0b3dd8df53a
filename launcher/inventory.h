// SPDX-License-Identifier: MIT
// The host's PCI devices, read from a sysfs tree into plain structs: listed at once, each fact
// read when it is first asked for (a filter on vendor reads vendor files, nothing else), names
// from pci.ids through libpci only when something shows them. Nothing holds a descriptor
// between calls: no fd can leak into an exec'd QEMU.
#ifndef VFLAUNCH_INVENTORY_H
#define VFLAUNCH_INVENTORY_H

#include <stddef.h>
#include "pciaddr.h"

/* The facts of a device, by what one read gives (inventory_read's `what`). */
#define INV_VENDOR   0x0001u /* vendor */
#define INV_DEVICE   0x0002u /* device */
#define INV_CLASS    0x0004u /* class */
#define INV_SUBSYS   0x0008u /* subsystem_vendor, subsystem_device */
#define INV_HEADER   0x0010u /* header_type, one byte of config space */
#define INV_NAMES    0x0020u /* vendor_name, device_name (pci.ids; reads vendor and device) */
#define INV_DRIVER   0x0040u /* the driver link */
#define INV_OVERRIDE 0x0080u /* driver_override */
#define INV_GROUP    0x0100u /* the iommu_group link */
#define INV_NUMA     0x0200u /* numa_node */
#define INV_SRIOV    0x0400u /* sriov_totalvfs, and when present numvfs, offset, stride */
#define INV_PHYSFN   0x0800u /* the physfn link, checked to lead to an SR-IOV PF of the tree */
#define INV_VFS      0x1000u /* the virtfnN links */
#define INV_CLASS_NAME 0x2000u /* class_name (pci.ids; reads class) */
#define INV_ALL      0x3fffu
#define INV_PHYSFN_LINK 0x4000u /* internal: the physfn link read, not yet checked */

struct pci_device {
	struct pci_addr addr;
	char name[PCI_ADDR_LEN + 1];  /* "0002:81:10.0" */
	unsigned known;               /* INV_* facts read so far */
	unsigned given;               /* INV_* facts the Lua binding has put in the device's table */
	unsigned vendor, device;      /* ids */
	unsigned class;               /* 24 bits: base class, subclass, prog-if (0x020000) */
	unsigned subsys_vendor, subsys_device;
	unsigned header_type;         /* low 7 bits of config 0x0e: 0 endpoint, 1 bridge, 2 cardbus */
	char *vendor_name;            /* from pci.ids, "" when unknown, NULL until read */
	char *device_name;            /* (few devices have their names read: these are not */
	char *class_name;             /*  kept in every one of thousands of structs) */
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

struct pci_access;

struct inventory {
	struct pci_device *devs;      /* sorted by address */
	size_t count;
	char *root;                   /* the sysfs root ("/sys" or a tree) the facts come from */
	struct pci_access *names;     /* libpci for pci.ids lookups, made on the first one */
	const struct pci_device *named; /* the last device given names: the next has its ids, often */
};

/* The devices of sysfs_root ("/sys" or a fake tree): one pass over bus/pci/devices, every
 * entry a PCI address in the kernel's canonical dddd:bb:dd.f form, nothing else read yet.
 * 0, or -1 with a message in err ("libpci: cannot open /x/bus/pci/devices: No such file or
 * directory", the words of the libpci scan this replaced). */
int inventory_list(const char *sysfs_root, struct inventory *inv, char *err, size_t errlen);

/* Read the facts in what (INV_*) that p has not had read yet. 0, or -1 with a message naming
 * the file when it holds what the kernel could not have written: ids that are not "0x" and
 * their digits, attributes that are not regular files (found without blocking), SR-IOV counts
 * outside 0..65535 or numvfs above totalvfs, physfn/virtfnN links that do not lead to a PCI
 * address (physfn: to an SR-IOV PF in the tree, not the device itself), driver and
 * driver_override values that are not kernel driver names. */
int inventory_read(struct inventory *inv, struct pci_device *p, unsigned what, char *err,
                   size_t errlen);

/* inventory_list, then every fact of every device: the whole tree checked, as --list shows it. */
int inventory_scan(const char *sysfs_root, struct inventory *inv, char *err, size_t errlen);
void inventory_free(struct inventory *inv);
struct pci_device *inventory_find(const struct inventory *inv, const char *name);

/* libpci's handlers for every pci_access vflaunch makes: error reports and aborts (libpci
 * calls it only when its own malloc fails; it must not return), warning ignores. */
void inventory_libpci_error(char *msg, ...) __attribute__((noreturn, format(printf, 1, 2)));
void inventory_libpci_warning(char *msg, ...) __attribute__((format(printf, 1, 2)));

#endif
