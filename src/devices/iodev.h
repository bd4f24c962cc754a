/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_DEVICES_IODEV_H
#define SLICEVM_DEVICES_IODEV_H

#include <stdbool.h>
#include <stdint.h>

/*
 * What every emulated device sees of the VMM. Devices are plain C objects
 * with no KVM knowledge, so unit tests drive them directly.
 */

/* Drives an interrupt line (an ISA IRQ / IOAPIC pin) to @level. */
typedef void (*irq_line_fn)(void *ctx, int irq, int level);

/* Ends the VM: the device saw a guest power-off or reset request. */
enum vm_event {
	VM_EVENT_POWEROFF,
	VM_EVENT_RESET,
};
typedef void (*vm_event_fn)(void *ctx, enum vm_event event);

/*
 * A port I/O handler. @offset is relative to the registered base, @size is
 * 1, 2 or 4, and @data is the value read (filled by the handler) or written.
 * Called from vCPU threads, concurrently: a device locks its own state.
 */
typedef void (*pio_fn)(void *dev, uint16_t offset, void *data, int size,
		       bool is_write);

/*
 * Message-signalled interrupts, for devices with MSI-X (devices/msix.h).
 * The VMM backs each route with a KVM GSI route and an irqfd, so a device
 * thread raises an interrupt by writing an eventfd: no exit, no ioctl.
 * Both calls are thread-safe.
 */
struct msi_ops {
	/* A new route; stores in @fd the eventfd that raises it. Returns a handle >= 0, or -1. */
	int (*route_add)(void *ctx, int *fd);
	/*
	 * Points route @handle at the message @addr/@data. While @masked, the
	 * eventfd's signals are held in it (pending) and delivered on unmask.
	 */
	int (*route_set)(void *ctx, int handle, uint64_t addr, uint32_t data, bool masked);
	void *ctx;
};

/*
 * Doorbells: a guest write to [@addr, +@len) of MMIO signals eventfd @fd
 * inside KVM (an ioeventfd), without an exit to the VMM. @len 0 matches a
 * write of any size. Thread-safe.
 */
struct doorbell_ops {
	int (*set)(void *ctx, uint64_t addr, unsigned int len, int fd, bool assign);
	void *ctx;
};

/*
 * Level-triggered lines for passed-through INTx: eventfd @fd raises GSI
 * @gsi (an IOAPIC pin) inside KVM (an irqfd), and KVM signals @resample_fd
 * when the guest ends the interrupt (its EOI), so the source can unmask
 * and raise it again if still pending. Thread-safe.
 */
struct intx_ops {
	int (*set)(void *ctx, int gsi, int fd, int resample_fd, bool assign);
	void *ctx;
};

#endif
