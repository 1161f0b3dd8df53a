// SPDX-License-Identifier: MIT
// Unit tests of netlink.c: requests byte-exact against what was sent to a real kernel, real igb
// replies parsed (tests/unit/fixtures/README says how they were captured), refusals with and
// without extended acks, and replies that are truncated, malformed or name a VF out of range.
// Fixtures are read relative to this file's directory: run from the repository's top.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlink.h"
#include "netsim.h"
#include "sysfs.h"

#define IFINDEX 2     /* eth0 in the capture */
#define SEQ 1         /* nlcapture's sequence number */

static char err[512];

/* The bytes of fixture name (hex, whitespace ignored) into buf: the length. */
static size_t fixture(const char *name, unsigned char *buf, size_t size)
{
	char path[512];
	const char *slash = strrchr(__FILE__, '/');
	FILE *f;
	unsigned v;
	size_t n = 0;

	snprintf(path, sizeof path, "%.*s/fixtures/%s", slash ? (int)(slash - __FILE__) : 1,
	         slash ? __FILE__ : ".", name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("fixture %s: %s", path, strerror(errno));
	while (n < size && fscanf(f, "%2x", &v) == 1)
		buf[n++] = (unsigned char)v;
	fclose(f);
	return n;
}

static void test_netlink_build_getlink(void **state)
{
	unsigned char want[256], got[256];
	size_t n = fixture("igb-getlink-before.request.hex", want, sizeof want);

	(void)state;
	assert_int_equal(nl_build_getlink(got, sizeof got, SEQ, IFINDEX), (int)n);
	assert_memory_equal(got, want, n);
	assert_int_equal(nl_build_getlink(got, 20, SEQ, IFINDEX), -ENOBUFS);
}

/* Each SETLINK nlcapture sent, built again from the same values. */
static void test_netlink_build_setvf(void **state)
{
	static const struct { const char *file; int vf; enum nl_vf_attr a; } cases[] = {
		{ "igb-set-mac.request.hex", 1, NL_VF_MAC },
		{ "igb-set-vlan.request.hex", 1, NL_VF_VLAN },
		{ "igb-set-rate.request.hex", 2, NL_VF_RATE },
		{ "igb-set-spoofchk.request.hex", 3, NL_VF_SPOOFCHK },
		{ "igb-set-trust.request.hex", 3, NL_VF_TRUST },
		{ "igb-refuse-link.request.hex", 2, NL_VF_LINK },
		{ "igb-refuse-min-rate.request.hex", 2, NL_VF_RATE },
	};
	unsigned char want[256], got[256];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct nl_vf v;
		size_t n = fixture(cases[i].file, want, sizeof want);
		nl_vf_unknown(&v, cases[i].vf);
		assert_int_equal(nl_mac_parse("52:54:00:12:34:56", v.mac), 0);
		v.has_mac = 1;
		v.vlan = 100, v.qos = 3, v.spoofchk = 0, v.trust = 1, v.link = 2;
		v.max_rate = 500, v.min_rate = strstr(cases[i].file, "min-rate") ? 100 : 0;
		assert_int_equal(nl_build_setvf(got, sizeof got, SEQ, IFINDEX, &v, cases[i].a), (int)n);
		assert_memory_equal(got, want, n);
	}
}

static void test_netlink_build_refuses(void **state)
{
	unsigned char buf[256];
	struct nl_vf v;

	(void)state;
	nl_vf_unknown(&v, 0);
	assert_int_equal(nl_build_setvf(buf, sizeof buf, SEQ, 2, &v, NL_VF_MAC), -EINVAL); /* no MAC */
	v.vlan = 4096, v.qos = 0;
	assert_int_equal(nl_build_setvf(buf, sizeof buf, SEQ, 2, &v, NL_VF_VLAN), -EINVAL);
	v.vlan = 1, v.qos = 8;
	assert_int_equal(nl_build_setvf(buf, sizeof buf, SEQ, 2, &v, NL_VF_VLAN), -EINVAL);
	v.max_rate = -1, v.min_rate = 0;
	assert_int_equal(nl_build_setvf(buf, sizeof buf, SEQ, 2, &v, NL_VF_RATE), -EINVAL);
	v.spoofchk = 2;
	assert_int_equal(nl_build_setvf(buf, sizeof buf, SEQ, 2, &v, NL_VF_SPOOFCHK), -EINVAL);
	v.link = 3;
	assert_int_equal(nl_build_setvf(buf, sizeof buf, SEQ, 2, &v, NL_VF_LINK), -EINVAL);
	v.vf = -1, v.trust = 1;
	assert_int_equal(nl_build_setvf(buf, sizeof buf, SEQ, 2, &v, NL_VF_TRUST), -EINVAL);
	v.vf = 0;
	assert_int_equal(nl_build_setvf(buf, 40, SEQ, 2, &v, NL_VF_TRUST), -ENOBUFS);
}

static void assert_vf(const struct nl_link *l, int vf, const char *mac, int vlan, int qos,
                      int spoofchk, int trust, int link, long long max_rate)
{
	const struct nl_vf *v = nl_link_vf(l, vf);
	char s[NL_MACSTRLEN];

	assert_non_null(v);
	assert_true(v->has_mac);
	nl_mac_format(v->mac, s);
	assert_string_equal(s, mac);
	assert_int_equal(v->vlan, vlan);
	assert_int_equal(v->qos, qos);
	assert_int_equal(v->spoofchk, spoofchk);
	assert_int_equal(v->trust, trust);
	assert_int_equal(v->link, link);
	assert_int_equal(v->max_rate, max_rate);
	assert_int_equal(v->min_rate, 0);
}

static void test_netlink_parse_igb(void **state)
{
	static unsigned char buf[4096];
	struct nl_link l;
	size_t n = fixture("igb-getlink-before.reply.hex", buf, sizeof buf);

	(void)state;
	assert_int_equal(nl_parse_link(buf, n, SEQ, &l, err, sizeof err), 0);
	assert_string_equal(l.ifname, "eth0");
	assert_int_equal(l.ifindex, IFINDEX);
	assert_int_equal(l.operstate, 6);
	assert_string_equal(nl_operstate_name(l.operstate), "up");
	assert_int_equal(l.num_vf, 4);
	assert_int_equal(l.nvfs, 4);
	for (int i = 0; i < 4; i++)
		assert_vf(&l, i, "00:00:00:00:00:00", 0, 0, 1, 0, 0, 0);
	assert_null(nl_link_vf(&l, 4));
	nl_link_free(&l);

	n = fixture("igb-getlink-after.reply.hex", buf, sizeof buf);
	assert_int_equal(nl_parse_link(buf, n, SEQ, &l, err, sizeof err), 0);
	assert_vf(&l, 0, "00:00:00:00:00:00", 0, 0, 1, 0, 0, 0);
	assert_vf(&l, 1, "52:54:00:12:34:56", 100, 3, 1, 0, 0, 0);
	assert_vf(&l, 2, "00:00:00:00:00:00", 0, 0, 1, 0, 0, 500);
	assert_vf(&l, 3, "00:00:00:00:00:00", 0, 0, 0, 1, 0, 0);
	assert_int_equal(nl_link_vf(&l, 1)->vlan_proto, 0x8100);
	nl_link_free(&l);
	/* Another request's reply is not this one's. */
	assert_int_equal(nl_parse_link(buf, n, SEQ + 1, &l, err, sizeof err), -EBADMSG);
	nl_link_free(&l);
}

static void test_netlink_parse_acks(void **state)
{
	static const struct { const char *file; int rc; const char *msg; } cases[] = {
		{ "igb-set-mac.reply.hex", 0, "" },
		{ "igb-set-trust.reply.hex", 0, "" },
		{ "igb-refuse-min-rate.reply.hex", -EINVAL, "" },
		{ "igb-refuse-link.reply.hex", -EOPNOTSUPP, "" },
		{ "igb-refuse-vf-range.reply.hex", -EINVAL, "" },
		{ "igb-refuse-multicast.reply.hex", -EINVAL, "" },
		{ "igb-refuse-policy.reply.hex", -ERANGE, "Attribute failed policy validation" },
	};
	unsigned char buf[512];
	char msg[128];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = fixture(cases[i].file, buf, sizeof buf);
		assert_int_equal(nl_parse_ack(buf, n, SEQ, msg, sizeof msg), cases[i].rc);
		assert_string_equal(msg, cases[i].msg);
		/* Cut anywhere: never read past the end, never taken for an ack. */
		for (size_t cut = 0; cut < n; cut++)
			assert_true(nl_parse_ack(buf, cut, SEQ, msg, sizeof msg) == -EBADMSG ||
			            cut >= 20);
	}
	/* A GETLINK answered with an error says the kernel's text. */
	size_t n = fixture("igb-refuse-policy.reply.hex", buf, sizeof buf);
	struct nl_link l;
	assert_int_equal(nl_parse_link(buf, n, SEQ, &l, err, sizeof err), -ERANGE);
	assert_non_null(strstr(err, "Attribute failed policy validation"));
	nl_link_free(&l);
}

/* Every prefix of a real reply is refused or parsed, never read past; a flipped length too. */
static void test_netlink_parse_truncated(void **state)
{
	static unsigned char buf[4096], bad[4096];
	struct nl_link l;
	size_t n = fixture("igb-getlink-after.reply.hex", buf, sizeof buf);

	(void)state;
	for (size_t cut = 0; cut < n; cut++) {
		/* A copy of exactly cut bytes, so a sanitizer sees any read past it. */
		unsigned char *c = malloc(cut ? cut : 1);
		memcpy(c, buf, cut);
		assert_int_equal(nl_parse_link(c, cut, SEQ, &l, err, sizeof err), -EBADMSG);
		nl_link_free(&l);
		free(c);
	}
	for (size_t off = 16; off + 2 <= n; off += 4) {
		memcpy(bad, buf, n);
		bad[off] ^= 0xff;       /* an attribute length or type, or a value */
		bad[off + 1] ^= 0x7f;
		int rc = nl_parse_link(bad, n, SEQ, &l, err, sizeof err);
		assert_true(rc == 0 || rc == -EBADMSG);
		nl_link_free(&l);
	}
}

/* Replies of the simulated kernel's builder: a VF out of range, twice, unknown values. */
static void test_netlink_parse_bad_vfs(void **state)
{
	static unsigned char buf[8192];
	struct nl_vf vfs[3];
	struct nl_link in = { .ifindex = 7, .ifname = "sim0", .operstate = 2, .num_vf = 2,
	                      .vfs = vfs, .nvfs = 2 }, l;
	int n;

	(void)state;
	for (int i = 0; i < 3; i++) {
		nl_vf_unknown(&vfs[i], i);
		vfs[i].has_mac = 1;
		vfs[i].vlan = vfs[i].qos = 0;
		vfs[i].link = 1;
		vfs[i].max_rate = vfs[i].min_rate = 0;
	}
	/* spoofchk and trust -1: sent as (u32)-1, read as unknown. */
	assert_true((n = nl_build_newlink(buf, sizeof buf, 5, &in)) > 0);
	assert_int_equal(nl_parse_link(buf, (size_t)n, 5, &l, err, sizeof err), 0);
	assert_int_equal(nl_link_vf(&l, 1)->spoofchk, -1);
	assert_int_equal(nl_link_vf(&l, 1)->trust, -1);
	assert_string_equal(nl_link_state_name(nl_link_vf(&l, 1)->link), "enable");
	assert_string_equal(nl_operstate_name(l.operstate), "down");
	nl_link_free(&l);
	in.nvfs = 3;            /* VF 2 of a PF that has 2 */
	assert_true((n = nl_build_newlink(buf, sizeof buf, 5, &in)) > 0);
	assert_int_equal(nl_parse_link(buf, (size_t)n, 5, &l, err, sizeof err), -EBADMSG);
	assert_string_equal(err, "VF 2 out of range (the PF has 2 VFs)");
	nl_link_free(&l);
	vfs[1].vf = 0;          /* VF 0 twice */
	in.nvfs = 2;
	assert_true((n = nl_build_newlink(buf, sizeof buf, 5, &in)) > 0);
	assert_int_equal(nl_parse_link(buf, (size_t)n, 5, &l, err, sizeof err), -EBADMSG);
	assert_string_equal(err, "VF 0 reported twice");
	nl_link_free(&l);
	/* An error with an extended ack, capped. */
	struct nlmsghdr rq = { .nlmsg_len = 16, .nlmsg_type = RTM_SETLINK, .nlmsg_seq = 9 };
	char msg[64];
	assert_true((n = nl_build_error(buf, sizeof buf, &rq, -EOPNOTSUPP, "no VF trust")) > 0);
	assert_int_equal(nl_parse_ack(buf, (size_t)n, 9, msg, sizeof msg), -EOPNOTSUPP);
	assert_string_equal(msg, "no VF trust");
}

static void test_netlink_mac(void **state)
{
	unsigned char m[NL_MACLEN];
	char s[NL_MACSTRLEN];

	(void)state;
	assert_int_equal(nl_mac_parse("52:54:00:AB:cd:0F", m), 0);
	nl_mac_format(m, s);
	assert_string_equal(s, "52:54:00:ab:cd:0f");
	assert_int_equal(nl_mac_parse("52:54:00:ab:cd", m), -EINVAL);
	assert_int_equal(nl_mac_parse("52-54-00-ab-cd-0f", m), -EINVAL);
	assert_int_equal(nl_mac_parse("52:54:00:ab:cd:0g", m), -EINVAL);
	assert_int_equal(nl_mac_parse(NULL, m), -EINVAL);
	assert_int_equal(nl_link_state_parse("disable"), 2);
	assert_int_equal(nl_link_state_parse("off"), -1);
}

/* A transport that answers with a fixture, to run nl_setvf's whole path; and the latch. */
static const char *canned;
static int canned_request(struct nl_transport *t, const void *req, size_t len, void *reply,
                          size_t size)
{
	(void)req;
	(void)len;
	/* nl_setvf's sequence numbers are its own: the fixture's is rewritten to match. */
	int n = (int)fixture(canned, reply, size);
	((struct nlmsghdr *)reply)->nlmsg_seq = t->seq;
	return n;
}

static void test_netlink_setvf_transport(void **state)
{
	struct nl_transport t = { .request = canned_request };
	struct nl_vf v;

	(void)state;
	nl_vf_unknown(&v, 0);
	v.trust = 1;
	canned = "igb-set-trust.reply.hex";
	assert_int_equal(nl_setvf(&t, 2, &v, NL_VF_TRUST, err, sizeof err), 0);
	canned = "igb-refuse-policy.reply.hex";
	assert_int_equal(nl_setvf(&t, 2, &v, NL_VF_TRUST, err, sizeof err), -ERANGE);
	assert_string_equal(err, "Attribute failed policy validation");
	sysfs_forbid_writes();
	t.request = NULL;       /* nothing may be sent */
	assert_int_equal(nl_setvf(&t, 2, &v, NL_VF_TRUST, err, sizeof err), -EROFS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netlink_build_getlink),
		cmocka_unit_test(test_netlink_build_setvf),
		cmocka_unit_test(test_netlink_build_refuses),
		cmocka_unit_test(test_netlink_parse_igb),
		cmocka_unit_test(test_netlink_parse_acks),
		cmocka_unit_test(test_netlink_parse_truncated),
		cmocka_unit_test(test_netlink_parse_bad_vfs),
		cmocka_unit_test(test_netlink_mac),
		cmocka_unit_test(test_netlink_setvf_transport),  /* last: it sets the write latch */
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
