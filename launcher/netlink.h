// SPDX-License-Identifier: MIT
// rtnetlink for VF admin state: GETLINK/SETLINK messages built and parsed as pure functions over
// buffers (libmnl), and a transport seam that carries them: the kernel's NETLINK_ROUTE socket,
// the simulated kernel of netsim.c, or a test's fixture.
#ifndef VFLAUNCH_NETLINK_H
#define VFLAUNCH_NETLINK_H

#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

/* Older uapi headers lack these; the values are ABI. */
#ifndef RTEXT_FILTER_SKIP_STATS
#define RTEXT_FILTER_SKIP_STATS (1 << 3)
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NLMSGERR_ATTR_MSG
#define NLMSGERR_ATTR_MSG 1
#endif

#define NL_IFNAMELEN 16          /* IFNAMSIZ */
#define NL_MACLEN 6              /* ETH_ALEN: the VF MACs vflaunch sets are Ethernet */
#define NL_MACSTRLEN 18          /* "aa:bb:cc:dd:ee:ff" and its NUL */
#define NL_BUFSIZE (1 << 17)     /* a reply: IFLA_VFINFO_LIST alone may be 64 KiB */
#define NL_MAXVFS 4096           /* more than any PF has; a reply claiming more is refused */

/* One VF's admin state, as the PF's driver reports it. -1: the driver does not report it (the
 * kernel sends -1 or (u32)-1, or leaves the attribute out). */
struct nl_vf {
	int vf;                      /* index under the PF */
	int has_mac;
	unsigned char mac[NL_MACLEN];
	int vlan, qos;               /* 0..4095, 0..7; -1 unknown */
	int vlan_proto;              /* 0x8100 or 0x88a8 (IFLA_VF_VLAN_LIST); 0 not reported */
	int spoofchk, trust;         /* 0, 1, -1 unknown */
	int link;                    /* IFLA_VF_LINK_STATE_*: 0 auto, 1 enable, 2 disable; -1 */
	long long max_rate, min_rate; /* Mb/s (IFLA_VF_RATE, else IFLA_VF_TX_RATE); -1 unknown */
};

/* A PF netdev and its VFs (RTM_NEWLINK with IFLA_VFINFO_LIST). */
struct nl_link {
	int ifindex;
	char ifname[NL_IFNAMELEN];
	int operstate;               /* IF_OPER_* (6 up, 2 down); -1 not reported */
	int up;                      /* IFF_UP of ifi_flags: administratively up (ip link set up) */
	int num_vf;                  /* IFLA_NUM_VF; 0 when absent */
	struct nl_vf *vfs;           /* num_vf entries, vfs[i].vf == i; malloc'd (nl_link_free) */
	size_t nvfs;                 /* entries the reply held (<= num_vf) */
};

/* The attributes of a VF that SETLINK sets, one per message: the kernel stops at the first
 * error of a message, so one attribute each lets a refusal name the attribute. */
enum nl_vf_attr {
	NL_VF_MAC,                   /* IFLA_VF_MAC: mac */
	NL_VF_VLAN,                  /* IFLA_VF_VLAN: vlan and qos together */
	NL_VF_RATE,                  /* IFLA_VF_RATE: min_rate and max_rate together */
	NL_VF_SPOOFCHK,              /* IFLA_VF_SPOOFCHK: spoofchk */
	NL_VF_TRUST,                 /* IFLA_VF_TRUST: trust */
	NL_VF_LINK,                  /* IFLA_VF_LINK_STATE: link */
	NL_VF_NATTRS
};

/* The carrier: one request of len bytes in, its reply (one datagram) into reply. The reply's
 * length, or -errno. The kernel transport checks the sender; every transport leaves the
 * reply's checks (sequence, type, errors) to the parsers below. */
struct nl_transport {
	int (*request)(struct nl_transport *t, const void *req, size_t len, void *reply,
	               size_t size);
	void (*close)(struct nl_transport *t);
	void *ctx;
	uint32_t seq;                /* the last sequence number used */
};

const char *nl_vf_attr_name(enum nl_vf_attr a);     /* "mac", "vlan", "rate", ... */
const char *nl_link_state_name(int link);           /* "auto", "enable", "disable", NULL */
int nl_link_state_parse(const char *name);          /* 0..2, or -1 */
const char *nl_operstate_name(int operstate);       /* "up", "down", ... "unknown" */
/* "aa:bb:cc:dd:ee:ff" (exactly, either case) into mac: 0 or -EINVAL. */
int nl_mac_parse(const char *s, unsigned char mac[NL_MACLEN]);
void nl_mac_format(const unsigned char mac[NL_MACLEN], char buf[NL_MACSTRLEN]);

/* ---- Messages (pure: no socket) ---- */

/* RTM_GETLINK of ifindex with IFLA_EXT_MASK = RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS (the
 * stats would make 128 VFs overflow the reply). Its length, or -ENOBUFS. */
int nl_build_getlink(void *buf, size_t size, uint32_t seq, int ifindex);
/* RTM_SETLINK of ifindex, NLM_F_REQUEST | NLM_F_ACK, holding IFLA_VFINFO_LIST / IFLA_VF_INFO /
 * the one attribute a of v (v->vf its VF). Its length, -ENOBUFS, or -EINVAL for a value the
 * attribute cannot carry (a VLAN over 4095, a QoS over 7, a negative rate, no MAC). */
int nl_build_setvf(void *buf, size_t size, uint32_t seq, int ifindex, const struct nl_vf *v,
                   enum nl_vf_attr a);

/* A GETLINK reply (len bytes) into out: 0, or -errno with err saying why: the kernel's error
 * (NLMSG_ERROR: its errno, with the extended ack's text when there is one), or -EBADMSG for a
 * reply that is truncated, malformed, of another sequence, or names a VF out of range.
 * out->vfs is malloc'd: nl_link_free, also after a failure. */
int nl_parse_link(const void *buf, size_t len, uint32_t seq, struct nl_link *out,
                  char *err, size_t errlen);
/* The acknowledgement of a request (NLMSG_ERROR): 0, the kernel's -errno with its extended ack
 * text (NLMSGERR_ATTR_MSG) in msg ("" when none), or -EBADMSG for anything else. */
int nl_parse_ack(const void *buf, size_t len, uint32_t seq, char *msg, size_t msglen);
void nl_link_free(struct nl_link *l);
/* The entry of VF vf, or NULL when the reply did not hold it. */
const struct nl_vf *nl_link_vf(const struct nl_link *l, int vf);
/* A VF with nothing known (every value -1, no MAC). */
void nl_vf_unknown(struct nl_vf *v, int vf);

/* ---- Requests over a transport ---- */

/* GETLINK of ifindex. 0 or -errno, err saying why. */
int nl_getlink(struct nl_transport *t, int ifindex, struct nl_link *out, char *err, size_t errlen);
/* SETLINK of one attribute of a VF. 0 or -errno, with err holding the kernel's extended ack text
 * ("" when none) or the transport's failure. -EROFS, nothing sent, once host writes are
 * forbidden (sysfs_forbid_writes). */
int nl_setvf(struct nl_transport *t, int ifindex, const struct nl_vf *v, enum nl_vf_attr a,
             char *err, size_t errlen);

/* The kernel's rtnetlink: a NETLINK_ROUTE socket (libmnl) with extended acks. 0 or -errno. */
int nl_transport_kernel(struct nl_transport *t);
void nl_transport_close(struct nl_transport *t);

#endif
