// SPDX-License-Identifier: MIT
// VF network identity: the PF netdev from sysfs, changes sent one attribute at a time and read
// back, and the journal's give-back of a VF's MAC, VLAN, rates and flags.
#include "vfnet.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "errbuf.h"
#include "netsim.h"
#include "sysfs.h"

static int (*transport_hook)(struct nl_transport *t, const char *sysroot);

void vfnet_use_transport(int (*open)(struct nl_transport *t, const char *sysroot))
{
	transport_hook = open;
}

/* The real kernel only for the real sysfs: a tree's PF names no netdev of this machine, and a
 * simulated run must never reach the host's network. */
static int open_transport(const char *sysroot, struct nl_transport *t)
{
	if (transport_hook)
		return transport_hook(t, sysroot);
	if (!sysroot || strcmp(sysroot, "/sys") == 0)
		return nl_transport_kernel(t);
	return nl_transport_sim(t, sysroot);
}

static const char *root_of(const char *sysroot)
{
	return sysroot ? sysroot : "/sys";
}

int vfnet_netdev(const char *sysroot, const char *pf, char ifname[NL_IFNAMELEN], int *ifindex,
                 char *err, size_t errlen)
{
	char dev[PATH_MAX], path[PATH_MAX], drv[64], first[NL_IFNAMELEN] = "";
	struct dirent *d;
	struct stat sb;
	DIR *dir;
	long v;
	int rc;

	if (sysfs_path(dev, sizeof dev, "%s/bus/pci/devices/%s", root_of(sysroot), pf) < 0 ||
	    sysfs_path(path, sizeof path, "%s/net", dev) < 0) {
		errbuf_printf(err, errlen, "%s: %s", pf, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	if (stat(dev, &sb) < 0) {
		errbuf_printf(err, errlen, "%s: no such PCI device", pf);
		return -ENODEV;
	}
	/* The first name in order: a PF with several netdevs (mlx4's two ports) is rare, and the
	 * same one each time is what matters. */
	if ((dir = opendir(path))) {
		while ((d = readdir(dir)))
			if (d->d_name[0] != '.' && strlen(d->d_name) < NL_IFNAMELEN &&
			    (!first[0] || strcmp(d->d_name, first) < 0))
				memcpy(first, d->d_name, strlen(d->d_name) + 1);
		closedir(dir);
	}
	if (!first[0]) {
		if (sysfs_path(path, sizeof path, "%s/driver", dev) < 0 ||
		    sysfs_link_name(path, drv, sizeof drv) < 0)
			snprintf(drv, sizeof drv, "none");
		errbuf_printf(err, errlen, "%s has no network interface (driver %s)", pf, drv);
		return -ENOENT;
	}
	if ((rc = sysfs_path(path, sizeof path, "%s/net/%s/ifindex", dev, first)) < 0 ||
	    (rc = sysfs_read_long(path, &v)) < 0 || v <= 0 || v > INT_MAX) {
		rc = rc < 0 ? rc : -EINVAL;
		errbuf_printf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	memcpy(ifname, first, NL_IFNAMELEN);
	*ifindex = (int)v;
	return 0;
}

int vfnet_locate(const char *sysroot, const char *vf, char pf[16], int *index,
                 char *err, size_t errlen)
{
	char dev[PATH_MAX], path[PATH_MAX], name[64];
	struct stat sb;
	int rc;

	if (sysfs_path(dev, sizeof dev, "%s/bus/pci/devices/%s", root_of(sysroot), vf) < 0 ||
	    sysfs_path(path, sizeof path, "%s/physfn", dev) < 0)
		return -ENAMETOOLONG;
	if (stat(dev, &sb) < 0) {
		errbuf_printf(err, errlen, "%s: no such PCI device", vf);
		return -ENODEV;
	}
	if ((rc = sysfs_link_name(path, name, sizeof name)) < 0 || strlen(name) >= 16) {
		errbuf_printf(err, errlen, "%s is not a VF (no physfn link)", vf);
		return -EINVAL;
	}
	/* The PF's virtfnN links are 0..numvfs-1: the one naming vf is its index. */
	for (int i = 0; i < NL_MAXVFS; i++) {
		char link[64];
		if (sysfs_path(path, sizeof path, "%s/bus/pci/devices/%s/virtfn%d", root_of(sysroot),
		               name, i) < 0)
			return -ENAMETOOLONG;
		if ((rc = sysfs_link_name(path, link, sizeof link)) == -ENOENT)
			break;
		if (rc >= 0 && strcmp(link, vf) == 0) {
			memcpy(pf, name, strlen(name) + 1);     /* < 16: checked above */
			*index = i;
			return 0;
		}
	}
	errbuf_printf(err, errlen, "%s: its PF %s lists it under no virtfn link", vf, name);
	return -ENODEV;
}

/* The netdev of pf, a transport, and its GETLINK. 0 or -errno with err set. */
static int open_link(const char *sysroot, const char *pf, struct nl_transport *t,
                     struct nl_link *l, char *err, size_t errlen)
{
	char ifname[NL_IFNAMELEN], why[256];
	int ifindex, rc;

	memset(l, 0, sizeof *l);
	memset(t, 0, sizeof *t);
	if ((rc = vfnet_netdev(sysroot, pf, ifname, &ifindex, err, errlen)) < 0)
		return rc;
	if ((rc = open_transport(sysroot, t)) < 0) {
		errbuf_printf(err, errlen, "%s (%s): rtnetlink: %s", pf, ifname, strerror(-rc));
		return rc;
	}
	char dir[PATH_MAX];
	if (sysfs_path(dir, sizeof dir, "%s/bus/pci/devices/%s/net/%s", root_of(sysroot), pf,
	               ifname) >= 0)
		nl_transport_sim_hint(t, dir, ifindex);
	if ((rc = nl_getlink(t, ifindex, l, why, sizeof why)) < 0) {
		errbuf_printf(err, errlen, "%s (%s): cannot read its VFs: %s", pf, ifname, why);
		nl_transport_close(t);
		nl_link_free(l);
		return rc;
	}
	/* The kernel's name wins (a rename between the two reads); sysfs gave the index. */
	if (!l->ifname[0])
		memcpy(l->ifname, ifname, sizeof ifname);
	return 0;
}

int vfnet_get(const char *sysroot, const char *pf, struct vfnet_pf *out, char *err, size_t errlen)
{
	struct nl_transport t;
	char path[PATH_MAX];
	int rc;

	out->speed = -1;
	if ((rc = open_link(sysroot, pf, &t, &out->link, err, errlen)) < 0)
		return rc;
	nl_transport_close(&t);
	/* Real sysfs answers EINVAL (or -1) while the link is down. */
	if (sysfs_path(path, sizeof path, "%s/bus/pci/devices/%s/net/%s/speed", root_of(sysroot),
	               pf, out->link.ifname) < 0 || sysfs_read_long(path, &out->speed) < 0 ||
	    out->speed <= 0)
		out->speed = -1;
	return 0;
}

/* ---- Comparing and describing ---- */

static const char *flag_name(int v)
{
	return v == 1 ? "on" : v == 0 ? "off" : "unknown";
}

/* The first value of fields where got differs from want, described into why ("mac is X, not
 * Y"). 0 when all are equal. */
static int differs(const struct nl_vf *want, unsigned fields, const struct nl_vf *got,
                   char *why, size_t whylen)
{
	char a[NL_MACSTRLEN], b[NL_MACSTRLEN];

	if ((fields & VFNET_MAC) && (!got->has_mac || memcmp(got->mac, want->mac, NL_MACLEN))) {
		nl_mac_format(want->mac, b);
		if (got->has_mac)
			nl_mac_format(got->mac, a);
		errbuf_printf(why, whylen, "mac is %s, not %s", got->has_mac ? a : "not reported", b);
		return 1;
	}
#define INTDIFF(bit, key, fmt) \
	if ((fields & bit) && got->key != want->key) { \
		errbuf_printf(why, whylen, #key " is " fmt ", not " fmt, got->key, want->key); \
		return 1; \
	}
	INTDIFF(VFNET_VLAN, vlan, "%d")
	INTDIFF(VFNET_QOS, qos, "%d")
	INTDIFF(VFNET_MAX_RATE, max_rate, "%lld")
	INTDIFF(VFNET_MIN_RATE, min_rate, "%lld")
#undef INTDIFF
	if ((fields & VFNET_SPOOFCHK) && got->spoofchk != want->spoofchk) {
		errbuf_printf(why, whylen, "spoofchk is %s, not %s", flag_name(got->spoofchk),
		              flag_name(want->spoofchk));
		return 1;
	}
	if ((fields & VFNET_TRUST) && got->trust != want->trust) {
		errbuf_printf(why, whylen, "trust is %s, not %s", flag_name(got->trust),
		              flag_name(want->trust));
		return 1;
	}
	if ((fields & VFNET_LINK) && got->link != want->link) {
		const char *g = nl_link_state_name(got->link);
		errbuf_printf(why, whylen, "link is %s, not %s", g ? g : "unknown",
		              nl_link_state_name(want->link));
		return 1;
	}
	return 0;
}

/* The attribute of each field, and its values for a message ("vlan 100 qos 0"). */
static const struct { enum nl_vf_attr attr; unsigned fields; } attrs[] = {
	{ NL_VF_MAC, VFNET_MAC }, { NL_VF_VLAN, VFNET_VLAN | VFNET_QOS },
	{ NL_VF_RATE, VFNET_MAX_RATE | VFNET_MIN_RATE }, { NL_VF_SPOOFCHK, VFNET_SPOOFCHK },
	{ NL_VF_TRUST, VFNET_TRUST }, { NL_VF_LINK, VFNET_LINK },
};

static void describe(const struct nl_vf *v, enum nl_vf_attr a, char *buf, size_t size)
{
	char mac[NL_MACSTRLEN];

	switch (a) {
	case NL_VF_MAC: nl_mac_format(v->mac, mac); snprintf(buf, size, "mac %s", mac); break;
	case NL_VF_VLAN: snprintf(buf, size, "vlan %d qos %d", v->vlan, v->qos); break;
	case NL_VF_RATE:
		snprintf(buf, size, "rate (max_rate %lld, min_rate %lld)", v->max_rate, v->min_rate);
		break;
	case NL_VF_SPOOFCHK: snprintf(buf, size, "spoofchk %s", flag_name(v->spoofchk)); break;
	case NL_VF_TRUST: snprintf(buf, size, "trust %s", flag_name(v->trust)); break;
	default: snprintf(buf, size, "link %s", nl_link_state_name(v->link)); break;
	}
}

/* want's given fields over cur: the whole state the VF is to have. */
static struct nl_vf merged(const struct nl_vf *cur, const struct vfnet_change *c)
{
	struct nl_vf m = *cur;
	const struct nl_vf *w = &c->want;

	if (c->fields & VFNET_MAC) {
		memcpy(m.mac, w->mac, NL_MACLEN);
		m.has_mac = 1;
	}
	if (c->fields & VFNET_VLAN) m.vlan = w->vlan;
	if (c->fields & VFNET_QOS) m.qos = w->qos;
	if (c->fields & VFNET_SPOOFCHK) m.spoofchk = w->spoofchk;
	if (c->fields & VFNET_TRUST) m.trust = w->trust;
	if (c->fields & VFNET_LINK) m.link = w->link;
	if (c->fields & VFNET_MAX_RATE) m.max_rate = w->max_rate;
	if (c->fields & VFNET_MIN_RATE) m.min_rate = w->min_rate;
	/* A partner the driver does not report goes as its default. */
	if (m.vlan < 0) m.vlan = 0;
	if (m.qos < 0) m.qos = 0;
	if (m.max_rate < 0) m.max_rate = 0;
	if (m.min_rate < 0) m.min_rate = 0;
	return m;
}

/* Send every attribute of c that differs from the VF's state in l (updated as it goes), each
 * refusal described after prefix. 1 when something was sent, 0 when nothing differed. */
static int send_changes(struct nl_transport *t, struct nl_link *l, const struct vfnet_change *c,
                        const char *prefix, char *err, size_t errlen)
{
	struct nl_vf *cur = &l->vfs[c->want.vf];
	struct nl_vf m = merged(cur, c);
	char why[256], what[96];
	int sent = 0, rc;

	for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
		if (!(c->fields & attrs[i].fields) || !differs(&m, attrs[i].fields, cur, NULL, 0))
			continue;
		if ((rc = nl_setvf(t, l->ifindex, &m, attrs[i].attr, why, sizeof why)) < 0) {
			describe(&m, attrs[i].attr, what, sizeof what);
			errbuf_printf(err, errlen, "%s: cannot set %s: %s%s%s", prefix, what,
			              strerror(-rc), why[0] ? " (kernel: " : "", why[0] ? why : "");
			if (why[0] && errlen > 1 && strlen(err) < errlen - 1)
				strcat(err, ")");
			return rc;
		}
		sent = 1;
	}
	*cur = m;
	return sent;
}

/* Read every change back. 0, or -EIO with err saying which value differs. */
static int verify(struct nl_transport *t, const char *who, struct nl_link *l,
                  const struct vfnet_change *c, size_t n,
                  void (*prefix)(const char *, const struct nl_link *, int, char *, size_t),
                  char *err, size_t errlen)
{
	struct nl_link after;
	char why[256], pre[96];
	int rc;

	if ((rc = nl_getlink(t, l->ifindex, &after, why, sizeof why)) < 0) {
		errbuf_printf(err, errlen, "%s (%s): cannot read the VFs back: %s", who, l->ifname, why);
		nl_link_free(&after);
		return rc;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct nl_vf *got = nl_link_vf(&after, c[i].want.vf);
		prefix(who, l, c[i].want.vf, pre, sizeof pre);
		if (!got) {
			errbuf_printf(err, errlen, "%s: gone from the PF's VF list", pre);
			rc = -EIO;
		} else if (differs(&c[i].want, c[i].fields, got, why, sizeof why)) {
			errbuf_printf(err, errlen, "%s: %s", pre, why);
			rc = -EIO;
		}
	}
	nl_link_free(&after);
	return rc;
}

/* who is the PF's address. */
static void pf_prefix(const char *who, const struct nl_link *l, int vf, char *buf, size_t size)
{
	snprintf(buf, size, "%s (%s) VF %d", who, l->ifname, vf);
}

/* Changes, sent and read back; prefix(who, ...) names the VF in messages. 1 sent, 0 nothing
 * differed (nothing sent, nothing read back). */
static int apply(struct nl_transport *t, const char *who, struct nl_link *l,
                 const struct vfnet_change *c, size_t n,
                 void (*prefix)(const char *, const struct nl_link *, int, char *, size_t),
                 char *err, size_t errlen)
{
	char pre[96];
	int sent = 0, rc;

	for (size_t i = 0; i < n; i++) {
		prefix(who, l, c[i].want.vf, pre, sizeof pre);
		if (!nl_link_vf(l, c[i].want.vf)) {
			errbuf_printf(err, errlen, "%s: no such VF (the PF has %d)", pre, l->num_vf);
			return -ERANGE;
		}
		if ((rc = send_changes(t, l, &c[i], pre, err, errlen)) < 0)
			return rc;
		sent |= rc;
	}
	if (!sent)
		return 0;
	return (rc = verify(t, who, l, c, n, prefix, err, errlen)) < 0 ? rc : 1;
}

int vfnet_set(const char *sysroot, const char *pf, const struct vfnet_change *c, size_t n,
              char *err, size_t errlen)
{
	struct nl_transport t;
	struct nl_link l;
	int rc;

	if (sysfs_writes_forbidden()) {
		errbuf_printf(err, errlen, "%s: VF settings not changed: this run is print-only (host "
		              "writes are forbidden)", pf);
		return -EROFS;
	}
	if ((rc = open_link(sysroot, pf, &t, &l, err, errlen)) < 0)
		return rc;
	rc = apply(&t, pf, &l, c, n, pf_prefix, err, errlen);
	nl_transport_close(&t);
	nl_link_free(&l);
	return rc < 0 ? rc : 0;
}

/* ---- Giving back ---- */

/* who is the VF's address. */
static void restore_prefix(const char *who, const struct nl_link *l, int vf, char *buf, size_t size)
{
	snprintf(buf, size, "%s (VF %d of %s)", who, vf, l->ifname);
}

int vfnet_restore(const char *sysroot, const char *vf, const struct nl_vf *orig,
                  char *err, size_t errlen)
{
	struct vfnet_change c = { .want = *orig, .fields = VFNET_MAC | VFNET_VLAN | VFNET_QOS |
	                          VFNET_LINK | VFNET_MAX_RATE | VFNET_MIN_RATE };
	struct nl_transport t;
	struct nl_link l;
	char pf[16];
	int index, rc;

	if ((rc = vfnet_locate(sysroot, vf, pf, &index, err, errlen)) < 0)
		return rc;
	if ((rc = open_link(sysroot, pf, &t, &l, err, errlen)) < 0)
		return rc;
	c.want.vf = index;
	c.fields |= (orig->spoofchk >= 0 ? VFNET_SPOOFCHK : 0) | (orig->trust >= 0 ? VFNET_TRUST : 0);
	rc = apply(&t, vf, &l, &c, 1, restore_prefix, err, errlen);
	nl_transport_close(&t);
	nl_link_free(&l);
	return rc;
}
