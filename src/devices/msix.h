/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_DEVICES_MSIX_H
#define SLICEVM_DEVICES_MSIX_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/iodev.h"
#include "devices/pci.h"

/*
 * The MSI-X capability and table of a PCI function (PCI 3.0, 6.8.2), for
 * emulated devices (virtio-pci) and, later, passed-through ones. Each
 * vector is one msi_ops route whose eventfd the device's thread writes to
 * interrupt the guest; the table here only points routes at the guest's
 * messages and masks them. A vector is masked at reset, and while MSI-X is
 * disabled or the function is masked.
 *
 * The pending bit array reads as zeros: signals raised while masked are
 * held in the route's eventfd and delivered on unmask, which is what the
 * guest sees of them. Entries are accessed as aligned dwords or qwords;
 * other accesses, also those straddling into the table, read all ones and
 * are dropped, as the spec allows.
 *
 * Locking: msix_bar_access() and msix_config_written() run under the PCI
 * bus lock (from the device's bar_access and config_written hooks);
 * msix_vector_fd() is constant after msix_init().
 */

#define MSIX_ENTRY_SIZE		16
#define MSIX_NO_VECTOR		0xFFFF	/* virtio's "no vector" */
#define MSIX_MAX_VECTORS	2048
#define MSIX_CAP_SIZE		12

struct msix_vector {
	uint32_t addr_lo, addr_hi, data, ctrl;
	int route;		/* msi_ops handle */
	int fd;			/* the route's eventfd */
	bool applied;		/* what route_set last got, to skip repeats */
	bool applied_masked;
	uint64_t applied_addr;
	uint32_t applied_data;
};

struct msix {
	struct pci_device *pdev;
	unsigned int cap;		/* the capability's offset in config space */
	int bar, pba_bar;		/* the BARs of the table and of the PBA */
	uint32_t table_offset, pba_offset;
	unsigned int nvec;
	struct msix_vector *v;
	const struct msi_ops *ops;
};

/*
 * Adds the capability to @pdev (whose BAR @bar must hold the table at
 * @table_offset and the PBA at @pba_offset, both 8-byte aligned) and makes
 * a route for each of @nvec vectors. -1 (err_set()) on failure; call
 * msix_destroy() either way.
 */
int msix_init(struct msix *m, struct pci_device *pdev, unsigned int nvec, int bar,
	      uint32_t table_offset, uint32_t pba_offset, const struct msi_ops *ops);
void msix_destroy(struct msix *m);

/*
 * Moves the PBA to BAR @bar at @offset (8-byte aligned): a passed-through
 * function's own layout, which may keep it apart from the table.
 */
void msix_set_pba(struct msix *m, int bar, uint32_t offset);

/* An access to BAR @bar: true if it was to the table or the PBA (handled). */
bool msix_bar_access(struct msix *m, int bar, uint64_t offset, void *data, int size,
		     bool is_write);

/* The guest wrote config space: follow the enable and function-mask bits. */
void msix_config_written(struct msix *m);

/* The eventfd that raises vector @vec, or -1 for MSIX_NO_VECTOR or one out of range. */
int msix_vector_fd(const struct msix *m, unsigned int vec);

#endif
