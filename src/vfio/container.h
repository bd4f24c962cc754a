/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VFIO_CONTAINER_H
#define SLICEVM_VFIO_CONTAINER_H

#include <stdint.h>

#include "mem/region.h"
#include "vfio/dmamap.h"

/*
 * A VFIO container with the type1 (v2) IOMMU: the IOMMU context that the
 * VM's passed-through devices share, and their groups. Guest RAM is mapped
 * into it once, at IOVA == guest-physical (dmamap.h), before any device can
 * start DMA. Closing the container (its last fd) unmaps everything and
 * unpins the memory.
 *
 * iommufd (/dev/iommu) would do the same through another interface; the
 * type1 container works on every kernel that has VFIO (with iommufd built
 * it is served by iommufd's compatibility layer), so it is the one used.
 */

#define VFIO_GROUPS_MAX		16

struct vfio_container {
	int fd;
	int ngroups;
	int group_ids[VFIO_GROUPS_MAX];
	int group_fds[VFIO_GROUPS_MAX];
	struct dma_limits limits;	/* known once the first group is in */
	/* what vfio_container_map_ram() did, for `slicevm ls` and the log */
	int nmaps;
	uint64_t mapped;		/* bytes */
	uint64_t max_page;		/* the largest IOMMU page a map can use */
};

/*
 * Opens /dev/vfio/vfio (SLICEVM_VFIO_DIR overrides /dev/vfio, for tests)
 * and checks its API and type1 v2 support; the line names the module to
 * load when VFIO is missing. -1 (err_set()) on failure.
 */
int vfio_container_open(struct vfio_container *c);

/*
 * The fd of IOMMU group @group in the container, opening it and adding it
 * when new (the first group sets the IOMMU up). A group that is not viable
 * (a device of it still on a host driver) is refused, naming @addr's
 * group and the fix.
 */
int vfio_container_group(struct vfio_container *c, int group, const char *addr);

/* Maps @mem for DMA (dmamap.h). Call once, after the last group is in. */
int vfio_container_map_ram(struct vfio_container *c, const struct guest_mem *mem);

void vfio_container_close(struct vfio_container *c);

#endif
