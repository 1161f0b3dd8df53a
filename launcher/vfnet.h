// SPDX-License-Identifier: MIT
// VF network identity on a host: a PF's netdev found in sysfs, its VFs' admin state read and
// set over rtnetlink (netlink.c) and read back, and a VF's recorded state given back. The
// backend follows the sysfs root: NULL or "/sys" is the kernel, any other root (a simulated or
// --root tree) the simulated kernel of netsim.c.
#ifndef VFLAUNCH_VFNET_H
#define VFLAUNCH_VFNET_H

#include <stddef.h>

#include "netlink.h"

/* Which values of a change are given; the others are left as they are. vlan and qos travel
 * together (IFLA_VF_VLAN), as do the rates (IFLA_VF_RATE): one given alone is sent with the
 * other's current value. */
enum {
	VFNET_MAC = 1 << 0, VFNET_VLAN = 1 << 1, VFNET_QOS = 1 << 2, VFNET_SPOOFCHK = 1 << 3,
	VFNET_TRUST = 1 << 4, VFNET_LINK = 1 << 5, VFNET_MAX_RATE = 1 << 6, VFNET_MIN_RATE = 1 << 7
};

struct vfnet_change {
	struct nl_vf want;           /* want.vf: the VF; the values named by fields */
	unsigned fields;             /* VFNET_* */
};

/* A PF's netdev as vflaunch shows it. */
struct vfnet_pf {
	struct nl_link link;         /* ifname, ifindex, operstate, num_vf and the VFs */
	long speed;                  /* Mb/s from sysfs; -1 unknown (link down, no driver report) */
};

/* The netdev of PF pf: <sysroot>/bus/pci/devices/<pf>/net/<ifname> (the first by name when a
 * PF has several) and its ifindex. 0; -ENODEV when the PF does not exist, -ENOENT when it has
 * no netdev ("0000:03:00.0 has no network interface (driver nvme)"); other -errno. */
int vfnet_netdev(const char *sysroot, const char *pf, char ifname[NL_IFNAMELEN], int *ifindex,
                 char *err, size_t errlen);

/* The PF and the index of VF vf (its physfn link, and the PF's virtfnN naming it). 0;
 * -ENODEV when the VF, or its PF, does not exist; -EINVAL when vf is not a VF. */
int vfnet_locate(const char *sysroot, const char *vf, char pf[16], int *index,
                 char *err, size_t errlen);

/* GETLINK of pf's netdev, plus its speed. 0 or -errno with err naming the PF. Free with
 * nl_link_free(&out->link). */
int vfnet_get(const char *sysroot, const char *pf, struct vfnet_pf *out, char *err, size_t errlen);

/* Apply n changes to pf's VFs: one GETLINK (the VFs exist; the partners of lone values), one
 * SETLINK per attribute that differs from the current value (an equal one is not sent), one
 * GETLINK reading every value back. 0; the kernel's -errno or -EIO for a read-back that
 * differs, with err naming PF, ifname, VF, attribute and the kernel's reason or the value read
 * ("0000:03:00.0 (enp3s0) VF 2: cannot set rate (max_rate 1000, min_rate 100): Invalid
 * argument"); -ERANGE for a VF the PF does not have; -EROFS once writes are forbidden. */
int vfnet_set(const char *sysroot, const char *pf, const struct vfnet_change *c, size_t n,
              char *err, size_t errlen);

/* Give VF vf its recorded state orig back (spoofchk or trust -1: not recorded, left alone).
 * As vfio_restore: 1 written and read back equal; 0 already equal, nothing written; -ENODEV
 * when the VF or its PF is gone; -EIO when the read-back differs ("0000:03:10.6 (VF 3 of
 * enp3s0): mac is 52:54:00:12:34:56, not 00:00:00:00:00:00"); other -errno for a failed step. */
int vfnet_restore(const char *sysroot, const char *vf, const struct nl_vf *orig,
                  char *err, size_t errlen);

/* Tests: the transport every call opens (NULL: the rule above). */
void vfnet_use_transport(int (*open)(struct nl_transport *t, const char *sysroot));

#endif
