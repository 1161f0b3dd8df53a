// SPDX-License-Identifier: MIT
// rtnetlink for VF admin state: GETLINK/SETLINK built and parsed over buffers with libmnl, and
// the kernel transport. Every length in a reply is checked before a struct is read from it.
#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errbuf.h"
#include "sysfs.h"

static const char *const attr_names[NL_VF_NATTRS] = {
	"mac", "vlan", "rate", "spoofchk", "trust", "link"
};
static const char *const link_names[] = { "auto", "enable", "disable" };

const char *nl_vf_attr_name(enum nl_vf_attr a)
{
	return (unsigned)a < NL_VF_NATTRS ? attr_names[a] : "?";
}

const char *nl_link_state_name(int link)
{
	return link >= 0 && link <= 2 ? link_names[link] : NULL;
}

int nl_link_state_parse(const char *name)
{
	for (int i = 0; name && i <= 2; i++)
		if (strcmp(name, link_names[i]) == 0)
			return i;
	return -1;
}

const char *nl_operstate_name(int operstate)
{
	/* RFC 2863 states, as /sys/class/net/X/operstate spells them. */
	static const char *const names[] = { "unknown", "notpresent", "down", "lowerlayerdown",
	                                     "testing", "dormant", "up" };
	return operstate >= 0 && operstate <= 6 ? names[operstate] : "unknown";
}

static int hexdigit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int nl_mac_parse(const char *s, unsigned char mac[NL_MACLEN])
{
	if (!s || strlen(s) != NL_MACSTRLEN - 1)
		return -EINVAL;
	for (int i = 0; i < NL_MACLEN; i++) {
		int hi = hexdigit(s[3 * i]), lo = hexdigit(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < NL_MACLEN - 1 && s[3 * i + 2] != ':'))
			return -EINVAL;
		mac[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

void nl_mac_format(const unsigned char mac[NL_MACLEN], char buf[NL_MACSTRLEN])
{
	static const char hex[] = "0123456789abcdef";

	/* "%02x:%02x:..." without printf: a listing formats one per VF. */
	for (int i = 0; i < NL_MACLEN; i++) {
		buf[3 * i] = hex[mac[i] >> 4];
		buf[3 * i + 1] = hex[mac[i] & 15];
		buf[3 * i + 2] = i + 1 < NL_MACLEN ? ':' : '\0';
	}
}

void nl_vf_unknown(struct nl_vf *v, int vf)
{
	memset(v, 0, sizeof *v);
	v->vf = vf;
	v->vlan = v->qos = v->spoofchk = v->trust = v->link = -1;
	v->max_rate = v->min_rate = -1;
}

/* ---- Building ---- */

/* An rtnetlink link message header: nlmsghdr then ifinfomsg, in buf (zeroed as far as size
 * allows, so the bytes are the same on every build). NULL when size is too small. */
static struct nlmsghdr *link_msg(void *buf, size_t size, uint16_t type, uint16_t flags,
                                 uint32_t seq, int ifindex)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (size < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof *ifi))
		return NULL;
	memset(buf, 0, size);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

int nl_build_getlink(void *buf, size_t size, uint32_t seq, int ifindex)
{
	struct nlmsghdr *nlh = link_msg(buf, size, RTM_GETLINK, NLM_F_REQUEST, seq, ifindex);

	if (!nlh || !mnl_attr_put_u32_check(nlh, size, IFLA_EXT_MASK,
	                                    RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

/* The one IFLA_VF_* attribute of a: its type, payload (in p, at most 40 bytes) and length. */
static int vf_payload(const struct nl_vf *v, enum nl_vf_attr a, uint16_t *type, void *p,
                      size_t *len)
{
	uint32_t vf = (uint32_t)v->vf;

	switch (a) {
	case NL_VF_MAC: {
		struct ifla_vf_mac m = { .vf = vf };
		if (!v->has_mac)
			return -EINVAL;
		memcpy(m.mac, v->mac, NL_MACLEN);
		*type = IFLA_VF_MAC;
		memcpy(p, &m, *len = sizeof m);
		return 0;
	}
	case NL_VF_VLAN: {
		struct ifla_vf_vlan m = { .vf = vf, .vlan = (uint32_t)v->vlan, .qos = (uint32_t)v->qos };
		if (v->vlan < 0 || v->vlan > 4095 || v->qos < 0 || v->qos > 7)
			return -EINVAL;
		*type = IFLA_VF_VLAN;
		memcpy(p, &m, *len = sizeof m);
		return 0;
	}
	case NL_VF_RATE: {
		struct ifla_vf_rate m = { .vf = vf, .min_tx_rate = (uint32_t)v->min_rate,
		                          .max_tx_rate = (uint32_t)v->max_rate };
		if (v->min_rate < 0 || v->max_rate < 0 || v->min_rate > UINT32_MAX ||
		    v->max_rate > UINT32_MAX)
			return -EINVAL;
		*type = IFLA_VF_RATE;
		memcpy(p, &m, *len = sizeof m);
		return 0;
	}
	case NL_VF_SPOOFCHK:
	case NL_VF_TRUST: {
		/* struct ifla_vf_spoofchk and ifla_vf_trust: the same two u32s. */
		int on = a == NL_VF_SPOOFCHK ? v->spoofchk : v->trust;
		struct ifla_vf_trust m = { .vf = vf, .setting = (uint32_t)on };
		if (on != 0 && on != 1)
			return -EINVAL;
		*type = a == NL_VF_SPOOFCHK ? IFLA_VF_SPOOFCHK : IFLA_VF_TRUST;
		memcpy(p, &m, *len = sizeof m);
		return 0;
	}
	case NL_VF_LINK: {
		struct ifla_vf_link_state m = { .vf = vf, .link_state = (uint32_t)v->link };
		if (!nl_link_state_name(v->link))
			return -EINVAL;
		*type = IFLA_VF_LINK_STATE;
		memcpy(p, &m, *len = sizeof m);
		return 0;
	}
	default:
		return -EINVAL;
	}
}

int nl_build_setvf(void *buf, size_t size, uint32_t seq, int ifindex, const struct nl_vf *v,
                   enum nl_vf_attr a)
{
	unsigned char payload[64];
	struct nlattr *list, *info;
	struct nlmsghdr *nlh;
	uint16_t type;
	size_t len;
	int rc;

	if (v->vf < 0 || (rc = vf_payload(v, a, &type, payload, &len)) < 0)
		return -EINVAL;
	nlh = link_msg(buf, size, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, seq, ifindex);
	if (!nlh || !(list = mnl_attr_nest_start_check(nlh, size, IFLA_VFINFO_LIST)) ||
	    !(info = mnl_attr_nest_start_check(nlh, size, IFLA_VF_INFO)) ||
	    !mnl_attr_put_check(nlh, size, type, len, payload))
		return -ENOBUFS;
	mnl_attr_nest_end(nlh, info);
	mnl_attr_nest_end(nlh, list);
	return (int)nlh->nlmsg_len;
}

/* ---- Parsing ---- */

void nl_link_free(struct nl_link *l)
{
	free(l->vfs);
	l->vfs = NULL;
	l->nvfs = 0;
}

const struct nl_vf *nl_link_vf(const struct nl_link *l, int vf)
{
	if (vf < 0 || vf >= l->num_vf || !l->vfs || l->vfs[vf].vf != vf)
		return NULL;
	return &l->vfs[vf];
}

/* The attribute's payload when it holds at least need bytes, else NULL. */
static const void *payload_of(const struct nlattr *a, size_t need)
{
	return mnl_attr_get_payload_len(a) >= need ? mnl_attr_get_payload(a) : NULL;
}

/* u32 -1 from the kernel: the driver does not report it. */
static int flag_of(uint32_t setting)
{
	return setting == UINT32_MAX ? -1 : setting > 1 ? -1 : (int)setting;
}

struct vfparse {
	struct nl_vf v;
	int index;                   /* the VF all its attributes name; -1 before the first */
	int bad;                     /* a short attribute, or attributes naming different VFs */
	int have_rate;               /* IFLA_VF_RATE seen: IFLA_VF_TX_RATE is only a fallback */
};

/* Each IFLA_VF_* attribute struct starts with the u32 VF index. */
static const void *vf_attr(struct vfparse *p, const struct nlattr *a, size_t need)
{
	const void *d = payload_of(a, need);
	uint32_t vf;

	if (!d) {
		p->bad = 1;
		return NULL;
	}
	memcpy(&vf, d, sizeof vf);
	if (vf > NL_MAXVFS || (p->index >= 0 && (uint32_t)p->index != vf)) {
		p->bad = 1;
		return NULL;
	}
	p->index = (int)vf;
	return d;
}

static int vlan_list_cb(const struct nlattr *a, void *data)
{
	struct vfparse *p = data;
	const struct ifla_vf_vlan_info *vi;

	/* One entry: vflaunch sets 802.1Q alone, and the kernel reports the first. */
	if (mnl_attr_get_type(a) != IFLA_VF_VLAN_INFO || p->v.vlan_proto)
		return MNL_CB_OK;
	if (!(vi = vf_attr(p, a, sizeof *vi)))
		return MNL_CB_OK;
	p->v.vlan = vi->vlan <= 4095 ? (int)vi->vlan : -1;
	p->v.qos = vi->qos <= 7 ? (int)vi->qos : -1;
	p->v.vlan_proto = ntohs(vi->vlan_proto);
	return MNL_CB_OK;
}

static int vf_info_cb(const struct nlattr *a, void *data)
{
	struct vfparse *p = data;
	const struct ifla_vf_mac *mac;
	const struct ifla_vf_vlan *vlan;
	const struct ifla_vf_rate *rate;
	const struct ifla_vf_tx_rate *tx;
	const struct ifla_vf_trust *flag;   /* spoofchk and trust: the same layout */
	const struct ifla_vf_link_state *ls;

	switch (mnl_attr_get_type(a)) {
	case IFLA_VF_MAC:
		if ((mac = vf_attr(p, a, sizeof *mac))) {
			memcpy(p->v.mac, mac->mac, NL_MACLEN);
			p->v.has_mac = 1;
		}
		break;
	case IFLA_VF_VLAN:
		if ((vlan = vf_attr(p, a, sizeof *vlan)) && !p->v.vlan_proto) {
			p->v.vlan = vlan->vlan <= 4095 ? (int)vlan->vlan : -1;
			p->v.qos = vlan->qos <= 7 ? (int)vlan->qos : -1;
		}
		break;
	case IFLA_VF_VLAN_LIST:
		if (mnl_attr_parse_nested(a, vlan_list_cb, p) < 0)
			p->bad = 1;
		break;
	case IFLA_VF_RATE:
		if ((rate = vf_attr(p, a, sizeof *rate))) {
			p->v.min_rate = rate->min_tx_rate;
			p->v.max_rate = rate->max_tx_rate;
			p->have_rate = 1;
		}
		break;
	case IFLA_VF_TX_RATE:
		if ((tx = vf_attr(p, a, sizeof *tx)) && !p->have_rate)
			p->v.max_rate = tx->rate;
		break;
	case IFLA_VF_SPOOFCHK:
		if ((flag = vf_attr(p, a, sizeof *flag)))
			p->v.spoofchk = flag_of(flag->setting);
		break;
	case IFLA_VF_TRUST:
		if ((flag = vf_attr(p, a, sizeof *flag)))
			p->v.trust = flag_of(flag->setting);
		break;
	case IFLA_VF_LINK_STATE:
		if ((ls = vf_attr(p, a, sizeof *ls)))
			p->v.link = nl_link_state_name((int)ls->link_state) ? (int)ls->link_state : -1;
		break;
	default:
		break;                  /* stats, RSS query, GUIDs...: not vflaunch's */
	}
	return MNL_CB_OK;
}

struct linkparse {
	struct nl_link *l;
	const struct nlattr *vfinfo; /* parsed once IFLA_NUM_VF is known, whatever the order */
	int bad;
	char why[96];
};

static int vfinfo_list_cb(const struct nlattr *a, void *data)
{
	struct linkparse *lp = data;
	struct vfparse p = { .index = -1 };

	if (mnl_attr_get_type(a) != IFLA_VF_INFO)
		return MNL_CB_OK;
	nl_vf_unknown(&p.v, -1);
	if (mnl_attr_parse_nested(a, vf_info_cb, &p) < 0 || p.bad || p.index < 0) {
		snprintf(lp->why, sizeof lp->why, "a malformed IFLA_VF_INFO");
		return MNL_CB_ERROR;
	}
	if (p.index >= lp->l->num_vf) {
		snprintf(lp->why, sizeof lp->why, "VF %d out of range (the PF has %d VFs)", p.index,
		         lp->l->num_vf);
		return MNL_CB_ERROR;
	}
	if (lp->l->vfs[p.index].vf == p.index) {
		snprintf(lp->why, sizeof lp->why, "VF %d reported twice", p.index);
		return MNL_CB_ERROR;
	}
	p.v.vf = p.index;
	lp->l->vfs[p.index] = p.v;
	lp->l->nvfs++;
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
	struct linkparse *lp = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0 ||
		    mnl_attr_get_payload_len(a) > NL_IFNAMELEN) {
			snprintf(lp->why, sizeof lp->why, "a malformed IFLA_IFNAME");
			return MNL_CB_ERROR;
		}
		snprintf(lp->l->ifname, sizeof lp->l->ifname, "%s", mnl_attr_get_str(a));
		break;
	case IFLA_OPERSTATE:
		if (mnl_attr_validate(a, MNL_TYPE_U8) == 0)
			lp->l->operstate = mnl_attr_get_u8(a);
		break;
	case IFLA_NUM_VF:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0 || mnl_attr_get_u32(a) > NL_MAXVFS) {
			snprintf(lp->why, sizeof lp->why, "a malformed IFLA_NUM_VF");
			return MNL_CB_ERROR;
		}
		lp->l->num_vf = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_VFINFO_LIST:
		lp->vfinfo = a;
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

/* The errno of an NLMSG_ERROR (0: an ack) and its extended ack text, when the message holds
 * one. -EBADMSG when it is too short to be one. */
static int error_of(const struct nlmsghdr *nlh, int *error, char *msg, size_t msglen)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t plen = mnl_nlmsg_get_payload_len(nlh), off;

	if (msg && msglen)
		msg[0] = '\0';
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN || plen < sizeof *e)
		return -EBADMSG;
	*error = e->error;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	/* The TLVs follow the echoed request: its header alone when capped, else all of it. */
	off = nlh->nlmsg_flags & NLM_F_CAPPED ? sizeof *e :
	      sizeof e->error + MNL_ALIGN(e->msg.nlmsg_len);
	if (off > plen)
		return -EBADMSG;
	for (const struct nlattr *a = (const void *)((const char *)e + off);
	     mnl_attr_ok(a, (int)(plen - off)); a = mnl_attr_next(a)) {
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 && msg && msglen) {
			snprintf(msg, msglen, "%s", mnl_attr_get_str(a));
			break;
		}
		off += MNL_ALIGN(a->nla_len);
	}
	return 0;
}

/* The one message of a reply, checked against the request's sequence. */
static const struct nlmsghdr *reply_msg(const void *buf, size_t len, uint32_t seq)
{
	const struct nlmsghdr *nlh = buf;

	if (len > NL_BUFSIZE || !mnl_nlmsg_ok(nlh, (int)len) || nlh->nlmsg_seq != seq)
		return NULL;
	return nlh;
}

int nl_parse_ack(const void *buf, size_t len, uint32_t seq, char *msg, size_t msglen)
{
	const struct nlmsghdr *nlh = reply_msg(buf, len, seq);
	int error = 0;

	if (msg && msglen)
		msg[0] = '\0';
	if (!nlh || nlh->nlmsg_type != NLMSG_ERROR || error_of(nlh, &error, msg, msglen) < 0)
		return -EBADMSG;
	return error > 0 ? -EBADMSG : error;
}

int nl_parse_link(const void *buf, size_t len, uint32_t seq, struct nl_link *out,
                  char *err, size_t errlen)
{
	const struct nlmsghdr *nlh = reply_msg(buf, len, seq);
	struct linkparse lp = { .l = out };
	const struct ifinfomsg *ifi;
	char msg[256];
	int error = 0;

	memset(out, 0, sizeof *out);
	out->operstate = -1;
	if (!nlh) {
		errbuf_printf(err, errlen, "a truncated or stray netlink reply");
		return -EBADMSG;
	}
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		if (error_of(nlh, &error, msg, sizeof msg) < 0 || error >= 0) {
			errbuf_printf(err, errlen, "a malformed netlink error");
			return -EBADMSG;
		}
		errbuf_printf(err, errlen, "%s%s%s", strerror(-error), msg[0] ? ": " : "", msg);
		return error;
	}
	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < MNL_ALIGN(sizeof *ifi)) {
		errbuf_printf(err, errlen, "not a link message");
		return -EBADMSG;
	}
	ifi = mnl_nlmsg_get_payload(nlh);
	out->ifindex = ifi->ifi_index;
	out->up = (ifi->ifi_flags & IFF_UP) != 0;
	if (mnl_attr_parse(nlh, sizeof *ifi, link_attr_cb, &lp) < 0) {
		errbuf_printf(err, errlen, "%s", lp.why[0] ? lp.why : "malformed link attributes");
		return -EBADMSG;
	}
	if (out->num_vf > 0 && !(out->vfs = malloc((size_t)out->num_vf * sizeof *out->vfs))) {
		errbuf_printf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (int i = 0; i < out->num_vf; i++)
		nl_vf_unknown(&out->vfs[i], -1);    /* -1: not in the reply (nl_link_vf) */
	if (lp.vfinfo && mnl_attr_parse_nested(lp.vfinfo, vfinfo_list_cb, &lp) < 0) {
		errbuf_printf(err, errlen, "%s", lp.why[0] ? lp.why : "a malformed IFLA_VFINFO_LIST");
		nl_link_free(out);
		return -EBADMSG;
	}
	return 0;
}

/* ---- Requests ---- */

static uint32_t next_seq(struct nl_transport *t)
{
	/* Not 0: a reply of seq 0 is an unsolicited kernel message. */
	if (t->seq == 0)
		t->seq = (uint32_t)time(NULL) & 0xffff;
	return ++t->seq ? t->seq : ++t->seq;
}

int nl_getlink(struct nl_transport *t, int ifindex, struct nl_link *out, char *err, size_t errlen)
{
	char req[256];
	char *reply = malloc(NL_BUFSIZE);
	uint32_t seq = next_seq(t);
	int n, rc;

	memset(out, 0, sizeof *out);
	if (!reply) {
		errbuf_printf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	if ((n = nl_build_getlink(req, sizeof req, seq, ifindex)) < 0 ||
	    (n = t->request(t, req, (size_t)n, reply, NL_BUFSIZE)) < 0) {
		errbuf_printf(err, errlen, "RTM_GETLINK: %s", strerror(-n));
		free(reply);
		return n;
	}
	rc = nl_parse_link(reply, (size_t)n, seq, out, err, errlen);
	free(reply);
	return rc;
}

int nl_setvf(struct nl_transport *t, int ifindex, const struct nl_vf *v, enum nl_vf_attr a,
             char *err, size_t errlen)
{
	char req[256], reply[4096];
	uint32_t seq;
	int n;

	if (err && errlen)
		err[0] = '\0';
	/* The latch covers every backend: a print-only run never sends a change. */
	if (sysfs_writes_forbidden()) {
		errbuf_printf(err, errlen, "this run is print-only (host writes are forbidden)");
		return -EROFS;
	}
	seq = next_seq(t);
	if ((n = nl_build_setvf(req, sizeof req, seq, ifindex, v, a)) < 0)
		return n;
	if ((n = t->request(t, req, (size_t)n, reply, sizeof reply)) < 0) {
		errbuf_printf(err, errlen, "RTM_SETLINK: %s", strerror(-n));
		return n;
	}
	return nl_parse_ack(reply, (size_t)n, seq, err, errlen);
}

/* ---- The kernel transport ---- */

static int kernel_request(struct nl_transport *t, const void *req, size_t len, void *reply,
                          size_t size)
{
	struct mnl_socket *nl = t->ctx;
	ssize_t n;

	if (mnl_socket_sendto(nl, req, len) < 0)
		return -errno;
	/* One datagram: the reply to a non-dump request (the parsers check its sequence). */
	do
		n = mnl_socket_recvfrom(nl, reply, size);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : (int)n;
}

static void kernel_close(struct nl_transport *t)
{
	if (t->ctx)
		mnl_socket_close(t->ctx);
	t->ctx = NULL;
}

int nl_transport_kernel(struct nl_transport *t)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	int one = 1, rc;

	memset(t, 0, sizeof *t);
	if (!nl)
		return -errno;
	/* Extended acks: the kernel's reason ("VF out of range") comes with its errno. Kernels
	 * before 4.12 refuse the option; the errno alone is still right. */
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof one);
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		mnl_socket_close(nl);
		return rc;
	}
	t->request = kernel_request;
	t->close = kernel_close;
	t->ctx = nl;
	return 0;
}

void nl_transport_close(struct nl_transport *t)
{
	if (t && t->close)
		t->close(t);
}
