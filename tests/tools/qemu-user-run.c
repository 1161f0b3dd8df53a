// SPDX-License-Identifier: MIT
// Stand-in for a foreign-architecture vflaunch on the build machine (make check-arm64): runs
// TARGET (compiled in) under qemu-user (QEMU_USER, compiled in), so that the test suites call it
// as they call the native binary. Linked static on purpose: no dynamic loader of the build
// machine runs here, so none tries to preload LD_PRELOAD (an arm64 fake kernel); it is taken out
// of the environment and handed to the guest's loader with qemu's -E. argv[0] is kept (-0).
// Contract: exit status and signals are those of qemu-user, which are the guest's.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TARGET
#error "build with -DTARGET='\"/abs/path/to/vflaunch\"'"
#endif
#ifndef QEMU_USER
#define QEMU_USER "qemu-aarch64"
#endif

int main(int argc, char **argv)
{
	const char *preload = getenv("LD_PRELOAD");
	char **args = calloc((size_t)argc + 8, sizeof *args), *env = NULL;
	int n = 0;

	if (!args) {
		perror("qemu-user-run");
		return 126;
	}
	args[n++] = (char *)QEMU_USER;
	args[n++] = (char *)"-0";
	args[n++] = argv[0];
	if (preload) {
		size_t len = strlen(preload) + sizeof "LD_PRELOAD=";
		if (!(env = malloc(len))) {
			perror("qemu-user-run");
			return 126;
		}
		snprintf(env, len, "LD_PRELOAD=%s", preload);
		args[n++] = (char *)"-E";
		args[n++] = env;
		unsetenv("LD_PRELOAD");
	}
	args[n++] = (char *)TARGET;
	for (int i = 1; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	execvp(QEMU_USER, args);
	fprintf(stderr, "qemu-user-run: %s: %s (apt-get install qemu-user)\n", QEMU_USER, strerror(errno));
	return 127;
}
