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

#endif
