// SPDX-License-Identifier: GPL-2.0
#include "boot/boot.h"
#include "lib/err.h"
#include "lib/size.h"
#include "arch/x86/platform.h"

static int e820_add(struct e820_entry *map, int n, int max,
		    uint64_t addr, uint64_t size, uint32_t type)
{
	if (n >= max)
		return err_set("the e820 map needs more than %d entries", max);
	map[n].addr = addr;
	map[n].size = size;
	map[n].type = type;
	return n + 1;
}

/*
 * In the region at 0: base memory up to the EBDA, the EBDA and the BIOS
 * area (where the ACPI tables are) reserved, the VGA hole 0xA0000-0xE0000
 * absent, then RAM from 1 MiB to its end. Every other region is RAM.
 */
int e820_build(const struct guest_mem *mem, struct e820_entry *map, int max)
{
	const struct mem_region *low = guest_mem_boot_region(mem);
	char buf[32];
	int n = 0;

	if (!low || low->size <= MEM_BIOS_END)
		return err_set("guest low memory of %s is too small: give --memory 64M or more",
			       size_format(low ? low->size : 0, buf, sizeof(buf)));
	n = e820_add(map, n, max, 0, MEM_EBDA_START, E820_RAM);
	if (n >= 0)
		n = e820_add(map, n, max, MEM_EBDA_START, 0xA0000 - MEM_EBDA_START,
			     E820_RESERVED);
	if (n >= 0)
		n = e820_add(map, n, max, MEM_BIOS_START, MEM_BIOS_END - MEM_BIOS_START,
			     E820_RESERVED);
	if (n >= 0)
		n = e820_add(map, n, max, MEM_BIOS_END, low->size - MEM_BIOS_END, E820_RAM);
	for (int i = 1; i < mem->nr && n >= 0; i++)
		n = e820_add(map, n, max, mem->r[i].gpa, mem->r[i].size, E820_RAM);
	return n;
}
