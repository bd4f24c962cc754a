// SPDX-License-Identifier: GPL-2.0
#include "boot/boot.h"
#include "vmm/platform.h"

/* [gpa, gpa + len) inside [start, start + size)? Written to avoid overflow. */
static int range_in(uint64_t gpa, uint64_t len, uint64_t start, uint64_t size)
{
	if (gpa < start)
		return 0;
	gpa -= start;
	return gpa <= size && len <= size - gpa;
}

void *guest_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	if (mem->low && range_in(gpa, len, 0, mem->low_size))
		return mem->low + gpa;
	if (mem->high && range_in(gpa, len, MEM_HIGH_START, mem->high_size))
		return mem->high + (gpa - MEM_HIGH_START);
	return NULL;
}
