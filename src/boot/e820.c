// SPDX-License-Identifier: GPL-2.0
#include "boot/boot.h"
#include "lib/err.h"
#include "lib/size.h"
#include "vmm/platform.h"

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
 * Base memory up to the EBDA, the EBDA and the BIOS area (where the ACPI
 * tables are) reserved, the VGA hole 0xA0000-0xE0000 absent, then RAM from
 * 1 MiB to the end of low memory and from 4 GiB on.
 */
int e820_build(const struct guest_mem *mem, struct e820_entry *map, int max)
{
	char buf[32];
	int n = 0;

	if (mem->low_size <= MEM_BIOS_END)
		return err_set("guest low memory of %s is too small: give --memory 64M or more",
			       size_format(mem->low_size, buf, sizeof(buf)));
	if (mem->low_size > MEM_32BIT_GAP_START)
		return err_set("guest low memory of %s runs into the PCI hole at 3G: put the rest above 4G",
			       size_format(mem->low_size, buf, sizeof(buf)));

	n = e820_add(map, n, max, 0, MEM_EBDA_START, E820_RAM);
	if (n >= 0)
		n = e820_add(map, n, max, MEM_EBDA_START, 0xA0000 - MEM_EBDA_START,
			     E820_RESERVED);
	if (n >= 0)
		n = e820_add(map, n, max, MEM_BIOS_START, MEM_BIOS_END - MEM_BIOS_START,
			     E820_RESERVED);
	if (n >= 0)
		n = e820_add(map, n, max, MEM_BIOS_END, mem->low_size - MEM_BIOS_END,
			     E820_RAM);
	if (n >= 0 && mem->high_size)
		n = e820_add(map, n, max, MEM_HIGH_START, mem->high_size, E820_RAM);
	return n;
}
