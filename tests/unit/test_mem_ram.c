// SPDX-License-Identifier: GPL-2.0
/* Guest RAM: what every backend's mapping promises (see vmm/memory.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/err.h"
#include "mem/ram.h"

/* The VmFlags line of the mapping that starts at @addr, from smaps. */
static char *vm_flags(void *addr, char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool inside = false;

	assert_non_null(f);
	buf[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;

		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			inside = start == (unsigned long)addr;
		else if (inside && !strncmp(line, "VmFlags:", 8)) {
			snprintf(buf, len, "%s", line + 8);
			break;
		}
	}
	fclose(f);
	return buf;
}

/* A crash of the VMM must not write a tenant's memory into a core dump. */
static void test_guest_ram_not_dumped(void **state)
{
	struct guest_ram ram;
	char flags[512];

	if (guest_ram_map(&ram, &(struct ram_spec){ .backing = RAM_ANON, .size = 64ULL << 20, .numa_node = -1 }))
		fail_msg("guest_ram_map: %s", err_msg());
	vm_flags(ram.map[0].host, flags, sizeof(flags));
	if (!strstr(flags, " dd"))
		fail_msg("guest RAM is dumped: VmFlags%s", flags);
	/* and it is not handed to a forked helper either */
	assert_non_null(strstr(flags, " dc"));
	guest_ram_unmap(&ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_ram_not_dumped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
