// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the seeds of tests/fuzz/corpus/virtqueue/ into the directory
 * given: queue layouts a driver could make (see fuzz_virtqueue.c for the
 * input format), plus one loop so that the error path is covered.
 *
 *   cc -Isrc -o build/virtqueue_seeds tests/fuzz/virtqueue_seeds.c
 *   build/virtqueue_seeds tests/fuzz/corpus/virtqueue
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/virtqueue.h"

#define HEADER		16
#define IMAGE		0x6000
#define DESC_GPA	0x1000
#define AVAIL_GPA	0x2000
#define USED_GPA	0x3000
#define TABLE_GPA	0x5000
#define DATA_GPA	0x4000

static uint8_t seed[HEADER + IMAGE];

static void header(unsigned int log2_size, uint8_t flags, uint16_t start)
{
	uint32_t gpa[3] = { DESC_GPA, AVAIL_GPA, USED_GPA };

	memset(seed, 0, sizeof(seed));
	seed[0] = (uint8_t)log2_size;
	seed[1] = flags;
	memcpy(seed + 2, gpa, sizeof(gpa));
	memcpy(seed + 14, &start, 2);
	memcpy(seed + HEADER + AVAIL_GPA + 2, &start, 2);
}

static void put(uint64_t table, unsigned int i, uint64_t addr, uint32_t len,
		uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy(seed + HEADER + table + i * sizeof(d), &d, sizeof(d));
}

/* Makes @head available at ring slot @slot and moves the index by one. */
static void avail(unsigned int size, uint16_t slot, uint16_t head)
{
	uint16_t idx;

	memcpy(seed + HEADER + AVAIL_GPA + 4 + 2 * (slot % size), &head, 2);
	memcpy(&idx, seed + HEADER + AVAIL_GPA + 2, 2);
	idx++;
	memcpy(seed + HEADER + AVAIL_GPA + 2, &idx, 2);
}

static void save(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(seed, 1, sizeof(seed), f) != sizeof(seed) || fclose(f)) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}

	/* a block-like request: header, data, status byte */
	header(3, 0, 0);
	put(DESC_GPA, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	put(DESC_GPA, 1, DATA_GPA + 0x100, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	put(DESC_GPA, 2, DATA_GPA + 0x400, 1, VIRTQ_DESC_F_WRITE, 0);
	avail(8, 0, 0);
	save(argv[1], "block-request");

	/* the same through an indirect table, event index, across the wrap */
	header(3, 3, 0xFFFE);
	put(TABLE_GPA, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	put(TABLE_GPA, 1, DATA_GPA + 0x100, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	put(TABLE_GPA, 2, DATA_GPA + 0x400, 1, VIRTQ_DESC_F_WRITE, 0);
	for (unsigned int i = 0; i < 3; i++) {
		put(DESC_GPA, i, TABLE_GPA, 48, VIRTQ_DESC_F_INDIRECT, 0);
		avail(8, (uint16_t)(0xFFFE + i), (uint16_t)i);
	}
	save(argv[1], "indirect-event-idx-wrap");

	/* a full queue of 256 one- and two-descriptor chains, capped chains */
	header(8, 4, 0);
	for (unsigned int i = 0; i < 256; i++) {
		uint16_t flags = i & 1 ? VIRTQ_DESC_F_WRITE : VIRTQ_DESC_F_NEXT;

		put(DESC_GPA, i, DATA_GPA + i, 64, flags, (uint16_t)(i + 1));
		if (!(i & 1))
			avail(256, (uint16_t)(i / 2), (uint16_t)i);
	}
	save(argv[1], "full-queue-256");

	/* a loop: the queue must break */
	header(2, 0, 0);
	put(DESC_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	put(DESC_GPA, 1, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 0);
	avail(4, 0, 0);
	save(argv[1], "loop");
	return 0;
}
