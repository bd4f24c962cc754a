// SPDX-License-Identifier: GPL-2.0
/*
 * memprobe: guest memory latency and bandwidth, for bench/mem.sh.
 *
 *   memprobe [MIB]        (default 128)
 *
 * Runs inside the benchmark's guest (static, no libraries). Allocates MIB
 * MiB, touches all of it, links its 64-byte lines into one random cycle
 * (Sattolo's algorithm) and then measures:
 *   lat_ns   nanoseconds per dependent load while chasing that cycle once
 *            around (every load goes to a random line of the whole buffer,
 *            so caches and TLBs miss: what the page size of the mappings
 *            under the guest can change);
 *   bw_gbs   sequential read bandwidth, GB/s (1e9 bytes), summing 64-bit
 *            words over the whole buffer, best of 3 passes.
 * Prints one line:
 *   SLICEVM-MEMPROBE mib=N lat_ns=X bw_gbs=Y setup_s=Z
 * Times come from CLOCK_MONOTONIC (kvm-clock in the guest).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LINE 64

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 128;
	size_t bytes = mib << 20, lines = bytes / LINE, i, pass;
	uint32_t *order;
	char *buf;
	void **p;
	double t0, t1, setup, lat, best = 0;
	volatile uint64_t sink = 0;

	if (!mib || posix_memalign((void **)&buf, 2 << 20, bytes)) {
		fprintf(stderr, "memprobe: cannot allocate %zu MiB\n", mib);
		return 1;
	}
	order = malloc(lines * sizeof(*order));
	if (!order) {
		fprintf(stderr, "memprobe: cannot allocate the line order\n");
		return 1;
	}
	t0 = now_s();
	memset(buf, 1, bytes);
	/* Sattolo: a random permutation that is one cycle through all lines. */
	for (i = 0; i < lines; i++)
		order[i] = i;
	for (i = lines - 1; i > 0; i--) {
		size_t j = next_rand() % i;
		uint32_t t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < lines; i++)
		*(void **)(buf + (size_t)order[i] * LINE) =
			buf + (size_t)order[(i + 1) % lines] * LINE;
	free(order);
	setup = now_s() - t0;

	p = (void **)buf;
	t0 = now_s();
	for (i = 0; i < lines; i++)
		p = *p;
	t1 = now_s();
	lat = (t1 - t0) * 1e9 / lines;
	sink += (uintptr_t)p;

	for (pass = 0; pass < 3; pass++) {
		const uint64_t *w = (const uint64_t *)buf;
		uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
		size_t n = bytes / sizeof(*w);

		t0 = now_s();
		for (i = 0; i < n; i += 4) {
			s0 += w[i];
			s1 += w[i + 1];
			s2 += w[i + 2];
			s3 += w[i + 3];
		}
		t1 = now_s();
		sink += s0 + s1 + s2 + s3;
		if (t1 > t0 && bytes / (t1 - t0) / 1e9 > best)
			best = bytes / (t1 - t0) / 1e9;
	}
	printf("SLICEVM-MEMPROBE mib=%zu lat_ns=%.1f bw_gbs=%.3f setup_s=%.2f\n",
	       mib, lat, best, setup);
	fflush(stdout);
	return sink == 42 ? 2 : 0;
}
