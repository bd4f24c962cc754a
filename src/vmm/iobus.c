// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "lib/err.h"
#include "vmm/iobus.h"

int iobus_register(struct iobus *bus, uint16_t base, uint16_t len, pio_fn fn,
		   void *dev, const char *name)
{
	uint32_t end = (uint32_t)base + len;

	if (bus->nranges == IOBUS_MAX_RANGES)
		return err_set("too many I/O port ranges (registering %s)", name);
	for (int i = 0; i < bus->nranges; i++) {
		const struct io_range *r = &bus->ranges[i];

		if (base < r->base + r->len && r->base < end)
			return err_set("I/O ports of %s overlap %s", name, r->name);
	}
	bus->ranges[bus->nranges++] = (struct io_range){
		.base = base, .len = len, .fn = fn, .dev = dev, .name = name,
	};
	return 0;
}

bool iobus_access(const struct iobus *bus, uint16_t port, void *data, int size,
		  bool is_write)
{
	for (int i = 0; i < bus->nranges; i++) {
		const struct io_range *r = &bus->ranges[i];

		if (port >= r->base && port < r->base + r->len) {
			r->fn(r->dev, port - r->base, data, size, is_write);
			return true;
		}
	}
	if (!is_write)
		memset(data, 0xFF, size);
	return false;
}
