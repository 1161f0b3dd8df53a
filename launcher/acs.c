// SPDX-License-Identifier: MIT
// A bridge's ACS registers, found through libpci as lspci finds them: pci_get_dev on the sysfs
// method rooted at the tree, pci_fill_info for the extended capabilities, pci_find_cap.
#include "acs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pci/pci.h>

#include "errbuf.h"
#include "inventory.h"
#include "pciaddr.h"
#include "sysfs.h"

int pci_acs_read(const char *sysfs_root, const char *addr, struct pci_acs *acs, char *err,
                 size_t errlen)
{
	char path[1024], bus[1024], param[] = "sysfs.path"; /* libpci takes char * */
	unsigned char probe[4];
	struct pci_addr a;
	struct pci_access *pacc;
	struct pci_dev *dev;
	struct pci_cap *cap;
	const char *why;
	int n, rc = 0;

	if (pci_addr_parse(addr, &a, &why) < 0) {
		errbuf_printf(err, errlen, "%s: not a PCI address: %s", addr, why);
		return -1;
	}
	/* libpci names the file itself in 1024 bytes (and calls its error handler when it does
	 * not fit): the same path, built here first, must fit with room to spare. */
	if (sysfs_path(bus, sizeof bus - 64, "%s/bus/pci", sysfs_root) < 0 ||
	    sysfs_path(path, sizeof path, "%s/devices/%s/config", bus, addr) < 0) {
		errbuf_printf(err, errlen, "%s: sysfs root path too long", addr);
		return -1;
	}
	/* libpci opens config with a plain open(2), which blocks on a FIFO, and says nothing of a
	 * short read: read past byte 63 here (what the kernel gives anyone) without blocking. */
	n = sysfs_read_offset(path, probe, sizeof probe, 0x40);
	if (n < 0) {
		errbuf_printf(err, errlen, "cannot read %s: %s", path,
		              n == -EINVAL ? "not a regular file" : strerror(-n));
		return -1;
	}
	if (n < (int)sizeof probe) {
		errbuf_printf(err, errlen, "cannot read %s beyond its first 64 bytes: reading a "
		              "device's capabilities needs root", path);
		return -1;
	}
	if (!(pacc = pci_alloc())) {
		errbuf_printf(err, errlen, "%s: out of memory", addr);
		return -1;
	}
	pacc->error = inventory_libpci_error; /* abort on malloc failure inside libpci */
	pacc->warning = inventory_libpci_warning;
	pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	if (pci_set_param(pacc, param, bus) < 0) {
		pci_cleanup(pacc);
		errbuf_printf(err, errlen, "libpci has no sysfs.path parameter");
		return -1;
	}
	pci_init(pacc);
	dev = pci_get_dev(pacc, (int)a.domain, (int)a.bus, (int)a.dev, (int)a.func);
	/* Extended capabilities need the PCI Express capability, found in the list first: a
	 * device with only 256 bytes of config space (or none of it) has neither. */
	if (dev && (pci_fill_info(dev, PCI_FILL_EXT_CAPS) & PCI_FILL_EXT_CAPS) &&
	    (cap = pci_find_cap(dev, PCI_EXT_CAP_ID_ACS, PCI_CAP_EXTENDED))) {
		acs->cap = pci_read_word(dev, cap->addr + PCI_ACS_CAP);
		acs->ctrl = pci_read_word(dev, cap->addr + PCI_ACS_CTRL);
		rc = 1;
	}
	if (dev)
		pci_free_dev(dev);
	pci_cleanup(pacc); /* closes its config fd: nothing stays open for an exec'd QEMU */
	return rc;
}
