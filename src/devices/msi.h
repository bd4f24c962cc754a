/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_DEVICES_MSI_H
#define SLICEVM_DEVICES_MSI_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/iodev.h"
#include "devices/pci.h"

/*
 * The MSI capability of a PCI function (PCI 3.0, 6.8.1), emulated: 64-bit
 * addresses and per-vector masking, up to 32 vectors (a power of two).
 * As with MSI-X (msix.h), each vector is one msi_ops route whose eventfd
 * raises it; the capability only points the routes at the guest's message
 * (vector i sends the data with its low bits replaced by i) and masks
 * them. A vector is masked while MSI is disabled, while the guest masks
 * it, and when it lies beyond the count the guest enabled. The pending
 * bits read zero: a masked vector's signals wait in its eventfd.
 *
 * Locking: msi_config_written() runs under the PCI bus lock (the device's
 * config_written hook); the fds are constant after msi_init().
 */

#define MSI_MAX_VECTORS		32
#define MSI_CAP_SIZE		24	/* with 64-bit addresses and mask bits */

struct msi {
	struct pci_device *pdev;
	unsigned int cap;		/* the capability's offset in config space */
	unsigned int nvec;		/* vectors the function is capable of */
	int route[MSI_MAX_VECTORS];
	int fd[MSI_MAX_VECTORS];
	bool applied[MSI_MAX_VECTORS];	/* what route_set last got, to skip repeats */
	bool applied_masked[MSI_MAX_VECTORS];
	uint64_t applied_addr[MSI_MAX_VECTORS];
	uint32_t applied_data[MSI_MAX_VECTORS];
	const struct msi_ops *ops;
};

/*
 * Adds the capability to @pdev, capable of @nvec vectors (1, 2, 4 ... 32),
 * with a route each. -1 (err_set()) on failure.
 */
int msi_init(struct msi *m, struct pci_device *pdev, unsigned int nvec,
	     const struct msi_ops *ops);

/* The guest wrote config space: follow enable, count, message and masks. */
void msi_config_written(struct msi *m);

/* Vectors the guest enabled (0: MSI is off). */
unsigned int msi_enabled(const struct msi *m);

/* The eventfds of vectors 0 .. nvec - 1. */
const int *msi_fds(const struct msi *m);

#endif
