// SPDX-License-Identifier: GPL-2.0
#include <stdbool.h>

#include "lib/err.h"
#include "vfio/dmamap.h"

/* The smallest page the IOMMU takes (4K when it does not say). */
static uint64_t smallest_page(uint64_t pgsizes)
{
	return pgsizes ? pgsizes & -pgsizes : 4096;
}

/*
 * The largest page size in @pgsizes that both addresses share their
 * offset within and that fits in @size: what the IOMMU can use for a
 * mapping, given host pages that are contiguous.
 */
static uint64_t largest_page(uint64_t pgsizes, uint64_t iova, uint64_t host, uint64_t size)
{
	uint64_t best = smallest_page(pgsizes);

	for (int bit = 0; bit < 64; bit++) {
		uint64_t p = 1ULL << bit;

		if ((pgsizes & p) && p <= size && (iova & (p - 1)) == (host & (p - 1)))
			best = p;
	}
	return best;
}

static bool inside_ranges(const struct dma_limits *lim, uint64_t start, uint64_t size)
{
	if (!lim->nranges)
		return true;
	for (int i = 0; i < lim->nranges; i++)
		if (start >= lim->ranges[i].start && start + size - 1 <= lim->ranges[i].last)
			return true;
	return false;
}

/*
 * A reserved stretch (a gap between the valid ranges, which VFIO lists in
 * ascending order) that [start, last] touches, for the error message.
 */
static struct dma_range reserved_overlap(const struct dma_limits *lim, uint64_t start,
					 uint64_t last)
{
	uint64_t gap_start = 0;

	for (int i = 0; i <= lim->nranges; i++) {
		bool end = i == lim->nranges;
		uint64_t gap_last = end ? UINT64_MAX : lim->ranges[i].start - 1;

		if ((end || lim->ranges[i].start > gap_start) && gap_start <= last &&
		    gap_last >= start)
			return (struct dma_range){ gap_start, gap_last };
		if (end || lim->ranges[i].last == UINT64_MAX)
			break;
		gap_start = lim->ranges[i].last + 1;
	}
	return (struct dma_range){ start, last };
}

int dma_maps_build(const struct guest_mem *mem, const struct dma_limits *lim,
		   struct dma_map *maps)
{
	uint64_t min = smallest_page(lim->pgsizes);

	for (int i = 0; i < mem->nr; i++) {
		const struct mem_region *r = &mem->r[i];
		struct dma_range rsv;

		if ((r->gpa | r->size | (uintptr_t)r->host) & (min - 1))
			return err_set("guest RAM at %#llx (+%#llx) is not aligned to the IOMMU's "
				       "%llu-byte pages: give memory in whole MiB",
				       (unsigned long long)r->gpa, (unsigned long long)r->size,
				       (unsigned long long)min);
		if (!inside_ranges(lim, r->gpa, r->size)) {
			rsv = reserved_overlap(lim, r->gpa, r->gpa + r->size - 1);
			return err_set("guest RAM %#llx-%#llx meets IOVA %#llx-%#llx, which the "
				       "host's IOMMU reserves: a device could not reach it; give "
				       "the VM less memory (or another physical range)",
				       (unsigned long long)r->gpa,
				       (unsigned long long)(r->gpa + r->size - 1),
				       (unsigned long long)rsv.start, (unsigned long long)rsv.last);
		}
		maps[i] = (struct dma_map){
			.iova = r->gpa,
			.size = r->size,
			.host = r->host,
			.page = largest_page(lim->pgsizes, r->gpa, (uintptr_t)r->host, r->size),
		};
	}
	return mem->nr;
}
