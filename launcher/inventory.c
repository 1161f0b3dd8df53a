// SPDX-License-Identifier: MIT
// The host's PCI devices read with libpci's sysfs method (as lspci does), copied into plain structs.
#include "inventory.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pci/pci.h>

#include "errbuf.h"
#include "sysfs.h"
#include "vfio.h"

/* libpci's error handler must not return (PCI_NONRET) and libpci gives it no context, so it
 * could only exit or longjmp; vflaunch does neither from library code. Instead, everything
 * libpci's sysfs method treats as fatal, or could block on, is checked first (precheck_tree
 * below): the devices directory opens; each entry is a PCI address in the kernel's canonical
 * form (libpci aborts on a name its sscanf cannot parse, and reads a name it parses loosely,
 * "0002:81:10.0x", under another name); the attributes it reads with "mandatory" set (vendor,
 * device, class in 3.9 for the fields we ask; irq and resource in older versions) are
 * readable regular files holding well-formed ids; and every other file it opens for those
 * fields (revision, subsystem_vendor, subsystem_device, numa_node, config) is absent or a
 * regular file, so no open can block on a FIFO. After that the handler is unreachable short
 * of the tree changing between our check and libpci's read (hot removal) or malloc failing
 * inside libpci; for those it reports and aborts, a last resort rather than an exit() that
 * would skip the caller's cleanup silently. */
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

/* "0x" and exactly digits hex digits, as the kernel prints ids ("0x8086", "0x020000"). */
static int id_ok(const char *v, size_t digits)
{
	if (v[0] != '0' || v[1] != 'x' || strlen(v) != 2 + digits)
		return 0;
	for (size_t i = 2; i < 2 + digits; i++)
		if (!isxdigit((unsigned char)v[i]))
			return 0;
	return 1;
}

/* One attribute libpci reads as mandatory: a readable regular file, short, and for the ids
 * well-formed (libpci's strtol would turn "banana" into vendor 0000 without a word). */
static int check_mandatory(const char *dir, const char *entry, const char *attr, char *err,
                           size_t errlen)
{
	char path[1024], value[256];
	size_t digits = strcmp(attr, "class") == 0 ? 6 : 4;
	int ids = !strcmp(attr, "vendor") || !strcmp(attr, "device") || !strcmp(attr, "class");
	int n = sysfs_path(path, sizeof path, "%s/%s/%s", dir, entry, attr);

	/* resource is read line by line, so only its opening matters. */
	if (n >= 0)
		n = sysfs_read(path, value, strcmp(attr, "resource") == 0 ? 2 : sizeof value);
	if (n < 0 && !(n == -EOVERFLOW && strcmp(attr, "resource") == 0)) {
		errbuf_printf(err, errlen, "libpci: cannot read %s: %s", path,
		              n == -EINVAL ? "not a regular file" : strerror(-n));
		return -1;
	}
	if (ids && !id_ok(value, digits)) {
		errbuf_printf(err, errlen, "libpci: %s: not an id (0x and %zu hex digits)", path, digits);
		return -1;
	}
	return 0;
}

/* A file libpci opens without needing it: absent is fine, anything but a regular file is
 * not (libpci's plain open() of a FIFO would wait for a writer forever). */
static int check_optional(const char *dir, const char *entry, const char *attr, char *err,
                          size_t errlen)
{
	char path[1024];
	struct stat sb;

	if (sysfs_path(path, sizeof path, "%s/%s/%s", dir, entry, attr) < 0) {
		errbuf_printf(err, errlen, "libpci: %s/%s/%s: path too long", dir, entry, attr);
		return -1;
	}
	if (stat(path, &sb) < 0 ? errno != ENOENT : !S_ISREG(sb.st_mode)) {
		errbuf_printf(err, errlen, "libpci: %s: not a regular file", path);
		return -1;
	}
	return 0;
}

/* The name of an entry of bus/pci/devices: the kernel's canonical address, nothing else. */
static int check_entry_name(const char *dir, const char *name, char *err, size_t errlen)
{
	struct pci_addr a;
	const char *why;

	if (pci_addr_parse(name, &a, &why) < 0) {
		errbuf_printf(err, errlen, "libpci: %s/%s: not a PCI address: %s", dir, name, why);
		return -1;
	}
	if (!pci_addr_canonical(name)) {
		errbuf_printf(err, errlen, "libpci: %s/%s: not a PCI address in the kernel's form "
		              "dddd:bb:dd.f (lower-case hex, all digits)", dir, name);
		return -1;
	}
	return 0;
}

/* What libpci's sysfs_scan and fill_info would die or block on, checked beforehand so that
 * they cannot. libpci builds names in 1024-byte buffers and reads values into 1024 bytes. */
static int precheck_tree(const char *bus, char *err, size_t errlen)
{
	static const char *const mandatory[] = { "resource", "irq", "vendor", "device", "class" };
	static const char *const optional[] = { "revision", "subsystem_vendor", "subsystem_device",
	                                        "numa_node", "config" };
	char dir[1024];
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
		if (e->d_name[0] == '.')
			continue; /* libpci skips these too */
		rc = check_entry_name(dir, e->d_name, err, errlen);
		for (size_t i = 0; rc == 0 && i < sizeof mandatory / sizeof mandatory[0]; i++)
			rc = check_mandatory(dir, e->d_name, mandatory[i], err, errlen);
		for (size_t i = 0; rc == 0 && i < sizeof optional / sizeof optional[0]; i++)
			rc = check_optional(dir, e->d_name, optional[i], err, errlen);
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

/* The path of a device's attribute into path (1024 bytes, as libpci's). */
static int attr_path(char *path, const char *root, const char *name, const char *attr)
{
	return sysfs_path(path, 1024, "%s/bus/pci/devices/%s/%s", root, name, attr);
}

/* Why a read said -EINVAL: sysfs_read refuses what is not a regular file that way, and
 * sysfs_read_long text that is not a number. */
static const char *why_invalid(const char *path, const char *otherwise)
{
	struct stat sb;

	return stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) ? "not a regular file" : otherwise;
}

/* An SR-IOV count attribute (u16 in the kernel): 1 with the value, 0 when absent, -1 with a
 * message naming the file when it is anything but an integer in 0..65535. */
static int read_count(const char *root, const char *name, const char *attr, int *value,
                      char *err, size_t errlen)
{
	char path[1024];
	long v;
	int rc = attr_path(path, root, name, attr);

	if (rc >= 0 && (rc = sysfs_read_long(path, &v)) == -ENOENT)
		return 0;
	if (rc >= 0 && (v < 0 || v > 65535))
		rc = -ERANGE;
	if (rc < 0) {
		errbuf_printf(err, errlen, "%s: %s", path, rc == -ERANGE ? "not an integer in 0..65535" :
		              rc == -EINVAL ? why_invalid(path, "not an integer in 0..65535") :
		              strerror(-rc));
		return -1;
	}
	*value = (int)v;
	return 1;
}

/* A link that must point to a PCI device (physfn, virtfnN): its target's name, which must be
 * a canonical address. 1, 0 when the link is absent, -1 with a message. */
static int read_addr_link(const char *root, const char *name, const char *link,
                          char out[PCI_ADDR_LEN + 1], char *err, size_t errlen)
{
	char path[1024];
	int n = attr_path(path, root, name, link);

	if (n >= 0)
		n = sysfs_link_name(path, out, PCI_ADDR_LEN + 1);
	if (n == -ENOENT)
		return 0;
	if (n < 0 || !pci_addr_canonical(out)) {
		out[0] = '\0';
		errbuf_printf(err, errlen, "%s: %s", path, n < 0 && n != -EOVERFLOW ? strerror(-n) :
		              "does not point to a PCI device (dddd:bb:dd.f)");
		return -1;
	}
	return 1;
}

/* A device's driver_override: "" when none (the kernel shows "(null)") or absent (kernels
 * before 3.16); anything but a driver name is a corrupt tree. */
static int read_override(const char *root, struct pci_device *p, char *err, size_t errlen)
{
	char path[1024];
	int n = attr_path(path, root, p->name, "driver_override");

	if (n >= 0)
		n = sysfs_read(path, p->driver_override, sizeof p->driver_override);
	if (n == -ENOENT || (n >= 0 && strcmp(p->driver_override, "(null)") == 0)) {
		p->driver_override[0] = '\0';
		return 0;
	}
	if (n < 0 || (p->driver_override[0] && !vfio_driver_ok(p->driver_override))) {
		p->driver_override[0] = '\0';
		errbuf_printf(err, errlen, "%s: %s", path, n == -EINVAL ? why_invalid(path, "") :
		              n < 0 ? strerror(-n) : "not a kernel driver name");
		return -1;
	}
	return 0;
}

/* What libpci does not know: SR-IOV state, physfn/virtfnN, driver_override. Values the
 * kernel could not have written are errors naming the file, never quietly passed on. */
static int read_sriov(const char *root, struct pci_device *p, char *err, size_t errlen)
{
	char path[1024];
	int rc;

	p->sriov_totalvfs = p->sriov_numvfs = p->sriov_offset = p->sriov_stride = -1;
	if ((rc = read_count(root, p->name, "sriov_totalvfs", &p->sriov_totalvfs, err, errlen)) < 0 ||
	    (rc > 0 && read_count(root, p->name, "sriov_numvfs", &p->sriov_numvfs, err, errlen) < 0) ||
	    read_count(root, p->name, "sriov_offset", &p->sriov_offset, err, errlen) < 0 ||
	    read_count(root, p->name, "sriov_stride", &p->sriov_stride, err, errlen) < 0 ||
	    read_override(root, p, err, errlen) < 0 ||
	    read_addr_link(root, p->name, "physfn", p->physfn, err, errlen) < 0)
		return -1;
	if (p->sriov_totalvfs >= 0 && p->sriov_numvfs < 0)
		p->sriov_numvfs = 0;
	if (p->sriov_numvfs > p->sriov_totalvfs) {
		attr_path(path, root, p->name, "sriov_numvfs");
		errbuf_printf(err, errlen, "%s: %d VFs enabled, more than sriov_totalvfs (%d)", path,
		              p->sriov_numvfs, p->sriov_totalvfs);
		return -1;
	}
	/* libpci hands the link's name on as it is (and cut to fit): read it again whole, so
	 * that no escape sequence or newline in a corrupt tree reaches a listing. */
	if (p->driver[0]) {
		char drv[sizeof p->driver];
		attr_path(path, root, p->name, "driver");
		rc = sysfs_link_name(path, drv, sizeof drv);
		if ((rc < 0 && rc != -ENOENT) || (rc > 0 && !vfio_driver_ok(drv))) {
			errbuf_printf(err, errlen, "%s: the link does not name a kernel driver", path);
			return -1;
		}
	}

	/* virtfnN are dense from 0: stop at the first missing one. */
	for (size_t i = 0;; i++) {
		char link[32], vf[PCI_ADDR_LEN + 1];

		snprintf(link, sizeof link, "virtfn%zu", i);
		if ((rc = read_addr_link(root, p->name, link, vf, err, errlen)) <= 0)
			return rc;
		if ((p->nvfs & (p->nvfs - 1)) == 0) { /* grow at powers of two */
			size_t cap = p->nvfs ? p->nvfs * 2 : 8;
			void *grown = realloc(p->vfs, cap * sizeof *p->vfs);

			if (!grown) {
				errbuf_printf(err, errlen, "%s: out of memory", p->name);
				return -1;
			}
			p->vfs = grown;
		}
		memcpy(p->vfs[p->nvfs++], vf, sizeof vf);
	}
}

/* A VF's physfn must lead to an SR-IOV PF in the same tree, not to itself or another VF
 * (a loop would show a PF as "VF of" its own VF). Runs on the sorted inventory. */
static int check_physfn(const char *root, const struct inventory *inv, const struct pci_device *p,
                        char *err, size_t errlen)
{
	const struct pci_device *pf;
	char path[1024];
	const char *why;

	if (!p->physfn[0])
		return 0;
	if (strcmp(p->physfn, p->name) == 0)
		why = "points to the device itself";
	else if (!(pf = inventory_find(inv, p->physfn)))
		why = "points to a device that is not in bus/pci/devices";
	else if (pf->sriov_totalvfs < 0 || pf->physfn[0])
		why = "points to a device that is not an SR-IOV PF";
	else
		return 0;
	attr_path(path, root, p->name, "physfn");
	errbuf_printf(err, errlen, "%s: %s (%s)", path, why, p->physfn);
	return -1;
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

	for (i = 0; i < count && rc == 0; i++)
		rc = read_sriov(sysfs_root, &inv->devs[i], err, errlen);
	if (rc == 0)
		qsort(inv->devs, count, sizeof *inv->devs, cmp_dev);
	for (i = 0; i < count && rc == 0; i++)
		rc = check_physfn(sysfs_root, inv, &inv->devs[i], err, errlen);
	if (rc < 0) {
		inventory_free(inv);
		return -1;
	}
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
