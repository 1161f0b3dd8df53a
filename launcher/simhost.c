// SPDX-License-Identifier: MIT
// Simulated hosts: fake sysfs trees, generated from data tables, that libpci, lspci and vflaunch read.
// A PF on a network driver gets a netdev (write_netdev: names, ifindex, speed).
#include "simhost.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pciaddr.h"
#include "sysfs.h"

/* ---------------------------------------------------------------------------------------
 * The tables. One row per physical device, parents before children; a PF row also makes
 * its enabled VFs, placed as the hardware places them: routing ID = PF's ID + offset +
 * stride * i (the bus may carry over). A VF's directory is a sibling of its PF's, as in
 * the kernel. IOMMU groups: a row gives a number, or AUTO for a group of its own; AUTO
 * numbers start after the highest explicit number of the host, in table order.
 * --------------------------------------------------------------------------------------- */

#define AUTO (-2)  /* a fresh IOMMU group of its own */
#define NOGRP (-1) /* no IOMMU group at all */

struct simdev {
	const char *addr;         /* "0002:81:00.0" */
	const char *parent;       /* upstream bridge's address; NULL: on a root bus */
	uint16_t vendor, device;
	uint32_t class;           /* 24 bits, as the sysfs "class" attribute */
	uint16_t ss_vendor, ss_device;
	uint8_t revision;
	uint8_t header;           /* config 0x0e: 0x00 endpoint, 0x80 multifunction, 0x01 bridge */
	uint8_t secbus;           /* bridges: secondary (= subordinate) bus */
	const char *driver;       /* NULL: unbound */
	int group;                /* IOMMU group, AUTO or NOGRP */
	int numa;                 /* -1: none */
	/* SR-IOV; totalvfs 0 means not capable */
	int totalvfs, numvfs;
	uint16_t vf_offset, vf_stride, vf_device;
	const char *vf_driver;    /* every VF's driver unless vf_drivers says otherwise */
	const int *vf_groups;     /* per VF; NULL: each VF AUTO */
	const char *const *vf_drivers; /* per VF; NULL: vf_driver for all */
};

/* A device with the ACS extended capability (bridges): its two registers. */
struct simacs {
	const char *addr;
	uint16_t cap, ctrl;
};

struct simhost {
	const char *name;
	const char *description;
	const struct simdev *devs;
	size_t ndevs;
	const struct simacs *acs;     /* the devices with ACS; NULL: none has it */
	size_t nacs;
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Columns of every table row below, in order:
 *   addr, parent, vendor, device, class, ss_vendor, ss_device, revision, header, secbus,
 *   driver, group, numa, totalvfs, numvfs, vf_offset, vf_stride, vf_device, vf_driver,
 *   vf_groups, vf_drivers */

/* The seed's host: a dual-port 82599 in domain 0002 behind a Sky Lake-E root port on NUMA
 * node 1, 63 VFs per port on vfio-pci, each device in its own group, plus the ordinary
 * devices any server has in domain 0000. */
static const struct simdev host_82599[] = {
	{ "0000:00:00.0", NULL, 0x8086, 0x2020, 0x060000, 0x8086, 0x0000, 0x04, 0x00, 0, NULL, AUTO, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL },
	{ "0000:00:17.0", NULL, 0x8086, 0xa182, 0x010601, 0x8086, 0x7270, 0x09, 0x00, 0, "ahci", AUTO, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL },
	{ "0000:00:1c.0", NULL, 0x8086, 0xa190, 0x060400, 0x8086, 0x7270, 0xf9, 0x01, 0x01, "pcieport", AUTO, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL },
	{ "0000:00:1c.4", NULL, 0x8086, 0xa194, 0x060400, 0x8086, 0x7270, 0xf9, 0x01, 0x02, "pcieport", AUTO, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL },
	{ "0000:01:00.0", "0000:00:1c.0", 0x144d, 0xa808, 0x010802, 0x144d, 0xa801, 0x00, 0x00, 0, "nvme", AUTO, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL },
	{ "0000:02:00.0", "0000:00:1c.4", 0x1a03, 0x2000, 0x030000, 0x1a03, 0x2000, 0x41, 0x00, 0, "ast", AUTO, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL },
	{ "0002:80:02.0", NULL, 0x8086, 0x2032, 0x060400, 0x8086, 0x0000, 0x04, 0x01, 0x81, "pcieport", AUTO, 1, 0, 0, 0, 0, 0, NULL, NULL, NULL },
	{ "0002:81:00.0", "0002:80:02.0", 0x8086, 0x10fb, 0x020000, 0x8086, 0x0003, 0x01, 0x80, 0, "ixgbe", AUTO, 1, 63, 63, 0x80, 2, 0x10ed, "vfio-pci", NULL, NULL },
	{ "0002:81:00.1", "0002:80:02.0", 0x8086, 0x10fb, 0x020000, 0x8086, 0x0003, 0x01, 0x80, 0, "ixgbe", AUTO, 1, 63, 63, 0x80, 2, 0x10ed, "vfio-pci", NULL, NULL },
};

/* Scale: 16 ConnectX-5 PFs, each alone on its own root bus, 8 in domain 0000 on NUMA node 0
 * and 8 in domain 0001 on node 1; 127 VFs each (offset 1, stride 1) on vfio-pci. */
#define CX5(addr, node) \
	{ addr, NULL, 0x15b3, 0x1017, 0x020000, 0x15b3, 0x0007, 0x00, 0x80, 0, "mlx5_core", AUTO, node, \
	  127, 127, 1, 1, 0x1018, "vfio-pci", NULL, NULL }
static const struct simdev host_large[] = {
	CX5("0000:11:00.0", 0), CX5("0000:12:00.0", 0), CX5("0000:13:00.0", 0), CX5("0000:14:00.0", 0),
	CX5("0000:15:00.0", 0), CX5("0000:16:00.0", 0), CX5("0000:17:00.0", 0), CX5("0000:18:00.0", 0),
	CX5("0001:91:00.0", 1), CX5("0001:92:00.0", 1), CX5("0001:93:00.0", 1), CX5("0001:94:00.0", 1),
	CX5("0001:95:00.0", 1), CX5("0001:96:00.0", 1), CX5("0001:97:00.0", 1), CX5("0001:98:00.0", 1),
};

/* IOMMU viability fixture. Contract (tests rely on it):
 *   group 0   0000:00:00.0  host bridge, no driver
 *   group 1   0000:00:01.0  root port (pcieport), secondary bus 03
 *   group 2   0000:00:02.0  root port (pcieport), secondary bus 04
 *   group 10  0000:03:00.0  82599 PF, ixgbe, sriov_totalvfs 8, sriov_numvfs 4
 *   group 11  0000:03:10.0  VF 0, vfio-pci  } shared, both on vfio-pci: viable
 *             0000:03:10.2  VF 1, vfio-pci  }
 *   group 12  0000:03:10.4  VF 2, vfio-pci  } shared with a NIC still on its host
 *             0000:04:00.0  82574L, e1000e  } driver: not viable
 *   group 13  0000:03:10.6  VF 3, ixgbevf   alone, but on a host driver: not viable yet */
static const int shared_vf_groups[] = { 11, 11, 12, 13 };
static const char *const shared_vf_drivers[] = { "vfio-pci", "vfio-pci", "vfio-pci", "ixgbevf" };
static const struct simdev host_shared[] = {
	{ "0000:00:00.0", NULL, 0x8086, 0x2020, 0x060000, 0x8086, 0x0000, 0x04, 0x00, 0, NULL, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL },
	{ "0000:00:01.0", NULL, 0x8086, 0x2030, 0x060400, 0x8086, 0x0000, 0x04, 0x01, 0x03, "pcieport", 1, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL },
	{ "0000:00:02.0", NULL, 0x8086, 0x2032, 0x060400, 0x8086, 0x0000, 0x04, 0x01, 0x04, "pcieport", 2, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL },
	{ "0000:03:00.0", "0000:00:01.0", 0x8086, 0x10fb, 0x020000, 0x8086, 0x0003, 0x01, 0x00, 0, "ixgbe", 10, 0, 8, 4, 0x80, 2, 0x10ed, NULL, shared_vf_groups, shared_vf_drivers },
	{ "0000:04:00.0", "0000:00:02.0", 0x8086, 0x10d3, 0x020000, 0x8086, 0xa01f, 0x00, 0x00, 0, "e1000e", 12, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL },
};

/* ACS switched off. Contract (tests rely on it): QEMU's arm64 virt host booted with a device
 * tree, where Linux 6.1 enables ACS on the root ports only after it has scanned them:
 *   0000:00:01.0  root port, ACS capability SV TB RR CR UF, control 0 (all off), secondary bus 01
 *   group 1       0000:01:00.0  NVMe PF (1b36:0010), nvme, sriov_totalvfs 8, sriov_numvfs 2 }
 *                 0000:01:00.1, 0000:01:00.2  its VFs, no driver                           } one group
 *   0000:00:02.0  root port, the same capability, control SV RR CR UF (on), secondary bus 02
 *   0000:02:00.0  NVMe PF, nvme, 8 VFs possible, 2 enabled, each function in its own group */
static const int acs_off_vf_groups[] = { 1, 1 };
static const struct simdev host_acs_off[] = {
	{ "0000:00:00.0", NULL, 0x1b36, 0x0008, 0x060000, 0x1af4, 0x1100, 0x00, 0x00, 0, NULL, NOGRP, -1, 0, 0, 0, 0, 0, NULL, NULL, NULL },
	{ "0000:00:01.0", NULL, 0x1b36, 0x000c, 0x060400, 0x1b36, 0x0000, 0x00, 0x01, 0x01, "pcieport", 0, -1, 0, 0, 0, 0, 0, NULL, NULL, NULL },
	{ "0000:00:02.0", NULL, 0x1b36, 0x000c, 0x060400, 0x1b36, 0x0000, 0x00, 0x01, 0x02, "pcieport", 2, -1, 0, 0, 0, 0, 0, NULL, NULL, NULL },
	{ "0000:01:00.0", "0000:00:01.0", 0x1b36, 0x0010, 0x010802, 0x1af4, 0x1100, 0x02, 0x00, 0, "nvme", 1, -1, 8, 2, 1, 1, 0x0010, NULL, acs_off_vf_groups, NULL },
	{ "0000:02:00.0", "0000:00:02.0", 0x1b36, 0x0010, 0x010802, 0x1af4, 0x1100, 0x02, 0x00, 0, "nvme", 3, -1, 8, 2, 1, 1, 0x0010, NULL, NULL, NULL },
};
static const struct simacs acs_off_bridges[] = {
	{ "0000:00:01.0", 0x001f, 0x0000 },
	{ "0000:00:02.0", 0x001f, 0x001d },
};

static const struct simhost hosts[] = {
	{ "82599", "dual-port Intel 82599 (8086:10fb), 63 VFs per port on vfio-pci, domain 0002, NUMA node 1",
	  host_82599, N(host_82599), NULL, 0 },
	{ "large", "16 Mellanox ConnectX-5 PFs x 127 VFs (2032 VFs), domains 0000/0001, NUMA nodes 0/1",
	  host_large, N(host_large), NULL, 0 },
	{ "shared-group", "one 82599 PF with 4 VFs in shared and impure IOMMU groups (viability tests)",
	  host_shared, N(host_shared), NULL, 0 },
	{ "acs-off", "arm64 virt booted with a device tree: a root port with ACS off, its NVMe PF and 2 VFs in one IOMMU group",
	  host_acs_off, N(host_acs_off), acs_off_bridges, N(acs_off_bridges) },
};

const struct simhost *simhost_find(const char *name)
{
	for (size_t i = 0; i < N(hosts); i++)
		if (name && strcmp(hosts[i].name, name) == 0)
			return &hosts[i];
	return NULL;
}

struct simhost *simhost_large(int pfs)
{
	struct simhost *h;
	struct simdev *rows;
	char (*addrs)[16];
	int half = (pfs + 1) / 2;

	if (pfs < 1 || pfs > 128)
		return NULL;
	/* One block: the host, its rows, their addresses. */
	h = calloc(1, sizeof *h + (size_t)pfs * (sizeof *rows + sizeof *addrs));
	if (!h)
		return NULL;
	rows = (struct simdev *)(h + 1);
	addrs = (void *)(rows + pfs);
	for (int i = 0; i < pfs; i++) {
		int second = i >= half;

		/* As in host_large: the first half in domain 0000 from bus 11 on node 0, the rest in
		 * 0001 from bus 91 on node 1, each PF alone on its root bus. */
		/* At most 64 PFs a domain: buses 11-50 and 91-d0, a byte (as the compiler is told). */
		unsigned char bus = (unsigned char)((second ? 0x91 : 0x11) + (second ? i - half : i));
		snprintf(addrs[i], sizeof addrs[i], "%04x:%02x:00.0", second, bus);
		rows[i] = host_large[0];
		rows[i].addr = addrs[i];
		rows[i].numa = second;
	}
	h->name = "large:N";
	h->description = "N Mellanox ConnectX-5 PFs x 127 VFs";
	h->devs = rows;
	h->ndevs = (size_t)pfs;
	return h;
}

void simhost_list(FILE *out)
{
	for (size_t i = 0; i < N(hosts); i++)
		fprintf(out, "%s  %s\n", hosts[i].name, hosts[i].description);
}

/* ---------------------------------------------------------------------------------------
 * The generator. Everything is created relative to one directory fd (the *at calls), so no
 * long path is resolved twice: "large" (about 60 000 files) takes 0.4 s on tmpfs. On a
 * busy disk file creation itself dominates (seconds to a minute): point TMPDIR at tmpfs.
 * --------------------------------------------------------------------------------------- */

#define REL_MAX 512
#define CFG_SIZE 4096 /* PCIe config space, so lspci -vv finds the SR-IOV capability */
#define CAP_EXP 0x40  /* where our one capability (PCI Express) sits */
#define ECAP_SRIOV 0x100
#define ECAP_ACS 0x100    /* bridges: no SR-IOV there */

/* One device to write: a table row, or a VF made from one. */
struct node {
	const struct simdev *row; /* the row (for a VF: its PF's) */
	struct pci_addr addr;
	char name[PCI_ADDR_LEN + 1];
	const char *rel;          /* directory, relative to the root */
	const char *driver;
	int group;
	int vf_index;             /* -1 for a row */
};

struct build {
	const struct simhost *host;
	int root;                 /* fd of the tree's root */
	int next_group;
	int next_ifindex;         /* 1 is lo, as on a real host */
	char (*rels)[REL_MAX];    /* each row's directory */
};

static int put_file(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ssize_t n;
	int err = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, data, len);
	if (n < 0)
		err = errno;
	else if ((size_t)n != len)
		err = EIO;
	if (close(fd) < 0 && !err)
		err = errno;
	return -err;
}

static int put_text(int dirfd, const char *name, mode_t mode, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int put_text(int dirfd, const char *name, mode_t mode, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf)
		return -ENAMETOOLONG;
	return put_file(dirfd, name, buf, (size_t)n, mode);
}

/* "../" once per level of rel, so a link made in rel resolves from the tree's root. */
static int up_from(const char *rel, char *buf, size_t size)
{
	size_t depth = 1, len = 0;

	for (const char *p = rel; *p; p++)
		depth += *p == '/';
	if (depth * 3 + 1 > size)
		return -ENAMETOOLONG;
	while (depth--) {
		memcpy(buf + len, "../", 3);
		len += 3;
	}
	buf[len] = '\0';
	return 0;
}

/* A symlink named name in directory dir (relative to root), holding target as given. */
static int symlink_in(int root, const char *dir, const char *name, const char *target)
{
	char at[REL_MAX];

	if (sysfs_path(at, sizeof at, "%s/%s", dir, name) < 0)
		return -ENAMETOOLONG;
	if (symlinkat(target, root, at) < 0)
		return -errno;
	return 0;
}

/* A symlink in directory dir (relative to root) to target (relative to root). */
static int link_at(int root, const char *dir, const char *name, const char *target)
{
	char up[REL_MAX], to[REL_MAX];

	if (up_from(dir, up, sizeof up) < 0 || sysfs_path(to, sizeof to, "%s%s", up, target) < 0)
		return -ENAMETOOLONG;
	return symlink_in(root, dir, name, to);
}

static void put16(uint8_t *c, unsigned off, unsigned v) { c[off] = v & 0xff; c[off + 1] = (v >> 8) & 0xff; }
static void put32(uint8_t *c, unsigned off, uint32_t v) { put16(c, off, v & 0xffff); put16(c, off + 2, v >> 16); }

/* The config space libpci reads for everything but the ids and class (which it takes from
 * the attributes, as the kernel may fix those up). */
static void make_config(uint8_t *c, const struct node *n, unsigned vendor, unsigned device,
                        const struct simacs *acs)
{
	const struct simdev *r = n->row;
	int vf = n->vf_index >= 0;
	unsigned type = (r->header & 0x7f) == 1 ? 4 : 0; /* root port, or endpoint */

	memset(c, 0, CFG_SIZE);
	put16(c, 0x00, vendor);
	put16(c, 0x02, device);
	put16(c, 0x04, vf ? 0x0000 : 0x0406);  /* memory space, bus master (VFs: set by SR-IOV) */
	put16(c, 0x06, 0x0010);                /* capability list present */
	c[0x08] = r->revision;
	c[0x09] = r->class & 0xff;
	c[0x0a] = (r->class >> 8) & 0xff;
	c[0x0b] = (r->class >> 16) & 0xff;
	c[0x0e] = vf ? 0x00 : r->header;
	if ((r->header & 0x7f) == 1) {
		c[0x18] = n->addr.bus;
		c[0x19] = r->secbus;
		c[0x1a] = r->secbus;
	} else {
		put16(c, 0x2c, r->ss_vendor);
		put16(c, 0x2e, r->ss_device);
		c[0x3d] = vf ? 0 : 1;          /* INTA# (VFs have no INTx) */
	}
	c[0x34] = CAP_EXP;
	c[CAP_EXP] = 0x10;                      /* PCI Express, last in the list */
	put16(c, CAP_EXP + 2, 0x0002 | type << 4);
	put32(c, CAP_EXP + 0x0c, 0x03 | 8 << 4); /* link: 8 GT/s x8 */
	put16(c, CAP_EXP + 0x12, 0x03 | 8 << 4);
	if (!vf && r->totalvfs > 0) {
		unsigned s = ECAP_SRIOV;

		put32(c, s, 0x0010 | 1 << 16);  /* SR-IOV, version 1, last extended capability */
		put16(c, s + 0x08, r->numvfs ? 0x0009 : 0); /* VF enable, VF memory space */
		put16(c, s + 0x0c, (unsigned)r->totalvfs);   /* initial VFs */
		put16(c, s + 0x0e, (unsigned)r->totalvfs);
		put16(c, s + 0x10, (unsigned)r->numvfs);
		put16(c, s + 0x14, r->vf_offset);
		put16(c, s + 0x16, r->vf_stride);
		put16(c, s + 0x1a, r->vf_device);
		put32(c, s + 0x1c, 0x553);              /* supported page sizes */
		put32(c, s + 0x20, 0x1);                /* 4 KiB */
	}
	if (acs && !vf) {
		put32(c, ECAP_ACS, 0x000d | 1 << 16);   /* ACS, version 1, last extended capability */
		put16(c, ECAP_ACS + 4, acs->cap);
		put16(c, ECAP_ACS + 6, acs->ctrl);
	}
}

/* The host's ACS row of a device, NULL when it has none. */
static const struct simacs *find_acs(const struct simhost *h, const char *name)
{
	for (size_t i = 0; h && i < h->nacs; i++)
		if (strcmp(h->acs[i].addr, name) == 0)
			return &h->acs[i];
	return NULL;
}

/* Thirteen "start end flags" lines, as the kernel prints for BARs, ROM and bridge windows;
 * nothing is assigned in a simulation. */
static const char resource_text[] =
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n";

/* bus/pci/drivers/<name> with the files the kernel gives every PCI driver. */
static int ensure_driver(int root, const char *drv)
{
	static const char *const files[] = { "bind", "unbind", "new_id", "remove_id" };
	char rel[REL_MAX];
	int dfd, err = 0;

	if (sysfs_path(rel, sizeof rel, "bus/pci/drivers/%s", drv) < 0)
		return -ENAMETOOLONG;
	if (mkdirat(root, rel, 0755) < 0)
		return errno == EEXIST ? 0 : -errno;
	dfd = openat(root, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	for (size_t i = 0; i < N(files) && !err; i++)
		err = put_file(dfd, files[i], "", 0, 0200);
	close(dfd);
	return err;
}

/* PF network drivers and their link speed (Mb/s): a PF on one of these gets a netdev. */
static const struct { const char *driver; int speed; } netdrivers[] = {
	{ "ixgbe", 10000 }, { "mlx5_core", 100000 }, { "igb", 1000 }, { "e1000e", 1000 },
	{ "i40e", 40000 }, { "ice", 100000 },
};

/* A PF's netdev, as the kernel shows it under the device: net/<ifname>/ with ifindex, address,
 * operstate, flags and speed (what vfnet.c, hostcheck.c and netsim.c's simulated rtnetlink
 * read; the VFs' admin state is netsim.c's, absent until set). Names are systemd's predictable PCI names,
 * en[P<domain>]p<bus>s<slot>[f<function>] (function shown for multi-function devices, domain
 * when not 0: the 82599 host's ports are enP2p129s0f0 and enP2p129s0f1), ifindex 2 onwards in
 * table order, link up, a locally administered MAC made from the address. VFs on a host driver
 * get no netdev. */
static int write_netdev(struct build *b, const struct node *n)
{
	const struct simdev *r = n->row;
	char name[48], rel[REL_MAX];
	int speed = 0, d, err;

	for (size_t i = 0; i < N(netdrivers); i++)
		if (n->driver && strcmp(n->driver, netdrivers[i].driver) == 0)
			speed = netdrivers[i].speed;
	if (!speed || (r->class >> 16) != 0x02)
		return 0;
	if (n->addr.domain)
		snprintf(name, sizeof name, "enP%up%us%u", n->addr.domain, n->addr.bus, n->addr.dev);
	else
		snprintf(name, sizeof name, "enp%us%u", n->addr.bus, n->addr.dev);
	if ((r->header & 0x80) || n->addr.func)
		snprintf(name + strlen(name), sizeof name - strlen(name), "f%u", n->addr.func);
	if (strlen(name) > 15)    /* IFNAMSIZ; systemd falls back to the kernel's name then */
		snprintf(name, sizeof name, "eth%d", b->next_ifindex - 2);
	if (sysfs_path(rel, sizeof rel, "%s/net", n->rel) < 0)
		return -ENAMETOOLONG;
	if (mkdirat(b->root, rel, 0755) < 0)
		return -errno;
	if (sysfs_path(rel, sizeof rel, "%s/net/%s", n->rel, name) < 0)
		return -ENAMETOOLONG;
	if (mkdirat(b->root, rel, 0755) < 0)
		return -errno;
	d = openat(b->root, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return -errno;
	err = put_text(d, "ifindex", 0444, "%d\n", b->next_ifindex++);
	if (!err) err = put_text(d, "address", 0444, "02:%02x:%02x:%02x:%02x:%02x\n",
				 n->addr.domain & 0xff, n->addr.bus, n->addr.dev, n->addr.func, 0);
	if (!err) err = put_text(d, "operstate", 0444, "up\n");
	if (!err) err = put_text(d, "flags", 0644, "0x1003\n");   /* IFF_UP|BROADCAST|MULTICAST */
	if (!err) err = put_text(d, "speed", 0444, "%d\n", speed);
	if (!err) err = put_text(d, "mtu", 0644, "1500\n");
	close(d);
	return err;
}

static int write_node(struct build *b, const struct node *n)
{
	const struct simdev *r = n->row;
	int vf = n->vf_index >= 0;
	unsigned vendor = r->vendor, device = vf ? r->vf_device : r->device;
	uint32_t class = r->class;
	uint8_t config[CFG_SIZE];
	char rel[REL_MAX], target[REL_MAX];
	int d, err = 0;

	if (mkdirat(b->root, n->rel, 0755) < 0)
		return -errno;
	d = openat(b->root, n->rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return -errno;
	make_config(config, n, vendor, device, find_acs(b->host, n->name));
	err = put_file(d, "config", config, sizeof config, 0644);
	if (!err) err = put_text(d, "vendor", 0444, "0x%04x\n", vendor);
	if (!err) err = put_text(d, "device", 0444, "0x%04x\n", device);
	if (!err) err = put_text(d, "class", 0444, "0x%06x\n", class);
	if (!err) err = put_text(d, "revision", 0444, "0x%02x\n", r->revision);
	if (!err) err = put_text(d, "subsystem_vendor", 0444, "0x%04x\n", r->ss_vendor);
	if (!err) err = put_text(d, "subsystem_device", 0444, "0x%04x\n", r->ss_device);
	if (!err) err = put_text(d, "numa_node", 0444, "%d\n", r->numa);
	if (!err) err = put_text(d, "irq", 0444, "%d\n", vf ? 0 : 16 + (n->addr.dev & 7));
	if (!err) err = put_text(d, "enable", 0644, "%d\n", n->driver ? 1 : 0);
	if (!err) err = put_text(d, "driver_override", 0644, "(null)\n");
	if (!err) err = put_text(d, "modalias", 0444, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n",
				 vendor, device, r->ss_vendor, r->ss_device, class >> 16,
				 (class >> 8) & 0xff, class & 0xff);
	if (!err) err = put_file(d, "resource", resource_text, sizeof resource_text - 1, 0444);
	if (!err && !vf && r->totalvfs > 0) {
		err = put_text(d, "sriov_totalvfs", 0444, "%d\n", r->totalvfs);
		if (!err) err = put_text(d, "sriov_numvfs", 0644, "%d\n", r->numvfs);
		if (!err) err = put_text(d, "sriov_offset", 0444, "%u\n", r->vf_offset);
		if (!err) err = put_text(d, "sriov_stride", 0444, "%u\n", r->vf_stride);
		if (!err) err = put_text(d, "sriov_vf_device", 0444, "%04x\n", r->vf_device);
		if (!err) err = put_text(d, "sriov_drivers_autoprobe", 0644, "1\n");
	}
	close(d);
	if (!err && !vf)
		err = write_netdev(b, n);
	if (err)
		return err;

	/* The links, all relative so the tree can be moved or bind-mounted anywhere. */
	if ((err = link_at(b->root, n->rel, "subsystem", "bus/pci")))
		return err;
	if (sysfs_path(rel, sizeof rel, "bus/pci/devices/%s", n->name) < 0 ||
	    sysfs_path(target, sizeof target, "../../../%s", n->rel) < 0)
		return -ENAMETOOLONG;
	if (symlinkat(target, b->root, rel) < 0)
		return -errno;
	if (n->driver) {
		if ((err = ensure_driver(b->root, n->driver)))
			return err;
		if (sysfs_path(rel, sizeof rel, "bus/pci/drivers/%s", n->driver) < 0 ||
		    sysfs_path(target, sizeof target, "bus/pci/drivers/%s", n->driver) < 0)
			return -ENAMETOOLONG;
		if ((err = link_at(b->root, n->rel, "driver", target)) ||
		    (err = link_at(b->root, rel, n->name, n->rel)))
			return err;
	}
	if (n->group >= 0) {
		if (sysfs_path(target, sizeof target, "kernel/iommu_groups/%d", n->group) < 0 ||
		    sysfs_path(rel, sizeof rel, "kernel/iommu_groups/%d/devices", n->group) < 0)
			return -ENAMETOOLONG;
		/* The first member makes the group: its devices/ dir and its type. */
		if (mkdirat(b->root, target, 0755) == 0) {
			if (mkdirat(b->root, rel, 0755) < 0)
				return -errno;
			d = openat(b->root, target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (d < 0)
				return -errno;
			err = put_text(d, "type", 0644, "DMA\n");
			close(d);
			if (err)
				return err;
		} else if (errno != EEXIST) {
			return -errno;
		}
		if ((err = link_at(b->root, n->rel, "iommu_group", target)) ||
		    (err = link_at(b->root, rel, n->name, n->rel)))
			return err;
	}
	return 0;
}

static int find_row(const struct simhost *h, size_t before, const char *addr)
{
	for (size_t j = 0; j < before; j++)
		if (strcmp(h->devs[j].addr, addr) == 0)
			return (int)j;
	return -1;
}

/* A PF's VFs: addresses from routing IDs, directories beside the PF's, physfn/virtfnN. */
static int write_vfs(struct build *b, const struct simdev *r, const struct node *pf)
{
	unsigned pf_rid = pf->addr.bus << 8 | pf->addr.dev << 3 | pf->addr.func;
	size_t dirlen = (size_t)(strrchr(pf->rel, '/') - pf->rel);
	char rel[REL_MAX], link[32], target[32];
	int err;

	for (int i = 0; i < r->numvfs; i++) {
		unsigned rid = pf_rid + r->vf_offset + (unsigned)r->vf_stride * (unsigned)i;
		struct node vf = { .row = r, .rel = rel, .vf_index = i };

		if (rid > 0xffff)
			return -ERANGE; /* the VF would fall off the last bus */
		vf.addr = (struct pci_addr){ pf->addr.domain, rid >> 8, (rid >> 3) & 0x1f, rid & 7 };
		pci_addr_format(&vf.addr, vf.name, sizeof vf.name);
		if (sysfs_path(rel, sizeof rel, "%.*s/%s", (int)dirlen, pf->rel, vf.name) < 0)
			return -ENAMETOOLONG;
		vf.driver = r->vf_drivers ? r->vf_drivers[i] : r->vf_driver;
		vf.group = r->vf_groups ? r->vf_groups[i] : b->next_group++;
		if ((err = write_node(b, &vf)))
			return err;
		/* In the kernel both are siblings' links: physfn -> ../PF, virtfnN -> ../VF. */
		snprintf(target, sizeof target, "../%s", pf->name);
		if ((err = symlink_in(b->root, rel, "physfn", target)))
			return err;
		snprintf(target, sizeof target, "../%s", vf.name);
		snprintf(link, sizeof link, "virtfn%d", i);
		if ((err = symlink_in(b->root, pf->rel, link, target)))
			return err;
	}
	return 0;
}

static int max_group(const struct simhost *h)
{
	int max = -1;

	for (size_t i = 0; i < h->ndevs; i++) {
		const struct simdev *r = &h->devs[i];

		if (r->group > max)
			max = r->group;
		for (int k = 0; r->vf_groups && k < r->numvfs; k++)
			if (r->vf_groups[k] > max)
				max = r->vf_groups[k];
	}
	return max;
}

static int build_rows(struct build *b, const struct simhost *h)
{
	static const char *const dirs[] = { "devices", "bus", "bus/pci", "bus/pci/devices",
					    "bus/pci/drivers", "bus/pci/slots", "kernel",
					    "kernel/iommu_groups" };
	int err;

	for (size_t i = 0; i < N(dirs); i++)
		if (mkdirat(b->root, dirs[i], 0755) < 0)
			return -errno;
	/* Written to by binding (drivers_probe) and by nothing else in a simulation. */
	if ((err = put_file(b->root, "bus/pci/drivers_probe", "", 0, 0200)) ||
	    (err = put_file(b->root, "bus/pci/rescan", "", 0, 0200)) ||
	    (err = put_text(b->root, "bus/pci/drivers_autoprobe", 0644, "1\n")))
		return err;
	b->next_group = max_group(h) + 1;
	b->next_ifindex = 2;

	for (size_t i = 0; i < h->ndevs; i++) {
		const struct simdev *r = &h->devs[i];
		struct node n = { .row = r, .rel = b->rels[i], .driver = r->driver, .vf_index = -1 };
		const char *why;

		if (pci_addr_parse(r->addr, &n.addr, &why) < 0)
			return -EINVAL; /* a table error: the unit test builds every host */
		pci_addr_format(&n.addr, n.name, sizeof n.name);
		if (!r->parent) {
			char bus[32];

			snprintf(bus, sizeof bus, "devices/pci%04x:%02x", n.addr.domain, n.addr.bus);
			if (mkdirat(b->root, bus, 0755) < 0 && errno != EEXIST)
				return -errno;
			if (sysfs_path(b->rels[i], REL_MAX, "%s/%s", bus, n.name) < 0)
				return -ENAMETOOLONG;
		} else {
			int p = find_row(h, i, r->parent);

			if (p < 0)
				return -EINVAL; /* parents come first in a table */
			if (sysfs_path(b->rels[i], REL_MAX, "%s/%s", b->rels[p], n.name) < 0)
				return -ENAMETOOLONG;
		}
		n.group = r->group == AUTO ? b->next_group++ : r->group;
		if ((err = write_node(b, &n)))
			return err;
		if (r->numvfs > 0 && (err = write_vfs(b, r, &n)))
			return err;
	}
	return 0;
}

int simhost_build(const struct simhost *host, const char *root)
{
	struct build b = { .host = host, .root = -1 };
	int err;

	if (!host || !root)
		return -EINVAL;
	b.root = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b.root < 0)
		return -errno;
	b.rels = calloc(host->ndevs, sizeof *b.rels);
	if (!b.rels) {
		close(b.root);
		return -ENOMEM;
	}
	err = build_rows(&b, host);
	free(b.rels);
	close(b.root);
	return err;
}

int simhost_materialize(const struct simhost *host, char *dir, size_t size)
{
	const char *tmp = getenv("TMPDIR");
	int err;

	/* A tree is thousands of small files: on tmpfs it takes well under a second, on a busy
	 * disk up to a minute. $TMPDIR wins when set; else /dev/shm when we may write there. */
	if (!tmp || !*tmp)
		tmp = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
	if ((err = sysfs_path(dir, size, "%s/vflaunch-sim.XXXXXX", tmp)) < 0)
		return err;
	if (!mkdtemp(dir))
		return -errno;
	err = simhost_build(host, dir);
	if (err) {
		/* Leave nothing behind: the caller gets an error, not a half tree to clean. */
		rmtree(dir);
		dir[0] = '\0';
	}
	return err;
}

/* nftw: depth-first (children before their directory) and physical (a symlink is removed,
 * never followed, so a tree's links into /sys or / cannot lead the walk out of the tree). */
static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((type == FTW_DP || type == FTW_DNR ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT)
		return errno;
	return 0;
}

int rmtree(const char *path)
{
	int r;

	if (!path || !*path)
		return -EINVAL;
	r = nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	if (r < 0)
		return -errno;
	return -r; /* rm_entry's errno, or 0 */
}
