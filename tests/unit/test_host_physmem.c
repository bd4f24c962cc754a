// SPDX-License-Identifier: GPL-2.0
/*
 * Reserved slice ranges: /proc/iomem parsing, firmware RAM by node, and the
 * choice of a range on synthetic memory maps (holes, small nodes, no fit,
 * two slices, a machine with RAM below 4G only, the same choice after the
 * reboot that reserved it), and loading all of it from a fake tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "testutil.h"

#include "host/physmem.h"
#include "lib/err.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define BS  (128 * MiB)

/* A 2-node host: low RAM, RAM to 2G, a PCI hole, RAM from 4G to 34G. */
static const struct phys_range two_nodes_fw[] = {
	{ 0x0, 0x9fbff },
	{ 0x100000, 0x7fffffff },
	{ 0x100000000, 0x87fffffff },
};

/* Blocks of [start, end] (block aligned) on @node into @b. */
static int blocks_of(struct mem_block *b, int n, uint64_t start, uint64_t end, int node)
{
	for (uint64_t a = start; a < end; a += BS)
		b[n++] = (struct mem_block){ a / BS, node };
	return n;
}

/* Node 0: below 2G and 4G-18G; node 1: 18G-34G. */
static void two_nodes(struct physmem *pm, uint64_t skip_start, uint64_t skip_end)
{
	static struct mem_block all[512], b[512];
	int n = 0, k = 0;

	n = blocks_of(all, n, 0, 0x80000000, 0);
	n = blocks_of(all, n, 0x100000000, 0x480000000, 0);
	n = blocks_of(all, n, 0x480000000, 0x880000000, 1);
	/* memmap= took [skip_start, skip_end] out: its blocks are gone */
	for (int i = 0; i < n; i++)
		if (all[i].index * BS < skip_start || all[i].index * BS > skip_end)
			b[k++] = all[i];
	n = k;
	assert_int_equal(physmem_tag(two_nodes_fw, 3, b, n, BS, -1, pm), 0);
}

static void set_iomem(struct physmem *pm, const char *text)
{
	if (iomem_parse(text, &pm->io))
		fail_msg("iomem_parse: %s", err_msg());
}

static uint64_t choose(const struct physmem *pm, int node, uint64_t size,
		       const struct phys_range *taken, int ntaken)
{
	uint64_t start = 0;

	if (physmem_choose(pm, "db", node, size, taken, ntaken, &start))
		fail_msg("physmem_choose(node %d, %llu): %s", node,
			 (unsigned long long)size, err_msg());
	return start;
}

static void test_iomem_parse(void **state)
{
	struct iomem io;

	assert_int_equal(iomem_parse("00000000-00000fff : Reserved\n"
				     "00001000-0009fbff : System RAM\n"
				     "00100000-bffdffff : System RAM\n"
				     "  01000000-01ffffff : Kernel code\n"
				     "40000000-4fffffff : Reserved\n"
				     "100000000-13fffffff : Persistent Memory (legacy)\n"
				     "    100000000-13fffffff : namespace0.0\n", &io), 0);
	assert_int_equal(io.n, 7);
	assert_int_equal(io.e[3].depth, 1);
	assert_string_equal(io.e[3].name, "Kernel code");
	assert_int_equal(io.e[5].start, 0x100000000);
	assert_int_equal(io.e[5].end, 0x13fffffff);
	assert_int_equal(io.e[6].depth, 2);
	assert_true(iomem_is_ram(&io.e[2]));
	assert_false(iomem_is_ram(&io.e[3]));
	assert_true(iomem_is_reservation(&io.e[4]));
	assert_true(iomem_is_reservation(&io.e[5]));
	assert_false(iomem_is_reservation(&io.e[6]));
	assert_ptr_equal(iomem_find(&io, 0x40000000, 0x4fffffff), &io.e[4]);
	assert_null(iomem_find(&io, 0x40000000, 0x4ffffffe));
	assert_null(iomem_find(&io, 0x01000000, 0x01ffffff));	/* nested */
	assert_ptr_equal(iomem_ram_overlap(&io, 0x3fe00000, 0x40000000), &io.e[2]);
	assert_null(iomem_ram_overlap(&io, 0xc0000000, 0xffffffff));
	iomem_free(&io);
}

static void test_iomem_refused(void **state)
{
	struct iomem io;

	assert_int_equal(iomem_parse("00000000-00000000 : Reserved\n"
				     "00000000-00000000 : System RAM\n"
				     "  00000000-00000000 : Kernel code\n", &io), -1);
	assert_string_equal(err_msg(), "/proc/iomem shows every address as 0, as the kernel "
			    "does for users other than root: run as root");
	assert_int_equal(iomem_parse("0000-0fff : ok\nnonsense\n", &io), -1);
	assert_non_null(strstr(err_msg(), "/proc/iomem line 2 'nonsense' is not"));
	assert_int_equal(iomem_parse("1000-0fff : backwards\n", &io), -1);
	assert_int_equal(iomem_parse("", &io), -1);
	assert_non_null(strstr(err_msg(), "is empty"));
}

static void test_tag_nodes(void **state)
{
	struct physmem pm;

	two_nodes(&pm, 1, 0);
	assert_int_equal(pm.nram, 4);
	assert_int_equal(pm.ram[0].start, 0);	/* below the first block's end: node 0 */
	assert_int_equal(pm.ram[0].node, 0);
	assert_int_equal(pm.ram[2].start, 0x100000000);
	assert_int_equal(pm.ram[2].end, 0x47fffffff);
	assert_int_equal(pm.ram[3].start, 0x480000000);
	assert_int_equal(pm.ram[3].node, 1);
	physmem_free(&pm);

	/* a reserved range without blocks at the top of node 0: still node 0 */
	two_nodes(&pm, 0x400000000, 0x47fffffff);
	assert_int_equal(pm.ram[2].end, 0x47fffffff);
	assert_int_equal(pm.ram[2].node, 0);
	physmem_free(&pm);

	/* several nodes and no blocks: cannot tell */
	assert_int_equal(physmem_tag(two_nodes_fw, 3, NULL, 0, BS, -1, &pm), -1);
	assert_non_null(strstr(err_msg(), "give each reserved slice a \"phys_start\""));
	/* one node: all of it */
	assert_int_equal(physmem_tag(two_nodes_fw, 3, NULL, 0, 0, 0, &pm), 0);
	assert_int_equal(pm.nram, 3);
	physmem_free(&pm);
}

static void test_choose_highest_1g_above_4g(void **state)
{
	struct physmem pm;

	two_nodes(&pm, 1, 0);
	assert_int_equal(choose(&pm, 0, 8 * GiB, NULL, 0), 0x280000000);
	assert_int_equal(choose(&pm, 1, 4 * GiB, NULL, 0), 0x780000000);
	/* 2M multiple: still 1G aligned when it fits so */
	assert_int_equal(choose(&pm, 1, 1026 * MiB, NULL, 0), 0x800000000);
	physmem_free(&pm);
}

static void test_choose_two_slices_and_pinned(void **state)
{
	struct physmem pm;
	struct phys_range taken[2] = { { 0x380000000, 0x47fffffff } };

	two_nodes(&pm, 1, 0);
	/* below the other slice's range */
	assert_int_equal(choose(&pm, 0, 4 * GiB, taken, 1), 0x280000000);
	/* a pinned range in the middle: the next one goes below it */
	taken[1] = (struct phys_range){ 0x1c0200000, 0x1c05fffff };
	assert_int_equal(choose(&pm, 0, 6 * GiB, taken, 2), 0x200000000);
	/* and one more: below all three, under the pinned one */
	{
		struct phys_range three[3] = { taken[0], taken[1],
					       { 0x200000000, 0x37fffffff } };

		assert_int_equal(choose(&pm, 0, GiB, three, 3), 0x180000000);
	}
	physmem_free(&pm);
}

static void test_choose_holes_and_2m(void **state)
{
	/* above 4G: 1G, a 2M hole at 5G, then 2G */
	static const struct phys_range fw[] = {
		{ 0x100000, 0x7fffffff },
		{ 0x100000000, 0x13fffffff },
		{ 0x140200000, 0x1c01fffff },
	};
	struct physmem pm;

	assert_int_equal(physmem_tag(fw, 3, NULL, 0, 0, 0, &pm), 0);
	/* 2G: no 1G-aligned fit above 4G (the hole is in the way); 2M aligned is */
	assert_int_equal(choose(&pm, 0, 2 * GiB, NULL, 0), 0x140200000);
	/* 1G: 1G aligned above 4G, the highest */
	assert_int_equal(choose(&pm, 0, GiB, NULL, 0), 0x180000000);
	assert_int_equal(choose(&pm, 0, 1536 * MiB, NULL, 0), 0x160200000);
	/* the highest 2M-aligned fit in the piece above the hole */
	assert_int_equal(choose(&pm, 0, 2044 * MiB, NULL, 0), 0x140600000);
	/* 3G: no piece holds it, not even across the hole */
	assert_int_equal(physmem_check(&pm, 0, 0x100000000, 3 * GiB), -1);
	physmem_free(&pm);
}

static void test_choose_below_4g_only(void **state)
{
	/* the lab's 3G L1: all RAM below 4G */
	static const struct phys_range fw[] = {
		{ 0x0, 0x9fbff }, { 0x100000, 0xbffdffff },
	};
	struct physmem pm;

	assert_int_equal(physmem_tag(fw, 2, NULL, 0, 0, 0, &pm), 0);
	assert_int_equal(choose(&pm, 0, 256 * MiB, NULL, 0), 0x80000000);
	assert_int_equal(choose(&pm, 0, 2 * GiB, NULL, 0), 0x3fe00000);
	physmem_free(&pm);
}

static void test_choose_no_fit(void **state)
{
	struct physmem pm;
	uint64_t start = 7;

	two_nodes(&pm, 1, 0);
	assert_int_equal(physmem_choose(&pm, "db", 1, 17 * GiB, NULL, 0, &start), -1);
	assert_string_equal(err_msg(), "slice db: node 1 has no free range of 17G in its "
			    "System RAM (2M aligned, apart from other reserved slices): give "
			    "it less \"memory\" or another node");
	assert_int_equal(start, 7);
	assert_int_equal(physmem_choose(&pm, "db", 2, GiB, NULL, 0, &start), -1);
	physmem_free(&pm);
}

/* After the reboot with memmap=: the same range, from /proc/iomem. */
static void test_choose_after_reboot(void **state)
{
	struct physmem pm;

	two_nodes(&pm, 0x280000000, 0x47fffffff);
	set_iomem(&pm, "00100000-7fffffff : System RAM\n"
		  "100000000-27fffffff : System RAM\n"
		  "280000000-47fffffff : Reserved\n"
		  "480000000-87fffffff : System RAM\n");
	assert_int_equal(choose(&pm, 0, 8 * GiB, NULL, 0), 0x280000000);
	physmem_free(&pm);

	/* an existing reservation of that size is used even where step 2 would not go */
	two_nodes(&pm, 1, 0);
	set_iomem(&pm, "00100000-7fffffff : System RAM\n"
		  "100000000-13fffffff : Persistent Memory (legacy)\n"
		  "140000000-87fffffff : System RAM\n");
	assert_int_equal(choose(&pm, 0, GiB, NULL, 0), 0x100000000);
	/* ...but not for another size, nor on another node */
	assert_int_equal(choose(&pm, 0, 2 * GiB, NULL, 0), 0x400000000);
	assert_int_equal(choose(&pm, 1, GiB, NULL, 0), 0x840000000);
	physmem_free(&pm);
}

static void test_check_and_place(void **state)
{
	struct physmem pm;
	struct plan *plan = calloc(1, sizeof(*plan));

	two_nodes(&pm, 1, 0);
	assert_int_equal(physmem_check(&pm, 0, 0x100000000, 14 * GiB), 0);
	assert_int_equal(physmem_check(&pm, 0, 0x100000000, 15 * GiB), -1);
	assert_non_null(strstr(err_msg(), "the range 0x100000000-0x4bfffffff (15G) is not all "
			       "System RAM of node 0"));
	assert_int_equal(physmem_check(&pm, 0, 0x7fe00000, 4 * MiB), -1);	/* PCI hole */

	plan->nslices = 3;
	plan->slices[0] = (struct slice){ .name = "a", .node = 0, .memory = 4 * GiB,
					  .backing = BACKING_RESERVED };
	plan->slices[1] = (struct slice){ .name = "b", .node = 0, .memory = 2 * GiB,
					  .backing = BACKING_RESERVED,
					  .phys_start = 0x400000000 };
	plan->slices[2] = (struct slice){ .name = "c", .node = 1, .memory = 2 * GiB,
					  .backing = BACKING_HUGETLB };
	assert_true(plan_has_reserved(plan));
	assert_int_equal(physmem_place(&pm, plan), 0);
	assert_int_equal(plan->slices[0].phys_start, 0x300000000);
	assert_int_equal(plan->slices[1].phys_start, 0x400000000);
	assert_int_equal(plan->slices[2].phys_start, 0);

	plan->slices[1].node = 1;
	plan->slices[0].phys_start = 0;
	assert_int_equal(physmem_place(&pm, plan), -1);
	assert_non_null(strstr(err_msg(), "slice b: the range 0x400000000-0x47fffffff (2G) is "
			       "not all System RAM of node 1"));
	free(plan);
	physmem_free(&pm);
}

/* ---- a fake /sys and /proc ---- */

static void mkdirs(const char *path)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static void fw_entry(const char *root, int n, const char *start, const char *end,
		     const char *type)
{
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/sys/firmware/memmap/%d", root, n);
	mkdirs(dir);
	test_put_file(dir, "start", start);
	test_put_file(dir, "end", end);
	test_put_file(dir, "type", type);
}

static void test_load(void **state)
{
	char root[256], sys[300], proc[300], dir[512];
	struct physmem pm;

	snprintf(root, sizeof(root), "%s/load", test_dir);
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	fw_entry(root, 0, "0x0\n", "0x9fbff\n", "System RAM\n");
	fw_entry(root, 1, "0xf0000\n", "0xfffff\n", "Reserved\n");
	fw_entry(root, 2, "0x100000\n", "0xbffdffff\n", "System RAM\n");
	fw_entry(root, 10, "0x100000000\n", "0x13fffffff\n", "System RAM\n");
	mkdirs(proc);
	test_put_file(proc, "iomem", "00001000-0009fbff : System RAM\n"
		      "00100000-bffdffff : System RAM\n100000000-13fffffff : System RAM\n");
	/* one node: no blocks needed */
	assert_int_equal(physmem_load(&pm, sys, proc, 0), 0);
	assert_int_equal(pm.nram, 3);
	assert_int_equal(pm.ram[2].start, 0x100000000);
	assert_int_equal(pm.io.n, 3);
	physmem_free(&pm);

	/* two nodes: blocks say node 1 has 4G-5G */
	assert_int_equal(physmem_load(&pm, sys, proc, -1), -1);
	assert_non_null(strstr(err_msg(), "block_size_bytes"));
	snprintf(dir, sizeof(dir), "%s/devices/system/memory", sys);
	mkdirs(dir);
	test_put_file(dir, "block_size_bytes", "8000000\n");
	for (int i = 0; i < 40; i++) {
		snprintf(dir, sizeof(dir), "%s/devices/system/node/node%d/memory%d", sys,
			 i < 32 ? 0 : 1, i);
		mkdirs(dir);
	}
	assert_int_equal(physmem_load(&pm, sys, proc, -1), 0);
	assert_int_equal(pm.nram, 3);
	assert_int_equal(pm.ram[2].node, 1);
	assert_int_equal(pm.ram[1].node, 0);
	physmem_free(&pm);

	/* non-root: zeros */
	test_put_file(proc, "iomem", "00000000-00000000 : System RAM\n");
	assert_int_equal(physmem_load(&pm, sys, proc, 0), -1);
	assert_non_null(strstr(err_msg(), "run as root"));
	/* no firmware map */
	snprintf(dir, sizeof(dir), "rm -rf '%s/firmware'", sys);
	assert_int_equal(system(dir), 0);
	assert_int_equal(physmem_load(&pm, sys, proc, 0), -1);
	assert_non_null(strstr(err_msg(), "cannot read the firmware memory map"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iomem_parse),
		cmocka_unit_test(test_iomem_refused),
		cmocka_unit_test(test_tag_nodes),
		cmocka_unit_test(test_choose_highest_1g_above_4g),
		cmocka_unit_test(test_choose_two_slices_and_pinned),
		cmocka_unit_test(test_choose_holes_and_2m),
		cmocka_unit_test(test_choose_below_4g_only),
		cmocka_unit_test(test_choose_no_fit),
		cmocka_unit_test(test_choose_after_reboot),
		cmocka_unit_test(test_check_and_place),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
