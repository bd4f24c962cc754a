/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VFIO_DEVICE_H
#define SLICEVM_VFIO_DEVICE_H

#include "vfio/container.h"
#include "vfio/passthrough.h"

/*
 * A PCI function opened through VFIO: its description (config space, BARs
 * with their mmappable areas mapped, MSI-X vectors) for passthrough.h, and
 * the struct vfio_hw that reaches it. The function is reset when opened
 * (a clean device, whatever the previous user left) and when closed (no
 * DMA continues once the VM is gone).
 */
struct vfio_device {
	int fd;
	int group;
	bool can_reset;
	struct vfio_dev_info info;
	uint64_t region_off[PCI_BARS + 1];	/* BARs, then config space */
	uint64_t region_size[PCI_BARS + 1];
	struct vfio_hw hw;
};

/* Opens @addr of IOMMU group @group, adding the group to @c. NULL (err_set()) on failure. */
struct vfio_device *vfio_device_open(struct vfio_container *c, int group, const char *addr);

void vfio_device_close(struct vfio_device *d);

#endif
