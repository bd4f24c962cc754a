/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_MEM_RAM_H
#define SLICEVM_MEM_RAM_H

#include <stdbool.h>
#include <stdint.h>

#include "mem/region.h"

/*
 * Guest RAM: host mappings from a backend, laid out as regions (region.h).
 *
 *   anon      anonymous memory (transparent huge pages), bound to a node
 *   hugetlb   hugetlbfs pages, 1G when the size allows, else 2M, from a node
 *   reserved  one range of host physical memory the host kernel never owns
 *             (kept from it at boot by memmap=): through the device-dax
 *             instance made of it when there is one (2M mappings), else
 *             through /dev/mem (4K page-table entries)
 *
 * A reserved range is laid out as usual (from guest-physical 0, split
 * around the device window) or, with identity, at its own host-physical
 * addresses, beside a small anonymous boot region at 0.
 */

enum ram_backing {
	RAM_ANON,
	RAM_HUGETLB,
	RAM_RESERVED,
};

struct ram_spec {
	enum ram_backing backing;
	uint64_t size;		/* bytes of guest RAM from the backing */
	int numa_node;		/* bind to this node; -1 for none */
	bool populate;		/* fault every page in now: none reaches KVM later */
	/* reserved only */
	uint64_t phys_start;	/* host physical start of the range */
	bool identity;		/* at guest-physical == host-physical */
	uint64_t boot_size;	/* identity: the anonymous region at guest-physical 0 */
};

struct ram_mapping {
	uint8_t *host;
	uint64_t size;
	uint64_t hpa;		/* MEM_HPA_UNKNOWN unless physical */
	unsigned int page_shift;	/* 12, 21 or 30: the pages behind it */
	bool device;		/* a mapping of a device file (munmap only) */
};

struct guest_ram {
	int nmaps;
	struct ram_mapping map[2];
	struct guest_mem layout;
};

/*
 * Maps guest RAM as @spec says and lays it out. Refusals are one line
 * naming the fix (too few hugepages on the node, a range /dev/mem will not
 * map, ...); nothing stays mapped then.
 */
int guest_ram_map(struct guest_ram *ram, const struct ram_spec *spec);
void guest_ram_unmap(struct guest_ram *ram);

/* "anon", "hugetlb", "reserved" */
const char *ram_backing_name(enum ram_backing b);

/*
 * Writes zeros over every mapping of physical memory (reserved ranges),
 * with @nthreads threads (which run where the caller may run). Returns the
 * bytes zeroed (0 when nothing is physical) and the seconds it took.
 */
uint64_t guest_ram_zero_physical(struct guest_ram *ram, int nthreads, double *seconds);

/* Host memory that could back a guest (MemTotal), for refusing impossible sizes. */
int host_memory_total(uint64_t *bytes);

#endif
