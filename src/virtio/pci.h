/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VIRTIO_PCI_H
#define SLICEVM_VIRTIO_PCI_H

#include "devices/iodev.h"
#include "devices/pci.h"
#include "mem/region.h"
#include "virtio/virtio.h"

/*
 * The virtio-pci transport, modern only (virtio 1.2, 4.1): one PCI
 * function per device with one 32-bit memory BAR holding the common,
 * ISR, device-specific and notification structures and the MSI-X table.
 *
 *   BAR 0 offset  0x0000  common configuration (4.1.4.3)
 *                 0x1000  ISR status
 *                 0x2000  device-specific configuration
 *                 0x3000  notifications: queue i at 0x3000 + 4 * i
 *                 0x4000  MSI-X table (vector 0: configuration changes,
 *                         vector 1 + i: suggested for queue i)
 *                 0x6000  MSI-X pending bits
 *
 * A queue notification is a doorbell (ioeventfd): the driver's write
 * signals the queue's kick eventfd inside KVM, and the device's thread
 * wakes; a write that still reaches the VMM (doorbells not armed yet)
 * signals the same eventfd. Interrupts are MSI-X routes (irqfds): the
 * device thread writes the vector's eventfd.
 *
 * The PCI_CFG capability gives the same BAR through config space, for
 * drivers that cannot map it.
 *
 * Not offered: the legacy interface, INTx (the function has no interrupt
 * pin: drivers need MSI-X), packed queues, notification data, queue reset.
 */

struct virtio_pci;

/*
 * A transport for the device @desc describes (which must outlive it),
 * on guest memory @mem. NULL (err_set()) on failure.
 */
struct virtio_pci *virtio_pci_create(const struct virtio_device_desc *desc,
				     const struct guest_mem *mem, const struct msi_ops *msi,
				     const struct doorbell_ops *doorbells);

/* Puts the function on @bus (its BAR placed) and arms its doorbells. */
int virtio_pci_attach(struct virtio_pci *vp, struct pci_bus *bus);

/* The PCI function, e.g. for tests that drive it through config space. */
struct pci_device *virtio_pci_device(struct virtio_pci *vp);

/* Resets the device if the driver started it, disarms doorbells, frees. */
void virtio_pci_destroy(struct virtio_pci *vp);

#endif
