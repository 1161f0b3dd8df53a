// SPDX-License-Identifier: MIT
// Host checks before vfio binding: /dev/vfio access, vfio-pci loaded, IOMMU present, RLIMIT_MEMLOCK,
// devices the host is using, and loading vfio-pci (fork + execv, never a shell).
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errbuf.h"
#include "sysfs.h"
#include "hostcheck.h"
#include "vfio.h"

#define ROOT(r) ((r) ? (r) : "/sys")

/* "step: path: strerror" into err; returns rc (a -errno) so callers can `return fail(...)`. */
static int fail(char *err, size_t errlen, int rc, const char *step, const char *path)
{
	errbuf_printf(err, errlen, "%s: %s: %s", step, path, strerror(-rc));
	return rc;
}

int vfio_check_dev(const char *devroot, int group, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int rc = sysfs_path(path, sizeof path, "%s/vfio/%d", devroot ? devroot : "/dev", group);

	if (rc < 0)
		return fail(err, errlen, rc, "vfio group device", devroot);
	/* Effective ids: QEMU opens it with this process's credentials after exec. */
	if (faccessat(AT_FDCWD, path, R_OK | W_OK, AT_EACCESS) < 0)
		return fail(err, errlen, -errno, "vfio group device", path);
	return 0;
}

static int exists(const char *root, const char *rel)
{
	char path[PATH_MAX];
	struct stat sb;
	return sysfs_path(path, sizeof path, "%s/%s", ROOT(root), rel) >= 0 && stat(path, &sb) == 0;
}

static int nonempty_dir(const char *root, const char *rel)
{
	char path[PATH_MAX];
	struct dirent *de;
	int found = 0;

	if (sysfs_path(path, sizeof path, "%s/%s", ROOT(root), rel) < 0)
		return 0;
	DIR *d = opendir(path);
	if (!d)
		return 0;
	while (!found && (de = readdir(d)))
		found = de->d_name[0] != '.';
	closedir(d);
	return found;
}

int vfio_module_loaded(const char *root)
{
	/* Built in, vfio-pci has no module/ directory but still registers its driver. */
	return exists(root, "module/vfio_pci") || exists(root, "bus/pci/drivers/vfio-pci");
}

int vfio_iommu_present(const char *root)
{
	return nonempty_dir(root, "kernel/iommu_groups") || nonempty_dir(root, "class/iommu");
}

static unsigned long long lim(rlim_t r)
{
	return r == RLIM_INFINITY ? ULLONG_MAX : (unsigned long long)r;
}

int vfio_memlock(unsigned long long needed, int raise, struct vfio_memlock *ml,
                 char *err, size_t errlen)
{
	struct rlimit rl;

	memset(ml, 0, sizeof *ml);
	ml->needed = needed;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		return fail(err, errlen, -errno, "getrlimit", "RLIMIT_MEMLOCK");
	ml->current = lim(rl.rlim_cur);
	ml->max = lim(rl.rlim_max);
	if (ml->current >= needed) {
		ml->ok = 1;
		return 0;
	}
	int rc = -ENOMEM;
	if (raise) {
		/* Raising the hard limit too works only with CAP_SYS_RESOURCE; try it anyway. */
		struct rlimit want = { (rlim_t)needed, ml->max >= needed ? rl.rlim_max : (rlim_t)needed };
		if (setrlimit(RLIMIT_MEMLOCK, &want) == 0) {
			ml->raised = ml->ok = 1;
			return 0;
		}
		rc = -errno;
	}
	errbuf_printf(err, errlen, "RLIMIT_MEMLOCK: soft %llu, hard %llu bytes, %llu needed%s",
	    ml->current, ml->max, needed, raise ? ": cannot raise it" : "");
	return rc;
}

struct uses {
	struct vfio_use *v;
	size_t n, cap;
};

static int add_use(struct uses *u, const char *kind, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int add_use(struct uses *u, const char *kind, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (u->n == u->cap) {
		struct vfio_use *bigger = realloc(u->v, (u->cap ? 2 * u->cap : 4) * sizeof *u->v);
		if (!bigger)
			return -ENOMEM;
		u->v = bigger;
		u->cap = u->cap ? 2 * u->cap : 4;
	}
	struct vfio_use *x = &u->v[u->n++];
	snprintf(x->kind, sizeof x->kind, "%s", kind);
	snprintf(x->name, sizeof x->name, "%s", name);
	va_start(ap, fmt);
	vsnprintf(x->why, sizeof x->why, fmt, ap);
	va_end(ap);
	return 0;
}

static FILE *proc_open(const char *procroot, const char *rel)
{
	char path[PATH_MAX];
	if (sysfs_path(path, sizeof path, "%s/%s", procroot ? procroot : "/proc", rel) < 0)
		return NULL;
	return fopen(path, "re");
}

/* Why an interface that is up counts as configured: an address (link-local IPv6 excluded:
 * the kernel adds it to every interface that comes up) or a route through it. */
static int net_configured(const char *procroot, const char *ifname, const struct ifaddrs *all,
                          char *why, size_t size)
{
	char line[512], a[40], dev[IF_NAMESIZE + 16], text[INET6_ADDRSTRLEN];
	unsigned plen, scope, flags, idx;
	FILE *f;

	for (const struct ifaddrs *i = all; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, ifname) != 0)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *s = (const void *)i->ifa_addr;
			inet_ntop(AF_INET, &s->sin_addr, text, sizeof text);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *s = (const void *)i->ifa_addr;
			if (IN6_IS_ADDR_LINKLOCAL(&s->sin6_addr))
				continue;
			inet_ntop(AF_INET6, &s->sin6_addr, text, sizeof text);
		} else {
			continue;
		}
		snprintf(why, size, "up with address %s", text);
		return 1;
	}
	/* The same from procfs: IPv6 addresses, then IPv4 and IPv6 routes. */
	if ((f = proc_open(procroot, "net/if_inet6"))) {
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "%32s %x %x %x %x %31s", a, &idx, &plen, &scope, &flags, dev) == 6 &&
			    strcmp(dev, ifname) == 0 && scope != 0x20 && scope != 0x10) {
				fclose(f);
				snprintf(why, size, "up with IPv6 address %s/%u", a, plen);
				return 1;
			}
		fclose(f);
	}
	if ((f = proc_open(procroot, "net/route"))) {
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "%31s %8s", dev, a) == 2 && strcmp(dev, ifname) == 0) {
				struct in_addr d = { (in_addr_t)strtoul(a, NULL, 16) };
				fclose(f);
				snprintf(why, size, "up with a route to %s",
				         inet_ntop(AF_INET, &d, text, sizeof text) ? text : a);
				return 1;
			}
		fclose(f);
	}
	if ((f = proc_open(procroot, "net/ipv6_route"))) {
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "%32s %x %*s %*s %*s %*s %*s %*s %*s %31s", a, &plen, dev) == 3 &&
			    strcmp(dev, ifname) == 0 && strncmp(a, "fe80", 4) != 0 && strncmp(a, "ff", 2) != 0) {
				fclose(f);
				snprintf(why, size, "up with an IPv6 route to %s/%u", a, plen);
				return 1;
			}
		fclose(f);
	}
	return 0;
}

static int net_uses(const char *root, const char *procroot, const char *addr, struct uses *u)
{
	char dir[PATH_MAX], path[PATH_MAX], why[160];
	struct ifaddrs *all = NULL;
	struct dirent *de;
	int rc = 0;
	long fl;

	sysfs_path(dir, sizeof dir, "%s/bus/pci/devices/%s/net", ROOT(root), addr);
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	if (getifaddrs(&all) < 0)
		all = NULL;             /* procfs still answers */
	while (rc == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		/* Unreadable flags count as up: when unsure, refuse rather than take a live NIC. */
		if (sysfs_path(path, sizeof path, "%s/%s/flags", dir, de->d_name) >= 0 &&
		    sysfs_read_long(path, &fl) == 0 && !(fl & IFF_UP))
			continue;
		if (net_configured(procroot, de->d_name, all, why, sizeof why))
			rc = add_use(u, "net", de->d_name, "%s", why);
	}
	if (all)
		freeifaddrs(all);
	closedir(d);
	return rc;
}

/* mountinfo's third field is MAJ:MIN, which matches however the source was named. */
static int mounted_on(const char *procroot, const char *majmin, char *where, size_t size)
{
	char line[4096], dev[32], mnt[2048];
	FILE *f = proc_open(procroot, "self/mountinfo");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof line, f))
		if (sscanf(line, "%*s %*s %31s %*s %2047s", dev, mnt) == 2 && strcmp(dev, majmin) == 0) {
			errbuf_printf(where, size, "%s", mnt);
			found = 1;
		}
	fclose(f);
	return found;
}

/* Block devices (disks and their partitions) anywhere below dir; symlinks are not followed,
 * so the walk stays inside the device's own subtree. */
static int block_uses(const char *dir, const char *procroot, int depth, struct uses *u)
{
	char sub[PATH_MAX], path[PATH_MAX], name[32], majmin[32], where[160];
	struct dirent *de;
	struct stat sb;
	int rc = 0;

	DIR *d = depth > 0 ? opendir(dir) : NULL;
	if (!d)
		return 0;
	while (rc == 0 && (de = readdir(d))) {
		/* The entry's type from the directory itself (sysfs gives it): a device's directory
		 * holds some twenty attributes and links, and an lstat of each cost as many system
		 * calls per bound device. lstat only when the filesystem does not say. */
		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) ||
		    sysfs_path(sub, sizeof sub, "%s/%s", dir, de->d_name) < 0 ||
		    (de->d_type == DT_UNKNOWN && (lstat(sub, &sb) < 0 || !S_ISDIR(sb.st_mode))))
			continue;
		if (sysfs_path(path, sizeof path, "%s/subsystem", sub) >= 0 &&
		    sysfs_link_name(path, name, sizeof name) >= 0 && strcmp(name, "block") == 0 &&
		    sysfs_path(path, sizeof path, "%s/dev", sub) >= 0 &&
		    sysfs_read(path, majmin, sizeof majmin) >= 0) {
			if (mounted_on(procroot, majmin, where, sizeof where))
				rc = add_use(u, "block", de->d_name, "mounted on %s", where);
			else if (sysfs_path(path, sizeof path, "%s/holders", sub) >= 0 && nonempty_dir(path, "."))
				rc = add_use(u, "block", de->d_name, "held by another block device (%s)", path);
		}
		if (rc == 0)
			rc = block_uses(sub, procroot, depth - 1, u);
	}
	closedir(d);
	return rc;
}

int vfio_in_use(const char *root, const char *procroot, const char *addr,
                struct vfio_use **uses, size_t *count, char *err, size_t errlen)
{
	struct uses u = { 0 };
	char dir[PATH_MAX];
	struct stat sb;
	int rc;

	*uses = NULL;
	*count = 0;
	if (!vfio_addr_ok(addr))
		return fail(err, errlen, -EINVAL, "device address", addr ? addr : "(null)");
	/* Interfaces and block devices are a driver's, made when it binds and removed when it
	 * lets go: a device no driver holds has none, and the walk below stats every entry of
	 * its directory (for 127 VFs with no driver, a third of a launch's system calls). */
	sysfs_path(dir, sizeof dir, "%s/bus/pci/devices/%s/driver", ROOT(root), addr);
	if (lstat(dir, &sb) < 0 && errno == ENOENT)
		return 0;
	sysfs_path(dir, sizeof dir, "%s/bus/pci/devices/%s/", ROOT(root), addr);
	if ((rc = net_uses(root, procroot, addr, &u)) < 0 ||
	    (rc = block_uses(dir, procroot, 8, &u)) < 0) {
		free(u.v);
		return fail(err, errlen, rc, "in use", dir);
	}
	*uses = u.v;
	*count = u.n;
	return 0;
}

int vfio_modprobe(const char *const *paths, char *err, size_t errlen)
{
	static const char *const standard[] = { "/sbin/modprobe", "/usr/sbin/modprobe", NULL };
	char arg0[] = "modprobe", arg1[] = "vfio-pci";
	char *const argv[] = { arg0, arg1, NULL };
	const char *prog = NULL;
	int status;

	/* Loading a module changes the host as much as a sysfs write does. */
	if (sysfs_writes_forbidden()) {
		errbuf_printf(err, errlen, "modprobe vfio-pci: not run: this run is print-only "
		              "(host writes are forbidden)");
		return -EROFS;
	}
	for (const char *const *p = paths ? paths : standard; *p && !prog; p++)
		if (access(*p, X_OK) == 0)
			prog = *p;
	if (!prog)
		return fail(err, errlen, -ENOENT, "modprobe", (paths ? paths : standard)[0]);
	fflush(NULL);           /* the child must not write our buffered output twice */
	pid_t pid = fork();
	if (pid < 0)
		return fail(err, errlen, -errno, "fork", prog);
	if (pid == 0) {
		execv(prog, argv);
		_exit(errno == ENOENT ? 127 : 126);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return fail(err, errlen, -errno, "waitpid", prog);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	errbuf_printf(err, errlen, "modprobe vfio-pci: %s: %s %d", prog,
	    WIFEXITED(status) ? "exit status" : "killed by signal",
	    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return -EIO;
}
