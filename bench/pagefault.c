// SPDX-License-Identifier: MIT
// Benchmark helper: what a first touch of fresh memory costs on this machine, in 4 KiB pages
// and in transparent huge pages (madvise). On the virtual machines CI runs on a 4 KiB page
// fault costs some 25 us, a hundred times what it costs on bare metal: a run's memory
// footprint is then a first-order cost, which is why launcher/main.c asks for huge pages.
// Prints one line. Usage: pagefault [PAGES] (default 2048, 8 MiB).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>

static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* CPU time per 4 KiB page to touch n fresh pages, with or without the huge page advice. */
static double touch(size_t n, int huge)
{
	const uintptr_t align = 2u << 20;
	size_t len = n * 4096 + align;
	char *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;
	double t0;

	if (map == MAP_FAILED) {
		perror("pagefault: mmap");
		exit(1);
	}
	p = (char *)(((uintptr_t)map + align - 1) & ~(align - 1));
	if (huge)
		madvise(p, n * 4096, MADV_HUGEPAGE);
	t0 = cpu_ms();
	for (size_t i = 0; i < n; i++)
		p[i * 4096] = 1;
	t0 = cpu_ms() - t0;
	munmap(map, len);
	return t0 * 1000 / (double)n;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 2048;

	if (n == 0) {
		fprintf(stderr, "usage: pagefault [PAGES]\n");
		return 2;
	}
	printf("first touch of fresh memory: %.2f us per 4 KiB page, %.2f us per 4 KiB in huge "
	       "pages (%zu pages)\n", touch(n, 0), touch(n, 1), n);
	return 0;
}
