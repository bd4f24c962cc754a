/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VFIO_PASSTHROUGH_H
#define SLICEVM_VFIO_PASSTHROUGH_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/iodev.h"
#include "devices/msi.h"
#include "devices/msix.h"
#include "devices/pci.h"

/*
 * A host PCI function passed through to the guest: the guest's driver
 * talks to the real device, which does DMA into guest RAM through the
 * IOMMU (container.h) and interrupts through MSI-X vectors whose eventfds
 * are KVM irqfds (no exit, no VMM on the way).
 *
 * What the guest sees of it (the function's config space is virtual,
 * built from the real one):
 *   - the real ids, class and revision, one function (no multi-function
 *     bit), and its interrupt pin: INTx is a level-triggered IOAPIC line
 *     (pci_intx_gsi(), the DSDT's _PRT) through a resampling irqfd, until
 *     the guest's driver enables MSI-X (then the real INTx is off);
 *   - its memory BARs at the sizes and kinds the device has, placed like
 *     any device's: 32-bit ones in the guest's window below 4 GiB, 64-bit
 *     ones in the 64-bit window above RAM (PCI_MMIO64_SIZE, so a GPU's
 *     large BAR fits); I/O BARs and the expansion ROM hidden;
 *   - the capabilities MSI-X (the real table size and layout, emulated:
 *     msix.h), MSI (up to the real vector count, emulated: msi.h) and PCI
 *     Express (read-only, shown as a root-complex integrated endpoint
 *     with FLR hidden: the VMM resets the device); the others (power
 *     management, vendor-specific, extended config space) are hidden.
 *     One kind of interrupt runs at a time, as on real hardware: INTx
 *     goes off while MSI or MSI-X is on, and whichever of those the guest
 *     enables second stays off (its vectors get no interrupt).
 *
 * BARs: where the kernel lets the VMM mmap a BAR, the mapping becomes a KVM
 * memory slot at the BAR's guest address, so the guest's MMIO runs at
 * native speed with no exit; the pages holding the MSI-X table and PBA, and
 * whatever cannot be mmapped, stay trapped and are emulated or forwarded.
 * The slots follow the guest moving a BAR or turning memory decoding off.
 *
 * The command register's memory-space, bus-master and INTx-disable bits
 * reach the real device (the guest's driver enables DMA); a function
 * without INTx keeps INTx disabled.
 *
 * The kernel side (VFIO) is behind struct vfio_hw, so unit tests drive the
 * config space, BAR and MSI-X logic with a fake device.
 */

#define VFIO_AREAS_MAX		4
#define PT_SLOTS_PER_DEVICE	(PCI_BARS * 3)	/* a BAR split around the MSI-X pages */

/* A BAR as the kernel describes it. */
struct vfio_bar_info {
	uint64_t size;		/* 0: none (or the upper half of a 64-bit BAR) */
	bool io, mem64, prefetch;
	int nareas;		/* the stretches that may be mmapped */
	struct {
		uint64_t off, size;
	} areas[VFIO_AREAS_MAX];
	uint8_t *map;		/* the BAR mmapped (area offsets apply), or NULL */
};

/* The real function: what VFIO reported when it was opened. */
struct vfio_dev_info {
	char addr[16];			/* "0000:03:00.0" */
	uint8_t config[PCI_CONFIG_SIZE];
	struct vfio_bar_info bar[PCI_BARS];
	unsigned int msix_irqs;		/* MSI-X vectors VFIO can enable */
	unsigned int msi_irqs;		/* MSI vectors VFIO can enable */
	bool intx;			/* VFIO can signal its INTx */
};

/* How the device model reaches the kernel (device.c, or a test's fake). */
struct vfio_hw {
	/* config space (@region -1) or BAR @region: @size bytes at @off */
	int (*rw)(void *ctx, int region, uint64_t off, void *data, int size, bool is_write);
	/* the real MSI-X vectors: enabled, each signalling fds[i]; @n 0 disables */
	int (*set_msix)(void *ctx, const int *fds, unsigned int n);
	/* the real MSI vectors, likewise */
	int (*set_msi)(void *ctx, const int *fds, unsigned int n);
	/* the real INTx: signals @fd, unmasked when @unmask_fd is; @fd -1 disables */
	int (*set_intx)(void *ctx, int fd, int unmask_fd);
	void *ctx;
};

#define VFIO_REGION_CONFIG	(-1)

/* KVM memory slots for BARs: @size 0 removes slot @slot. */
struct memslot_ops {
	int (*set)(void *ctx, int slot, uint64_t gpa, uint64_t size, void *host);
	void *ctx;
};

struct passthrough;

/*
 * The guest's view of @info (copied): config space, BARs, MSI-X with
 * routes from @msi, INTx through @intx (NULL: no INTx). Slots @slot_base .. + PT_SLOTS_PER_DEVICE - 1 are its
 * own. A failure once the guest runs (KVM or VFIO refusing a slot or the
 * vectors) goes to @on_error, which ends the VM. NULL (err_set()) when the
 * device cannot be shown to a guest (a BAR too large, a broken capability
 * list, ...).
 */
struct passthrough *passthrough_create(const struct vfio_dev_info *info,
				       const struct vfio_hw *hw, const struct msi_ops *msi,
				       const struct intx_ops *intx,
				       const struct memslot_ops *slots, int slot_base,
				       void (*on_error)(void *ctx, const char *msg),
				       void *err_ctx);

/* Puts the function on @bus (BARs placed, slots made, INTx wired). */
int passthrough_attach(struct passthrough *pt, struct pci_bus *bus);

struct pci_device *passthrough_pci(struct passthrough *pt);

/* BAR bytes the guest reaches without exits (in slots). */
uint64_t passthrough_mapped_bytes(const struct passthrough *pt);

/* Disables the vectors and removes the slots. Not the device itself. */
void passthrough_destroy(struct passthrough *pt);

#endif
