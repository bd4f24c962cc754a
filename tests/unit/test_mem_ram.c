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
#include <stdlib.h>

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

/* Too few hugepages: refused with the fix, nothing left mapped. */
static void test_hugetlb_refused(void **state)
{
	struct guest_ram ram;
	long free2m = 0;
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");

	if (f) {
		if (fscanf(f, "%ld", &free2m) != 1)
			free2m = 0;
		fclose(f);
	}
	if (free2m >= 64 * 512)
		skip();		/* a host with 64G of free hugepages: cannot be refused here */
	assert_int_equal(guest_ram_map(&ram, &(struct ram_spec){ .backing = RAM_HUGETLB,
			 .size = 64ULL << 30, .numa_node = -1 }), -1);
	assert_non_null(strstr(err_msg(), "needs 64 free 1G pages or 32768 2M pages on this host"));
	assert_non_null(strstr(err_msg(), "hugepages="));
	assert_int_equal(ram.nmaps, 0);
	assert_null(ram.map[0].host);
	assert_int_equal(guest_ram_map(&ram, &(struct ram_spec){ .backing = RAM_HUGETLB,
			 .size = (2ULL << 20) + 4096, .numa_node = -1 }), -1);
	assert_non_null(strstr(err_msg(), "not a multiple of 2M"));
}

static void test_reserved_spec_refused(void **state)
{
	struct guest_ram ram;

	assert_int_equal(guest_ram_map(&ram, &(struct ram_spec){ .backing = RAM_RESERVED,
			 .size = 256ULL << 20, .phys_start = 0x40001000, .numa_node = -1 }), -1);
	assert_non_null(strstr(err_msg(), "not 2M-aligned"));
	assert_int_equal(guest_ram_map(&ram, &(struct ram_spec){ .backing = RAM_RESERVED,
			 .size = 12345, .phys_start = 0x40000000, .numa_node = -1 }), -1);
	assert_non_null(strstr(err_msg(), "whole number of pages"));
}

/* Physical mappings are zeroed in parts, whatever the size and thread count. */
static void test_zero_physical(void **state)
{
	static const uint64_t sizes[] = { 4096, (2ULL << 20) + 8192, 9ULL << 20 };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (int threads = 1; threads <= 5; threads += 2) {
			struct guest_ram ram = { .nmaps = 2 };
			uint8_t *buf = malloc(sizes[s]), *other = malloc(4096);
			double secs;

			assert_non_null(buf);
			assert_non_null(other);
			memset(buf, 0xA5, sizes[s]);
			memset(other, 0x5A, 4096);
			ram.map[0] = (struct ram_mapping){ .host = buf, .size = sizes[s], .hpa = 1ULL << 30 };
			/* not physical: left alone */
			ram.map[1] = (struct ram_mapping){ .host = other, .size = 4096,
							   .hpa = MEM_HPA_UNKNOWN };
			assert_int_equal(guest_ram_zero_physical(&ram, threads, &secs), sizes[s]);
			for (uint64_t i = 0; i < sizes[s]; i++)
				if (buf[i])
					fail_msg("byte %llu of %llu not zeroed with %d threads",
						 (unsigned long long)i, (unsigned long long)sizes[s],
						 threads);
			assert_int_equal(other[4095], 0x5A);
			free(buf);
			free(other);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_ram_not_dumped),
		cmocka_unit_test(test_hugetlb_refused),
		cmocka_unit_test(test_reserved_spec_refused),
		cmocka_unit_test(test_zero_physical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
