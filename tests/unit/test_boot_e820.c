// SPDX-License-Identifier: GPL-2.0
/* e820_build() for several guest sizes, and guest_ptr() bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot/boot.h"
#include "lib/err.h"
#include "arch/x86/platform.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static void assert_entry(const struct e820_entry *e, uint64_t addr, uint64_t size,
			 uint32_t type)
{
	assert_int_equal(e->addr, addr);
	assert_int_equal(e->size, size);
	assert_int_equal(e->type, type);
}

/* The first three entries are the same for every guest. */
static void assert_base(const struct e820_entry *map)
{
	assert_entry(&map[0], 0, 0x9FC00, E820_RAM);
	assert_entry(&map[1], 0x9FC00, 0x400, E820_RESERVED);
	assert_entry(&map[2], 0xE0000, 0x20000, E820_RESERVED);
}

/* Entries are sorted and never overlap (Linux sanitizes anyway, but say it right). */
static void assert_sorted(const struct e820_entry *map, int n)
{
	int i;

	for (i = 1; i < n; i++)
		assert_true(map[i - 1].addr + map[i - 1].size <= map[i].addr);
}

static void test_small(void **state)
{
	struct guest_mem mem = { .nr = 1, .r = { { .size = 64 * MiB } } };
	struct e820_entry map[16];
	int n = e820_build(&mem, map, 16);

	assert_int_equal(n, 4);
	assert_base(map);
	assert_entry(&map[3], MiB, 63 * MiB, E820_RAM);
	assert_sorted(map, n);
}

static void test_3g(void **state)
{
	struct guest_mem mem = { .nr = 1, .r = { { .size = 3 * GiB } } };
	struct e820_entry map[16];
	int n = e820_build(&mem, map, 16);

	assert_int_equal(n, 4);
	assert_base(map);
	assert_entry(&map[3], MiB, 3 * GiB - MiB, E820_RAM);
	assert_sorted(map, n);
}

static void test_3_5g(void **state)
{
	struct e820_entry map[16];
	struct guest_mem mem;
	int n;

	assert_int_equal(mem_layout_split(&mem, NULL, 3 * GiB + GiB / 2, MEM_HPA_UNKNOWN), 0);
	n = e820_build(&mem, map, 16);

	assert_int_equal(n, 5);
	assert_base(map);
	assert_entry(&map[3], MiB, 3 * GiB - MiB, E820_RAM);
	assert_entry(&map[4], 4 * GiB, GiB / 2, E820_RAM);
	assert_sorted(map, n);
}

static void test_refused(void **state)
{
	struct guest_mem mem = { .nr = 1, .r = { { .size = MiB } } };
	struct e820_entry map[16];

	assert_int_equal(e820_build(&mem, map, 16), -1);
	assert_non_null(strstr(err_msg(), "too small"));
	mem.nr = 0;
	assert_int_equal(e820_build(&mem, map, 16), -1);
	assert_non_null(strstr(err_msg(), "too small"));
	assert_int_equal(mem_layout_split(&mem, NULL, 64 * MiB, MEM_HPA_UNKNOWN), 0);
	assert_int_equal(e820_build(&mem, map, 4), 4);
	assert_int_equal(mem_layout_split(&mem, NULL, 3 * GiB + MiB, MEM_HPA_UNKNOWN), 0);
	assert_int_equal(e820_build(&mem, map, 4), -1);
	assert_non_null(strstr(err_msg(), "more than 4 entries"));
	assert_int_equal(e820_build(&mem, map, 5), 5);
}

/* A critical VM: a boot region at 0 and the reserved range at its own address. */
static void test_identity(void **state)
{
	struct e820_entry map[16];
	struct guest_mem mem;
	int n;

	assert_int_equal(mem_layout_identity(&mem, NULL, 96 * MiB, NULL, GiB, GiB / 4), 0);
	n = e820_build(&mem, map, 16);
	assert_int_equal(n, 5);
	assert_base(map);
	assert_entry(&map[3], MiB, 95 * MiB, E820_RAM);
	assert_entry(&map[4], GiB, GiB / 4, E820_RAM);
	assert_sorted(map, n);
	/* above 4G too */
	assert_int_equal(mem_layout_identity(&mem, NULL, 64 * MiB, NULL, 6 * GiB, 2 * GiB), 0);
	n = e820_build(&mem, map, 16);
	assert_int_equal(n, 5);
	assert_entry(&map[4], 6 * GiB, 2 * GiB, E820_RAM);
}

static void test_guest_ptr(void **state)
{
	static uint8_t low[0x10000], high[0x2000];
	struct guest_mem mem = { 0 };

	assert_int_equal(guest_mem_add(&mem, 0, sizeof(low), low, MEM_HPA_UNKNOWN, MEM_KIND_RAM), 0);
	assert_int_equal(guest_mem_add(&mem, 4 * GiB, sizeof(high), high, MEM_HPA_UNKNOWN,
				       MEM_KIND_RAM), 0);
	assert_ptr_equal(guest_ptr(&mem, 0, 1), low);
	assert_ptr_equal(guest_ptr(&mem, 0x100, 0x10), low + 0x100);
	assert_ptr_equal(guest_ptr(&mem, 0, sizeof(low)), low);
	assert_ptr_equal(guest_ptr(&mem, sizeof(low) - 1, 1), low + sizeof(low) - 1);
	assert_null(guest_ptr(&mem, sizeof(low) - 1, 2));
	assert_null(guest_ptr(&mem, sizeof(low), 1));
	assert_null(guest_ptr(&mem, 0x100, UINT64_MAX));
	assert_null(guest_ptr(&mem, UINT64_MAX, 2));
	assert_null(guest_ptr(&mem, 3 * GiB, 1));
	assert_ptr_equal(guest_ptr(&mem, 4 * GiB, 0x2000), high);
	assert_ptr_equal(guest_ptr(&mem, 4 * GiB + 0x1000, 0x1000), high + 0x1000);
	assert_null(guest_ptr(&mem, 4 * GiB + 0x1000, 0x1001));
	assert_null(guest_ptr(&mem, 4 * GiB - 1, 2));
	mem.nr = 1;
	assert_null(guest_ptr(&mem, 4 * GiB, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small),
		cmocka_unit_test(test_3g),
		cmocka_unit_test(test_3_5g),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_guest_ptr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
