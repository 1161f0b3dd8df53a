// SPDX-License-Identifier: MIT
// Host-side vfio mechanism: bind/restore one device, SR-IOV counts, IOMMU groups (checks: hostcheck.c).
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "pciaddr.h"
#include "sysfs.h"
#include "vfio.h"

#define ROOT(r) ((r) ? (r) : "/sys")

/* "step: path: strerror" into err; returns rc (a -errno) so callers can `return fail(...)`. */
static int fail(char *err, size_t errlen, int rc, const char *step, const char *path)
{
	errbuf_printf(err, errlen, "%s: %s: %s", step, path, strerror(-rc));
	return rc;
}

/* Addresses end up in paths and in drivers_probe: accept only the canonical form, so a
 * caller's "../" or stray whitespace can never reach the filesystem or the kernel. */
int vfio_addr_ok(const char *a)
{
	return pci_addr_canonical(a);
}

/* The bytes kernel module and driver names use. Nothing that could be a path separator, a
 * shell or terminal control, or a field separator in the journal. */
int vfio_driver_ok(const char *name)
{
	size_t n = 0;

	if (!name)
		return 0;
	for (; name[n]; n++) {
		unsigned char c = (unsigned char)name[n];
		if (!isalnum(c) && c != '_' && c != '.' && c != ':' && c != '+' && c != '-')
			return 0;
	}
	return n > 0 && n < VFIO_NAMELEN;
}

static int devpath(char *buf, size_t size, const char *root, const char *addr, const char *attr)
{
	return sysfs_path(buf, size, "%s/bus/pci/devices/%s/%s", ROOT(root), addr, attr);
}

/* 0 when the device's directory exists; -ENODEV, and only then, when it does not. */
static int device_exists(const char *root, const char *addr, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat sb;
	int rc;

	if (!vfio_addr_ok(addr))
		return fail(err, errlen, -EINVAL, "device address", addr ? addr : "(null)");
	if ((rc = devpath(path, sizeof path, root, addr, "")) < 0)
		return fail(err, errlen, rc, "device", addr);
	if (stat(path, &sb) < 0)
		return fail(err, errlen, errno == ENOENT ? -ENODEV : -errno, "device", path);
	if (!S_ISDIR(sb.st_mode))
		return fail(err, errlen, -ENOTDIR, "device", path);
	return 0;
}

/* -ENODEV means "the device is gone" to every caller (a journal entry then has nothing to
 * give back). A store method or an attribute read may say ENODEV for other reasons (unbind
 * from a driver the device is not on) while the device is still there: that is a failure. */
static int not_gone(int rc)
{
	return rc == -ENODEV ? -EIO : rc;
}

/* The driver link's name, "" when unbound; -EINVAL when the link names something no driver
 * could be called (a corrupt tree), so that no such name reaches a message or a journal. */
static int driver_of(const char *path, char *buf, size_t size)
{
	int rc = sysfs_link_name(path, buf, size);
	if (rc == -ENOENT) {
		buf[0] = '\0';
		return 0;
	}
	if (rc >= 0 && !vfio_driver_ok(buf)) {
		buf[0] = '\0';
		return -EINVAL;
	}
	return rc < 0 ? rc : 0;
}

static int fail_read(char *err, size_t errlen, int rc, const char *step, const char *path)
{
	if (rc == -EINVAL) {
		errbuf_printf(err, errlen, "%s: %s: not a kernel driver name", step, path);
		return rc;
	}
	return fail(err, errlen, not_gone(rc), step, path);
}

int vfio_state(const char *root, const char *addr, struct vfio_state *st, char *err, size_t errlen)
{
	char link[PATH_MAX], path[PATH_MAX];
	int rc, orc, gone;

	if (!vfio_addr_ok(addr))
		return fail(err, errlen, -EINVAL, "device address", addr ? addr : "(null)");
	if ((rc = devpath(link, sizeof link, root, addr, "driver")) < 0 ||
	    (rc = devpath(path, sizeof path, root, addr, "driver_override")) < 0)
		return fail(err, errlen, rc, "device", addr);
	rc = driver_of(link, st->driver, sizeof st->driver);
	orc = sysfs_read_attr(path, st->override, sizeof st->override);
	/* Both reads first: when the override is read, the device is there, and the stat that
	 * tells a device gone (-ENODEV) from a missing attribute is only needed when it is not
	 * (127 VFs, 127 system calls fewer). Errors are then reported as device_exists, driver,
	 * override, as when the stat came first. */
	if ((orc == -ENOENT || orc == -ENOTDIR) && (gone = device_exists(root, addr, err, errlen)) < 0)
		return gone;
	if (rc < 0)
		return fail_read(err, errlen, rc, "driver", link);
	/* The kernel shows an unset override as "(null)"; kernels before 3.16 have none. */
	if (orc == -ENOENT || (orc >= 0 && strcmp(st->override, "(null)") == 0))
		st->override[0] = '\0';
	else if (orc < 0)
		return fail(err, errlen, not_gone(orc), "driver_override", path);
	else if (st->override[0] && !vfio_driver_ok(st->override))
		return fail_read(err, errlen, -EINVAL, "driver_override", path);
	return 0;
}

/* "empty" or the value in quotes, for a sentence about a driver_override. */
static const char *quoted(char *buf, size_t size, const char *v)
{
	if (!v[0])
		return "empty";
	snprintf(buf, size, "\"%s\"", v);
	return buf;
}

/* How the device's state st differs from the driver and override it should have, as one
 * sentence ("0002:81:10.0 is on vfio-pci, not ixgbevf") into why (may be NULL). 1 when it
 * differs, 0 when it does not. */
static int describe_state(const char *addr, const struct vfio_state *st, const char *drv,
                          const char *ovr, char *why, size_t whylen)
{
	char first[256] = "", a[VFIO_NAMELEN + 2], b[VFIO_NAMELEN + 2];
	int drv_differs = strcmp(st->driver, drv) != 0, ovr_differs = strcmp(st->override, ovr) != 0;

	if (drv_differs && !st->driver[0])
		snprintf(first, sizeof first, "%s has no driver, not %s", addr, drv);
	else if (drv_differs)
		snprintf(first, sizeof first, "%s is on %s, not %s", addr, st->driver,
		         drv[0] ? drv : "unbound");
	if (ovr_differs)
		errbuf_printf(why, whylen, "%s%sdriver_override of %s is %s, not %s", first,
		              first[0] ? "; " : "", addr, quoted(a, sizeof a, st->override),
		              quoted(b, sizeof b, ovr));
	else
		errbuf_printf(why, whylen, "%s", first);
	return drv_differs || ovr_differs;
}

/* Read the device back and compare with drv/ovr: 0 when it matches; -EIO, the sentence in
 * why, when it does not; the read's -errno (-ENODEV: gone) when it cannot be read. */
static int read_back(const char *root, const char *addr, const char *drv, const char *ovr,
                     char *why, size_t whylen)
{
	struct vfio_state now;
	int rc = vfio_state(root, addr, &now, why, whylen);

	if (rc < 0)
		return rc;
	return describe_state(addr, &now, drv, ovr, why, whylen) ? -EIO : 0;
}

/* Append to err where a device stands after a failed bind's rollback, read from sysfs: the
 * rollback's own writes succeeding says nothing about which driver took the device. */
static void append_where(const char *root, const char *addr, const struct vfio_state *st,
                         char *err, size_t errlen)
{
	struct vfio_state now;
	char why[256], a[VFIO_NAMELEN + 2], b[VFIO_NAMELEN + 2];
	size_t n = err && errlen ? strlen(err) : 0;

	if (n >= errlen)
		return;
	err += n;
	errlen -= n;
	if (vfio_state(root, addr, &now, why, sizeof why) < 0)
		errbuf_printf(err, errlen, "; where the device is now is unknown (%s)", why);
	else if (strcmp(now.driver, st->driver) != 0)
		errbuf_printf(err, errlen, "; the device is now on %s (rollback incomplete)",
		              now.driver[0] ? now.driver : "no driver");
	else if (strcmp(now.override, st->override) != 0)
		errbuf_printf(err, errlen, "; the device is back on %s but its driver_override is %s, "
		              "not %s (rollback incomplete)", now.driver[0] ? now.driver : "no driver",
		              quoted(a, sizeof a, now.override), quoted(b, sizeof b, st->override));
	else
		errbuf_printf(err, errlen, "; the device is back on %s",
		              now.driver[0] ? now.driver : "no driver");
}

/* Put a device back to st after a failed bind: unbind a foreign driver, restore the
 * override, reprobe the original. Best effort: the first failure is appended to err, then
 * where the device actually is, read back. */
static void rollback(const char *root, const char *addr, const struct vfio_state *st,
                     char *err, size_t errlen)
{
	char path[PATH_MAX], now[VFIO_NAMELEN], why[256] = "";
	int rc;

	devpath(path, sizeof path, root, addr, "driver");
	if (driver_of(path, now, sizeof now) == 0 && now[0] && strcmp(now, st->driver) != 0) {
		devpath(path, sizeof path, root, addr, "driver/unbind");
		if ((rc = sysfs_write(path, addr)) < 0)
			fail(why, sizeof why, rc, "unbind", path);
		now[0] = '\0';
	}
	devpath(path, sizeof path, root, addr, "driver_override");
	if ((rc = sysfs_write(path, st->override[0] ? st->override : "\n")) < 0 && !why[0])
		fail(why, sizeof why, rc, "driver_override", path);
	if (st->driver[0] && !now[0]) {
		sysfs_path(path, sizeof path, "%s/bus/pci/drivers_probe", ROOT(root));
		if ((rc = sysfs_write(path, addr)) < 0 && !why[0])
			fail(why, sizeof why, rc, "drivers_probe", path);
	}
	if (why[0] && err && errlen) {
		size_t n = strlen(err);
		if (n < errlen)
			errbuf_printf(err + n, errlen - n, " (rollback failed: %s)", why);
	}
	append_where(root, addr, st, err, errlen);
}

int vfio_bind_driver(const char *root, const char *addr, const char *driver, char *err,
                     size_t errlen)
{
	struct vfio_state st;
	int rc;

	/* It is written into driver_override: a name, never a path or a second line. */
	if (!vfio_driver_ok(driver)) {
		errbuf_printf(err, errlen, "bind %s: the driver is not a kernel driver name",
		              vfio_addr_ok(addr) ? addr : "(bad address)");
		return -EINVAL;
	}
	if ((rc = vfio_state(root, addr, &st, err, errlen)) < 0)
		return rc;
	return vfio_bind_from(root, addr, driver, &st, err, errlen);
}

int vfio_bind_from(const char *root, const char *addr, const char *driver,
                   const struct vfio_state *from, char *err, size_t errlen)
{
	char ovr[PATH_MAX], unbind[PATH_MAX], probe[PATH_MAX], link[PATH_MAX], now[VFIO_NAMELEN];
	struct vfio_state st = *from;
	int rc;

	if (!vfio_addr_ok(addr))
		return fail(err, errlen, -EINVAL, "device address", addr ? addr : "(null)");
	/* Written into driver_override (driver; the override on a rollback) and compared: names
	 * only, never a path or a second line, whoever read them. */
	if (!vfio_driver_ok(driver) || (st.driver[0] && !vfio_driver_ok(st.driver)) ||
	    (st.override[0] && !vfio_driver_ok(st.override))) {
		errbuf_printf(err, errlen, "bind %s: a driver name is not a kernel driver name", addr);
		return -EINVAL;
	}
	if (strcmp(st.driver, driver) == 0)
		return 0;
	devpath(ovr, sizeof ovr, root, addr, "driver_override");
	devpath(unbind, sizeof unbind, root, addr, "driver/unbind");
	devpath(link, sizeof link, root, addr, "driver");
	if ((rc = sysfs_path(probe, sizeof probe, "%s/bus/pci/drivers_probe", ROOT(root))) < 0)
		return fail(err, errlen, rc, "drivers_probe", ROOT(root));

	/* Nothing changed yet if this fails: nothing to roll back. */
	if ((rc = sysfs_write(ovr, driver)) < 0)
		return fail(err, errlen, not_gone(rc), "driver_override", ovr);
	if (st.driver[0] && (rc = sysfs_write(unbind, addr)) < 0) {
		fail(err, errlen, rc = not_gone(rc), "unbind", unbind);
		goto undo;
	}
	if ((rc = sysfs_write(probe, addr)) < 0) {
		fail(err, errlen, rc = not_gone(rc), "drivers_probe", probe);
		goto undo;
	}
	if ((rc = driver_of(link, now, sizeof now)) < 0) {
		fail_read(err, errlen, rc = not_gone(rc), "verify", link);
		goto undo;
	}
	if (strcmp(now, driver) != 0) {
		rc = -EIO;
		errbuf_printf(err, errlen, "verify: %s: bound to %s, not %s", link, now[0] ? now : "no driver",
		    driver);
		goto undo;
	}
	return 0;
undo:
	rollback(root, addr, &st, err, errlen);
	return rc;
}

int vfio_bind(const char *root, const char *addr, char *err, size_t errlen)
{
	return vfio_bind_driver(root, addr, "vfio-pci", err, errlen);
}

/* The writes of a restore, from state st to drv/ovr. 0, or the failing step's -errno. */
static int restore_steps(const char *root, const char *addr, const struct vfio_state *st,
                         const char *drv, const char *ovr, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int rc;

	devpath(path, sizeof path, root, addr, "driver_override");
	if (strcmp(st->override, ovr) != 0 && (rc = sysfs_write(path, ovr[0] ? ovr : "\n")) < 0)
		return fail(err, errlen, rc, "driver_override", path);
	if (strcmp(st->driver, drv) == 0)
		return 0;
	if (st->driver[0]) {
		devpath(path, sizeof path, root, addr, "driver/unbind");
		if ((rc = sysfs_write(path, addr)) < 0)
			return fail(err, errlen, rc, "unbind", path);
	}
	/* No probe when the device had no driver: the probe would bind its native one. */
	if (drv[0]) {
		sysfs_path(path, sizeof path, "%s/bus/pci/drivers_probe", ROOT(root));
		if ((rc = sysfs_write(path, addr)) < 0)
			return fail(err, errlen, rc, "drivers_probe", path);
	}
	return 0;
}

int vfio_restore(const char *root, const char *addr, const char *orig_driver,
                 const char *orig_override, char *err, size_t errlen)
{
	char step[384] = "", now[384];
	struct vfio_state st;
	const char *drv = orig_driver ? orig_driver : "", *ovr = orig_override ? orig_override : "";
	int rc, back;

	/* From a journal: a name that could not be the kernel's is never written anywhere. */
	if ((drv[0] && !vfio_driver_ok(drv)) || (ovr[0] && !vfio_driver_ok(ovr))) {
		errbuf_printf(err, errlen, "restore %s: the original %s is not a kernel driver name",
		              vfio_addr_ok(addr) ? addr : "(bad address)",
		              drv[0] && !vfio_driver_ok(drv) ? "driver" : "driver_override");
		return -EINVAL;
	}
	if ((rc = vfio_state(root, addr, &st, err, errlen)) < 0)
		return rc;
	if (!describe_state(addr, &st, drv, ovr, NULL, 0))
		return 0;           /* already given back: a second restore writes nothing */
	rc = restore_steps(root, addr, &st, drv, ovr, step, sizeof step);
	/* Whatever the writes said, the state read back is the answer. */
	back = read_back(root, addr, drv, ovr, now, sizeof now);
	if (back == 0)
		return 1;
	if (back == -ENODEV)
		return fail(err, errlen, -ENODEV, "device", addr); /* removed meanwhile */
	if (rc < 0) {
		errbuf_printf(err, errlen, "%s; %s", step, now);
		return not_gone(rc);
	}
	errbuf_printf(err, errlen, "%s", now);
	return back == -EIO ? -EIO : not_gone(back);
}

static int read_int(const char *root, const char *addr, const char *attr, int *value,
                    char *err, size_t errlen)
{
	char path[PATH_MAX];
	long v;
	int rc = devpath(path, sizeof path, root, addr, attr);

	if (rc >= 0)
		rc = sysfs_read_long(path, &v);
	if (rc < 0)
		return fail(err, errlen, rc, attr, path);
	if (v < INT_MIN || v > INT_MAX)
		return fail(err, errlen, -ERANGE, attr, path);
	*value = (int)v;
	return 0;
}

static int write_int(const char *root, const char *addr, const char *attr, int value,
                     char *err, size_t errlen)
{
	char path[PATH_MAX], text[16];
	int rc;

	devpath(path, sizeof path, root, addr, attr);
	snprintf(text, sizeof text, "%d", value);
	if ((rc = sysfs_write(path, text)) < 0)
		return fail(err, errlen, rc, attr, path);
	return 0;
}

int vfio_sriov_read(const char *root, const char *pf, int *numvfs, int *totalvfs,
                    int *autoprobe, char *err, size_t errlen)
{
	int rc;

	if (!vfio_addr_ok(pf))
		return fail(err, errlen, -EINVAL, "device address", pf ? pf : "(null)");
	if ((rc = read_int(root, pf, "sriov_totalvfs", totalvfs, err, errlen)) < 0 ||
	    (rc = read_int(root, pf, "sriov_numvfs", numvfs, err, errlen)) < 0)
		return rc;
	/* Optional (kernels before 4.12): -1 says "unknown". */
	if (read_int(root, pf, "sriov_drivers_autoprobe", autoprobe, NULL, 0) < 0)
		*autoprobe = -1;
	return 0;
}

int sriov_set_numvfs(const char *root, const char *pf, int n, int autoprobe,
                     char *err, size_t errlen)
{
	int cur, total, ap, rc;

	if ((rc = vfio_sriov_read(root, pf, &cur, &total, &ap, err, errlen)) < 0)
		return rc;
	if (n < 0 || n > total) {
		errbuf_printf(err, errlen, "sriov_numvfs: %s: %d VFs asked, sriov_totalvfs is %d", pf, n, total);
		return -ERANGE;
	}
	if (cur == n)
		return 0;
	/* Autoprobe first: VFs are probed the moment sriov_numvfs creates them. */
	int wrote_ap = autoprobe >= 0 && ap != (autoprobe != 0);
	if (wrote_ap && (rc = write_int(root, pf, "sriov_drivers_autoprobe", autoprobe != 0,
	                                err, errlen)) < 0)
		return rc;
	/* The kernel refuses a change between two non-zero counts with EBUSY. */
	int zeroed = 0;
	if (cur != 0 && n != 0) {
		if ((rc = write_int(root, pf, "sriov_numvfs", 0, err, errlen)) < 0)
			goto undo;
		zeroed = 1;
	}
	if ((rc = write_int(root, pf, "sriov_numvfs", n, err, errlen)) < 0)
		goto undo;
	return 0;
undo:
	/* Best effort; the error already names the step that failed. */
	if (zeroed)
		write_int(root, pf, "sriov_numvfs", cur, NULL, 0);
	if (wrote_ap && ap >= 0)
		write_int(root, pf, "sriov_drivers_autoprobe", ap, NULL, 0);
	return rc;
}

int sriov_set_autoprobe(const char *root, const char *pf, int autoprobe, char *err, size_t errlen)
{
	int cur, rc;

	if (!vfio_addr_ok(pf))
		return fail(err, errlen, -EINVAL, "device address", pf ? pf : "(null)");
	if ((rc = read_int(root, pf, "sriov_drivers_autoprobe", &cur, err, errlen)) < 0)
		return rc;
	return cur == (autoprobe != 0) ? 0 :
	       write_int(root, pf, "sriov_drivers_autoprobe", autoprobe != 0, err, errlen);
}

/* How a PF's SR-IOV state differs from numvfs/autoprobe, as one sentence ("sriov_numvfs of
 * 0000:03:00.0 is 6, not 4"); 1 when it differs, 0 when not. autoprobe < 0: not compared. */
static int describe_sriov(const char *pf, int cur, int ap, int numvfs, int autoprobe,
                          char *why, size_t whylen)
{
	int n_differs = cur != numvfs, ap_differs = autoprobe >= 0 && ap != autoprobe;
	char first[96] = "";

	if (n_differs)
		snprintf(first, sizeof first, "sriov_numvfs of %s is %d, not %d", pf, cur, numvfs);
	if (ap_differs && ap < 0)
		errbuf_printf(why, whylen, "%s%s%s has no sriov_drivers_autoprobe, not %d", first,
		              first[0] ? "; " : "", pf, autoprobe);
	else if (ap_differs)
		errbuf_printf(why, whylen, "%s%ssriov_drivers_autoprobe of %s is %d, not %d", first,
		              first[0] ? "; " : "", pf, ap, autoprobe);
	else
		errbuf_printf(why, whylen, "%s", first);
	return n_differs || ap_differs;
}

int sriov_restore(const char *root, const char *pf, int numvfs, int autoprobe,
                  char *err, size_t errlen)
{
	char step[384] = "", now[384];
	int cur, total, ap, rc;

	if ((rc = device_exists(root, pf, err, errlen)) < 0)
		return rc;
	if ((rc = vfio_sriov_read(root, pf, &cur, &total, &ap, err, errlen)) < 0)
		return not_gone(rc);
	if (!describe_sriov(pf, cur, ap, numvfs, autoprobe, NULL, 0))
		return 0;
	/* Autoprobe first, so that VFs the count brings back probe as they once did. */
	rc = autoprobe >= 0 ? sriov_set_autoprobe(root, pf, autoprobe, step, sizeof step) : 0;
	if (rc == 0)
		rc = sriov_set_numvfs(root, pf, numvfs, -1, step, sizeof step);
	/* Whatever the writes said, the state read back is the answer. */
	if (device_exists(root, pf, NULL, 0) == -ENODEV)
		return fail(err, errlen, -ENODEV, "device", pf); /* removed meanwhile */
	int back = vfio_sriov_read(root, pf, &cur, &total, &ap, now, sizeof now);
	if (back == 0 && !describe_sriov(pf, cur, ap, numvfs, autoprobe, now, sizeof now))
		return 1;
	if (rc < 0) {
		errbuf_printf(err, errlen, "%s; %s", step, now);
		return not_gone(rc);
	}
	errbuf_printf(err, errlen, "%s", now);
	return back < 0 ? not_gone(back) : -EIO;
}

int vfio_iommu_group(const char *root, const char *addr, char *err, size_t errlen)
{
	char path[PATH_MAX], name[32], *end;
	int rc;

	if (!vfio_addr_ok(addr))
		return fail(err, errlen, -EINVAL, "device address", addr ? addr : "(null)");
	devpath(path, sizeof path, root, addr, "iommu_group");
	if ((rc = sysfs_link_name(path, name, sizeof name)) < 0)
		return fail(err, errlen, rc, "iommu_group", path);
	errno = 0;
	long g = strtol(name, &end, 10);
	if (errno || end == name || *end || g < 0 || g > INT_MAX)
		return fail(err, errlen, -EINVAL, "iommu_group", path);
	return (int)g;
}

int vfio_viable_driver(const char *driver, int bridge)
{
	return bridge || !driver || !driver[0] || strcmp(driver, "vfio-pci") == 0 ||
	       strcmp(driver, "pci-stub") == 0;
}

/* A PCI-PCI bridge by class 0x0604 or by header type 1 (config byte 0x0e, low 7 bits). */
static int is_bridge(const char *dir)
{
	char path[PATH_MAX];
	unsigned char ht;
	long cls;

	if (sysfs_path(path, sizeof path, "%s/class", dir) >= 0 &&
	    sysfs_read_long(path, &cls) == 0 && (cls >> 8) == 0x0604)
		return 1;
	if (sysfs_path(path, sizeof path, "%s/config", dir) < 0)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = pread(fd, &ht, 1, 0x0e);
	close(fd);
	return n == 1 && (ht & 0x7f) == 1;
}

static int member_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vfio_member *)a)->addr, ((const struct vfio_member *)b)->addr);
}

int vfio_group(const char *root, int group, struct vfio_member **members, size_t *count,
               char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct vfio_member *m = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int rc;

	*members = NULL;
	*count = 0;
	if ((rc = sysfs_path(dir, sizeof dir, "%s/kernel/iommu_groups/%d/devices", ROOT(root), group)) < 0)
		return fail(err, errlen, rc, "iommu group", ROOT(root));
	DIR *d = opendir(dir);
	if (!d)
		return fail(err, errlen, -errno, "iommu group", dir);
	while ((de = readdir(d))) {
		if (!vfio_addr_ok(de->d_name))
			continue;       /* ".", "..": members are named by address */
		if (n == cap) {
			struct vfio_member *bigger = realloc(m, (cap = cap ? 2 * cap : 8) * sizeof *m);
			if (!bigger) {
				rc = -ENOMEM;
				goto out;
			}
			m = bigger;
		}
		struct vfio_member *v = &m[n];
		memset(v, 0, sizeof *v);
		memcpy(v->addr, de->d_name, strlen(de->d_name) + 1);
		if ((rc = sysfs_path(path, sizeof path, "%s/%s/driver", dir, de->d_name)) < 0 ||
		    (rc = driver_of(path, v->driver, sizeof v->driver)) < 0) {
			fail(err, errlen, rc, "driver", path);
			goto out;
		}
		/* A bridge is viable whatever its driver: its class and config space are read only
		 * when the driver would not do (a group's VFs with no driver cost nothing more). */
		v->viable = vfio_viable_driver(v->driver, 0);
		if (!v->viable) {
			sysfs_path(path, sizeof path, "%s/%s", dir, de->d_name);
			v->bridge = is_bridge(path);
			v->viable = v->bridge;
		}
		n++;
	}
	qsort(m, n, sizeof *m, member_cmp);
	*members = m;
	*count = n;
	m = NULL;
	rc = 0;
out:
	closedir(d);
	free(m);
	return rc;
}
