/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_DEVICES_I8042_H
#define SLICEVM_DEVICES_I8042_H

#include <stdint.h>

#include "devices/iodev.h"

/*
 * The few bits of the PS/2 (8042) keyboard controller a guest without a
 * keyboard still touches: Linux's "reboot=k" waits for the input buffer to
 * be empty and pulses the CPU reset line with command 0xFE. There is no
 * keyboard or mouse behind it, so it never interrupts.
 *
 * Wiring, for the VMM: register the two handlers on one port each,
 *   i8042_data_pio at PORT_I8042_DATA (1 port),
 *   i8042_cmd_pio  at PORT_I8042_CMD  (1 port),
 * both with the struct i8042 as dev. They are separate so that port 0x61
 * (system control port B, between them) stays with whoever emulates the PIT.
 * @event(@event_ctx, VM_EVENT_RESET) is called, without any lock held, when
 * the guest asks for a reset.
 */

struct i8042;

/* Returns NULL (with err_set()) when out of memory. */
struct i8042 *i8042_create(vm_event_fn event, void *event_ctx);
void i8042_destroy(struct i8042 *kbc);

void i8042_data_pio(void *dev, uint16_t offset, void *data, int size, bool is_write);
void i8042_cmd_pio(void *dev, uint16_t offset, void *data, int size, bool is_write);

#endif
