// SPDX-License-Identifier: MIT
// The host's PCI devices from a sysfs tree: listed in one pass, each fact read when asked for,
// names from pci.ids through libpci.
//
// libpci's sysfs method reads ten attributes of every device and resolves two links with
// realpath(3), some thirty system calls a device whatever the caller wants, and it aborts (its
// error handler may not return) or blocks (a plain open of a FIFO) on a tree the kernel could
// not have made, so that every file it would touch had to be checked first. What vflaunch asks
// of a device is a few attributes and links: it reads those itself, one open, read and close
// for an attribute, one readlink for a link, each once, and only when a caller asks. libpci
// does what it is good at: the names in pci.ids.
#include "inventory.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pci/pci.h>

#include "errbuf.h"
#include "sysfs.h"
#include "vfio.h"

/* libpci's error handler must not return (PCI_NONRET). Name lookups and config reads call it
 * only when malloc fails inside libpci: report and abort, a last resort rather than an exit()
 * that would skip the caller's cleanup silently. Shared with acs.c. */
void inventory_libpci_error(char *msg, ...)
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

/* Warnings (a pci.ids that cannot be read, a config read that fails) are not failures: the
 * names stay unknown, a capability not found (callers check readability first). */
void inventory_libpci_warning(char *msg, ...)
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

/* The path of a device's attribute into path (1024 bytes, as libpci's): sysfs_path's
 * "%s/bus/pci/devices/%s/%s" and its -ENAMETOOLONG, put together without printf, which cost
 * more than the read it names when a listing reads thousands. */
static int attr_path(char *path, const struct inventory *inv, const char *name, const char *attr)
{
	static const char mid[] = "/bus/pci/devices/";
	const char *parts[] = { inv->root, mid, name, "/", attr };
	size_t len = 0;

	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		size_t n = strlen(parts[i]);

		if (len + n >= 1024) {
			path[0] = '\0';
			return -ENAMETOOLONG;
		}
		memcpy(path + len, parts[i], n);
		len += n;
	}
	path[len] = '\0';
	return (int)len;
}

/* Why a read said -EINVAL: the readers refuse what is not a regular file that way, and the
 * number parser text that is not a number. */
static const char *why_invalid(const char *path, const char *otherwise)
{
	struct stat sb;

	return stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) ? "not a regular file" : otherwise;
}

/* An id attribute (vendor, device: 4 hex digits; class: 6), which every device has. The
 * messages are those of the libpci scan this replaced. */
static int read_id(const struct inventory *inv, const char *name, const char *attr,
                   size_t digits, unsigned *value, char *err, size_t errlen)
{
	char path[1024], text[16];
	int n = attr_path(path, inv, name, attr);

	if (n >= 0)
		n = sysfs_read_attr(path, text, sizeof text);
	if (n < 0 && n != -EOVERFLOW) {
		errbuf_printf(err, errlen, "libpci: cannot read %s: %s", path,
		              n == -EINVAL ? "not a regular file" : strerror(-n));
		return -1;
	}
	if (n < 0 || !id_ok(text, digits)) {
		errbuf_printf(err, errlen, "libpci: %s: not an id (0x and %zu hex digits)", path, digits);
		return -1;
	}
	*value = (unsigned)strtoul(text + 2, NULL, 16);
	return 0;
}

/* An integer attribute: 1 with the value, 0 when absent, -1 with a message naming the file
 * when it is anything but an integer in lo..hi. */
static int read_int(const struct inventory *inv, const char *name, const char *attr, long lo,
                    long hi, int *value, char *err, size_t errlen)
{
	char path[1024], text[64], range[64];
	long v = 0;
	int rc = attr_path(path, inv, name, attr);

	if (rc >= 0 && (rc = sysfs_read_attr(path, text, sizeof text)) == -ENOENT)
		return 0;
	if (rc >= 0)
		rc = sysfs_parse_long(text, rc, &v);
	if (rc >= 0 && (v < lo || v > hi))
		rc = -ERANGE;
	if (rc < 0) {
		snprintf(range, sizeof range, "not an integer in %ld..%ld", lo, hi);
		errbuf_printf(err, errlen, "%s: %s", path, rc == -ERANGE ? range :
		              rc == -EINVAL ? why_invalid(path, range) : strerror(-rc));
		return -1;
	}
	*value = (int)v;
	return 1;
}

/* A link that must point to a PCI device (physfn, virtfnN): its target's name, which must be
 * a canonical address. 1, 0 when the link is absent, -1 with a message. dirfd: the device's
 * directory when the caller has it open (the link is read relative to it), else -1. */
static int read_addr_link(const struct inventory *inv, const char *name, int dirfd,
                          const char *link, char out[PCI_ADDR_LEN + 1], char *err, size_t errlen)
{
	char path[1024];
	int n = attr_path(path, inv, name, link);

	if (n >= 0)
		n = dirfd >= 0 ? sysfs_link_name_at(dirfd, link, out, PCI_ADDR_LEN + 1) :
		                 sysfs_link_name(path, out, PCI_ADDR_LEN + 1);
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

/* subsystem_vendor and subsystem_device: both or neither (kernels give both). */
static int read_subsys(const struct inventory *inv, struct pci_device *p, char *err, size_t errlen)
{
	char path[1024], text[16];
	const char *attrs[] = { "subsystem_vendor", "subsystem_device" };
	unsigned *out[] = { &p->subsys_vendor, &p->subsys_device };

	for (int i = 0; i < 2; i++) {
		int n = attr_path(path, inv, p->name, attrs[i]);

		if (n >= 0 && (n = sysfs_read_attr(path, text, sizeof text)) == -ENOENT)
			return 0;
		if (n < 0 && n != -EOVERFLOW) {
			errbuf_printf(err, errlen, "%s: %s", path,
			              n == -EINVAL ? "not a regular file" : strerror(-n));
			return -1;
		}
		if (n < 0 || !id_ok(text, 4)) {
			errbuf_printf(err, errlen, "%s: not an id (0x and 4 hex digits)", path);
			return -1;
		}
		*out[i] = (unsigned)strtoul(text + 2, NULL, 16);
	}
	return 0;
}

/* Byte 0x0e of config space: 0 when config cannot be read (a short or unreadable file), an
 * error only when it is not a regular file. */
static int read_header(const struct inventory *inv, struct pci_device *p, char *err, size_t errlen)
{
	char path[1024];
	unsigned char hdr;
	int n = attr_path(path, inv, p->name, "config");

	if (n >= 0)
		n = sysfs_read_offset(path, &hdr, 1, 0x0e);
	if (n == -EINVAL) {
		errbuf_printf(err, errlen, "libpci: %s: not a regular file", path);
		return -1;
	}
	p->header_type = n == 1 ? hdr & 0x7f : 0;
	return 0;
}

/* The driver link's last component: "" when absent, an error when it is not a driver name. */
static int read_driver(const struct inventory *inv, struct pci_device *p, char *err, size_t errlen)
{
	char path[1024];
	int n = attr_path(path, inv, p->name, "driver");

	if (n >= 0)
		n = sysfs_link_name(path, p->driver, sizeof p->driver);
	if (n == -ENOENT)
		return 0;
	if (n < 0 || !vfio_driver_ok(p->driver)) {
		p->driver[0] = '\0';
		errbuf_printf(err, errlen, "%s: the link does not name a kernel driver", path);
		return -1;
	}
	return 0;
}

/* The iommu_group link's last component, a group number; -1 when absent or not a number. */
static void read_group(const struct inventory *inv, struct pci_device *p)
{
	char path[1024], text[32], *end;
	long g;
	int n = attr_path(path, inv, p->name, "iommu_group");

	if (n >= 0)
		n = sysfs_link_name(path, text, sizeof text);
	if (n <= 0 || !isdigit((unsigned char)text[0]))
		return;
	g = strtol(text, &end, 10);
	if (*end == '\0' && g >= 0 && g <= 0x7fffffff)
		p->iommu_group = (int)g;
}

/* A device's driver_override: "" when none (the kernel shows "(null)") or absent (kernels
 * before 3.16); anything but a driver name is a corrupt tree. */
static int read_override(const struct inventory *inv, struct pci_device *p, char *err,
                         size_t errlen)
{
	char path[1024];
	int n = attr_path(path, inv, p->name, "driver_override");

	if (n >= 0)
		n = sysfs_read_attr(path, p->driver_override, sizeof p->driver_override);
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

/* SR-IOV counts (u16 in the kernel): none of them unless sriov_totalvfs is there. */
static int read_sriov(const struct inventory *inv, struct pci_device *p, char *err, size_t errlen)
{
	char path[1024];
	int rc = read_int(inv, p->name, "sriov_totalvfs", 0, 65535, &p->sriov_totalvfs, err, errlen);

	if (rc <= 0)
		return rc;
	if (read_int(inv, p->name, "sriov_numvfs", 0, 65535, &p->sriov_numvfs, err, errlen) < 0 ||
	    read_int(inv, p->name, "sriov_offset", 0, 65535, &p->sriov_offset, err, errlen) < 0 ||
	    read_int(inv, p->name, "sriov_stride", 0, 65535, &p->sriov_stride, err, errlen) < 0)
		return -1;
	if (p->sriov_numvfs < 0)
		p->sriov_numvfs = 0;
	if (p->sriov_numvfs > p->sriov_totalvfs) {
		attr_path(path, inv, p->name, "sriov_numvfs");
		errbuf_printf(err, errlen, "%s: %d VFs enabled, more than sriov_totalvfs (%d)", path,
		              p->sriov_numvfs, p->sriov_totalvfs);
		return -1;
	}
	return 0;
}

/* prefix and the decimal digits of n into out (32 bytes), as "%s%zu" but without printf: a
 * PF with 127 VFs names 128 links. */
static void link_name(char out[32], const char *prefix, size_t n)
{
	char digits[24];
	size_t len = strlen(prefix), k = 0;

	do
		digits[k++] = (char)('0' + n % 10);
	while ((n /= 10) && k < sizeof digits);
	memcpy(out, prefix, len);
	while (k)
		out[len++] = digits[--k];
	out[len] = '\0';
}

/* The virtfnN links, dense from 0: the first missing one ends them. Once virtfn0 is there,
 * the others are read relative to the PF's directory, opened for the loop and closed before it
 * returns: a path from the root per link took the kernel a third longer (its walk crosses the
 * devices/X symlink each time), 127 times per PF; a device with no VFs still costs one failed
 * readlink. When the directory cannot be opened, each link is read by its path, as before, for
 * the same results and messages. */
static int read_vfs(const struct inventory *inv, struct pci_device *p, char *err, size_t errlen)
{
	char dir[1024];
	int dirfd = -1, rc;

	for (size_t i = 0;; i++) {
		char link[32], vf[PCI_ADDR_LEN + 1];

		if (i == 1 && attr_path(dir, inv, p->name, "") >= 0)
			dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		link_name(link, "virtfn", i);
		if ((rc = read_addr_link(inv, p->name, dirfd, link, vf, err, errlen)) <= 0)
			break;
		if ((p->nvfs & (p->nvfs - 1)) == 0) { /* grow at powers of two */
			size_t cap = p->nvfs ? p->nvfs * 2 : 8;
			void *grown = realloc(p->vfs, cap * sizeof *p->vfs);

			if (!grown) {
				errbuf_printf(err, errlen, "%s: out of memory", p->name);
				rc = -1;
				break;
			}
			p->vfs = grown;
		}
		memcpy(p->vfs[p->nvfs++], vf, sizeof vf);
	}
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}

/* A VF's physfn must lead to an SR-IOV PF in the same tree, not to itself or another VF
 * (a loop would show a PF as "VF of" its own VF). */
static int check_physfn(struct inventory *inv, const struct pci_device *p, char *err,
                        size_t errlen)
{
	struct pci_device *pf;
	char path[1024];
	const char *why;

	if (!p->physfn[0])
		return 0;
	if (strcmp(p->physfn, p->name) == 0)
		why = "points to the device itself";
	else if (!(pf = inventory_find(inv, p->physfn)))
		why = "points to a device that is not in bus/pci/devices";
	else if (inventory_read(inv, pf, INV_SRIOV | INV_PHYSFN_LINK, err, errlen) < 0)
		return -1;
	else if (pf->sriov_totalvfs < 0 || pf->physfn[0])
		why = "points to a device that is not an SR-IOV PF";
	else
		return 0;
	attr_path(path, inv, p->name, "physfn");
	errbuf_printf(err, errlen, "%s: %s (%s)", path, why, p->physfn);
	return -1;
}

/* libpci for pci.ids lookups, made on the first one (pci.ids is loaded then, so a run that
 * shows no name never reads the file); NULL when out of memory, and the names stay unknown. */
static struct pci_access *names(struct inventory *inv)
{
	if (!inv->names && (inv->names = pci_alloc())) {
		inv->names->error = inventory_libpci_error;
		inv->names->warning = inventory_libpci_warning;
		/* The names come from pci.ids, as the struct promises, not from udev's hwdb. */
		inv->names->id_lookup_mode = PCI_LOOKUP_NO_HWDB;
	}
	return inv->names;
}

/* A name from pci.ids in at most size bytes (the sizes the names always had: what libpci
 * says of a longer one stays the same), "" when it has none; NULL only when out of memory. */
static char *lookup(struct pci_access *a, int size, int flags, int id1, int id2)
{
	char buf[192];

	if (!a || !pci_lookup_name(a, buf, size, flags | PCI_LOOKUP_NO_NUMBERS, id1, id2))
		buf[0] = '\0';
	return strdup(buf);
}

/* The names of the ids (INV_NAMES), or of the class (INV_CLASS_NAME): describe() shows the
 * first two alone, and the class takes a file of its own to read. */
static int read_names(struct inventory *inv, struct pci_device *p, unsigned what, char *err,
                      size_t errlen)
{
	struct pci_access *a = names(inv);

	const struct pci_device *last = inv->named;

	if (what == INV_NAMES && last && last->vendor == p->vendor && last->device == p->device) {
		/* A PF's VFs, listed one after the other, share their ids and so their names. */
		p->vendor_name = strdup(last->vendor_name);
		p->device_name = strdup(last->device_name);
	} else if (what == INV_NAMES) {
		p->vendor_name = lookup(a, 128, PCI_LOOKUP_VENDOR, (int)p->vendor, 0);
		p->device_name = lookup(a, 192, PCI_LOOKUP_DEVICE, (int)p->vendor, (int)p->device);
	} else {
		p->class_name = lookup(a, 96, PCI_LOOKUP_CLASS, (int)(p->class >> 8), 0);
	}
	if (what == INV_NAMES ? !p->vendor_name || !p->device_name : !p->class_name) {
		errbuf_printf(err, errlen, "%s: out of memory", p->name);
		return -1;
	}
	if (what == INV_NAMES)
		inv->named = p;
	return 0;
}

static int read_one(struct inventory *inv, struct pci_device *p, unsigned what, char *err,
                    size_t errlen)
{
	switch (what) {
	case INV_VENDOR:
		return read_id(inv, p->name, "vendor", 4, &p->vendor, err, errlen);
	case INV_DEVICE:
		return read_id(inv, p->name, "device", 4, &p->device, err, errlen);
	case INV_CLASS:
		return read_id(inv, p->name, "class", 6, &p->class, err, errlen);
	case INV_SUBSYS:
		return read_subsys(inv, p, err, errlen);
	case INV_HEADER:
		return read_header(inv, p, err, errlen);
	case INV_NAMES:
		if (inventory_read(inv, p, INV_VENDOR | INV_DEVICE, err, errlen) < 0)
			return -1;
		return read_names(inv, p, what, err, errlen);
	case INV_CLASS_NAME:
		if (inventory_read(inv, p, INV_CLASS, err, errlen) < 0)
			return -1;
		return read_names(inv, p, what, err, errlen);
	case INV_DRIVER:
		return read_driver(inv, p, err, errlen);
	case INV_OVERRIDE:
		return read_override(inv, p, err, errlen);
	case INV_GROUP:
		read_group(inv, p);
		return 0;
	case INV_NUMA:
		return read_int(inv, p->name, "numa_node", -1, 0x7fffffff, &p->numa_node, err,
		                errlen) < 0 ? -1 : 0;
	case INV_SRIOV:
		return read_sriov(inv, p, err, errlen);
	case INV_PHYSFN_LINK:
		return read_addr_link(inv, p->name, -1, "physfn", p->physfn, err, errlen) < 0 ? -1 : 0;
	case INV_PHYSFN:
		if (inventory_read(inv, p, INV_PHYSFN_LINK, err, errlen) < 0)
			return -1;
		return check_physfn(inv, p, err, errlen);
	case INV_VFS:
		return read_vfs(inv, p, err, errlen);
	}
	return 0;
}

int inventory_read(struct inventory *inv, struct pci_device *p, unsigned what, char *err,
                   size_t errlen)
{
	for (unsigned bit = 1; bit <= INV_PHYSFN_LINK; bit <<= 1) {
		if (!(what & bit) || (p->known & bit))
			continue;
		if (read_one(inv, p, bit, err, errlen) < 0)
			return -1;
		p->known |= bit;
	}
	return 0;
}

/* The name of an entry of bus/pci/devices: the kernel's canonical address, nothing else. */
static int check_entry_name(const char *dir, const char *name, struct pci_addr *a, char *err,
                            size_t errlen)
{
	const char *why;

	if (pci_addr_decode(name, a))
		return 0; /* the kernel's form, one pass: what a real tree holds */
	if (pci_addr_parse(name, a, &why) < 0) {
		errbuf_printf(err, errlen, "libpci: %s/%s: not a PCI address: %s", dir, name, why);
		return -1;
	}
	/* An address, but not the kernel's form: pci_addr_decode took only that. */
	errbuf_printf(err, errlen, "libpci: %s/%s: not a PCI address in the kernel's form "
	              "dddd:bb:dd.f (lower-case hex, all digits)", dir, name);
	return -1;
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

/* An address as one number in address order, for sorting a listing. */
static unsigned addr_key(const struct pci_addr *a)
{
	return a->domain << 16 | a->bus << 8 | a->dev << 3 | a->func;
}

static int cmp_key(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static struct pci_addr key_addr(unsigned k)
{
	return (struct pci_addr){ .domain = k >> 16, .bus = k >> 8 & 0xff, .dev = k >> 3 & 0x1f,
	                          .func = k & 7 };
}

int inventory_list(const char *sysfs_root, struct inventory *inv, char *err, size_t errlen)
{
	char dir[1024];
	unsigned *keys = NULL;
	struct pci_addr a;
	struct dirent *e;
	size_t n = 0, cap = 0;
	DIR *d;
	int rc = 0;

	memset(inv, 0, sizeof *inv);
	if (err && errlen)
		err[0] = '\0';
	/* Paths of attributes are built in 1024 bytes: leave room for an entry and a name. */
	if (!sysfs_root || sysfs_path(dir, sizeof dir - 64, "%s/bus/pci/devices", sysfs_root) < 0) {
		errbuf_printf(err, errlen, "libpci: sysfs root path is missing or too long");
		return -1;
	}
	if (!(d = opendir(dir))) {
		errbuf_printf(err, errlen, "libpci: cannot open %s: %s", dir, strerror(errno));
		return -1;
	}
	/* The addresses first, sorted while they are small (4-byte keys, not a device's struct:
	 * fresh memory is what a listing costs most), then one array of devices in that order. */
	while (rc == 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue; /* ".", "..", or a special non-device, as libpci skips them */
		if (n == cap) {
			void *grown = realloc(keys, (cap = cap ? cap * 2 : 256) * sizeof *keys);

			if (!grown) {
				errbuf_printf(err, errlen, "libpci: out of memory for %zu devices", cap);
				rc = -1;
				break;
			}
			keys = grown;
		}
		if ((rc = check_entry_name(dir, e->d_name, &a, err, errlen)) == 0)
			keys[n++] = addr_key(&a);
	}
	closedir(d);
	if (rc == 0 && n) {
		qsort(keys, n, sizeof *keys, cmp_key);
		inv->devs = calloc(n, sizeof *inv->devs);
		inv->root = strdup(sysfs_root);
		if (!inv->devs || !inv->root) {
			errbuf_printf(err, errlen, "libpci: out of memory for %zu devices", n);
			rc = -1;
		}
	} else if (rc == 0 && !(inv->root = strdup(sysfs_root))) {
		errbuf_printf(err, errlen, "libpci: out of memory");
		rc = -1;
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct pci_device *p = &inv->devs[i];

		p->addr = key_addr(keys[i]);
		pci_addr_format(&p->addr, p->name, sizeof p->name); /* the entry's canonical name */
		p->iommu_group = p->numa_node = -1;
		p->sriov_totalvfs = p->sriov_numvfs = p->sriov_offset = p->sriov_stride = -1;
	}
	free(keys);
	if (rc < 0) {
		inventory_free(inv);
		return -1;
	}
	inv->count = n;
	return 0;
}

int inventory_scan(const char *sysfs_root, struct inventory *inv, char *err, size_t errlen)
{
	if (inventory_list(sysfs_root, inv, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < inv->count; i++)
		if (inventory_read(inv, &inv->devs[i], INV_ALL, err, errlen) < 0) {
			inventory_free(inv);
			return -1;
		}
	return 0;
}

void inventory_free(struct inventory *inv)
{
	if (!inv)
		return;
	for (size_t i = 0; i < inv->count; i++) {
		free(inv->devs[i].vfs);
		free(inv->devs[i].vendor_name);
		free(inv->devs[i].device_name);
		free(inv->devs[i].class_name);
	}
	free(inv->devs);
	free(inv->root);
	if (inv->names)
		pci_cleanup(inv->names);
	inv->devs = NULL;
	inv->count = 0;
	inv->root = NULL;
	inv->names = NULL;
	inv->named = NULL;
}

struct pci_device *inventory_find(const struct inventory *inv, const char *name)
{
	struct pci_device key;
	const char *why;

	if (!inv || !inv->count || pci_addr_parse(name, &key.addr, &why) < 0)
		return NULL;
	return bsearch(&key, inv->devs, inv->count, sizeof *inv->devs, cmp_dev);
}
