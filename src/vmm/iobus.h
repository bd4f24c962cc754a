/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_IOBUS_H
#define SLICEVM_VMM_IOBUS_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/iodev.h"

/*
 * Port I/O dispatch: which device answers a port. Registered once before
 * the vCPUs start and read-only afterwards, so lookups need no lock.
 */
#define IOBUS_MAX_RANGES 32

struct io_range {
	uint16_t base;
	uint16_t len;
	pio_fn fn;
	void *dev;
	const char *name;
};

struct iobus {
	int nranges;
	struct io_range ranges[IOBUS_MAX_RANGES];
};

int iobus_register(struct iobus *bus, uint16_t base, uint16_t len, pio_fn fn,
		   void *dev, const char *name);

/*
 * Performs one access. Reads of ports nobody claims return all ones, as an
 * empty ISA bus does; writes to them are dropped. Returns false for those.
 */
bool iobus_access(const struct iobus *bus, uint16_t port, void *data, int size,
		  bool is_write);

#endif
