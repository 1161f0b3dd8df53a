// SPDX-License-Identifier: MIT
// The host's PCI devices read with libpci's sysfs method (as lspci does), copied into plain structs.
#include "inventory.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pci/pci.h>

#include "errbuf.h"
#include "sysfs.h"

/* libpci's error handler must not return (PCI_NONRET) and libpci gives it no context, so it
 * could only exit or longjmp; vflaunch does neither from library code. Instead, everything
 * libpci's sysfs method treats as fatal is checked first (precheck_tree below): the devices
 * directory opens, each entry is an address, and the attributes it reads with "mandatory"
 * set are readable and short: vendor, device, class (read by pci_fill_info in 3.9), irq and
 * resource (read by the scan itself in older versions; we never ask for them). After that
 * the handler is unreachable short of a device vanishing between our check and libpci's
 * read (hot removal) or malloc failing inside libpci; for those it reports and aborts, a
 * last resort rather than an exit() that would skip the caller's cleanup silently. */
static void lib_error(char *msg, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void lib_error(char *msg, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("vflaunch: libpci: ", stderr);
	va_start(ap, msg);
	vfprintf(stderr, msg, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* Warnings (an unreadable config file, say) are not failures: the fields stay unknown and
 * the fill_info bits say so, which is how the scan below decides. */
static void lib_warning(char *msg, ...) __attribute__((format(printf, 1, 2)));
static void lib_warning(char *msg, ...)
{
	(void)msg;
}

/* What libpci's sysfs_scan would die on, checked beforehand so that it cannot. libpci
 * builds names in 1024-byte buffers and reads values into 256 bytes; so do we. */
static int precheck_tree(const char *bus, char *err, size_t errlen)
{
	static const char *const needed[] = { "resource", "irq", "vendor", "device", "class" };
	char dir[1024], path[1024], value[256];
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (sysfs_path(dir, sizeof dir, "%s/devices", bus) < 0) {
		errbuf_printf(err, errlen, "libpci: %s/devices: path too long", bus);
		return -1;
	}
	d = opendir(dir);
	if (!d) {
		errbuf_printf(err, errlen, "libpci: cannot open %s: %s", dir, strerror(errno));
		return -1;
	}
	while (rc == 0 && (e = readdir(d))) {
		struct pci_addr a;
		const char *why;

		if (e->d_name[0] == '.')
			continue; /* libpci skips these too */
		if (pci_addr_parse(e->d_name, &a, &why) < 0) {
			errbuf_printf(err, errlen, "libpci: %s/%s: not a PCI address: %s", dir, e->d_name, why);
			rc = -1;
			break;
		}
		for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
			int n = sysfs_path(path, sizeof path, "%s/%s/%s", dir, e->d_name, needed[i]);

			/* resource is read line by line, so only its opening matters. */
			if (n >= 0)
				n = sysfs_read(path, value, i == 0 ? 2 : sizeof value);
			if (n < 0 && !(i == 0 && n == -EOVERFLOW)) {
				errbuf_printf(err, errlen, "libpci: cannot read %s: %s", path, strerror(-n));
				rc = -1;
				break;
			}
		}
	}
	closedir(d);
	return rc;
}

static int cmp_addr(const struct pci_addr *a, const struct pci_addr *b)
{
	if (a->domain != b->domain)
		return a->domain < b->domain ? -1 : 1;
	if (a->bus != b->bus)
		return a->bus < b->bus ? -1 : 1;
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->func != b->func)
		return a->func < b->func ? -1 : 1;
	return 0;
}

static int cmp_dev(const void *a, const void *b)
{
	return cmp_addr(&((const struct pci_device *)a)->addr, &((const struct pci_device *)b)->addr);
}

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* An integer attribute, or fallback when it is absent or malformed. */
static int read_int(const char *root, const char *name, const char *attr, int fallback)
{
	char path[1024];
	long v;

	if (sysfs_path(path, sizeof path, "%s/bus/pci/devices/%s/%s", root, name, attr) < 0 ||
	    sysfs_read_long(path, &v) < 0)
		return fallback;
	return (int)v;
}

/* What libpci does not know: SR-IOV state, physfn/virtfnN, driver_override. */
static int read_sriov(const char *root, struct pci_device *p)
{
	char path[1024];
	int n;

	p->sriov_totalvfs = read_int(root, p->name, "sriov_totalvfs", -1);
	p->sriov_numvfs = read_int(root, p->name, "sriov_numvfs", p->sriov_totalvfs < 0 ? -1 : 0);
	p->sriov_offset = read_int(root, p->name, "sriov_offset", -1);
	p->sriov_stride = read_int(root, p->name, "sriov_stride", -1);

	if (sysfs_path(path, sizeof path, "%s/bus/pci/devices/%s/driver_override", root, p->name) >= 0 &&
	    sysfs_read(path, p->driver_override, sizeof p->driver_override) >= 0 &&
	    strcmp(p->driver_override, "(null)") == 0)
		p->driver_override[0] = '\0'; /* the kernel's way of saying "none" */

	if (sysfs_path(path, sizeof path, "%s/bus/pci/devices/%s/physfn", root, p->name) >= 0 &&
	    sysfs_link_name(path, p->physfn, sizeof p->physfn) < 0)
		p->physfn[0] = '\0';

	/* virtfnN are dense from 0: stop at the first missing one. */
	for (size_t i = 0;; i++) {
		char vf[PCI_ADDR_LEN + 1];

		if (sysfs_path(path, sizeof path, "%s/bus/pci/devices/%s/virtfn%zu", root, p->name, i) < 0)
			return -ENAMETOOLONG;
		n = sysfs_link_name(path, vf, sizeof vf);
		if (n == -ENOENT)
			break;
		if (n < 0)
			return n;
		if ((p->nvfs & (p->nvfs - 1)) == 0) { /* grow at powers of two */
			size_t cap = p->nvfs ? p->nvfs * 2 : 8;
			void *grown = realloc(p->vfs, cap * sizeof *p->vfs);

			if (!grown)
				return -ENOMEM;
			p->vfs = grown;
		}
		memcpy(p->vfs[p->nvfs++], vf, sizeof vf);
	}
	return 0;
}

static void fill_from_libpci(struct pci_access *pacc, struct pci_dev *d, struct pci_device *p)
{
	const int want = PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_CLASS_EXT | PCI_FILL_SUBSYS |
			 PCI_FILL_NUMA_NODE | PCI_FILL_IOMMU_GROUP | PCI_FILL_DRIVER;
	int known = pci_fill_info(d, want);
	const char *s;
	u8 hdr;

	p->addr = (struct pci_addr){ (unsigned)d->domain, d->bus, d->dev, d->func };
	pci_addr_format(&p->addr, p->name, sizeof p->name);
	p->iommu_group = -1;
	p->numa_node = -1;
	if (known & PCI_FILL_IDENT) {
		p->vendor = d->vendor_id;
		p->device = d->device_id;
		if (!pci_lookup_name(pacc, p->vendor_name, sizeof p->vendor_name,
				     PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS, p->vendor))
			p->vendor_name[0] = '\0';
		if (!pci_lookup_name(pacc, p->device_name, sizeof p->device_name,
				     PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS, p->vendor, p->device))
			p->device_name[0] = '\0';
	}
	if (known & PCI_FILL_CLASS) {
		p->class = (unsigned)d->device_class << 8;
		if (!pci_lookup_name(pacc, p->class_name, sizeof p->class_name,
				     PCI_LOOKUP_CLASS | PCI_LOOKUP_NO_NUMBERS, d->device_class))
			p->class_name[0] = '\0';
	}
	if (known & PCI_FILL_CLASS_EXT)
		p->class |= d->prog_if;
	if (known & PCI_FILL_SUBSYS) {
		p->subsys_vendor = d->subsys_vendor_id;
		p->subsys_device = d->subsys_id;
	}
	/* Not a fill_info field: one byte of config space; unreadable config leaves 0. */
	if (pci_read_block(d, PCI_HEADER_TYPE, &hdr, 1))
		p->header_type = hdr & 0x7f;
	if ((known & PCI_FILL_NUMA_NODE) && d->numa_node >= 0)
		p->numa_node = d->numa_node;
	if ((known & PCI_FILL_IOMMU_GROUP) && (s = pci_get_string_property(d, PCI_FILL_IOMMU_GROUP))) {
		char *end;
		long g = strtol(s, &end, 10);

		if (end != s && *end == '\0' && g >= 0)
			p->iommu_group = (int)g;
	}
	if ((known & PCI_FILL_DRIVER) && (s = pci_get_string_property(d, PCI_FILL_DRIVER)))
		copy_str(p->driver, sizeof p->driver, s);
}

int inventory_scan(const char *sysfs_root, struct inventory *inv, char *err, size_t errlen)
{
	char param[] = "sysfs.path"; /* libpci's prototype wants it writable */
	char bus[1024];
	struct pci_access *pacc;
	struct pci_dev *d;
	size_t count = 0, i = 0;
	int rc = 0;

	inv->devs = NULL;
	inv->count = 0;
	if (err && errlen)
		err[0] = '\0';
	if (!sysfs_root || sysfs_path(bus, sizeof bus - 64, "%s/bus/pci", sysfs_root) < 0) {
		errbuf_printf(err, errlen, "libpci: sysfs root path is missing or too long");
		return -1;
	}
	if (precheck_tree(bus, err, errlen) < 0)
		return -1;

	pacc = pci_alloc();
	if (!pacc) {
		errbuf_printf(err, errlen, "libpci: out of memory");
		return -1;
	}
	pacc->error = lib_error;
	pacc->warning = lib_warning;
	pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	/* The names come from pci.ids, as the struct promises, not from udev's hwdb. */
	pacc->id_lookup_mode = PCI_LOOKUP_NO_HWDB;
	if (pci_set_param(pacc, param, bus) < 0) {
		errbuf_printf(err, errlen, "libpci: no sysfs.path parameter in this libpci");
		pci_cleanup(pacc);
		return -1;
	}
	pci_init(pacc);
	pci_scan_bus(pacc);

	for (d = pacc->devices; d; d = d->next)
		count++;
	if (count) {
		inv->devs = calloc(count, sizeof *inv->devs);
		if (!inv->devs) {
			errbuf_printf(err, errlen, "libpci: out of memory for %zu devices", count);
			pci_cleanup(pacc);
			return -1;
		}
	}
	for (d = pacc->devices; d; d = d->next, i++)
		fill_from_libpci(pacc, d, &inv->devs[i]);
	/* Release libpci (and the config fd it caches) before anything else can fail or exec. */
	pci_cleanup(pacc);
	inv->count = count;

	for (i = 0; i < count && rc == 0; i++) {
		rc = read_sriov(sysfs_root, &inv->devs[i]);
		if (rc < 0)
			errbuf_printf(err, errlen, "%s/bus/pci/devices/%s: %s", sysfs_root, inv->devs[i].name,
				strerror(-rc));
	}
	if (rc < 0) {
		inventory_free(inv);
		return -1;
	}
	qsort(inv->devs, count, sizeof *inv->devs, cmp_dev);
	return 0;
}

void inventory_free(struct inventory *inv)
{
	if (!inv)
		return;
	for (size_t i = 0; i < inv->count; i++)
		free(inv->devs[i].vfs);
	free(inv->devs);
	inv->devs = NULL;
	inv->count = 0;
}

const struct pci_device *inventory_find(const struct inventory *inv, const char *name)
{
	struct pci_device key;
	const char *why;

	if (!inv || !inv->count || pci_addr_parse(name, &key.addr, &why) < 0)
		return NULL;
	return bsearch(&key, inv->devs, inv->count, sizeof *inv->devs, cmp_dev);
}
