// SPDX-License-Identifier: MIT
// Sends vflaunch's own rtnetlink messages (launcher/netlink.c) to the running kernel and prints
// what came back: the raw reply in hex (the unit tests' fixtures were captured this way, in
// tests/vm/payload/netdevsim.sh) or, for "show", the reply as netlink.c parses it (compared
// there with `ip link show`).
//   nlcapture get IFNAME                      GETLINK with the VF filter: the reply, in hex
//   nlcapture set IFNAME VF ATTR VALUE...     one SETLINK: the request and the ack, in hex;
//        ATTR VALUE: mac aa:bb:cc:dd:ee:ff | vlan VLAN QOS | rate MAX MIN | spoofchk 0|1 |
//                    trust 0|1 | link auto|enable|disable        exit 1 when refused
//   nlcapture bad IFNAME                      a SETLINK whose IFLA_VFINFO_LIST is not nested
//                                             (the kernel's policy refuses it, with an extended ack)
//   nlcapture show IFNAME                     one line per VF through nl_getlink
//   nlcapture vfset PF VF ATTR VALUE...       vfnet_set on the real /sys (PF: a PCI address
//                                             whose net/ names the netdev), then vfget
//   nlcapture vfget PF                        vfnet_get on the real /sys, printed as show does
// Hex output: "NAME" then the bytes, 32 a line, then "end" (the fixture format, see
// tests/unit/fixtures/README).
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlink.h"
#include "vfnet.h"

static void hex(const char *name, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	printf("%s\n", name);
	for (size_t i = 0; i < len; i++)
		printf("%02x%s", p[i], i % 32 == 31 || i + 1 == len ? "\n" : "");
	printf("end\n");
}

static int usage(void)
{
	fprintf(stderr, "usage: nlcapture get|show|bad IFNAME | set IFNAME VF ATTR VALUE... |\n"
	        "       vfget PF | vfset PF VF ATTR VALUE...\n");
	return 2;
}

static int parse_vf(struct nl_vf *v, enum nl_vf_attr *a, int argc, char **argv)
{
	const char *attr = argv[0];

	if (argc < 2)
		return -1;
	if (!strcmp(attr, "mac") && nl_mac_parse(argv[1], v->mac) == 0) {
		v->has_mac = 1;
		*a = NL_VF_MAC;
	} else if (!strcmp(attr, "vlan") && argc == 3) {
		v->vlan = atoi(argv[1]);
		v->qos = atoi(argv[2]);
		*a = NL_VF_VLAN;
	} else if (!strcmp(attr, "rate") && argc == 3) {
		v->max_rate = atoll(argv[1]);
		v->min_rate = atoll(argv[2]);
		*a = NL_VF_RATE;
	} else if (!strcmp(attr, "spoofchk") || !strcmp(attr, "trust")) {
		*(attr[0] == 's' ? &v->spoofchk : &v->trust) = atoi(argv[1]);
		*a = attr[0] == 's' ? NL_VF_SPOOFCHK : NL_VF_TRUST;
	} else if (!strcmp(attr, "link") && (v->link = nl_link_state_parse(argv[1])) >= 0) {
		*a = NL_VF_LINK;
	} else {
		return -1;
	}
	return 0;
}

static void show(const struct nl_link *l)
{
	char mac[NL_MACSTRLEN];

	printf("%s ifindex %d operstate %s num_vf %d\n", l->ifname, l->ifindex,
	       nl_operstate_name(l->operstate), l->num_vf);
	for (int i = 0; i < l->num_vf; i++) {
		const struct nl_vf *v = nl_link_vf(l, i);
		if (!v)
			continue;
		nl_mac_format(v->mac, mac);
		printf("vf %d mac %s vlan %d qos %d spoofchk %d trust %d link %s max_rate %lld "
		       "min_rate %lld\n", v->vf, mac, v->vlan, v->qos, v->spoofchk, v->trust,
		       nl_link_state_name(v->link) ? nl_link_state_name(v->link) : "?",
		       v->max_rate, v->min_rate);
	}
}

/* vfset/vfget: the whole of vfnet.c (sysfs lookup, set, read-back) on the real kernel. */
static int vf_main(int argc, char **argv)
{
	struct vfnet_pf pf;
	char err[512];
	int rc;

	if (!strcmp(argv[1], "vfset")) {
		static const unsigned fields[NL_VF_NATTRS] = {
			VFNET_MAC, VFNET_VLAN | VFNET_QOS, VFNET_MAX_RATE | VFNET_MIN_RATE,
			VFNET_SPOOFCHK, VFNET_TRUST, VFNET_LINK
		};
		struct vfnet_change c;
		enum nl_vf_attr a;
		if (argc < 6)
			return usage();
		nl_vf_unknown(&c.want, atoi(argv[3]));
		if (parse_vf(&c.want, &a, argc - 4, argv + 4) < 0)
			return usage();
		c.fields = fields[a];
		if ((rc = vfnet_set(NULL, argv[2], &c, 1, err, sizeof err)) < 0) {
			printf("vfset %d %s\n", rc, err);
			return 1;
		}
		printf("vfset 0\n");
	}
	if ((rc = vfnet_get(NULL, argv[2], &pf, err, sizeof err)) < 0) {
		printf("vfget %d %s\n", rc, err);
		return 1;
	}
	show(&pf.link);
	printf("speed %ld\n", pf.speed);
	nl_link_free(&pf.link);
	return 0;
}

int main(int argc, char **argv)
{
	static char req[512], reply[NL_BUFSIZE];
	struct nl_transport t;
	unsigned ifindex;
	int n, rc;

	if (argc < 3)
		return usage();
	if (!strcmp(argv[1], "vfset") || !strcmp(argv[1], "vfget"))
		return vf_main(argc, argv);
	if (!(ifindex = if_nametoindex(argv[2]))) {
		fprintf(stderr, "nlcapture: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if ((rc = nl_transport_kernel(&t)) < 0) {
		fprintf(stderr, "nlcapture: rtnetlink: %s\n", strerror(-rc));
		return 1;
	}
	if (!strcmp(argv[1], "show")) {
		struct nl_link l;
		char err[256];
		if ((rc = nl_getlink(&t, (int)ifindex, &l, err, sizeof err)) < 0) {
			fprintf(stderr, "nlcapture: %s\n", err);
			return 1;
		}
		show(&l);
		nl_link_free(&l);
		nl_transport_close(&t);
		return 0;
	}
	if (!strcmp(argv[1], "get")) {
		n = nl_build_getlink(req, sizeof req, 1, (int)ifindex);
	} else if (!strcmp(argv[1], "set") && argc >= 5) {
		struct nl_vf v;
		enum nl_vf_attr a;
		nl_vf_unknown(&v, atoi(argv[3]));
		if (parse_vf(&v, &a, argc - 4, argv + 4) < 0)
			return usage();
		n = nl_build_setvf(req, sizeof req, 1, (int)ifindex, &v, a);
	} else if (!strcmp(argv[1], "bad")) {
		/* IFLA_VFINFO_LIST holding a bare u32: not a nest, refused by the kernel's policy. */
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
		struct ifinfomsg *ifi;
		nlh->nlmsg_type = RTM_SETLINK;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		nlh->nlmsg_seq = 1;
		ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
		ifi->ifi_index = (int)ifindex;
		mnl_attr_put_u8(nlh, IFLA_VFINFO_LIST, 1);
		n = (int)nlh->nlmsg_len;
	} else {
		return usage();
	}
	if (n < 0 || (n = (hex("request", req, (size_t)n),
	                   t.request(&t, req, (size_t)n, reply, sizeof reply))) < 0) {
		fprintf(stderr, "nlcapture: %s\n", strerror(n < 0 ? -n : EINVAL));
		return 1;
	}
	hex("reply", reply, (size_t)n);
	if (strcmp(argv[1], "get")) {
		char msg[256];
		rc = nl_parse_ack(reply, (size_t)n, 1, msg, sizeof msg);
		printf("ack %d %s\n", rc, msg);
		nl_transport_close(&t);
		return rc < 0;
	}
	nl_transport_close(&t);
	return 0;
}
