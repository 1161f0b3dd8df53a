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
	static const char form[] = "xxxx:xx:xx.x";
	if (!a || strlen(a) != sizeof form - 1)
		return 0;
	for (size_t i = 0; form[i]; i++) {
		if (form[i] == 'x' ? !isxdigit((unsigned char)a[i]) || isupper((unsigned char)a[i])
		                   : a[i] != form[i])
			return 0;
	}
	return 1;
}

static int devpath(char *buf, size_t size, const char *root, const char *addr, const char *attr)
{
	return sysfs_path(buf, size, "%s/bus/pci/devices/%s/%s", ROOT(root), addr, attr);
}

/* The driver link's name, "" when unbound. */
static int driver_of(const char *path, char *buf, size_t size)
{
	int rc = sysfs_link_name(path, buf, size);
	if (rc == -ENOENT) {
		buf[0] = '\0';
		return 0;
	}
	return rc < 0 ? rc : 0;
}

int vfio_state(const char *root, const char *addr, struct vfio_state *st, char *err, size_t errlen)
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
	devpath(path, sizeof path, root, addr, "driver");
	if ((rc = driver_of(path, st->driver, sizeof st->driver)) < 0)
		return fail(err, errlen, rc, "driver", path);
	devpath(path, sizeof path, root, addr, "driver_override");
	rc = sysfs_read(path, st->override, sizeof st->override);
	/* The kernel shows an unset override as "(null)"; kernels before 3.16 have none. */
	if (rc == -ENOENT || (rc >= 0 && strcmp(st->override, "(null)") == 0))
		st->override[0] = '\0';
	else if (rc < 0)
		return fail(err, errlen, rc, "driver_override", path);
	return 0;
}

/* Put a device back to st after a failed bind: unbind a foreign driver, restore the
 * override, reprobe the original. Best effort: the first failure is appended to err. */
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
		errbuf_printf(err + n, errlen - n, " (rollback failed: %s)", why);
	}
}

int vfio_bind_driver(const char *root, const char *addr, const char *driver, char *err,
                     size_t errlen)
{
	char ovr[PATH_MAX], unbind[PATH_MAX], probe[PATH_MAX], link[PATH_MAX], now[VFIO_NAMELEN];
	struct vfio_state st;
	int rc;

	if ((rc = vfio_state(root, addr, &st, err, errlen)) < 0)
		return rc;
	if (strcmp(st.driver, driver) == 0)
		return 0;
	devpath(ovr, sizeof ovr, root, addr, "driver_override");
	devpath(unbind, sizeof unbind, root, addr, "driver/unbind");
	devpath(link, sizeof link, root, addr, "driver");
	if ((rc = sysfs_path(probe, sizeof probe, "%s/bus/pci/drivers_probe", ROOT(root))) < 0)
		return fail(err, errlen, rc, "drivers_probe", ROOT(root));

	/* Nothing changed yet if this fails: nothing to roll back. */
	if ((rc = sysfs_write(ovr, driver)) < 0)
		return fail(err, errlen, rc, "driver_override", ovr);
	if (st.driver[0] && (rc = sysfs_write(unbind, addr)) < 0) {
		fail(err, errlen, rc, "unbind", unbind);
		goto undo;
	}
	if ((rc = sysfs_write(probe, addr)) < 0) {
		fail(err, errlen, rc, "drivers_probe", probe);
		goto undo;
	}
	if ((rc = driver_of(link, now, sizeof now)) < 0) {
		fail(err, errlen, rc, "verify", link);
		goto undo;
	}
	if (strcmp(now, driver) != 0) {
		rc = -ENODEV;
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

int vfio_restore(const char *root, const char *addr, const char *orig_driver,
                 const char *orig_override, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct vfio_state st;
	const char *drv = orig_driver ? orig_driver : "", *ovr = orig_override ? orig_override : "";
	int rc;

	if ((rc = vfio_state(root, addr, &st, err, errlen)) < 0)
		return rc;
	if (strcmp(st.driver, drv) == 0 && strcmp(st.override, ovr) == 0)
		return 0;           /* already given back: a second restore writes nothing */
	devpath(path, sizeof path, root, addr, "driver_override");
	if (strcmp(st.override, ovr) != 0 && (rc = sysfs_write(path, ovr[0] ? ovr : "\n")) < 0)
		return fail(err, errlen, rc, "driver_override", path);
	if (strcmp(st.driver, drv) == 0)
		return 0;
	if (st.driver[0]) {
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
	devpath(path, sizeof path, root, addr, "driver");
	if ((rc = driver_of(path, st.driver, sizeof st.driver)) < 0)
		return fail(err, errlen, rc, "verify", path);
	if (strcmp(st.driver, drv) != 0) {
		errbuf_printf(err, errlen, "verify: %s: bound to %s, not %s", path,
		    st.driver[0] ? st.driver : "no driver", drv[0] ? drv : "no driver");
		return -ENODEV;
	}
	return 0;
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
		sysfs_path(path, sizeof path, "%s/%s", dir, de->d_name);
		v->bridge = is_bridge(path);
		v->viable = vfio_viable_driver(v->driver, v->bridge);
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
