// SPDX-License-Identifier: MIT
// libFuzzer target: inventory_scan (every fact of every device, read as the lazy reads read
// them) on a small simulated host (shared-group, 9 devices) that the input corrupts. The input
// is a list of edits, each 4 bytes [op, device, attribute, length] and `length` bytes of value:
//   op 0 the attribute becomes a file holding the value    3 the attribute becomes a directory
//      1 the attribute becomes a symlink to the value      4 a bus/pci/devices entry named by the
//      2 the attribute is removed                            value, linking to the device
//                                                          5 the device's entry is removed
// What must hold: the scan returns (nothing blocks, libpci's handler, which aborts, is never
// reached), and a successful scan gives canonical, sorted, unique addresses and
// PF/VF links that are PCI addresses; a failed one gives a message.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pci/pci.h>

#include "inventory.h"
#include "simhost.h"

#define FUZZ_NAME "fuzz_inventory"
#include "fuzzlib.h"

/* Names from pci.ids are not under test, and loading the 1.3 MB file per scan would make the
 * fuzzer 50 times slower: every lookup finds nothing, as for an id pci.ids does not know. */
char *pci_lookup_name(struct pci_access *a, char *buf, int size, int flags, ...)
{
	(void)a, (void)buf, (void)size, (void)flags;
	return NULL;
}

static const char *const attrs[] = {
	"vendor", "device", "class", "config", "resource", "irq", "revision", "subsystem_vendor",
	"subsystem_device", "numa_node", "driver", "iommu_group", "driver_override",
	"sriov_totalvfs", "sriov_numvfs", "sriov_offset", "sriov_stride", "physfn", "virtfn0",
	"virtfn1", "virtfn4", "enable",
};
#define NATTRS (sizeof attrs / sizeof attrs[0])

static char tree[PATH_MAX], devices[PATH_MAX];
static char names[16][32], dirs[16][PATH_MAX];
static size_t ndev;

/* The fixture itself failed: no input is at fault. */
static void fuzz_fatal(const char *what)
{
	perror(what);
	abort();
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void build(void)
{
	rmtree(tree);
	if (mkdir(tree, 0755) < 0)
		fuzz_fatal("mkdir tree");
	if (simhost_build(simhost_find("shared-group"), tree) < 0)
		fuzz_fatal("simhost_build");
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct dirent *de;
	DIR *d;

	(void)argc, (void)argv;
	fuzz_path(tree, sizeof tree, "sys");
	snprintf(devices, sizeof devices, "%s/bus/pci/devices", tree);
	build();
	if (!(d = opendir(devices)))
		fuzz_fatal("opendir");
	while ((de = readdir(d)) && ndev < 16)
		if (de->d_name[0] != '.')
			snprintf(names[ndev++], sizeof names[0], "%s", de->d_name);
	closedir(d);
	qsort(names, ndev, sizeof names[0], cmp_str);
	for (size_t i = 0; i < ndev; i++) {
		char link[PATH_MAX];
		snprintf(link, sizeof link, "%s/%s", devices, names[i]);
		if (!realpath(link, dirs[i]))
			fuzz_fatal("realpath");
	}
	return 0;
}

/* Remove whatever is at path: file, link or tree. */
static void clear(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) < 0)
		return;
	if (S_ISDIR(sb.st_mode))
		rmtree(path);
	else
		unlink(path);
}

static void edit(unsigned op, unsigned dev, unsigned attr, const char *value, size_t len)
{
	char path[PATH_MAX], text[256];
	const char *dir = dirs[dev % ndev];

	snprintf(path, sizeof path, "%s/%s", dir, attrs[attr % NATTRS]);
	memcpy(text, value, len);
	text[len] = '\0';
	switch (op % 6) {
	case 0: {
		clear(path);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			if (write(fd, value, len) < 0) { /* a full tmpfs: the edit is lost, no matter */ }
			close(fd);
		}
		break;
	}
	case 1:
		if (len && !memchr(value, '\0', len)) {
			clear(path);
			if (symlink(text, path) < 0) { /* ENAMETOOLONG and the like: skip the edit */ }
		}
		break;
	case 2:
		clear(path);
		break;
	case 3:
		clear(path);
		mkdir(path, 0755);
		break;
	case 4:
		/* An entry name, as a directory entry can be: no '/', no NUL, not . or .. */
		if (len && !memchr(value, '\0', len) && !memchr(value, '/', len) && strcmp(text, ".") &&
		    strcmp(text, "..")) {
			snprintf(path, sizeof path, "%s/%s", devices, text);
			clear(path);
			if (symlink(dir, path) < 0) { /* too long: skip */ }
		}
		break;
	case 5:
		snprintf(path, sizeof path, "%s/%s", devices, names[dev % ndev]);
		clear(path);
		break;
	}
}

static int canonical(const char *name)
{
	struct pci_addr a;
	char again[PCI_ADDR_LEN + 1];

	if (pci_addr_parse(name, &a, NULL) < 0)
		return 0;
	pci_addr_format(&a, again, sizeof again);
	return strcmp(again, name) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inventory inv;
	char err[512] = "";

	fuzz_begin(data, size);
	build();
	while (size >= 4) {
		unsigned op = data[0], dev = data[1], attr = data[2];
		size_t len = data[3] < size - 4 ? data[3] : size - 4;
		edit(op, dev, attr, (const char *)data + 4, len);
		data += 4 + len;
		size -= 4 + len;
	}
	if (inventory_scan(tree, &inv, err, sizeof err) < 0) {
		fuzz_check(err[0] != '\0', "scan failed without a message");
		return 0;
	}
	for (size_t i = 0; i < inv.count; i++) {
		const struct pci_device *p = &inv.devs[i];
		fuzz_check(canonical(p->name), "a device name is not a canonical address");
		fuzz_check(i == 0 || strcmp(inv.devs[i - 1].name, p->name) < 0, "devices not sorted and unique");
		fuzz_check(!p->physfn[0] || canonical(p->physfn), "a physfn link that is not a PCI address is taken as the PF");
		for (size_t v = 0; v < p->nvfs; v++)
			fuzz_check(canonical(p->vfs[v]), "a virtfn link that is not a PCI address is taken as a VF");
		fuzz_check(!strchr(p->driver, '/') && !strchr(p->driver_override, '\n'), "a driver name with '/' or a newline");
		fuzz_check(p->sriov_numvfs <= p->sriov_totalvfs || p->sriov_totalvfs < 0,
		      "sriov_numvfs above sriov_totalvfs taken as is");
	}
	inventory_free(&inv);
	return 0;
}
