// SPDX-License-Identifier: MIT
// Test tool: write a simulated host's sysfs tree into DIR (the generator --simulate uses), so
// tests can point --sysfs at a tree that outlives one vflaunch run. Usage: mksimhost NAME DIR
// (NAME large:PFS: the large host with PFS ConnectX-5 PFs, PFS * 128 functions, for benchmarks)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simhost.h"

int main(int argc, char **argv)
{
	const struct simhost *h;
	struct simhost *scaled = NULL;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: mksimhost NAME DIR (DIR must exist and be empty; NAME large:PFS "
		        "for PFS of large's 16 PFs, 1 to 128)\n");
		simhost_list(stderr);
		return 2;
	}
	if (strncmp(argv[1], "large:", 6) == 0)
		h = scaled = simhost_large(atoi(argv[1] + 6));
	else
		h = simhost_find(argv[1]);
	if (!h) {
		fprintf(stderr, "mksimhost: no simulated host '%s'\n", argv[1]);
		return 2;
	}
	err = simhost_build(h, argv[2]);
	free(scaled);
	if (err < 0) {
		fprintf(stderr, "mksimhost: %s: %s\n", argv[2], strerror(-err));
		return 1;
	}
	return 0;
}
