// SPDX-License-Identifier: MIT
// The simulated kernel of rtnetlink: answers vflaunch's GETLINK/SETLINK messages from a sysfs
// tree (--simulate, --root, the fake kernel tests), so simulated hosts run the message code.
//
// Contract. A PF netdev is the directory <sysroot>/bus/pci/devices/<PF>/net/<ifname>/ holding
// ifindex, address, operstate and speed (Mb/s) as real sysfs does. The PF's sriov_numvfs is
// its VF count; its driver link chooses its capabilities (netsim.c's table: mlx5_core and
// netdevsim set everything; ixgbe and igb refuse min_rate (EINVAL) and igb link state
// (EOPNOTSUPP); a rate over the link's speed is EINVAL; any other driver refuses every VF
// setting with EOPNOTSUPP and reports spoofchk and trust unknown). Each VF's admin state is the
// file vflaunch-sim/vf<N> of the netdev directory, one line
//   mac=00:00:00:00:00:00 vlan=0 qos=0 spoofchk=1 trust=0 link=0 max_rate=0 min_rate=0
// and an absent file holds exactly those defaults. SETLINK applies a message's VF attributes
// in order and stops at the first refusal, as the kernel does; a multicast MAC, a VLAN over
// 4095, a QoS over 7 and a VF out of range are EINVAL. Writes honour sysfs_forbid_writes().
#ifndef VFLAUNCH_NETSIM_H
#define VFLAUNCH_NETSIM_H

#include <stddef.h>
#include <stdint.h>

#include "netlink.h"

/* A transport answering from the tree at sysroot (its bus/pci/devices). 0 or -errno. */
int nl_transport_sim(struct nl_transport *t, const char *sysroot);
/* Where the caller found the netdev of ifindex (its sysfs directory): the first request then
 * needs no scan of every device's net/ (which a tree of 2,048 functions makes 2,048 opens).
 * Checked as any later request is (the directory's ifindex file must say ifindex). A transport
 * that is not the simulation is left alone. */
void nl_transport_sim_hint(struct nl_transport *t, const char *netdev_dir, int ifindex);

/* The kernel's replies, for the simulation and for tests' fixtures. Lengths, or -ENOBUFS.
 * nl_build_newlink: RTM_NEWLINK of l with its VFs as rtnl_fill_vfinfo orders them (-1 values
 * sent as the kernel sends "not reported": u32 -1). nl_build_error: NLMSG_ERROR answering req
 * (its header echoed, NLM_F_CAPPED), error 0 (an ack) or -errno, with msg as the extended
 * ack's NLMSGERR_ATTR_MSG when non-NULL. */
int nl_build_newlink(void *buf, size_t size, uint32_t seq, const struct nl_link *l);
int nl_build_error(void *buf, size_t size, const void *req, int error, const char *msg);

#endif
