// SPDX-License-Identifier: GPL-2.0
/*
 * The DMA map builder (vfio/dmamap.h): which IOMMU mappings give a
 * passed-through device the guest's RAM, from the guest's regions and what
 * the host's IOMMU takes. Pure, so host pointers are made-up addresses
 * (never dereferenced) chosen for their alignment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/platform.h"
#include "lib/err.h"
#include "mem/region.h"
#include "vfio/dmamap.h"

#define K4	0x1000ULL
#define K64	0x10000ULL
#define M2	0x200000ULL
#define G1	0x40000000ULL

#define PGSIZES_X86	(K4 | M2 | G1)	/* what an Intel or AMD IOMMU reports */

/* A host address aligned to exactly @align (not to 2 * @align). */
static uint8_t *host_at(uint64_t align)
{
	return (uint8_t *)(uintptr_t)(0x7F0000000000ULL + align);
}

static struct dma_limits limits(uint64_t pgsizes)
{
	return (struct dma_limits){ .pgsizes = pgsizes };
}

static void one_region(struct guest_mem *m, uint64_t gpa, uint64_t size, uint8_t *host)
{
	memset(m, 0, sizeof(*m));
	m->r[0] = (struct mem_region){
		.gpa = gpa, .size = size, .host = host, .hpa = MEM_HPA_UNKNOWN,
	};
	m->nr = 1;
}

/* The page the one map of a region gets; fails the test if refused. */
static uint64_t page_of(uint64_t gpa, uint64_t size, uint8_t *host, uint64_t pgsizes)
{
	struct guest_mem m;
	struct dma_limits lim = limits(pgsizes);
	struct dma_map maps[MEM_REGIONS_MAX];

	one_region(&m, gpa, size, host);
	assert_int_equal(dma_maps_build(&m, &lim, maps), 1);
	return maps[0].page;
}

static void assert_msg_has(const char *needle)
{
	if (!strstr(err_msg(), needle))
		fail_msg("'%s' not in: %s", needle, err_msg());
}

/* ---- layouts ---- */

static void test_split_layout(void **state)
{
	struct guest_mem m;
	struct dma_limits lim = limits(PGSIZES_X86);
	struct dma_map maps[MEM_REGIONS_MAX];
	uint8_t *host = host_at(0);	/* 1G aligned and more */
	uint64_t size = 4 * G1;

	assert_int_equal(mem_layout_split(&m, host, size, MEM_HPA_UNKNOWN), 0);
	assert_int_equal(m.nr, 2);
	memset(maps, 0xA5, sizeof(maps));
	assert_int_equal(dma_maps_build(&m, &lim, maps), 2);

	/* below the 3G device window: IOVA == guest-physical, the VMM's pointer */
	assert_int_equal(maps[0].iova, 0);
	assert_int_equal(maps[0].size, MEM_32BIT_GAP_START);
	assert_ptr_equal(maps[0].host, host);
	assert_int_equal(maps[0].page, G1);
	/* the rest from 4G, the host pointer where the low part ends */
	assert_int_equal(maps[1].iova, MEM_HIGH_START);
	assert_int_equal(maps[1].size, size - MEM_32BIT_GAP_START);
	assert_ptr_equal(maps[1].host, host + MEM_32BIT_GAP_START);
	assert_int_equal(maps[1].page, G1);
}

static void test_split_layout_small(void **state)
{
	struct guest_mem m;
	struct dma_limits lim = limits(PGSIZES_X86);
	struct dma_map maps[MEM_REGIONS_MAX];

	/* RAM below 3G only: one map */
	assert_int_equal(mem_layout_split(&m, host_at(M2), 512 * 0x100000ULL,
					  MEM_HPA_UNKNOWN), 0);
	assert_int_equal(dma_maps_build(&m, &lim, maps), 1);
	assert_int_equal(maps[0].iova, 0);
	assert_int_equal(maps[0].size, 512 * 0x100000ULL);
	assert_ptr_equal(maps[0].host, host_at(M2));
	assert_int_equal(maps[0].page, M2);
}

static void test_identity_layout(void **state)
{
	struct guest_mem m;
	struct dma_limits lim = limits(PGSIZES_X86);
	struct dma_map maps[MEM_REGIONS_MAX];
	uint8_t *boot = host_at(M2);
	uint8_t *range = host_at(0);
	uint64_t hpa = 0x140000000ULL;	/* 5G: a reserved range from host apply */

	assert_int_equal(mem_layout_identity(&m, boot, 64 * 0x100000ULL, range, hpa, 2 * G1), 0);
	assert_int_equal(dma_maps_build(&m, &lim, maps), 2);
	/* the boot region at guest-physical 0 */
	assert_int_equal(maps[0].iova, 0);
	assert_int_equal(maps[0].size, 64 * 0x100000ULL);
	assert_ptr_equal(maps[0].host, boot);
	/* the range: IOVA == guest-physical == host-physical */
	assert_int_equal(maps[1].iova, m.r[1].gpa);
	assert_int_equal(maps[1].iova, m.r[1].hpa);
	assert_int_equal(maps[1].iova, hpa);
	assert_int_equal(maps[1].size, 2 * G1);
	assert_ptr_equal(maps[1].host, range);
	assert_int_equal(maps[1].page, G1);
}

static void test_no_regions(void **state)
{
	struct guest_mem m = { 0 };
	struct dma_limits lim = limits(PGSIZES_X86);
	struct dma_map maps[MEM_REGIONS_MAX];

	assert_int_equal(dma_maps_build(&m, &lim, maps), 0);
}

/* ---- the page a map can use ---- */

static void test_page_sizes(void **state)
{
	/* both 1G aligned, 1G or more: 1G pages */
	assert_int_equal(page_of(MEM_HIGH_START, G1, host_at(0), PGSIZES_X86), G1);
	assert_int_equal(page_of(MEM_HIGH_START, 3 * G1, host_at(0), PGSIZES_X86), G1);
	/* both 1G aligned but less than 1G: 2M */
	assert_int_equal(page_of(MEM_HIGH_START, G1 - M2, host_at(0), PGSIZES_X86), M2);
	/* host 2M but not 1G aligned: 2M whatever the size */
	assert_int_equal(page_of(MEM_HIGH_START, 2 * G1, host_at(M2), PGSIZES_X86), M2);
	/* host off by 4K from 2M: 4K only */
	assert_int_equal(page_of(MEM_HIGH_START, G1, host_at(M2 + K4), PGSIZES_X86), K4);
	/* guest-physical off by 4K, host 2M aligned: 4K */
	assert_int_equal(page_of(MEM_HIGH_START + K4, G1, host_at(M2), PGSIZES_X86), K4);
	/* what counts is the same offset within the page, not alignment */
	assert_int_equal(page_of(MEM_HIGH_START + K4, 4 * M2, host_at(M2 + K4), PGSIZES_X86),
			 M2);
	/* smaller than 2M: 4K */
	assert_int_equal(page_of(MEM_HIGH_START, M2 - K4, host_at(0), PGSIZES_X86), K4);
	/* exactly 2M */
	assert_int_equal(page_of(MEM_HIGH_START, M2, host_at(0), PGSIZES_X86), M2);
	/* an IOMMU that takes 4K only */
	assert_int_equal(page_of(MEM_HIGH_START, G1, host_at(0), K4), K4);
	/* one that does not say: 4K */
	assert_int_equal(page_of(MEM_HIGH_START, G1, host_at(0), 0), K4);
	/* 64K-page IOMMU with 512M pages (ARM): 512M where aligned */
	assert_int_equal(page_of(MEM_HIGH_START, G1, host_at(0), K64 | 0x20000000ULL),
			 0x20000000ULL);
	assert_int_equal(page_of(MEM_HIGH_START, G1, host_at(M2), K64 | 0x20000000ULL), K64);
}

static void test_pages_per_region(void **state)
{
	struct guest_mem m = { 0 };
	struct dma_limits lim = limits(PGSIZES_X86);
	struct dma_map maps[MEM_REGIONS_MAX];

	/* each region gets its own page, from its own alignment */
	assert_int_equal(guest_mem_add(&m, 0, 64 * M2, host_at(M2 + K4), MEM_HPA_UNKNOWN,
				       MEM_KIND_RAM), 0);
	assert_int_equal(guest_mem_add(&m, MEM_HIGH_START, 2 * G1, host_at(0), MEM_HPA_UNKNOWN,
				       MEM_KIND_RAM), 0);
	assert_int_equal(guest_mem_add(&m, MEM_HIGH_START + 3 * G1, 8 * M2, host_at(M2),
				       MEM_HPA_UNKNOWN, MEM_KIND_RAM), 0);
	assert_int_equal(dma_maps_build(&m, &lim, maps), 3);
	assert_int_equal(maps[0].page, K4);
	assert_int_equal(maps[1].page, G1);
	assert_int_equal(maps[2].page, M2);
	assert_int_equal(maps[2].iova, MEM_HIGH_START + 3 * G1);
	assert_ptr_equal(maps[2].host, host_at(M2));
}

/* ---- the IOMMU's valid ranges ---- */

/* Intel's: everything up to 48 bits but the MSI window 0xfee00000-0xfeefffff. */
static struct dma_limits intel_limits(void)
{
	struct dma_limits lim = limits(PGSIZES_X86);

	lim.nranges = 2;
	lim.ranges[0] = (struct dma_range){ 0, 0xFEDFFFFFULL };
	lim.ranges[1] = (struct dma_range){ 0xFEF00000ULL, (1ULL << 48) - 1 };
	return lim;
}

static void test_no_ranges_all_allowed(void **state)
{
	struct guest_mem m;
	struct dma_limits lim = limits(PGSIZES_X86);
	struct dma_map maps[MEM_REGIONS_MAX];

	/* right over the MSI window, and very high: no ranges reported, all fine */
	one_region(&m, 0xFE000000ULL, 0x2000000ULL, host_at(0));
	assert_int_equal(dma_maps_build(&m, &lim, maps), 1);
	one_region(&m, 1ULL << 50, G1, host_at(0));
	assert_int_equal(dma_maps_build(&m, &lim, maps), 1);
	assert_int_equal(maps[0].iova, 1ULL << 50);
}

static void test_inside_ranges(void **state)
{
	struct guest_mem m;
	struct dma_limits lim = intel_limits();
	struct dma_map maps[MEM_REGIONS_MAX];

	/* the usual layout is well inside */
	assert_int_equal(mem_layout_split(&m, host_at(0), 8 * G1, MEM_HPA_UNKNOWN), 0);
	assert_int_equal(dma_maps_build(&m, &lim, maps), 2);
	/* up to the last byte before the gap */
	one_region(&m, 0xFEC00000ULL, 0x200000ULL, host_at(0));
	assert_int_equal(dma_maps_build(&m, &lim, maps), 1);
	/* from the first byte after it */
	one_region(&m, 0xFEF00000ULL, 0x100000ULL, host_at(0));
	assert_int_equal(dma_maps_build(&m, &lim, maps), 1);
	/* up to the last byte of the last range */
	one_region(&m, (1ULL << 48) - G1, G1, host_at(0));
	assert_int_equal(dma_maps_build(&m, &lim, maps), 1);
}

static void test_reserved_gap(void **state)
{
	struct guest_mem m;
	struct dma_limits lim = intel_limits();
	struct dma_map maps[MEM_REGIONS_MAX];

	/* crossing 0xfee00000 */
	one_region(&m, 0xFE000000ULL, 0x2000000ULL, host_at(0));
	err_clear();
	assert_int_equal(dma_maps_build(&m, &lim, maps), -1);
	assert_msg_has("0xfee00000-0xfeefffff");
	assert_msg_has("0xfe000000-0xffffffff");
	/* one byte (page) into the gap */
	one_region(&m, 0xFEC00000ULL, 0x201000ULL, host_at(0));
	assert_int_equal(dma_maps_build(&m, &lim, maps), -1);
	assert_msg_has("0xfee00000-0xfeefffff");
	/* wholly inside the gap */
	one_region(&m, 0xFEE00000ULL, 0x100000ULL, host_at(0));
	assert_int_equal(dma_maps_build(&m, &lim, maps), -1);
	assert_msg_has("0xfee00000-0xfeefffff");
	/* a good region first, then a bad one: still refused */
	memset(&m, 0, sizeof(m));
	m.r[0] = (struct mem_region){ .gpa = 0, .size = G1, .host = host_at(0) };
	m.r[1] = (struct mem_region){ .gpa = 0xFED00000ULL, .size = 0x200000ULL,
				      .host = host_at(0) };
	m.nr = 2;
	assert_int_equal(dma_maps_build(&m, &lim, maps), -1);
	assert_msg_has("0xfee00000-0xfeefffff");
}

static void test_beyond_last_range(void **state)
{
	struct guest_mem m;
	struct dma_limits lim = intel_limits();
	struct dma_map maps[MEM_REGIONS_MAX];

	/* straddling the end of the 48-bit space */
	one_region(&m, (1ULL << 48) - G1, 2 * G1, host_at(0));
	assert_int_equal(dma_maps_build(&m, &lim, maps), -1);
	assert_msg_has("0x1000000000000-0xffffffffffffffff");
	/* wholly above it */
	one_region(&m, 1ULL << 49, G1, host_at(0));
	assert_int_equal(dma_maps_build(&m, &lim, maps), -1);
	assert_msg_has("0x1000000000000-0xffffffffffffffff");
	assert_msg_has("less memory");
}

static void test_below_first_range(void **state)
{
	struct guest_mem m;
	struct dma_limits lim = limits(PGSIZES_X86);
	struct dma_map maps[MEM_REGIONS_MAX];

	/* an IOMMU that reserves the first MiB */
	lim.nranges = 1;
	lim.ranges[0] = (struct dma_range){ 0x100000ULL, (1ULL << 39) - 1 };
	assert_int_equal(mem_layout_split(&m, host_at(0), G1, MEM_HPA_UNKNOWN), 0);
	assert_int_equal(dma_maps_build(&m, &lim, maps), -1);
	assert_msg_has("IOVA 0-0xfffff");
}

/* ---- alignment ---- */

static void test_misaligned(void **state)
{
	struct guest_mem m;
	struct dma_limits lim = limits(K64 | 0x20000000ULL);
	struct dma_map maps[MEM_REGIONS_MAX];

	/* aligned to 64K: fine */
	one_region(&m, MEM_HIGH_START + K64, 16 * K64, host_at(K64));
	assert_int_equal(dma_maps_build(&m, &lim, maps), 1);
	/* the guest-physical start, the size, the host pointer: each refused */
	one_region(&m, MEM_HIGH_START + K4, 16 * K64, host_at(K64));
	err_clear();
	assert_int_equal(dma_maps_build(&m, &lim, maps), -1);
	assert_msg_has("65536-byte pages");
	assert_msg_has("0x100001000");
	one_region(&m, MEM_HIGH_START, 16 * K64 + K4, host_at(K64));
	assert_int_equal(dma_maps_build(&m, &lim, maps), -1);
	assert_msg_has("65536-byte pages");
	one_region(&m, MEM_HIGH_START, 16 * K64, host_at(K64 + K4));
	assert_int_equal(dma_maps_build(&m, &lim, maps), -1);
	assert_msg_has("65536-byte pages");
	/* with 4K pages all three are fine */
	lim = limits(PGSIZES_X86);
	one_region(&m, MEM_HIGH_START + K4, 16 * K64 + K4, host_at(K64 + K4));
	assert_int_equal(dma_maps_build(&m, &lim, maps), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_layout),
		cmocka_unit_test(test_split_layout_small),
		cmocka_unit_test(test_identity_layout),
		cmocka_unit_test(test_no_regions),
		cmocka_unit_test(test_page_sizes),
		cmocka_unit_test(test_pages_per_region),
		cmocka_unit_test(test_no_ranges_all_allowed),
		cmocka_unit_test(test_inside_ranges),
		cmocka_unit_test(test_reserved_gap),
		cmocka_unit_test(test_beyond_last_range),
		cmocka_unit_test(test_below_first_range),
		cmocka_unit_test(test_misaligned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
