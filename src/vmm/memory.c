// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/err.h"
#include "lib/size.h"
#include "vmm/memory.h"
#include "vmm/platform.h"

void guest_ram_layout(uint8_t *host, uint64_t size, struct guest_mem *layout)
{
	layout->low = host;
	layout->low_size = size < MEM_32BIT_GAP_START ? size : MEM_32BIT_GAP_START;
	layout->high_size = size - layout->low_size;
	layout->high = layout->high_size ? host + layout->low_size : NULL;
}

static int bind_to_node(struct guest_ram *ram)
{
	unsigned long nodemask[16] = { 0 };

	if (ram->numa_node < 0)
		return 0;
	if (numa_available() < 0)
		return err_set("NUMA binding to node %d asked for, but this host has no NUMA support",
			       ram->numa_node);
	if (ram->numa_node >= (int)(sizeof(nodemask) * 8))
		return err_set("NUMA node %d is out of range", ram->numa_node);
	nodemask[ram->numa_node / (8 * sizeof(long))] |=
		1UL << (ram->numa_node % (8 * sizeof(long)));
	/* MPOL_BIND: pages come from the slice's node or not at all. */
	if (mbind(ram->host, ram->size, MPOL_BIND, nodemask,
		  sizeof(nodemask) * 8, 0))
		return err_set_errno("cannot bind guest memory to NUMA node %d",
				     ram->numa_node);
	return 0;
}

static int anon_map(struct guest_ram *ram)
{
	void *p;

	/*
	 * Pages are allocated when the guest first touches them, so a guest
	 * that never uses all of its RAM never costs all of it.
	 */
	p = mmap(NULL, ram->size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return err_set_errno("cannot map %llu bytes of guest memory",
				     (unsigned long long)ram->size);
	ram->host = p;
	/* Transparent huge pages cut nested page walks and TLB misses. */
	madvise(p, ram->size, MADV_HUGEPAGE);
	/* A forked helper must not share (or copy-on-write) guest RAM. */
	madvise(p, ram->size, MADV_DONTFORK);
	return 0;
}

static void anon_unmap(struct guest_ram *ram)
{
	munmap(ram->host, ram->size);
}

const struct mem_backend mem_backend_anon = {
	.name = "anonymous",
	.map = anon_map,
	.unmap = anon_unmap,
};

int guest_ram_map(struct guest_ram *ram, const struct mem_backend *backend,
		  uint64_t size, int numa_node)
{
	memset(ram, 0, sizeof(*ram));
	ram->backend = backend;
	ram->size = size;
	ram->numa_node = numa_node;
	if (backend->map(ram))
		return -1;
	/*
	 * A tenant's memory never goes to disk in a core dump of the VMM,
	 * whatever the backend: a crash must not leak it. Refused only by a
	 * kernel that cannot keep that promise, so it fails the start.
	 */
	if (madvise(ram->host, ram->size, MADV_DONTDUMP)) {
		err_set_errno("cannot keep guest memory out of core dumps");
		backend->unmap(ram);
		ram->host = NULL;
		return -1;
	}
	if (bind_to_node(ram)) {
		backend->unmap(ram);
		ram->host = NULL;
		return -1;
	}
	guest_ram_layout(ram->host, size, &ram->layout);
	return 0;
}

void guest_ram_unmap(struct guest_ram *ram)
{
	if (ram->host)
		ram->backend->unmap(ram);
	ram->host = NULL;
}

int host_memory_total(uint64_t *bytes)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kb = 0;
	char line[128];

	if (!f)
		return err_set_errno("cannot read /proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	fclose(f);
	if (!kb)
		return err_set("cannot find MemTotal in /proc/meminfo");
	*bytes = kb * 1024;
	return 0;
}
