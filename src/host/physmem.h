/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_HOST_PHYSMEM_H
#define SLICEVM_HOST_PHYSMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "host/plan.h"

/*
 * Host physical memory, for slices whose memory is a reserved range
 * ("backing": "reserved"): which firmware RAM each NUMA node has, what
 * /proc/iomem says is reserved now, and the choice of a slice's range.
 *
 * Every range here has an inclusive end, as /proc/iomem and
 * /sys/firmware/memmap write them: [start, end], size end - start + 1.
 */

struct phys_range {
	uint64_t start, end;
};

/* One line of /proc/iomem. */
struct iomem_entry {
	uint64_t start, end;
	int depth;		/* 0: top level; each two spaces of indent add one */
	char name[64];
};

struct iomem {
	int n;
	struct iomem_entry *e;
};

/*
 * Parses /proc/iomem text. Fails (-1, err_msg()) on a malformed line, and
 * when every address is 0: the kernel hides them from non-root readers,
 * so the caller must run as root.
 */
int iomem_parse(const char *text, struct iomem *io);
void iomem_free(struct iomem *io);

/* A top-level "System RAM" line. */
bool iomem_is_ram(const struct iomem_entry *e);
/* A top-level "Reserved" or "Persistent Memory (legacy)" line: what memmap= makes. */
bool iomem_is_reservation(const struct iomem_entry *e);
/* The top-level line that is exactly [start, end]; NULL when none. */
const struct iomem_entry *iomem_find(const struct iomem *io, uint64_t start, uint64_t end);
/* The first top-level System RAM line sharing a byte with [start, end]; NULL when none. */
const struct iomem_entry *iomem_ram_overlap(const struct iomem *io, uint64_t start,
					    uint64_t end);

/* Firmware System RAM that belongs to one NUMA node. */
struct phys_ram {
	uint64_t start, end;
	int node;
};

/* A memory block of /sys/devices/system/memory and its node. */
struct mem_block {
	uint64_t index;		/* covers [index * size, (index + 1) * size) */
	int node;
};

struct physmem {
	int nram;
	struct phys_ram *ram;	/* sorted by address, adjacent pieces of one node merged */
	struct iomem io;	/* /proc/iomem as it is now */
};

/*
 * Gives each firmware System RAM range (@fw, sorted) its node: from the
 * memory blocks (@blocks, @block_size), or all of it to @only_node when it
 * is >= 0 (a host with a single node). RAM without a block (a range that
 * memmap= took out of the kernel's memory has none) belongs to the node of
 * the nearest block below it in the same firmware range, else above it;
 * with no block at all in that range it is left out.
 */
int physmem_tag(const struct phys_range *fw, int nfw, const struct mem_block *blocks,
		int nblocks, uint64_t block_size, int only_node, struct physmem *pm);

/*
 * Reads the host: <sys>/firmware/memmap/N/{start,end,type} (the firmware's
 * map, which memmap= reservations do not change), the memory blocks of
 * <sys>/devices/system/node/nodeN/memoryM and
 * <sys>/devices/system/memory/block_size_bytes, and <proc>/iomem.
 * @only_node >= 0 on a single-node host. -1 with err_msg() on failure.
 */
int physmem_load(struct physmem *pm, const char *sys, const char *proc, int only_node);
void physmem_free(struct physmem *pm);

/* Is [start, start + size) all firmware System RAM of @node? -1 and err_msg() if not. */
int physmem_check(const struct physmem *pm, int node, uint64_t start, uint64_t size);

/*
 * Chooses the start of @size bytes on @node, sharing no byte with @taken:
 *  1. a top-level iomem reservation of exactly @size that lies in @node's
 *     firmware RAM (the range this choice made before the host rebooted
 *     with memmap=), the highest one;
 *  2. else the highest fit in @node's firmware RAM, preferring in turn:
 *     above 4G 1G-aligned, above 4G 2M-aligned, below 4G 1G-aligned, below
 *     4G 2M-aligned (low memory and the 32-bit DMA zone stay the host's
 *     when anything above fits).
 * 0 and *start, or -1 with err_msg() naming the slice @what.
 */
int physmem_choose(const struct physmem *pm, const char *what, int node, uint64_t size,
		   const struct phys_range *taken, int ntaken, uint64_t *start);

/*
 * Checks the reserved slices of @plan that have a phys_start and gives one
 * to those that have none (in slice order, after every pinned one).
 */
int physmem_place(const struct physmem *pm, struct plan *plan);

/*
 * Bytes of @node's firmware RAM that top-level iomem reservations (memmap=)
 * took from the kernel: hwloc's node memory no longer counts them.
 */
uint64_t physmem_reserved_on_node(const struct physmem *pm, int node);

/* Does @plan have a reserved slice? */
bool plan_has_reserved(const struct plan *plan);

#endif
