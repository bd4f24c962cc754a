// SPDX-License-Identifier: GPL-2.0
/*
 * ACPI hardware-reduced sleep control, sleep status and reset registers.
 *
 * Sleep control: bits 2-4 SLP_TYP, bit 5 SLP_EN (write-only), the others
 * reserved; writing SLP_EN starts the transition to the sleep state SLP_TYP
 * names (the value of the DSDT's \_Sx package). Only S5 (soft off) is
 * offered, so any other sleep type is ignored. Reads return 0.
 * Sleep status: bit 7 WAK_STS is set by hardware when the system wakes and
 * cleared by writing 1. A VM that only powers off never wakes, so it reads 0
 * and writes are ignored.
 * Reset: an 8-bit write of the FADT's RESET_VALUE resets the system. Reads
 * return 0.
 *
 * There is no state that changes, hence no lock.
 */
#include <stdlib.h>

#include "devices/acpi_pm.h"
#include "lib/err.h"
#include "arch/x86/platform.h"

#define REG_SLEEP_CONTROL	(PORT_ACPI_SLEEP_CONTROL - PORT_ACPI_SLEEP_CONTROL)
#define REG_SLEEP_STATUS	(PORT_ACPI_SLEEP_STATUS - PORT_ACPI_SLEEP_CONTROL)
#define REG_RESET		(PORT_ACPI_RESET - PORT_ACPI_SLEEP_CONTROL)

struct acpi_pm {
	vm_event_fn event;
	void *event_ctx;
};

static void report(struct acpi_pm *pm, enum vm_event event)
{
	if (pm->event)
		pm->event(pm->event_ctx, event);
}

static void write_reg(struct acpi_pm *pm, unsigned int reg, uint8_t val)
{
	unsigned int slp_typ = (val & ACPI_SLP_TYP_MASK) >> ACPI_SLP_TYP_SHIFT;

	switch (reg) {
	case REG_SLEEP_CONTROL:
		if ((val & ACPI_SLP_EN) && slp_typ == ACPI_S5_SLP_TYP)
			report(pm, VM_EVENT_POWEROFF);
		break;
	case REG_RESET:
		if (val == ACPI_RESET_VALUE)
			report(pm, VM_EVENT_RESET);
		break;
	default:	/* sleep status: WAK_STS is never set */
		break;
	}
}

/* One-byte registers: a wider access touches consecutive registers. */
void acpi_pm_pio(void *dev, uint16_t offset, void *data, int size, bool is_write)
{
	uint8_t *bytes = data;

	for (int i = 0; i < size; i++) {
		unsigned int reg = offset + i;

		if (is_write && reg < ACPI_PM_PORTS)
			write_reg(dev, reg, bytes[i]);
		else if (!is_write)
			bytes[i] = reg < ACPI_PM_PORTS ? 0 : 0xFF;
	}
}

struct acpi_pm *acpi_pm_create(vm_event_fn event, void *event_ctx)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));

	if (!pm) {
		err_set("out of memory for the ACPI power registers: free some host memory");
		return NULL;
	}
	pm->event = event;
	pm->event_ctx = event_ctx;
	return pm;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	free(pm);
}
