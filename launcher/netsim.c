// SPDX-License-Identifier: MIT
// The simulated rtnetlink kernel (see netsim.h for its contract): requests parsed with libmnl,
// state kept in the sysfs tree, replies built as the kernel builds them.
#include "netsim.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysfs.h"

#define BIT(a) (1u << (a))
#define ALL (BIT(NL_VF_NATTRS) - 1)

/* What a PF driver's ndo_set_vf_* and ndo_get_vf_config do, as far as vflaunch can tell. */
struct simcaps {
	const char *driver;
	unsigned set;                /* BIT(enum nl_vf_attr): the settings it implements */
	int min_rate;                /* accepts a non-zero min_tx_rate */
	int flags_known;             /* reports spoofchk and trust (else -1: unknown) */
};

static const struct simcaps caps[] = {
	{ "mlx5_core", ALL, 1, 1 },
	{ "netdevsim", ALL, 1, 1 },
	{ "ixgbe", ALL, 0, 1 },                         /* ixgbe_ndo_set_vf_bw: min is EINVAL */
	{ "igb", ALL & ~BIT(NL_VF_LINK), 0, 1 },        /* no ndo_set_vf_link_state */
};
static const struct simcaps nocaps = { "", 0, 0, 0 };

struct sim {
	char sysroot[PATH_MAX];
	char dir[PATH_MAX];          /* the netdev directory last found, for the next request */
	int ifindex;                 /* its ifindex; 0 none */
};

/* ---- The tree ---- */

static int read_int(const char *dir, const char *name, long *v)
{
	char path[PATH_MAX];

	if (sysfs_path(path, sizeof path, "%s/%s", dir, name) < 0)
		return -ENAMETOOLONG;
	return sysfs_read_long(path, v);
}

/* The netdev directory whose ifindex is ifindex: the last one found, else a scan of every
 * device's net/. 0 or -ENODEV, as the kernel answers an unknown ifindex. */
static int find_netdev(struct sim *s, int ifindex)
{
	char devs[PATH_MAX], net[PATH_MAX], dir[PATH_MAX];
	struct dirent *d, *n;
	DIR *dd, *nd;
	long v;
	int found = 0;

	if (ifindex > 0 && s->ifindex == ifindex && read_int(s->dir, "ifindex", &v) == 0 &&
	    v == ifindex)
		return 0;
	if (ifindex <= 0 || sysfs_path(devs, sizeof devs, "%s/bus/pci/devices", s->sysroot) < 0 ||
	    !(dd = opendir(devs)))
		return -ENODEV;
	while (!found && (d = readdir(dd))) {
		if (d->d_name[0] == '.' || sysfs_path(net, sizeof net, "%s/%s/net", devs, d->d_name) < 0 ||
		    !(nd = opendir(net)))
			continue;
		while (!found && (n = readdir(nd)))
			found = n->d_name[0] != '.' &&
			        sysfs_path(dir, sizeof dir, "%s/%s", net, n->d_name) >= 0 &&
			        read_int(dir, "ifindex", &v) == 0 && v == ifindex;
		closedir(nd);
	}
	closedir(dd);
	if (!found)
		return -ENODEV;
	memcpy(s->dir, dir, sizeof dir);
	s->ifindex = ifindex;
	return 0;
}

/* The netdev's PF (its directory is <PF>/net/<ifname>) and that PF's driver capabilities. */
static const struct simcaps *caps_of(const struct sim *s, long *numvfs)
{
	char path[PATH_MAX], drv[64];

	*numvfs = 0;
	if (sysfs_path(path, sizeof path, "%s/../../sriov_numvfs", s->dir) < 0 ||
	    sysfs_read_long(path, numvfs) < 0 || *numvfs < 0 || *numvfs > NL_MAXVFS)
		*numvfs = 0;
	if (sysfs_path(path, sizeof path, "%s/../../driver", s->dir) < 0 ||
	    sysfs_link_name(path, drv, sizeof drv) < 0)
		return &nocaps;
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
		if (strcmp(caps[i].driver, drv) == 0)
			return &caps[i];
	return &nocaps;
}

static void vf_defaults(struct nl_vf *v, int vf)
{
	nl_vf_unknown(v, vf);
	v->has_mac = 1;              /* 00:00:00:00:00:00 */
	v->vlan = v->qos = 0;
	v->spoofchk = 1;
	v->trust = 0;
	v->link = 0;
	v->max_rate = v->min_rate = 0;
}

static int vf_path(const struct sim *s, int vf, char *path, size_t size)
{
	return sysfs_path(path, size, "%s/vflaunch-sim/vf%d", s->dir, vf);
}

/* VF vf's state from its file; the defaults when there is none. 0 or -errno (a file that is
 * not the one line netsim.h describes is -EINVAL: a corrupt tree). */
static int vf_load(const struct sim *s, int vf, struct nl_vf *v)
{
	char path[PATH_MAX], text[256], mac[NL_MACSTRLEN];
	long long maxr, minr;
	int n, rc;

	vf_defaults(v, vf);
	if ((rc = vf_path(s, vf, path, sizeof path)) < 0)
		return rc;
	if ((rc = sysfs_read(path, text, sizeof text)) == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	if (sscanf(text, "mac=%17s vlan=%d qos=%d spoofchk=%d trust=%d link=%d max_rate=%lld "
	           "min_rate=%lld%n", mac, &v->vlan, &v->qos, &v->spoofchk, &v->trust, &v->link,
	           &maxr, &minr, &n) != 8 || text[n] || nl_mac_parse(mac, v->mac) < 0 ||
	    v->vlan < 0 || v->vlan > 4095 || v->qos < 0 || v->qos > 7 || v->spoofchk < 0 ||
	    v->spoofchk > 1 || v->trust < 0 || v->trust > 1 || !nl_link_state_name(v->link) ||
	    maxr < 0 || maxr > UINT32_MAX || minr < 0 || minr > UINT32_MAX)
		return -EINVAL;
	v->max_rate = maxr;
	v->min_rate = minr;
	return 0;
}

static int vf_store(const struct sim *s, const struct nl_vf *v)
{
	char path[PATH_MAX], text[256], mac[NL_MACSTRLEN];
	int fd, len, rc = 0;
	ssize_t n;

	if (sysfs_writes_forbidden())
		return -EROFS;
	nl_mac_format(v->mac, mac);
	len = snprintf(text, sizeof text, "mac=%s vlan=%d qos=%d spoofchk=%d trust=%d link=%d "
	               "max_rate=%lld min_rate=%lld\n", mac, v->vlan, v->qos, v->spoofchk,
	               v->trust, v->link, v->max_rate, v->min_rate);
	if (sysfs_path(path, sizeof path, "%s/vflaunch-sim", s->dir) < 0)
		return -ENAMETOOLONG;
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	/* A whole line or none, as the kernel changes a VF's setting: the line goes to a new file
	 * that replaces the old one (a process killed between open and write, as the crash test
	 * kills launches, must not leave an empty state the next reader takes for a corrupt one). */
	char tmp[PATH_MAX];
	if ((rc = vf_path(s, v->vf, path, sizeof path)) < 0 ||
	    (rc = sysfs_path(tmp, sizeof tmp, "%s.new", path)) < 0)
		return rc;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0)
		return -errno;
	n = write(fd, text, (size_t)len);
	rc = n < 0 ? -errno : n != len ? -EIO : 0;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* ---- Replies ---- */

int nl_build_error(void *buf, size_t size, const void *req, int error, const char *msg)
{
	const struct nlmsghdr *rq = req;
	struct nlmsghdr *nlh;
	struct nlmsgerr *e;

	if (size < MNL_NLMSG_HDRLEN + sizeof *e)
		return -ENOBUFS;
	memset(buf, 0, size);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED | (msg ? NLM_F_ACK_TLVS : 0);
	nlh->nlmsg_seq = rq->nlmsg_seq;
	nlh->nlmsg_pid = rq->nlmsg_pid;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof *e);
	e->error = error;
	e->msg = *rq;
	if (msg && !mnl_attr_put_strz_check(nlh, size, NLMSGERR_ATTR_MSG, msg))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

static int put_vf(struct nlmsghdr *nlh, size_t size, const struct nl_vf *v)
{
	uint32_t vf = (uint32_t)v->vf;
	struct ifla_vf_mac mac = { .vf = vf };
	struct ifla_vf_vlan vlan = { vf, (uint32_t)v->vlan, (uint32_t)v->qos };
	struct ifla_vf_rate rate = { vf, (uint32_t)v->min_rate, (uint32_t)v->max_rate };
	struct ifla_vf_tx_rate tx = { vf, (uint32_t)v->max_rate };
	struct ifla_vf_spoofchk spoof = { vf, (uint32_t)v->spoofchk };
	struct ifla_vf_link_state ls = { vf, (uint32_t)v->link };
	struct ifla_vf_trust trust = { vf, (uint32_t)v->trust };
	struct ifla_vf_vlan_info vi = { vf, (uint32_t)v->vlan, (uint32_t)v->qos, htons(0x8100) };
	struct nlattr *info, *list;

	memcpy(mac.mac, v->mac, NL_MACLEN);
	if (!(info = mnl_attr_nest_start_check(nlh, size, IFLA_VF_INFO)) ||
	    !mnl_attr_put_check(nlh, size, IFLA_VF_MAC, sizeof mac, &mac) ||
	    !mnl_attr_put_check(nlh, size, IFLA_VF_VLAN, sizeof vlan, &vlan) ||
	    !mnl_attr_put_check(nlh, size, IFLA_VF_RATE, sizeof rate, &rate) ||
	    !mnl_attr_put_check(nlh, size, IFLA_VF_TX_RATE, sizeof tx, &tx) ||
	    !mnl_attr_put_check(nlh, size, IFLA_VF_SPOOFCHK, sizeof spoof, &spoof) ||
	    !mnl_attr_put_check(nlh, size, IFLA_VF_LINK_STATE, sizeof ls, &ls) ||
	    !mnl_attr_put_check(nlh, size, IFLA_VF_TRUST, sizeof trust, &trust) ||
	    !(list = mnl_attr_nest_start_check(nlh, size, IFLA_VF_VLAN_LIST)) ||
	    !mnl_attr_put_check(nlh, size, IFLA_VF_VLAN_INFO, sizeof vi, &vi))
		return -ENOBUFS;
	mnl_attr_nest_end(nlh, list);
	mnl_attr_nest_end(nlh, info);
	return 0;
}

int nl_build_newlink(void *buf, size_t size, uint32_t seq, const struct nl_link *l)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nlattr *list;

	if (size < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof *ifi))
		return -ENOBUFS;
	memset(buf, 0, size);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_seq = seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
	ifi->ifi_type = 1;           /* ARPHRD_ETHER */
	ifi->ifi_index = l->ifindex;
	ifi->ifi_flags = (l->up ? IFF_UP : 0) |
	                 (l->operstate == 6 ? IFF_RUNNING | IFF_LOWER_UP : 0);
	if (!mnl_attr_put_strz_check(nlh, size, IFLA_IFNAME, l->ifname) ||
	    (l->operstate >= 0 && !mnl_attr_put_u8_check(nlh, size, IFLA_OPERSTATE,
	                                                 (uint8_t)l->operstate)) ||
	    !mnl_attr_put_u32_check(nlh, size, IFLA_NUM_VF, (uint32_t)l->num_vf))
		return -ENOBUFS;
	if (l->nvfs) {
		if (!(list = mnl_attr_nest_start_check(nlh, size, IFLA_VFINFO_LIST)))
			return -ENOBUFS;
		for (size_t i = 0; i < l->nvfs; i++)
			if (put_vf(nlh, size, &l->vfs[i]) < 0)
				return -ENOBUFS;
		mnl_attr_nest_end(nlh, list);
	}
	return (int)nlh->nlmsg_len;
}

/* ---- Requests ---- */

static int operstate_of(const char *dir)
{
	static const char *const names[] = { "unknown", "notpresent", "down", "lowerlayerdown",
	                                     "testing", "dormant", "up" };
	char path[PATH_MAX], text[32];

	if (sysfs_path(path, sizeof path, "%s/operstate", dir) < 0 ||
	    sysfs_read(path, text, sizeof text) < 0)
		return 0;
	for (int i = 0; i < 7; i++)
		if (strcmp(text, names[i]) == 0)
			return i;
	return 0;
}

/* IFF_UP from the netdev's flags file ("0x1003", as sysfs shows ifi_flags); up when absent. */
static int admin_up(const char *dir)
{
	char path[PATH_MAX], text[32];
	unsigned long flags;

	if (sysfs_path(path, sizeof path, "%s/flags", dir) < 0 ||
	    sysfs_read(path, text, sizeof text) < 0 || sscanf(text, "%lx", &flags) != 1)
		return 1;
	return (flags & IFF_UP) != 0;
}

static int answer_getlink(struct sim *s, const struct nlmsghdr *rq, void *reply, size_t size)
{
	const struct simcaps *c;
	struct nl_link l = { .ifindex = s->ifindex };
	long numvfs;
	int rc = 0;

	c = caps_of(s, &numvfs);
	snprintf(l.ifname, sizeof l.ifname, "%s", strrchr(s->dir, '/') + 1);
	l.operstate = operstate_of(s->dir);
	l.up = admin_up(s->dir);
	l.num_vf = (int)numvfs;
	if (numvfs && !(l.vfs = calloc((size_t)numvfs, sizeof *l.vfs)))
		return nl_build_error(reply, size, rq, -ENOMEM, NULL);
	/* No state directory: no VF was ever set, all have the defaults (one failed open for
	 * the PF instead of one per VF: list on a large host reads every PF). */
	char dir[PATH_MAX];
	struct stat sb;
	int none = sysfs_path(dir, sizeof dir, "%s/vflaunch-sim", s->dir) >= 0 &&
	           stat(dir, &sb) < 0 && errno == ENOENT;
	for (int i = 0; i < l.num_vf && rc == 0; i++) {
		if (none)
			vf_defaults(&l.vfs[i], i);
		else
			rc = vf_load(s, i, &l.vfs[i]);
		if (!c->flags_known)
			l.vfs[i].spoofchk = l.vfs[i].trust = -1;
	}
	l.nvfs = (size_t)l.num_vf;
	rc = rc < 0 ? nl_build_error(reply, size, rq, rc, NULL) :
	     nl_build_newlink(reply, size, rq->nlmsg_seq, &l);
	free(l.vfs);
	return rc;
}

struct setreq {
	struct sim *s;
	const struct simcaps *c;
	long numvfs;
	int error;                   /* the first refusal: the rest of the message is not applied */
};

/* The link's speed in Mb/s; 0 when unknown (no limit is applied then). */
static long speed_of(const struct sim *s)
{
	long v;
	return read_int(s->dir, "speed", &v) == 0 && v > 0 ? v : 0;
}

/* One IFLA_VF_* attribute: its VF, loaded, changed, stored; or the refusal. */
static int apply_vf_attr(const struct nlattr *a, void *data)
{
	struct setreq *r = data;
	const unsigned char *p = mnl_attr_get_payload(a);
	uint32_t f[3] = { 0, 0, 0 };
	enum nl_vf_attr which;
	struct nl_vf v;
	int rc;

	switch (mnl_attr_get_type(a)) {
	case IFLA_VF_MAC: which = NL_VF_MAC; break;
	case IFLA_VF_VLAN: which = NL_VF_VLAN; break;
	case IFLA_VF_RATE: which = NL_VF_RATE; break;
	case IFLA_VF_SPOOFCHK: which = NL_VF_SPOOFCHK; break;
	case IFLA_VF_TRUST: which = NL_VF_TRUST; break;
	case IFLA_VF_LINK_STATE: which = NL_VF_LINK; break;
	default: r->error = -EOPNOTSUPP; return MNL_CB_ERROR;
	}
	/* The sizes of the kernel's ifla_vf_policy: a short attribute is EINVAL. */
	if (mnl_attr_get_payload_len(a) < (which == NL_VF_MAC ? sizeof(struct ifla_vf_mac) :
	                                   which == NL_VF_VLAN || which == NL_VF_RATE ? 12u : 8u)) {
		r->error = -EINVAL;
		return MNL_CB_ERROR;
	}
	memcpy(f, p, which == NL_VF_VLAN || which == NL_VF_RATE ? 12 : 8);
	if (!(r->c->set & BIT(which))) {
		r->error = -EOPNOTSUPP;
		return MNL_CB_ERROR;
	}
	if (f[0] >= (uint32_t)r->numvfs || (rc = vf_load(r->s, (int)f[0], &v)) < 0) {
		r->error = f[0] >= (uint32_t)r->numvfs ? -EINVAL : rc;
		return MNL_CB_ERROR;
	}
	rc = 0;
	switch (which) {
	case NL_VF_MAC:
		if (p[4] & 1)       /* multicast: every driver refuses it */
			rc = -EINVAL;
		memcpy(v.mac, p + 4, NL_MACLEN);
		break;
	case NL_VF_VLAN:
		rc = f[1] > 4095 || f[2] > 7 ? -EINVAL : 0;
		v.vlan = (int)f[1];
		v.qos = (int)f[2];
		break;
	case NL_VF_RATE:    /* struct ifla_vf_rate: vf, min, max */
		rc = (f[1] && !r->c->min_rate) || (speed_of(r->s) && f[2] > speed_of(r->s)) ||
		     (f[2] && f[1] > f[2]) ? -EINVAL : 0;
		v.min_rate = f[1];
		v.max_rate = f[2];
		break;
	case NL_VF_SPOOFCHK:
		v.spoofchk = f[1] != 0;
		break;
	case NL_VF_TRUST:
		v.trust = f[1] != 0;
		break;
	case NL_VF_LINK:
		rc = nl_link_state_name((int)f[1]) ? 0 : -EINVAL;
		v.link = (int)f[1];
		break;
	default:
		break;
	}
	if (rc == 0)
		rc = vf_store(r->s, &v);
	if (rc < 0) {
		r->error = rc;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int apply_vf_info(const struct nlattr *a, void *data)
{
	struct setreq *r = data;

	if (mnl_attr_get_type(a) != IFLA_VF_INFO)
		return MNL_CB_OK;
	return mnl_attr_parse_nested(a, apply_vf_attr, r) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int apply_link_attr(const struct nlattr *a, void *data)
{
	struct setreq *r = data;

	if (mnl_attr_get_type(a) != IFLA_VFINFO_LIST) {
		r->error = -EOPNOTSUPP;  /* vflaunch sends nothing else; the sim changes nothing else */
		return MNL_CB_ERROR;
	}
	return mnl_attr_parse_nested(a, apply_vf_info, r) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int answer_setlink(struct sim *s, const struct nlmsghdr *rq, void *reply, size_t size)
{
	struct setreq r = { .s = s };

	r.c = caps_of(s, &r.numvfs);
	if (mnl_attr_parse(rq, sizeof(struct ifinfomsg), apply_link_attr, &r) < 0 && !r.error)
		r.error = -EINVAL;
	return nl_build_error(reply, size, rq, r.error, NULL);
}

static int sim_request(struct nl_transport *t, const void *req, size_t len, void *reply,
                       size_t size)
{
	const struct nlmsghdr *rq = req;
	const struct ifinfomsg *ifi;
	struct sim *s = t->ctx;
	int rc;

	if (len < sizeof *rq || len > NL_BUFSIZE)
		return -EINVAL;     /* nothing to answer: nl_build_error echoes a whole header */
	if (!mnl_nlmsg_ok(rq, (int)len) || mnl_nlmsg_get_payload_len(rq) < sizeof *ifi ||
	    (rq->nlmsg_type != RTM_GETLINK && rq->nlmsg_type != RTM_SETLINK))
		return nl_build_error(reply, size, req, -EINVAL, "vflaunch's simulated kernel "
		                      "answers link requests only");
	ifi = mnl_nlmsg_get_payload(rq);
	if ((rc = find_netdev(s, ifi->ifi_index)) < 0)
		return nl_build_error(reply, size, req, rc, NULL);
	return rq->nlmsg_type == RTM_GETLINK ? answer_getlink(s, rq, reply, size) :
	       answer_setlink(s, rq, reply, size);
}

static void sim_close(struct nl_transport *t)
{
	free(t->ctx);
	t->ctx = NULL;
}

void nl_transport_sim_hint(struct nl_transport *t, const char *netdev_dir, int ifindex)
{
	struct sim *s = t->ctx;

	if (t->request == sim_request && sysfs_path(s->dir, sizeof s->dir, "%s", netdev_dir) >= 0)
		s->ifindex = ifindex;
}

int nl_transport_sim(struct nl_transport *t, const char *sysroot)
{
	struct sim *s = calloc(1, sizeof *s);

	memset(t, 0, sizeof *t);
	if (!s)
		return -ENOMEM;
	if (sysfs_path(s->sysroot, sizeof s->sysroot, "%s", sysroot) < 0) {
		free(s);
		return -ENAMETOOLONG;
	}
	t->request = sim_request;
	t->close = sim_close;
	t->ctx = s;
	return 0;
}
