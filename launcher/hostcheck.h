// SPDX-License-Identifier: MIT
// Host checks before vfio binding: /dev/vfio, vfio-pci, IOMMU, RLIMIT_MEMLOCK, devices in use.
#ifndef VFLAUNCH_HOSTCHECK_H
#define VFLAUNCH_HOSTCHECK_H

#include <stddef.h>

#define HOSTCHECK_NAMELEN 64

/* Host checks. devroot is "/dev" unless NULL is replaced by a test's directory. */
int vfio_check_dev(const char *devroot, int group, char *err, size_t errlen);
int vfio_module_loaded(const char *root);     /* 1 loaded, 0 not */
int vfio_iommu_present(const char *root);     /* 1 present, 0 not */

struct vfio_memlock {
	unsigned long long current;  /* soft limit before any raise (ULLONG_MAX: unlimited) */
	unsigned long long max;      /* hard limit before any raise */
	unsigned long long needed;
	int raised;                  /* this call raised the limit */
	int ok;                      /* the soft limit now covers needed */
};
/* Check RLIMIT_MEMLOCK against needed bytes; raise it when raise is set and allowed.
 * 0 when the limit covers needed (after any raise), -ENOMEM/-EPERM when it does not. */
int vfio_memlock(unsigned long long needed, int raise, struct vfio_memlock *ml,
                 char *err, size_t errlen);

/* Something on the device the host is using, as dpdk-devbind refuses to take it. */
struct vfio_use {
	char kind[8];                /* "net" or "block" */
	char name[HOSTCHECK_NAMELEN];     /* "eth2", "nvme0n1p1" */
	char why[160];               /* "up with address 10.0.0.2", "mounted on /srv" */
};
/* Network interfaces under the device that are up with an address or a route (getifaddrs,
 * procroot/net/{route,if_inet6,ipv6_route}); block devices under it that are mounted
 * (procroot/self/mountinfo) or held by another block device. *uses is malloc'd. */
int vfio_in_use(const char *root, const char *procroot, const char *addr,
                struct vfio_use **uses, size_t *count, char *err, size_t errlen);

/* Load vfio-pci: fork + execv of the first existing path in paths (NULL: /sbin/modprobe,
 * /usr/sbin/modprobe) with argv {"modprobe", "vfio-pci"}, never a shell. 0 or -errno;
 * -EROFS, running nothing, once sysfs_forbid_writes() was called (a print-only run). */
int vfio_modprobe(const char *const *paths, char *err, size_t errlen);

#endif
