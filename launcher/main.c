// SPDX-License-Identifier: MIT
// vflaunch: run a Lua site script that describes a QEMU guest's PCIe topology, validate it,
// and exec QEMU (or print, draw, or rehearse it); list, status, stop and restore launches.
// The command line, the commands and their policy are Lua (lua/main.lua); this file starts
// the Lua host, hands it argv, and makes sure the output really reached stdout.
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "host.h"

/* Descriptors 0-2 that are closed at start would be handed out to the first files vflaunch
 * opens (the lock, a journal), and output meant for stdout would land in them. Reserve them
 * with /dev/null opened read-only, so that writing to a closed stdout still fails. */
static void reserve_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int nfd = open("/dev/null", O_RDONLY);
			if (nfd >= 0 && nfd != fd) {
				dup2(nfd, fd);
				close(nfd);
			}
		}
}

/* stdout must have reached its destination: a full disk or a closed stdout is a failure,
 * not a silent success (a dry run redirected to a file must not "succeed" empty). */
static int close_stdout(int status)
{
	int failed = fflush(stdout) != 0 || ferror(stdout);
	int err = errno;

	if (fclose(stdout) != 0 && !failed) {
		failed = 1;
		err = errno;
	}
	if (failed) {
		fprintf(stderr, "vflaunch: cannot write the output: %s\n", strerror(err));
		return status ? status : 1;
	}
	return status;
}

/* Let the heap grow in transparent huge pages. A plan of 2,000 devices, or the inventory of a
 * host with thousands of VFs, touches some 10 MB of fresh memory, and each first touch of a 4 KiB
 * page is a page fault: on the virtual machines CI runs on, about 25 us each (bench/pagefault.c),
 * a third of `-n dense-1984.lua`. So glibc's heap takes its memory from brk in one reservation
 * of 32 MB (address space: nothing is touched until used), never hands it back while the
 * process runs, and keeps large strings there rather than in mappings of their own; and the
 * kernel is advised to back the reservation with huge pages. The advice holds only for memory
 * not yet touched, and a heap's first bytes are its headers: the heap is made to start one page
 * below a 2 MB boundary (the program break is moved there; the gap is address space only), so
 * that its headers fill that page and all above it is advised before first use. Where THP is
 * off the advice does nothing; where the heap is not glibc's brk heap (a sanitizer's allocator,
 * or a heap made before main) it is not given. */
static void heap_in_huge_pages(void)
{
	const uintptr_t huge = 2u << 20, page = 4096, reserve = 32u << 20;
	uintptr_t base = (uintptr_t)sbrk(0), first, start, end;
	uintptr_t below = ((base + page + huge - 1) & ~(huge - 1)) - page;
	void *p;

	if (sbrk((intptr_t)(below - base)) == (void *)-1)
		return;
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_TOP_PAD, (int)reserve);
	p = malloc(64); /* the heap: its headers in the page below the boundary, then the reservation */
	if (!p)
		return;
	first = (uintptr_t)p;
	start = below + page;
	end = (uintptr_t)sbrk(0) & ~(huge - 1);
	if (first >= below && first < start && end > start && end - start <= reserve + huge)
		madvise((void *)start, end - start, MADV_HUGEPAGE);
	free(p);
}

int main(int argc, char **argv)
{
	lua_State *L;
	int status = 1;

	reserve_std_fds();
	heap_in_huge_pages();
	L = host_new();
	if (!L) {
		fprintf(stderr, "vflaunch: cannot start the Lua host: out of memory\n");
		return 1;
	}
	lua_getglobal(L, "require");
	lua_pushstring(L, "vflaunch.main");
	if (host_pcall(L, 1, 1) == 0) {
		lua_getfield(L, -1, "main");
		lua_createtable(L, argc, 1);
		for (int i = 0; i < argc; i++) {
			lua_pushstring(L, argv[i]);
			lua_rawseti(L, -2, i);
		}
		if (host_pcall(L, 1, 1) == 0) {
			int isint;
			lua_Integer st = lua_tointegerx(L, -1, &isint);
			if (isint && st >= 0 && st <= 255)
				status = (int)st;
			else
				fprintf(stderr, "vflaunch: internal error: exit status %s\n",
				        luaL_tolstring(L, -1, NULL));
		}
	}
	lua_close(L);
	return close_stdout(status);
}
