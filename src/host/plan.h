/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_HOST_PLAN_H
#define SLICEVM_HOST_PLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "lib/cpumask.h"

/*
 * A plan: how the host is carved into slices. Resolved from a configuration
 * against a topology (plan.c), stored in the ledger as JSON, made real by
 * apply.c, and read by `slicevm run --slice`.
 */

#define SLICE_NAME_MAX	32
#define SLICE_MAX	64
#define SLICE_DEV_MAX	16
#define PCI_ADDR_MAX	16	/* "0000:00:1f.3" and its NUL */
/* Room for cpumask_format_list() of any mask ("0,2,4,...,1022" is ~2.6K). */
#define CPULIST_MAX	4096
/*
 * The largest memory size a plan holds (1 PiB, beyond any NUMA node): small
 * enough that a sum over SLICE_MAX slices cannot wrap a uint64 and a size
 * always fits the int64 of the stored JSON.
 */
#define PLAN_SIZE_MAX	(1ULL << 50)

/* Where a slice's memory comes from ("backing" in the configuration). */
enum slice_backing {
	BACKING_ANON,		/* anonymous memory bound to the node (the default) */
	BACKING_HUGETLB,	/* hugepages reserved at boot on the node */
	BACKING_RESERVED,	/* one range of host physical memory the host never owns */
};

/* How a reserved range is kept from the host at boot ("reserve_as"). */
enum slice_reserve {
	RESERVE_MEMMAP,		/* memmap=SIZE$START: an e820 "Reserved" range */
	RESERVE_PMEM,		/* memmap=SIZE!START: "Persistent Memory (legacy)" */
};

/* The highest physical address bit x86-64 has (52): ranges stay below it. */
#define PHYS_ADDR_LIMIT	(1ULL << 52)

struct slice {
	char name[SLICE_NAME_MAX];
	struct cpumask cpus;		/* whole cores */
	int node;			/* NUMA node of CPUs and memory; -1 when spanning */
	uint64_t memory;		/* bytes */
	enum slice_backing backing;
	bool identity;			/* reserved: guest-physical == host-physical */
	uint64_t phys_start;		/* reserved: the range is [phys_start, +memory);
					 * 0 until chosen on the host (physmem.h) */
	enum slice_reserve reserve_as;	/* reserved: how the boot keeps it */
	int ndevices;
	char devices[SLICE_DEV_MAX][PCI_ADDR_MAX];
};

const char *slice_backing_name(enum slice_backing b);
const char *slice_reserve_name(enum slice_reserve r);

/*
 * The hugepage size a hugetlb slice uses: 1G when its memory is a multiple
 * of 1G, else 2M (the planner keeps memory a multiple of 2M).
 */
uint64_t slice_hugepage_size(const struct slice *s);

struct plan {
	struct cpumask housekeeping;	/* CPUs the host keeps for itself */
	int nslices;
	struct slice slices[SLICE_MAX];
};

json_object *plan_to_json(const struct plan *plan);
int plan_from_json(json_object *obj, struct plan *plan);
const struct slice *plan_find_slice(const struct plan *plan, const char *name);
/* Every slice's CPUs, in @cpus. */
void plan_slice_cpus(const struct plan *plan, struct cpumask *cpus);

#endif
