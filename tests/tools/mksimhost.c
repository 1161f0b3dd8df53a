// SPDX-License-Identifier: MIT
// Test tool: write a simulated host's sysfs tree into DIR (the generator --simulate uses), so
// tests can point --sysfs at a tree that outlives one vflaunch run. Usage: mksimhost NAME DIR
#include <stdio.h>
#include <string.h>

#include "simhost.h"

int main(int argc, char **argv)
{
	const struct simhost *h;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: mksimhost NAME DIR (DIR must exist and be empty)\n");
		simhost_list(stderr);
		return 2;
	}
	h = simhost_find(argv[1]);
	if (!h) {
		fprintf(stderr, "mksimhost: no simulated host '%s'\n", argv[1]);
		return 2;
	}
	err = simhost_build(h, argv[2]);
	if (err < 0) {
		fprintf(stderr, "mksimhost: %s: %s\n", argv[2], strerror(-err));
		return 1;
	}
	return 0;
}
