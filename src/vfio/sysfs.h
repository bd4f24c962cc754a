/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VFIO_SYSFS_H
#define SLICEVM_VFIO_SYSFS_H

#include <stdbool.h>

/*
 * What /sys says about a device the VM is to be given, checked before
 * VFIO is asked (so each mistake gets its own line and fix):
 * the device exists, the host has an IOMMU and the device a group, the
 * device is on vfio-pci, and every other endpoint of its group belongs to
 * the same slice (the IOMMU cannot tell a group's devices apart). @sys is
 * "/sys", or a fake tree in tests.
 */

/* The IOMMU group of @addr, or -1 (err_set()). */
int vfio_sysfs_group(const char *sys, const char *addr);

/* A bridge (class 0x06xxxx), which stays with the host: never passed through. */
bool vfio_sysfs_is_bridge(const char *sys, const char *addr);

/*
 * The checks above for @addr of slice @slice, whose devices are
 * @devices[0..n). Returns its group, or -1 (err_set()).
 */
int vfio_sysfs_check(const char *sys, const char *addr, const char *slice,
		     const char (*devices)[16], int n);

#endif
