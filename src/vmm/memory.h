/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_MEMORY_H
#define SLICEVM_VMM_MEMORY_H

#include <stdint.h>

#include "boot/boot.h"

/*
 * Guest RAM. A backend provides one host mapping for the whole of guest RAM;
 * the VM splits it into the low region (below the 32-bit hole) and the high
 * region (above 4 GiB) as KVM memory slots. Backends differ only in where the
 * pages come from: anonymous memory now; hugetlbfs and a reserved range of
 * host physical memory (/dev/mem) later, without touching the boot code.
 */

struct guest_ram;

struct mem_backend {
	const char *name;
	/* Maps @ram->size bytes at @ram->host; -1 with err_msg() set. */
	int (*map)(struct guest_ram *ram);
	void (*unmap)(struct guest_ram *ram);
};

struct guest_ram {
	const struct mem_backend *backend;
	uint8_t *host;
	uint64_t size;
	int numa_node;		/* bind pages to this node; -1 for no binding */
	struct guest_mem layout;
};

extern const struct mem_backend mem_backend_anon;

/* Maps @size bytes of guest RAM from @backend and computes the layout. */
int guest_ram_map(struct guest_ram *ram, const struct mem_backend *backend,
		  uint64_t size, int numa_node);
void guest_ram_unmap(struct guest_ram *ram);

/* Low/high split of @size bytes of guest RAM (pure). */
void guest_ram_layout(uint8_t *host, uint64_t size, struct guest_mem *layout);

/* Host memory that could back a guest (MemTotal), for refusing impossible sizes. */
int host_memory_total(uint64_t *bytes);

#endif
