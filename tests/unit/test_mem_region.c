// SPDX-License-Identifier: GPL-2.0
/* Guest memory regions and their layouts (mem/region.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/platform.h"
#include "lib/err.h"
#include "mem/region.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static uint8_t *fake(uint64_t off)
{
	return (uint8_t *)(uintptr_t)(0x100000000000ULL + off);
}

static void assert_region(const struct mem_region *r, uint64_t gpa, uint64_t size,
			  uint64_t hpa, enum mem_kind kind)
{
	assert_int_equal(r->gpa, gpa);
	assert_int_equal(r->size, size);
	assert_int_equal(r->hpa, hpa);
	assert_int_equal(r->kind, kind);
}

static void test_split(void **state)
{
	struct guest_mem m;

	assert_int_equal(mem_layout_split(&m, fake(0), 512 * MiB, MEM_HPA_UNKNOWN), 0);
	assert_int_equal(m.nr, 1);
	assert_region(&m.r[0], 0, 512 * MiB, MEM_HPA_UNKNOWN, MEM_KIND_RAM);
	assert_ptr_equal(guest_mem_boot_region(&m), &m.r[0]);

	/* exactly up to the device window: one region */
	assert_int_equal(mem_layout_split(&m, fake(0), 3 * GiB, MEM_HPA_UNKNOWN), 0);
	assert_int_equal(m.nr, 1);

	/* the rest above 4G; a known physical start follows the split */
	assert_int_equal(mem_layout_split(&m, fake(0), 5 * GiB, 8 * GiB), 0);
	assert_int_equal(m.nr, 2);
	assert_region(&m.r[0], 0, 3 * GiB, 8 * GiB, MEM_KIND_RAM);
	assert_region(&m.r[1], 4 * GiB, 2 * GiB, 11 * GiB, MEM_KIND_RAM);
	assert_ptr_equal(m.r[1].host, fake(3 * GiB));
	assert_int_equal(guest_mem_total(&m), 5 * GiB);
	assert_int_equal(guest_mem_identity_bytes(&m), 0);
}

static void test_identity(void **state)
{
	struct guest_mem m;

	assert_int_equal(mem_layout_identity(&m, fake(0), 64 * MiB, fake(GiB), GiB, 512 * MiB), 0);
	assert_int_equal(m.nr, 2);
	assert_region(&m.r[0], 0, 64 * MiB, MEM_HPA_UNKNOWN, MEM_KIND_RAM);
	assert_region(&m.r[1], GiB, 512 * MiB, GiB, MEM_KIND_IDENTITY);
	assert_int_equal(guest_mem_identity_bytes(&m), 512 * MiB);
	assert_ptr_equal(guest_ptr(&m, GiB + 4096, 8), fake(GiB) + 4096);
	/* the gap between the boot region and the range is no RAM */
	assert_null(guest_ptr(&m, 64 * MiB, 1));
	assert_null(guest_ptr(&m, GiB - 1, 2));

	/* a range above 4G */
	assert_int_equal(mem_layout_identity(&m, fake(0), 64 * MiB, fake(GiB), 16 * GiB, 4 * GiB), 0);
	assert_region(&m.r[1], 16 * GiB, 4 * GiB, 16 * GiB, MEM_KIND_IDENTITY);
}

static void test_identity_refused(void **state)
{
	struct guest_mem m;

	/* the boot region would overlap the range */
	assert_int_equal(mem_layout_identity(&m, fake(0), 64 * MiB, fake(GiB), 32 * MiB, GiB), -1);
	assert_non_null(strstr(err_msg(), "starts inside the 64M the guest needs low in memory"));
	/* the range crosses the guest's device window at 3G */
	assert_int_equal(mem_layout_identity(&m, fake(0), 64 * MiB, fake(GiB), 2 * GiB + GiB / 2,
					     GiB), -1);
	assert_non_null(strstr(err_msg(), "reaches into the device window 3G-4G"));
	assert_int_equal(mem_layout_identity(&m, fake(0), 64 * MiB, fake(GiB),
					     MEM_32BIT_GAP_START, 4096), -1);
}

static void test_add_refused(void **state)
{
	struct guest_mem m = { 0 };

	assert_int_equal(guest_mem_add(&m, 0, 0, fake(0), MEM_HPA_UNKNOWN, MEM_KIND_RAM), -1);
	assert_int_equal(guest_mem_add(&m, 0, 4095, fake(0), MEM_HPA_UNKNOWN, MEM_KIND_RAM), -1);
	assert_int_equal(guest_mem_add(&m, 0x800, 4096, fake(0), MEM_HPA_UNKNOWN, MEM_KIND_RAM), -1);
	assert_int_equal(guest_mem_add(&m, UINT64_MAX - 4095, 8192, fake(0), MEM_HPA_UNKNOWN,
				       MEM_KIND_RAM), -1);
	assert_int_equal(guest_mem_add(&m, 0, MiB, fake(0), MEM_HPA_UNKNOWN, MEM_KIND_RAM), 0);
	/* out of order and overlapping */
	assert_int_equal(guest_mem_add(&m, MiB - 4096, MiB, fake(0), MEM_HPA_UNKNOWN,
				       MEM_KIND_RAM), -1);
	assert_non_null(strstr(err_msg(), "overlaps"));
	for (int i = 1; i < MEM_REGIONS_MAX; i++)
		assert_int_equal(guest_mem_add(&m, (uint64_t)i * 2 * MiB, MiB, fake(0),
					       MEM_HPA_UNKNOWN, MEM_KIND_RAM), 0);
	assert_int_equal(guest_mem_add(&m, 100 * MiB, MiB, fake(0), MEM_HPA_UNKNOWN,
				       MEM_KIND_RAM), -1);
	assert_non_null(strstr(err_msg(), "more than"));
	assert_int_equal(m.nr, MEM_REGIONS_MAX);
}

/* The 64-bit window sits above the RAM, whatever its layout. */
static void test_pci64_window(void **state)
{
	static uint8_t host[4096] __attribute__((aligned(4096)));
	struct guest_mem m = { .nr = 0 };
	uint64_t start, end;

	guest_mem_pci64_window(&m, &start, &end);
	assert_int_equal(start, PCI_MMIO64_SIZE);
	assert_int_equal(end - start, PCI_MMIO64_SIZE);
	/* RAM up to the window's first byte: the next one */
	assert_int_equal(guest_mem_add(&m, PCI_MMIO64_SIZE - 4096, 4096, host, MEM_HPA_UNKNOWN,
				       MEM_KIND_RAM), 0);
	guest_mem_pci64_window(&m, &start, &end);
	assert_int_equal(start, PCI_MMIO64_SIZE);
	/* an identity range above it */
	assert_int_equal(guest_mem_add(&m, PCI_MMIO64_SIZE + 0x40000000ULL, 4096, host,
				       PCI_MMIO64_SIZE + 0x40000000ULL, MEM_KIND_IDENTITY), 0);
	guest_mem_pci64_window(&m, &start, &end);
	assert_int_equal(start, 2 * PCI_MMIO64_SIZE);
	assert_true(start % PCI_MMIO64_SIZE == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pci64_window),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_identity_refused),
		cmocka_unit_test(test_add_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
