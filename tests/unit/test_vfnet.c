// SPDX-License-Identifier: MIT
// Unit tests of vfnet.c and the simulated kernel of netsim.c: a simulated host's PF netdevs
// read, set and read back through the same GETLINK/SETLINK messages as a real host, the
// drivers' refusals named, and VF state given back (restored, unchanged, gone, a read-back
// that differs). Trees are simhost_build under mkdtemp, removed in teardown.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netsim.h"
#include "simhost.h"
#include "sysfs.h"
#include "vfnet.h"

/* shared-group (simhost.c): 0000:03:00.0 an 82599 PF on ixgbe, 4 VFs at 03:10.0, .2, .4, .6;
 * 0000:04:00.0 an 82574L on e1000e, no SR-IOV. 82599: nvme at 0000:01:00.0. */
#define PF "0000:03:00.0"
#define VF3 "0000:03:10.6"

static char base[PATH_MAX], sys_[PATH_MAX], err[512];

/* A path into a buffer; a path that does not fit fails the test. */
#define PATHF(buf, ...) sysfs_path(buf, sizeof buf, __VA_ARGS__)

static int setup_host(const char *host)
{
	snprintf(base, sizeof base, "%s/vfnet-test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(base))
		return -1;
	if (sysfs_path(sys_, sizeof sys_, "%s/sys", base) < 0)
		return -1;
	if (mkdir(sys_, 0755) < 0 || simhost_build(simhost_find(host), sys_) < 0)
		return -1;
	err[0] = '\0';
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return setup_host("shared-group");
}

static int setup_82599(void **state)
{
	(void)state;
	return setup_host("82599");
}

static int teardown(void **state)
{
	(void)state;
	vfnet_use_transport(NULL);
	return rmtree(base);
}

static struct vfnet_change change(int vf, unsigned fields)
{
	struct vfnet_change c = { .fields = fields };

	nl_vf_unknown(&c.want, vf);
	return c;
}

static void test_vfnet_get(void **state)
{
	struct vfnet_pf p;
	char ifname[NL_IFNAMELEN], mac[NL_MACSTRLEN];
	int ifindex;

	(void)state;
	assert_int_equal(vfnet_netdev(sys_, PF, ifname, &ifindex, err, sizeof err), 0);
	assert_string_equal(ifname, "enp3s0");
	assert_int_equal(ifindex, 2);
	assert_int_equal(vfnet_get(sys_, PF, &p, err, sizeof err), 0);
	assert_string_equal(p.link.ifname, "enp3s0");
	assert_int_equal(p.link.ifindex, 2);
	assert_string_equal(nl_operstate_name(p.link.operstate), "up");
	assert_int_equal(p.speed, 10000);
	assert_int_equal(p.link.num_vf, 4);
	for (int i = 0; i < 4; i++) {
		const struct nl_vf *v = nl_link_vf(&p.link, i);
		assert_non_null(v);
		nl_mac_format(v->mac, mac);
		assert_string_equal(mac, "00:00:00:00:00:00");
		assert_int_equal(v->vlan, 0);
		assert_int_equal(v->spoofchk, 1);
		assert_int_equal(v->trust, 0);
		assert_int_equal(v->link, 0);
		assert_int_equal(v->max_rate, 0);
	}
	nl_link_free(&p.link);
	/* The e1000e NIC: a netdev, no VFs. */
	assert_int_equal(vfnet_get(sys_, "0000:04:00.0", &p, err, sizeof err), 0);
	assert_string_equal(p.link.ifname, "enp4s0");
	assert_int_equal(p.link.num_vf, 0);
	assert_int_equal(p.speed, 1000);
	nl_link_free(&p.link);
	assert_int_equal(vfnet_get(sys_, "0000:09:00.0", &p, err, sizeof err), -ENODEV);
	assert_string_equal(err, "0000:09:00.0: no such PCI device");
}

static void test_vfnet_no_netdev(void **state)
{
	struct vfnet_pf p;

	(void)state;
	assert_int_equal(vfnet_get(sys_, "0000:01:00.0", &p, err, sizeof err), -ENOENT);
	assert_string_equal(err, "0000:01:00.0 has no network interface (driver nvme)");
	assert_int_equal(vfnet_get(sys_, "0000:00:00.0", &p, err, sizeof err), -ENOENT);
	assert_string_equal(err, "0000:00:00.0 has no network interface (driver none)");
	/* The 82599 host's names carry the domain and the function. */
	assert_int_equal(vfnet_get(sys_, "0002:81:00.1", &p, err, sizeof err), 0);
	assert_string_equal(p.link.ifname, "enP2p129s0f1");
	assert_int_equal(p.link.num_vf, 63);
	assert_int_equal(p.link.nvfs, 63);
	nl_link_free(&p.link);
}

static void test_vfnet_set_readback(void **state)
{
	struct vfnet_change c[2] = { change(2, VFNET_MAC | VFNET_VLAN),
	                             change(3, VFNET_TRUST | VFNET_SPOOFCHK | VFNET_LINK |
	                                       VFNET_MAX_RATE) };
	struct vfnet_pf p;
	char path[PATH_MAX], text[256];

	(void)state;
	assert_int_equal(nl_mac_parse("52:54:00:12:34:56", c[0].want.mac), 0);
	c[0].want.vlan = 100;
	c[1].want.trust = 1, c[1].want.spoofchk = 0, c[1].want.link = 2, c[1].want.max_rate = 1000;
	assert_int_equal(vfnet_set(sys_, PF, c, 2, err, sizeof err), 0);
	assert_int_equal(vfnet_get(sys_, PF, &p, err, sizeof err), 0);
	const struct nl_vf *v2 = nl_link_vf(&p.link, 2), *v3 = nl_link_vf(&p.link, 3);
	assert_memory_equal(v2->mac, c[0].want.mac, NL_MACLEN);
	assert_int_equal(v2->vlan, 100);
	assert_int_equal(v2->qos, 0);           /* the partner kept its value */
	assert_int_equal(v3->trust, 1);
	assert_int_equal(v3->spoofchk, 0);
	assert_int_equal(v3->link, 2);
	assert_int_equal(v3->max_rate, 1000);
	assert_int_equal(v3->min_rate, 0);
	nl_link_free(&p.link);
	/* The state is the tree's file, one line (netsim.h). */
	assert_true(PATHF(path, "%s/bus/pci/devices/" PF "/net/enp3s0/vflaunch-sim/vf2", sys_) >= 0);
	assert_true(sysfs_read(path, text, sizeof text) > 0);
	assert_string_equal(text, "mac=52:54:00:12:34:56 vlan=100 qos=0 spoofchk=1 trust=0 link=0 "
	                          "max_rate=0 min_rate=0");
	/* A value already there is not sent: VF 0 gets no file. */
	struct vfnet_change same = change(0, VFNET_VLAN | VFNET_LINK);
	same.want.vlan = 0, same.want.link = 0;
	assert_int_equal(vfnet_set(sys_, PF, &same, 1, err, sizeof err), 0);
	assert_true(PATHF(path, "%s/bus/pci/devices/" PF "/net/enp3s0/vflaunch-sim/vf0", sys_) >= 0);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_vfnet_refusals(void **state)
{
	struct vfnet_change c = change(1, VFNET_MAX_RATE | VFNET_MIN_RATE);

	(void)state;
	c.want.max_rate = 1000, c.want.min_rate = 100;
	assert_int_equal(vfnet_set(sys_, PF, &c, 1, err, sizeof err), -EINVAL);
	assert_string_equal(err, "0000:03:00.0 (enp3s0) VF 1: cannot set rate (max_rate 1000, "
	                         "min_rate 100): Invalid argument");
	c = change(1, VFNET_MAX_RATE);
	c.want.max_rate = 20000;               /* over the 10 Gb/s link */
	assert_int_equal(vfnet_set(sys_, PF, &c, 1, err, sizeof err), -EINVAL);
	c = change(0, VFNET_MAC);
	assert_int_equal(nl_mac_parse("01:00:5e:00:00:01", c.want.mac), 0);
	assert_int_equal(vfnet_set(sys_, PF, &c, 1, err, sizeof err), -EINVAL);
	assert_string_equal(err, "0000:03:00.0 (enp3s0) VF 0: cannot set mac 01:00:5e:00:00:01: "
	                         "Invalid argument");
	c = change(4, VFNET_TRUST);
	c.want.trust = 1;
	assert_int_equal(vfnet_set(sys_, PF, &c, 1, err, sizeof err), -ERANGE);
	assert_string_equal(err, "0000:03:00.0 (enp3s0) VF 4: no such VF (the PF has 4)");
	assert_int_equal(vfnet_set(sys_, "0000:04:00.0", &c, 1, err, sizeof err), -ERANGE);
	/* A driver without VF settings: EOPNOTSUPP, flags unknown (the table in netsim.c). */
	char drv[PATH_MAX];
	struct vfnet_pf p;
	assert_true(PATHF(drv, "%s/bus/pci/devices/" PF "/driver", sys_) >= 0);
	assert_int_equal(unlink(drv), 0);
	assert_int_equal(symlink("../../../bus/pci/drivers/e1000e", drv), 0);
	c = change(1, VFNET_TRUST);
	c.want.trust = 1;
	assert_int_equal(vfnet_set(sys_, PF, &c, 1, err, sizeof err), -EOPNOTSUPP);
	assert_string_equal(err, "0000:03:00.0 (enp3s0) VF 1: cannot set trust on: Operation not "
	                         "supported");
	assert_int_equal(vfnet_get(sys_, PF, &p, err, sizeof err), 0);
	assert_int_equal(nl_link_vf(&p.link, 1)->spoofchk, -1);
	assert_int_equal(nl_link_vf(&p.link, 1)->trust, -1);
	nl_link_free(&p.link);
}

static void test_vfnet_locate(void **state)
{
	char pf[16];
	int index;

	(void)state;
	assert_int_equal(vfnet_locate(sys_, VF3, pf, &index, err, sizeof err), 0);
	assert_string_equal(pf, PF);
	assert_int_equal(index, 3);
	assert_int_equal(vfnet_locate(sys_, PF, pf, &index, err, sizeof err), -EINVAL);
	assert_string_equal(err, PF " is not a VF (no physfn link)");
	assert_int_equal(vfnet_locate(sys_, "0000:03:11.0", pf, &index, err, sizeof err), -ENODEV);
}

static void test_vfnet_restore(void **state)
{
	struct vfnet_change c = change(3, VFNET_MAC | VFNET_VLAN | VFNET_QOS | VFNET_TRUST);
	struct nl_vf orig;
	char link[PATH_MAX];

	(void)state;
	nl_vf_unknown(&orig, 0);
	orig.has_mac = 1;             /* the defaults: 00:..., vlan 0, spoofchk on, trust off */
	orig.vlan = orig.qos = orig.link = 0;
	orig.spoofchk = 1, orig.trust = 0, orig.max_rate = orig.min_rate = 0;
	assert_int_equal(vfnet_restore(sys_, VF3, &orig, err, sizeof err), 0);    /* unchanged */
	assert_int_equal(nl_mac_parse("52:54:00:00:00:03", c.want.mac), 0);
	c.want.vlan = 7, c.want.qos = 2, c.want.trust = 1;
	assert_int_equal(vfnet_set(sys_, PF, &c, 1, err, sizeof err), 0);
	assert_int_equal(vfnet_restore(sys_, VF3, &orig, err, sizeof err), 1);
	assert_int_equal(vfnet_restore(sys_, VF3, &orig, err, sizeof err), 0);
	/* Not recorded (the driver did not report it): left as it is. */
	assert_int_equal(vfnet_set(sys_, PF, &c, 1, err, sizeof err), 0);
	orig.trust = -1;
	assert_int_equal(vfnet_restore(sys_, VF3, &orig, err, sizeof err), 1);
	struct vfnet_pf p;
	assert_int_equal(vfnet_get(sys_, PF, &p, err, sizeof err), 0);
	assert_int_equal(nl_link_vf(&p.link, 3)->trust, 1);
	assert_int_equal(nl_link_vf(&p.link, 3)->vlan, 0);
	nl_link_free(&p.link);
	/* The PF gone (its directory link): gone, nothing written. */
	assert_true(PATHF(link, "%s/bus/pci/devices/" PF, sys_) >= 0);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(vfnet_restore(sys_, VF3, &orig, err, sizeof err), -ENODEV);
	assert_true(PATHF(link, "%s/bus/pci/devices/" VF3, sys_) >= 0);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(vfnet_restore(sys_, VF3, &orig, err, sizeof err), -ENODEV);
}

/* A kernel that acknowledges SETLINK and changes nothing: the read-back must catch it. */
static int lying_request(struct nl_transport *t, const void *req, size_t len, void *reply,
                         size_t size)
{
	struct nl_transport *sim = t->ctx;

	if (((const struct nlmsghdr *)req)->nlmsg_type == RTM_SETLINK)
		return nl_build_error(reply, size, req, 0, NULL);
	return sim->request(sim, req, len, reply, size);
}

static void lying_close(struct nl_transport *t)
{
	nl_transport_close(t->ctx);
	free(t->ctx);
}

static int lying_open(struct nl_transport *t, const char *sysroot)
{
	struct nl_transport *sim = malloc(sizeof *sim);
	int rc;

	if (!sim || (rc = nl_transport_sim(sim, sysroot)) < 0) {
		free(sim);
		return -ENOMEM;
	}
	memset(t, 0, sizeof *t);
	t->request = lying_request;
	t->close = lying_close;
	t->ctx = sim;
	return 0;
}

static void test_vfnet_readback_differs(void **state)
{
	struct vfnet_change c = change(3, VFNET_MAC);
	struct nl_vf orig;

	(void)state;
	assert_int_equal(nl_mac_parse("52:54:00:12:34:56", c.want.mac), 0);
	assert_int_equal(vfnet_set(sys_, PF, &c, 1, err, sizeof err), 0);
	vfnet_use_transport(lying_open);
	nl_vf_unknown(&orig, 0);
	orig.has_mac = 1;
	orig.vlan = orig.qos = orig.link = 0;
	orig.max_rate = orig.min_rate = 0;
	assert_int_equal(vfnet_restore(sys_, VF3, &orig, err, sizeof err), -EIO);
	assert_string_equal(err, VF3 " (VF 3 of enp3s0): mac is 52:54:00:12:34:56, not "
	                         "00:00:00:00:00:00");
	c.want.mac[5] = 0x57;
	assert_int_equal(vfnet_set(sys_, PF, &c, 1, err, sizeof err), -EIO);
	assert_string_equal(err, PF " (enp3s0) VF 3: mac is 52:54:00:12:34:56, not 52:54:00:12:34:57");
}

/* Last: the latch is one-way. Neither backend sends a change once writes are forbidden. */
static void test_vfnet_forbidden(void **state)
{
	struct vfnet_change c = change(0, VFNET_TRUST);
	struct vfnet_pf p;

	(void)state;
	c.want.trust = 1;
	sysfs_forbid_writes();
	assert_int_equal(vfnet_set(sys_, PF, &c, 1, err, sizeof err), -EROFS);
	assert_int_equal(vfnet_set(NULL, PF, &c, 1, err, sizeof err), -EROFS);
	assert_non_null(strstr(err, "print-only"));
	assert_int_equal(vfnet_get(sys_, PF, &p, err, sizeof err), 0);   /* reading is fine */
	assert_int_equal(nl_link_vf(&p.link, 0)->trust, 0);
	nl_link_free(&p.link);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vfnet_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vfnet_no_netdev, setup_82599, teardown),
		cmocka_unit_test_setup_teardown(test_vfnet_set_readback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vfnet_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vfnet_locate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vfnet_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vfnet_readback_differs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vfnet_forbidden, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
