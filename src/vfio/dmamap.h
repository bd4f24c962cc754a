/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VFIO_DMAMAP_H
#define SLICEVM_VFIO_DMAMAP_H

#include <stdint.h>

#include "mem/region.h"

/*
 * The DMA map builder: which IOMMU mappings give a passed-through device
 * the guest's RAM. A device programmed by the guest's driver uses guest-
 * physical addresses, so each RAM region is mapped at IOVA == guest-
 * physical. With the identity layout (a critical VM) guest-physical is
 * host-physical too, so the IOMMU's tables map every address to itself:
 * trivial, yet the device still reaches nothing but the VM's own memory.
 *
 * One map per region: the kernel's type1 IOMMU driver then uses the
 * largest page its IOMMU takes wherever the host pages are contiguous and
 * aligned (2M or 1G for hugetlb and device-dax backings). Pure: no kernel.
 */

#define DMA_RANGES_MAX	16

/* A stretch of IOVA space the IOMMU can map, [start, last] (VFIO's form). */
struct dma_range {
	uint64_t start, last;
};

/* What the IOMMU takes: its valid IOVA ranges (none: all) and page sizes. */
struct dma_limits {
	int nranges;
	struct dma_range ranges[DMA_RANGES_MAX];
	uint64_t pgsizes;	/* a bit per supported page size */
};

struct dma_map {
	uint64_t iova, size;
	void *host;
	uint64_t page;	/* the largest IOMMU page the map can use */
};

/*
 * Fills @maps (room for MEM_REGIONS_MAX) from the regions of @mem; returns
 * how many, or -1 (err_set()) when a region lies outside the IOMMU's valid
 * IOVA ranges (naming the range and the fix) or is not aligned to its
 * smallest page.
 */
int dma_maps_build(const struct guest_mem *mem, const struct dma_limits *lim,
		   struct dma_map *maps);

#endif
