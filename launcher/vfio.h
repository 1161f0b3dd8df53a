// SPDX-License-Identifier: MIT
// Host-side vfio mechanism: bind/restore one device, SR-IOV counts, IOMMU groups, host checks.
// Every sysfs path is relative to a root (NULL means "/sys") so tests run on fake trees.
// Functions that fail return -errno and, given an error buffer, say "step: path: strerror".
#ifndef VFLAUNCH_VFIO_H
#define VFLAUNCH_VFIO_H

#include <stddef.h>

#define VFIO_NAMELEN 64          /* driver names and driver_override values */
#define VFIO_ADDRLEN 16          /* "dddd:bb:dd.f" and its NUL, with room */

/* 1 when addr is the canonical "dddd:bb:dd.f" (lower-case hex, fields in range) sysfs uses,
 * else 0. */
int vfio_addr_ok(const char *addr);
/* 1 when name can be a kernel driver name: 1..63 bytes of [A-Za-z0-9_.:+-], else 0. Every
 * driver name read from sysfs or a journal, or written to driver_override, passes this. */
int vfio_driver_ok(const char *name);

/* What a device is bound to now: the journal records this before any change. */
struct vfio_state {
	char driver[VFIO_NAMELEN];   /* "" when no driver is bound */
	char override[VFIO_NAMELEN]; /* "" when none (the kernel shows "(null)") */
};

/* -ENODEV only when the device's directory does not exist; -EINVAL when the driver link or
 * driver_override holds something that is not a driver name (a corrupt tree). */
int vfio_state(const char *root, const char *addr, struct vfio_state *st,
               char *err, size_t errlen);

/* driver_override=vfio-pci, unbind if bound, drivers_probe, verify the driver link.
 * Already on vfio-pci: no writes. On failure everything this call changed is put back
 * (override restored, original driver reprobed), -errno and err name the failing step
 * (-EIO: the probe left the device on another driver or none), and err goes on with where
 * the device is after the rollback, read back from sysfs: "; the device is back on ixgbevf"
 * or "; the device is now on no driver (rollback incomplete)". -ENODEV: no such device. */
int vfio_bind(const char *root, const char *addr, char *err, size_t errlen);
/* The same sequence for another driver (pci-stub; or, in tests, a name no driver has, to make
 * the kernel's probe bind nothing and exercise the rollback). */
int vfio_bind_driver(const char *root, const char *addr, const char *driver, char *err,
                     size_t errlen);
/* vfio_bind_driver from a state the caller has just read with vfio_state (and journaled):
 * the same writes, checks and rollback (to *from), without reading the state a second time. */
int vfio_bind_from(const char *root, const char *addr, const char *driver,
                   const struct vfio_state *from, char *err, size_t errlen);

/* Give a device back: override back to orig_override ("" clears it), unbind if bound,
 * drivers_probe (none when orig_driver is "": no driver), then read the driver link and
 * driver_override back. Results, kept apart so that no failure can pass for success:
 *    1        writes were made and the read-back equals the original;
 *    0        it already was the original: nothing written;
 *   -ENODEV   the device's directory does not exist (and only then): nothing written;
 *   -EINVAL   orig_driver or orig_override is not a driver name: nothing written;
 *   -EIO      the read-back differs: err says where the device is ("0002:81:10.0 is on
 *             vfio-pci, not ixgbevf", "... has no driver, not ixgbevf",
 *             "driver_override of 0002:81:10.0 is "vfio-pci", not empty");
 *   other     a step failed: err names it, then where the device is now. */
int vfio_restore(const char *root, const char *addr, const char *orig_driver,
                 const char *orig_override, char *err, size_t errlen);

/* A PF's SR-IOV state, for the journal; *autoprobe is -1 on kernels without the file. */
int vfio_sriov_read(const char *root, const char *pf, int *numvfs, int *totalvfs,
                    int *autoprobe, char *err, size_t errlen);
/* Set a PF's sriov_numvfs to n (0..sriov_totalvfs, else -ERANGE), through 0 when changing
 * between non-zero counts. autoprobe >= 0 writes sriov_drivers_autoprobe first if it differs
 * (0 keeps new VFs off host drivers); < 0 leaves it. No writes when the count is already n.
 * On failure the count and autoprobe this call changed are put back (best effort). */
int sriov_set_numvfs(const char *root, const char *pf, int n, int autoprobe,
                     char *err, size_t errlen);
/* sriov_drivers_autoprobe alone (0 or 1), no write when it already holds that value. */
int sriov_set_autoprobe(const char *root, const char *pf, int autoprobe, char *err, size_t errlen);
/* Give a PF its recorded SR-IOV state back: autoprobe (< 0: unknown, left alone), then the
 * count, then read both back. The results of vfio_restore: 1 restored, 0 already so (no
 * writes), -ENODEV only when the PF's directory does not exist, -EIO when the read-back
 * differs ("sriov_numvfs of 0000:03:00.0 is 6, not 4"), other -errno for a failed step. */
int sriov_restore(const char *root, const char *pf, int numvfs, int autoprobe,
                  char *err, size_t errlen);

/* One member of an IOMMU group and whether it lets the group be handed to vfio. */
struct vfio_member {
	char addr[VFIO_ADDRLEN];
	char driver[VFIO_NAMELEN];   /* "" when none */
	/* Header type 1 or class 0x0604; looked for only when the driver alone does not make the
	 * member viable (else 0): two attribute reads per member saved where no driver is bound. */
	int bridge;
	int viable;                  /* vfio-pci, pci-stub, no driver, or a bridge */
};

/* The IOMMU group a device belongs to: >= 0, or -errno (-ENOENT: no IOMMU group). */
int vfio_iommu_group(const char *root, const char *addr, char *err, size_t errlen);
/* Members of kernel/iommu_groups/N, sorted by address; *members is malloc'd (free it). */
int vfio_group(const char *root, int group, struct vfio_member **members, size_t *count,
               char *err, size_t errlen);
int vfio_viable_driver(const char *driver, int bridge);

#include "hostcheck.h" /* the checks that go with binding */

#endif
