/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_DEVICES_ACPI_PM_H
#define SLICEVM_DEVICES_ACPI_PM_H

#include <stdint.h>

#include "devices/iodev.h"

/*
 * The ACPI hardware-reduced power registers the FADT points at (one byte
 * each, see platform.h): sleep control, sleep status and reset.
 *
 * Wiring, for the VMM: register acpi_pm_pio for ACPI_PM_PORTS ports at
 * PORT_ACPI_SLEEP_CONTROL (control at offset 0, status at 1, reset at 2).
 * @event(@event_ctx, ...) is called with VM_EVENT_POWEROFF when the guest
 * enters S5 and VM_EVENT_RESET when it writes ACPI_RESET_VALUE to the reset
 * register.
 */

#define ACPI_PM_PORTS	3

/* Sleep control register fields (ACPI 6.x, "Sleep Control Register"). */
#define ACPI_SLP_TYP_SHIFT	2
#define ACPI_SLP_TYP_MASK	0x1C
#define ACPI_SLP_EN		0x20
/* Sleep status register: wake status, write 1 to clear. */
#define ACPI_WAK_STS		0x80

struct acpi_pm;

/* Returns NULL (with err_set()) when out of memory. */
struct acpi_pm *acpi_pm_create(vm_event_fn event, void *event_ctx);
void acpi_pm_destroy(struct acpi_pm *pm);

void acpi_pm_pio(void *dev, uint16_t offset, void *data, int size, bool is_write);

#endif
