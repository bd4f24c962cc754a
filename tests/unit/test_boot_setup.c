// SPDX-License-Identifier: GPL-2.0
/*
 * boot_setup(): what lands in guest memory (kernel, command line, initrd,
 * boot_params, hvm_start_info, GDT, page tables), the CPU state it returns,
 * and the refusals, which must leave guest memory untouched.
 */
#include <fcntl.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/boot.h"
#include "lib/err.h"
#include "arch/x86/platform.h"
#include "test_boot_images.h"

#define LOW_SIZE	(64 * TB_MiB)
#define ZP		BOOT_ZERO_PAGE_ADDR

struct fixture {
	struct guest_mem mem;
	uint8_t *low;		/* guest-physical 0 .. low_size */
	uint64_t low_size;
	struct kernel_image k;
	struct boot_config cfg;
	struct boot_cpu_state cpu;
	uint8_t *initrd;
};

static void open_image(struct fixture *f, const uint8_t *data, size_t len)
{
	char *path = tb_write_temp(data, len);

	if (kernel_open(path, &f->k))
		fail_msg("kernel_open: %s", err_msg());
	tb_remove_temp(path);
}

static struct fixture *fixture_new(uint64_t low_size)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->low = calloc(1, low_size);
	f->low_size = low_size;
	assert_int_equal(guest_mem_add(&f->mem, 0, low_size, f->low, MEM_HPA_UNKNOWN,
				       MEM_KIND_RAM), 0);
	f->cfg.cmdline = "console=ttyS0 panic=-1";
	f->cfg.ncpus = 2;
	return f;
}

static struct fixture *bz_fixture(const struct tb_bz *b, uint64_t low_size)
{
	struct fixture *f = fixture_new(low_size);
	size_t len;
	uint8_t *d = tb_bz_build(b, &len);

	open_image(f, d, len);
	free(d);
	return f;
}

static struct fixture *elf_fixture(bool pvh)
{
	struct fixture *f = fixture_new(LOW_SIZE);
	struct tb_elf e = tb_elf_default();
	size_t len;
	uint8_t *d;

	e.pvh = pvh;
	d = tb_elf_build(&e, &len);
	open_image(f, d, len);
	free(d);
	return f;
}

static void set_initrd(struct fixture *f, size_t size)
{
	size_t i;

	free(f->initrd);
	f->initrd = malloc(size);
	for (i = 0; i < size; i++)
		f->initrd[i] = (uint8_t)(i * 13 + 5);
	f->cfg.initrd = f->initrd;
	f->cfg.initrd_size = size;
	f->cfg.initrd_path = "test.cpio";
}

static void fixture_free(struct fixture *f)
{
	kernel_close(&f->k);
	free(f->low);
	free(f->initrd);
	free(f);
}

static void setup_ok(struct fixture *f)
{
	if (boot_setup(&f->mem, &f->k, &f->cfg, &f->cpu))
		fail_msg("boot_setup: %s", err_msg());
}

static bool all_zero(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* A refused setup names the problem and writes nothing. */
static void setup_refused(struct fixture *f, const char *needle)
{
	memset(&f->cpu, 0x77, sizeof(f->cpu));
	err_clear();
	assert_int_equal(boot_setup(&f->mem, &f->k, &f->cfg, &f->cpu), -1);
	if (!strstr(err_msg(), needle))
		fail_msg("error \"%s\" lacks \"%s\"", err_msg(), needle);
	assert_true(all_zero(f->low, f->low_size));
}

static uint8_t *zp(struct fixture *f)
{
	return f->low + ZP;
}

static void assert_e820_copied(const uint8_t *table, int n, const struct guest_mem *mem,
			       size_t stride)
{
	struct e820_entry map[16];
	int i;

	assert_int_equal(e820_build(mem, map, 16), n);
	for (i = 0; i < n; i++) {
		const uint8_t *e = table + i * stride;

		assert_int_equal(get_le64(e), map[i].addr);
		assert_int_equal(get_le64(e + 8), map[i].size);
		assert_int_equal(get_le32(e + 16), map[i].type);
	}
}

static void assert_long_mode_state(const struct boot_cpu_state *c, uint64_t rip)
{
	assert_true(c->long_mode);
	assert_int_equal(c->rip, rip);
	assert_int_equal(c->rsi, ZP);
	assert_int_equal(c->rsp, BOOT_STACK_ADDR);
	assert_int_equal(c->cr3, BOOT_PML4_ADDR);
	assert_int_equal(c->cr0 & 0x80000001, 0x80000001);
	assert_int_equal(c->cr4 & 0x20, 0x20);
	assert_int_equal(c->efer, 0x500);
	assert_int_equal(c->rflags, 2);
	assert_int_equal(c->gdt_base, BOOT_GDT_ADDR);
	assert_int_equal(c->gdt_limit, 47);
	assert_int_equal(c->code_sel, 0x10);	/* Linux's __BOOT_CS */
	assert_int_equal(c->data_sel, 0x18);	/* and __BOOT_DS */
	assert_int_equal(c->cs.selector, 0x10);
	assert_int_equal(c->cs.l, 1);
	assert_int_equal(c->cs.db, 0);
	assert_int_equal(c->cs.type, 0xB);
	assert_int_equal(c->cs.s, 1);
	assert_int_equal(c->cs.present, 1);
	assert_int_equal(c->cs.limit, 0xffffffff);
	assert_int_equal(c->ds.selector, 0x18);
	assert_int_equal(c->ds.type, 0x3);
	assert_int_equal(c->ds.db, 1);
	assert_int_equal(c->tr.selector, 0x20);
	assert_int_equal(c->tr.type, 0xB);
	assert_int_equal(c->tr.s, 0);
	assert_int_equal(c->tr.limit, 0x67);
}

static void test_bz_boot_params(void **state)
{
	struct tb_bz b = tb_bz_default();
	struct fixture *f = bz_fixture(&b, LOW_SIZE);
	uint8_t *p;
	uint32_t rd, rd_size;
	size_t i;

	set_initrd(f, 3 * TB_MiB + 123);
	setup_ok(f);
	p = zp(f);

	/* The setup header as the image has it, then the loader's fields. */
	assert_int_equal(get_le16(p + 0x1FE), 0xAA55);
	assert_memory_equal(p + 0x202, "HdrS", 4);
	assert_int_equal(get_le16(p + 0x206), 0x020F);
	assert_int_equal(get_le32(p + 0x260), b.init_size);
	assert_int_equal(p[0x210], 0xFF);
	assert_int_equal(p[0x211] & 0x81, 0x81);
	assert_int_equal(get_le16(p + 0x224), 0xFE00 - 0x200);
	assert_int_equal(p[0x1EF], 0);		/* sentinel */

	/* The command line. */
	assert_int_equal(get_le32(p + 0x228), BOOT_CMDLINE_ADDR);
	assert_int_equal(get_le32(p + 0xC8), 0);
	assert_string_equal((char *)f->low + BOOT_CMDLINE_ADDR, f->cfg.cmdline);

	/* The initrd: page-aligned, as high as it goes, above the kernel. */
	rd = get_le32(p + 0x218);
	rd_size = get_le32(p + 0x21C);
	assert_int_equal(rd_size, f->cfg.initrd_size);
	assert_int_equal(get_le32(p + 0xC0), 0);
	assert_int_equal(get_le32(p + 0xC4), 0);
	assert_int_equal(rd % 4096, 0);
	assert_true(rd + rd_size <= LOW_SIZE);
	assert_true(rd + rd_size + 4096 > LOW_SIZE);
	assert_true(rd >= 0x1000000 + b.init_size);	/* above the decompression area */
	assert_memory_equal(f->low + rd, f->initrd, rd_size);

	/* e820 and ACPI. */
	assert_int_equal(p[0x1E8], 4);
	assert_e820_copied(p + 0x2D0, 4, &f->mem, 20);
	assert_int_equal(get_le64(p + 0x070), ACPI_TABLES_ADDR);
	assert_memory_equal(f->low + ACPI_TABLES_ADDR, "RSD PTR ", 8);

	/* The protected-mode code at 1M. */
	for (i = 0; i < b.pm_size; i++)
		if (f->low[KERNEL_LOAD_ADDR + i] != (uint8_t)(i * 7))
			fail_msg("kernel byte %zu wrong", i);
	assert_long_mode_state(&f->cpu, KERNEL_LOAD_ADDR + 0x200);
	fixture_free(f);
}

static void test_gdt_and_page_tables(void **state)
{
	struct tb_bz b = tb_bz_default();
	struct fixture *f = bz_fixture(&b, LOW_SIZE);
	const uint8_t *gdt, *pml4, *pdpt, *pd;
	int i;

	setup_ok(f);
	gdt = f->low + BOOT_GDT_ADDR;
	assert_int_equal(get_le64(gdt), 0);
	assert_int_equal(get_le64(gdt + 0x08), 0x00CF9B000000FFFFULL);	/* code32 */
	assert_int_equal(get_le64(gdt + 0x10), 0x00AF9B000000FFFFULL);	/* code64 */
	assert_int_equal(get_le64(gdt + 0x18), 0x00CF93000000FFFFULL);	/* data */
	assert_int_equal(get_le64(gdt + 0x20), 0x00008B0000000067ULL);	/* busy TSS */
	assert_int_equal(get_le64(gdt + 0x28), 0);

	pml4 = f->low + BOOT_PML4_ADDR;
	pdpt = pml4 + 0x1000;
	pd = pml4 + 0x2000;
	assert_int_equal(get_le64(pml4), (BOOT_PML4_ADDR + 0x1000) | 3);
	assert_true(all_zero(pml4 + 8, 4096 - 8));
	for (i = 0; i < 4; i++)
		assert_int_equal(get_le64(pdpt + 8 * i),
				 (BOOT_PML4_ADDR + 0x2000 + 0x1000 * i) | 3);
	assert_int_equal(get_le64(pdpt + 32), 0);
	for (i = 0; i < 2048; i++)
		assert_int_equal(get_le64(pd + 8 * i), ((uint64_t)i << 21) | 0x83);
	/* The page tables stay clear of the zero page, the stack and the cmdline. */
	assert_true(BOOT_PML4_ADDR + 6 * 0x1000 <= BOOT_CMDLINE_ADDR);
	assert_true(BOOT_STACK_ADDR <= BOOT_PML4_ADDR && BOOT_STACK_ADDR > ZP + 0x1000);
	fixture_free(f);
}

static void test_initrd_limit(void **state)
{
	struct tb_bz b = tb_bz_default();
	struct fixture *f;
	uint32_t rd;

	b.initrd_addr_max = 0x1FFFFFF;		/* ends at or below 32M */
	f = bz_fixture(&b, LOW_SIZE);
	set_initrd(f, TB_MiB);
	setup_ok(f);
	rd = get_le32(zp(f) + 0x218);
	assert_int_equal(rd, 0x2000000 - TB_MiB);
	fixture_free(f);
}

static void test_cmdline_too_long(void **state)
{
	struct tb_bz b = tb_bz_default();
	struct fixture *f;
	char *line;

	b.cmdline_size = 100;
	f = bz_fixture(&b, LOW_SIZE);
	line = malloc(102);
	memset(line, 'a', 101);
	line[101] = 0;
	f->cfg.cmdline = line;
	setup_refused(f, "kernel command line is 101 bytes; this kernel accepts at most 100");
	line[100] = 0;
	setup_ok(f);
	assert_string_equal((char *)f->low + BOOT_CMDLINE_ADDR, line);
	free(line);
	fixture_free(f);
}

static void test_initrd_too_big(void **state)
{
	struct tb_bz b = tb_bz_default();
	struct fixture *f = bz_fixture(&b, LOW_SIZE);

	/* The kernel needs up to 17M; 48M of initrd does not fit in 64M. */
	set_initrd(f, 48 * TB_MiB);
	setup_refused(f, "initrd test.cpio of 48M does not fit below 64M in a guest with 64M of memory: give more --memory");
	set_initrd(f, 46 * TB_MiB);
	setup_ok(f);
	fixture_free(f);

	/* Against the kernel's own limit, more memory does not help. */
	b.initrd_addr_max = 0x1FFFFFF;
	f = bz_fixture(&b, LOW_SIZE);
	set_initrd(f, 16 * TB_MiB);
	setup_refused(f, "use a smaller initrd");
	fixture_free(f);
}

/*
 * An initrd given as a file is read straight into guest RAM, and only once
 * it is known to fit: a too-large one is refused without a byte read (the
 * fd here cannot be read at all, so reading would fail differently).
 */
static void test_initrd_from_file(void **state)
{
	struct tb_bz b = tb_bz_default();
	struct fixture *f = bz_fixture(&b, LOW_SIZE);
	char path[] = "/tmp/slicevm-initrd-XXXXXX";
	uint8_t *p;
	int fd = mkstemp(path);
	uint32_t rd;

	assert_true(fd >= 0);
	set_initrd(f, 2 * TB_MiB + 77);
	assert_int_equal(write(fd, f->initrd, f->cfg.initrd_size), (ssize_t)f->cfg.initrd_size);
	f->cfg.initrd = NULL;
	f->cfg.initrd_fd = fd;
	setup_ok(f);
	p = zp(f);
	rd = get_le32(p + 0x218);
	assert_int_equal(get_le32(p + 0x21C), f->cfg.initrd_size);
	assert_memory_equal(f->low + rd, f->initrd, f->cfg.initrd_size);
	close(fd);
	fixture_free(f);

	f = bz_fixture(&b, LOW_SIZE);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	f->cfg.initrd_path = "test.cpio";
	f->cfg.initrd_fd = fd;
	f->cfg.initrd_size = 48 * TB_MiB;
	setup_refused(f, "initrd test.cpio of 48M does not fit below 64M");
	close(fd);
	unlink(path);
	fixture_free(f);
}

static void test_kernel_too_big(void **state)
{
	struct tb_bz b = tb_bz_default();
	struct fixture *f;

	b.init_size = 60 * TB_MiB;	/* runs at 16M: needs 76M */
	f = bz_fixture(&b, LOW_SIZE);
	setup_refused(f, "give more --memory");
	assert_non_null(strstr(err_msg(), "76M"));
	fixture_free(f);
	f = bz_fixture(&b, 80 * TB_MiB);
	setup_ok(f);
	fixture_free(f);
}

static void test_bad_config(void **state)
{
	struct tb_bz b = tb_bz_default();
	struct fixture *f = bz_fixture(&b, LOW_SIZE);

	f->cfg.ncpus = 0;
	setup_refused(f, "CPUs");
	f->cfg.ncpus = BOOT_MAX_CPUS + 1;
	setup_refused(f, "CPUs");
	f->cfg.ncpus = 1;
	f->cfg.use_pvh = true;
	setup_refused(f, "no PVH entry note");
	fixture_free(f);
}

static void test_high_memory(void **state)
{
	struct tb_bz b = tb_bz_default();
	struct fixture *f = bz_fixture(&b, LOW_SIZE);
	static uint8_t high[4096];

	assert_int_equal(guest_mem_add(&f->mem, 4ULL << 30, sizeof(high), high, MEM_HPA_UNKNOWN,
				       MEM_KIND_RAM), 0);
	set_initrd(f, TB_MiB);
	setup_ok(f);
	assert_int_equal(zp(f)[0x1E8], 5);
	assert_e820_copied(zp(f) + 0x2D0, 5, &f->mem, 20);
	/* The initrd stays in low memory. */
	assert_true(get_le32(zp(f) + 0x218) + TB_MiB <= LOW_SIZE);
	fixture_free(f);
}

static void test_elf_boot(void **state)
{
	struct fixture *f = elf_fixture(false);
	uint8_t *p;
	size_t i;

	memset(f->low + TB_ELF_DATA_PADDR, 0xEE, TB_ELF_DATA_MEMSZ);	/* bss must be cleared */
	set_initrd(f, TB_MiB);
	setup_ok(f);
	for (i = 0; i < TB_ELF_TEXT_SIZE; i++)
		assert_int_equal(f->low[TB_ELF_TEXT_PADDR + i], (uint8_t)(i * 3 + 1));
	for (i = 0; i < TB_ELF_DATA_FILESZ; i++)
		assert_int_equal(f->low[TB_ELF_DATA_PADDR + i], (uint8_t)(i * 5 + 2));
	assert_true(all_zero(f->low + TB_ELF_DATA_PADDR + TB_ELF_DATA_FILESZ,
			     TB_ELF_DATA_MEMSZ - TB_ELF_DATA_FILESZ));
	assert_int_equal(f->low[TB_ELF_PCPU_PADDR], 0x5C);

	p = zp(f);
	assert_int_equal(get_le16(p + 0x1FE), 0xAA55);
	assert_memory_equal(p + 0x202, "HdrS", 4);
	assert_int_equal(get_le16(p + 0x206), 0x020F);
	assert_int_equal(p[0x210], 0xFF);
	assert_int_equal(get_le32(p + 0x230), 0x1000000);
	assert_int_equal(get_le32(p + 0x238), 2047);
	assert_int_equal(get_le32(p + 0x228), BOOT_CMDLINE_ADDR);
	assert_int_equal(get_le32(p + 0x218) % 4096, 0);
	assert_true(get_le32(p + 0x218) >= TB_ELF_PCPU_PADDR + TB_ELF_PCPU_SIZE);
	assert_int_equal(get_le32(p + 0x21C), TB_MiB);
	assert_int_equal(get_le64(p + 0x070), ACPI_TABLES_ADDR);
	assert_long_mode_state(&f->cpu, TB_ELF_ENTRY);
	fixture_free(f);
}

static void test_pvh_boot(void **state)
{
	struct fixture *f = elf_fixture(true);
	const uint8_t *si, *mod;
	const struct boot_cpu_state *c = &f->cpu;

	set_initrd(f, TB_MiB);
	f->cfg.use_pvh = true;
	setup_ok(f);
	si = f->low + BOOT_PVH_INFO_ADDR;
	assert_int_equal(get_le32(si), 0x336ec578);
	assert_int_equal(get_le32(si + 4), 1);
	assert_int_equal(get_le32(si + 12), 1);			/* nr_modules */
	mod = f->low + get_le64(si + 16);
	assert_int_equal(get_le64(mod), get_le32(zp(f) + 0x218));
	assert_int_equal(get_le64(mod + 8), TB_MiB);
	assert_memory_equal(f->low + get_le64(mod), f->initrd, TB_MiB);
	assert_int_equal(get_le64(si + 24), BOOT_CMDLINE_ADDR);
	assert_int_equal(get_le64(si + 32), ACPI_TABLES_ADDR);
	assert_int_equal(get_le32(si + 48), 4);
	assert_true(get_le64(si + 40) + 4 * 24 <= BOOT_ZERO_PAGE_ADDR);
	assert_e820_copied(f->low + get_le64(si + 40), 4, &f->mem, 24);

	assert_false(c->long_mode);
	assert_int_equal(c->rip, TB_ELF_PVH);
	assert_int_equal(c->rbx, BOOT_PVH_INFO_ADDR);
	assert_int_equal(c->cr0, 0x11);
	assert_int_equal(c->cr3, 0);
	assert_int_equal(c->cr4, 0);
	assert_int_equal(c->efer, 0);
	assert_int_equal(c->rflags, 2);
	assert_int_equal(c->cs.selector, 0x08);
	assert_int_equal(c->code_sel, 0x08);
	assert_int_equal(c->cs.db, 1);
	assert_int_equal(c->cs.l, 0);
	assert_int_equal(c->cs.limit, 0xffffffff);
	assert_int_equal(c->cs.base, 0);
	assert_int_equal(c->ds.selector, 0x18);
	assert_int_equal(c->tr.base, 0);
	assert_int_equal(c->tr.limit, 0x67);
	/* The descriptors the selectors name say the same. */
	assert_int_equal(get_le64(f->low + BOOT_GDT_ADDR + c->cs.selector),
			 0x00CF9B000000FFFFULL);
	fixture_free(f);
}

static void test_pvh_without_initrd(void **state)
{
	struct fixture *f = elf_fixture(true);
	const uint8_t *si;

	f->cfg.use_pvh = true;
	setup_ok(f);
	si = f->low + BOOT_PVH_INFO_ADDR;
	assert_int_equal(get_le32(si + 12), 0);
	assert_int_equal(get_le64(si + 16), 0);
	assert_int_equal(get_le32(zp(f) + 0x218), 0);
	fixture_free(f);
}

/* The real Debian kernels, when cache/guest/ has them. */
static void real_kernel(const char *name, bool pvh)
{
	struct fixture *f;
	char path[4096];
	uint32_t rd;

	assert_true(tb_guest_file(name, path, sizeof(path)));
	f = fixture_new(256 * TB_MiB);
	if (kernel_open(path, &f->k))
		fail_msg("kernel_open(%s): %s", path, err_msg());
	set_initrd(f, 8 * TB_MiB);
	f->cfg.use_pvh = pvh;
	setup_ok(f);
	rd = get_le32(zp(f) + 0x218);
	assert_true(rd % 4096 == 0 && rd + 8 * TB_MiB <= 256 * TB_MiB);
	assert_true(rd >= f->k.load_addr + f->k.init_size);
	assert_memory_equal(zp(f) + 0x202, "HdrS", 4);
	print_message("# %s: initrd at %#x, entry %#llx (%s)\n", path, rd,
		      (unsigned long long)f->cpu.rip, f->cpu.long_mode ? "64-bit" : "PVH");
	fixture_free(f);

	/* Too little memory for it is refused with advice. */
	f = fixture_new(32 * TB_MiB);
	if (kernel_open(path, &f->k))
		fail_msg("kernel_open(%s): %s", path, err_msg());
	setup_refused(f, "give more --memory");
	fixture_free(f);
}

static void test_real_bzimage(void **state)
{
	real_kernel("bzImage", false);
}

static void test_real_vmlinux(void **state)
{
	real_kernel("vmlinux", false);
}

static void test_real_vmlinux_pvh(void **state)
{
	real_kernel("vmlinux", true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bz_boot_params),
		cmocka_unit_test(test_gdt_and_page_tables),
		cmocka_unit_test(test_initrd_limit),
		cmocka_unit_test(test_cmdline_too_long),
		cmocka_unit_test(test_initrd_too_big),
		cmocka_unit_test(test_kernel_too_big),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_high_memory),
		cmocka_unit_test(test_elf_boot),
		cmocka_unit_test(test_pvh_boot),
		cmocka_unit_test(test_pvh_without_initrd),
	};
	const struct CMUnitTest real[] = {
		cmocka_unit_test(test_initrd_from_file),
		cmocka_unit_test(test_real_bzimage),
		cmocka_unit_test(test_real_vmlinux),
		cmocka_unit_test(test_real_vmlinux_pvh),
	};
	static const char *const real_files[] = { "bzImage", "vmlinux", "vmlinux" };

	return tb_run(tests, sizeof(tests) / sizeof(tests[0]), real, real_files, 3);
}
