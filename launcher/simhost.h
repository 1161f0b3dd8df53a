// SPDX-License-Identifier: MIT
// Simulated hosts: sysfs trees generated from a table, for --simulate and for test fixtures.
// A tree holds what libpci's sysfs method and vflaunch read: bus/pci/devices/<addr> links to
// device directories nested under their bridges as in the kernel
// (devices/pci0002:80/0002:80:02.0/0002:81:00.0), with config, vendor, device, class, numa_node,
// driver and iommu_group links, SR-IOV attributes and physfn/virtfnN links, plus
// bus/pci/drivers/<name>, kernel/iommu_groups/<n>/devices and bus/pci/drivers_probe, and
// for each PF on a network driver its netdev, net/<ifname>/ (simhost.c: write_netdev).
#ifndef VFLAUNCH_SIMHOST_H
#define VFLAUNCH_SIMHOST_H

#include <stdio.h>

struct simhost;

/* The default host: the seed's dual-port 82599, 63 VFs per port, domain 0002. */
#define SIMHOST_DEFAULT "82599"

const struct simhost *simhost_find(const char *name);
/* The large host with pfs ConnectX-5 PFs (1..128) instead of 16, pfs * 128 functions, for
 * benchmarks that scale the host (mksimhost large:PFS); 16 gives large's very tree. NULL when
 * pfs is out of range or memory is short; free() it. */
struct simhost *simhost_large(int pfs);
/* One line per simulated host: name and what it holds (for --simulate=help). */
void simhost_list(FILE *out);
/* Write the host's tree under root (an existing, empty directory). 0 or -errno. */
int simhost_build(const struct simhost *host, const char *root);
/* mkdtemp a private directory under $TMPDIR (or /tmp) and build into it; path into dir. */
int simhost_materialize(const struct simhost *host, char *dir, size_t size);
/* Remove a tree (no symlink is followed). 0 or -errno. */
int rmtree(const char *path);

#endif
