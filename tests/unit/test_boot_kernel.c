// SPDX-License-Identifier: GPL-2.0
/*
 * kernel_open() on synthetic bzImages and ELF kernels, on broken files, and
 * on the real Debian kernels in cache/guest/ when another step has put them
 * there (SLICEVM_GUEST_DIR overrides the directory).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "boot/boot.h"
#include "lib/err.h"
#include "test_boot_images.h"

static int open_bytes(const uint8_t *data, size_t len, struct kernel_image *k,
		      char **pathp)
{
	char *path = tb_write_temp(data, len);
	int ret;

	err_clear();
	ret = kernel_open(path, k);
	if (pathp)
		*pathp = path;
	else
		tb_remove_temp(path);
	return ret;
}

static void assert_refused(const uint8_t *data, size_t len, const char *needle)
{
	struct kernel_image k, before;
	char *path;

	memset(&k, 0x5A, sizeof(k));
	before = k;
	assert_int_equal(open_bytes(data, len, &k, &path), -1);
	assert_memory_equal(&k, &before, sizeof(k));	/* left untouched */
	if (!strstr(err_msg(), needle))
		fail_msg("error \"%s\" lacks \"%s\"", err_msg(), needle);
	if (!strstr(err_msg(), path))
		fail_msg("error \"%s\" does not name the file %s", err_msg(), path);
	tb_remove_temp(path);
}

static void test_bz_valid(void **state)
{
	struct tb_bz b = tb_bz_default();
	struct kernel_image k;
	size_t len;
	uint8_t *d = tb_bz_build(&b, &len);

	assert_int_equal(open_bytes(d, len, &k, NULL), 0);
	assert_int_equal(k.format, KERNEL_BZIMAGE);
	assert_int_equal(k.size, len);
	assert_memory_equal(k.data, d, len);
	assert_int_equal(k.protocol, 0x020F);
	assert_int_equal(k.cmdline_max, 2047);
	assert_int_equal(k.initrd_addr_max, 0x7fffffff);
	assert_int_equal(k.init_size, 0x100000);
	assert_int_equal(k.load_addr, 0x100000);
	assert_int_equal(k.entry64, 0x100200);
	assert_false(k.has_pvh);
	kernel_close(&k);
	assert_null(k.data);
	free(d);
}

static void test_bz_setup_sects_zero_means_four(void **state)
{
	struct tb_bz b = tb_bz_default();
	struct kernel_image k;
	size_t len;
	uint8_t *d;

	b.setup_sects = 0;
	b.init_size = 0x1000;		/* smaller than the code: raised to it */
	d = tb_bz_build(&b, &len);
	assert_int_equal(len, 5 * 512 + b.pm_size);
	assert_int_equal(open_bytes(d, len, &k, NULL), 0);
	assert_int_equal(k.init_size, b.pm_size);
	kernel_close(&k);
	free(d);
}

static void test_bz_bad_magic(void **state)
{
	struct tb_bz b = tb_bz_default();
	size_t len;
	uint8_t *d = tb_bz_build(&b, &len);

	d[0x1FE] = 0;
	assert_refused(d, len, "is not a Linux bzImage or ELF vmlinux");
	d[0x1FE] = 0x55;
	memcpy(d + 0x202, "HdrX", 4);
	assert_refused(d, len, "is not a Linux bzImage or ELF vmlinux");
	free(d);
}

static void test_bz_old_protocol(void **state)
{
	struct tb_bz b = tb_bz_default();
	size_t len;
	uint8_t *d;

	b.version = 0x020B;
	d = tb_bz_build(&b, &len);
	assert_refused(d, len, "uses boot protocol 2.11; slicevm needs 2.12 or newer");
	free(d);
}

static void test_bz_no_64bit(void **state)
{
	struct tb_bz b = tb_bz_default();
	size_t len;
	uint8_t *d;

	b.xloadflags = 0x7E;
	d = tb_bz_build(&b, &len);
	assert_refused(d, len, "no 64-bit entry point");
	free(d);
}

static void test_bz_truncated(void **state)
{
	struct tb_bz b = tb_bz_default();
	size_t len;
	uint8_t *d = tb_bz_build(&b, &len);

	assert_refused(d, len - 16, "truncated");	/* code shorter than syssize */
	assert_refused(d, 3 * 512, "truncated");	/* ends in the setup code */
	assert_refused(d, 0x240, "truncated");		/* ends in the header */
	free(d);
}

static void test_not_a_kernel(void **state)
{
	uint8_t text[600];

	memset(text, 'x', sizeof(text));
	assert_refused(text, sizeof(text), "is not a Linux bzImage or ELF vmlinux");
	assert_refused(text, 3, "is not a Linux bzImage or ELF vmlinux");
}

static void test_file_errors(void **state)
{
	struct kernel_image k;
	char *path = tb_write_temp("", 0);

	assert_int_equal(kernel_open(path, &k), -1);
	assert_non_null(strstr(err_msg(), "is empty"));
	assert_non_null(strstr(err_msg(), path));
	tb_remove_temp(path);

	assert_int_equal(kernel_open("/nonexistent/slicevm/bzImage", &k), -1);
	assert_non_null(strstr(err_msg(), "/nonexistent/slicevm/bzImage does not exist"));

	assert_int_equal(kernel_open("/tmp", &k), -1);
	assert_non_null(strstr(err_msg(), "not a regular file"));
}

static void test_elf_no_pvh(void **state)
{
	struct tb_elf e = tb_elf_default();
	struct kernel_image k;
	size_t len;
	uint8_t *d = tb_elf_build(&e, &len);

	assert_int_equal(open_bytes(d, len, &k, NULL), 0);
	assert_int_equal(k.format, KERNEL_ELF);
	assert_false(k.has_pvh);
	assert_int_equal(k.entry64, TB_ELF_ENTRY);
	assert_int_equal(k.load_addr, TB_ELF_TEXT_PADDR);
	assert_int_equal(k.init_size, TB_ELF_PCPU_PADDR + TB_ELF_PCPU_SIZE - TB_ELF_TEXT_PADDR);
	assert_int_equal(k.cmdline_max, 2047);
	assert_int_equal(k.initrd_addr_max, 0x7fffffff);
	assert_true(k.protocol >= 0x020C);
	kernel_close(&k);
	free(d);
}

static void test_elf_pvh(void **state)
{
	struct tb_elf e = tb_elf_default();
	struct kernel_image k;
	size_t len;
	uint8_t *d;

	e.pvh = true;
	d = tb_elf_build(&e, &len);
	assert_int_equal(open_bytes(d, len, &k, NULL), 0);
	assert_true(k.has_pvh);
	assert_int_equal(k.pvh_entry, TB_ELF_PVH);
	assert_int_equal(k.entry64, TB_ELF_ENTRY);
	kernel_close(&k);
	free(d);
}

static void test_elf_virtual_entry(void **state)
{
	struct tb_elf e = tb_elf_default();
	struct kernel_image k;
	size_t len;
	uint8_t *d;

	e.virtual_entry = true;
	d = tb_elf_build(&e, &len);
	assert_int_equal(open_bytes(d, len, &k, NULL), 0);
	assert_int_equal(k.entry64, TB_ELF_ENTRY);
	kernel_close(&k);
	free(d);
}

static void test_elf_refused(void **state)
{
	struct tb_elf e = tb_elf_default();
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	size_t len;
	uint8_t *d;

	e.class = ELFCLASS32;
	d = tb_elf_build(&e, &len);
	assert_refused(d, len, "not a 64-bit");
	free(d);

	e = tb_elf_default();
	e.machine = EM_AARCH64;
	d = tb_elf_build(&e, &len);
	assert_refused(d, len, "not x86-64");
	free(d);

	e = tb_elf_default();
	e.type = ET_REL;
	d = tb_elf_build(&e, &len);
	assert_refused(d, len, "not an ELF executable");
	free(d);

	/* A segment running past the end of the file. */
	e = tb_elf_default();
	d = tb_elf_build(&e, &len);
	assert_refused(d, 0x2400, "truncated");
	/* The program headers themselves cut off. */
	assert_refused(d, sizeof(eh) + 10, "program header");

	/* An entry point outside every segment. */
	memcpy(&eh, d, sizeof(eh));
	eh.e_entry = 0x9000000;
	memcpy(d, &eh, sizeof(eh));
	assert_refused(d, len, "entry point");

	/* A segment over the boot data below 1M. */
	eh.e_entry = TB_ELF_ENTRY;
	memcpy(d, &eh, sizeof(eh));
	memcpy(&ph, d + eh.e_phoff + 2 * sizeof(ph), sizeof(ph));
	ph.p_paddr = 0x7000;
	memcpy(d + eh.e_phoff + 2 * sizeof(ph), &ph, sizeof(ph));
	assert_refused(d, len, "below 1M");
	free(d);
}

static void test_real_bzimage(void **state)
{
	struct kernel_image k;
	char path[4096];

	assert_true(tb_guest_file("bzImage", path, sizeof(path)));
	if (kernel_open(path, &k))
		fail_msg("kernel_open(%s): %s", path, err_msg());
	assert_int_equal(k.format, KERNEL_BZIMAGE);
	assert_true(k.protocol >= 0x020C);
	assert_int_equal(k.entry64, 0x100200);
	assert_true(k.cmdline_max >= 255);
	assert_true(k.init_size > k.size / 2);
	assert_true(k.initrd_addr_max >= 0x37ffffff);
	print_message("# %s: protocol %x init_size %#x cmdline_max %u initrd_max %#llx\n",
		      path, k.protocol, k.init_size, k.cmdline_max,
		      (unsigned long long)k.initrd_addr_max);
	kernel_close(&k);
}

static void test_real_vmlinux(void **state)
{
	struct kernel_image k;
	char path[4096];

	assert_true(tb_guest_file("vmlinux", path, sizeof(path)));
	if (kernel_open(path, &k))
		fail_msg("kernel_open(%s): %s", path, err_msg());
	assert_int_equal(k.format, KERNEL_ELF);
	assert_true(k.has_pvh);
	assert_true(k.load_addr >= 0x100000);
	assert_true(k.entry64 >= k.load_addr && k.entry64 < k.load_addr + k.init_size);
	assert_true(k.pvh_entry >= k.load_addr && k.pvh_entry < k.load_addr + k.init_size);
	print_message("# %s: load %#llx size %#x entry %#llx pvh %#x\n", path,
		      (unsigned long long)k.load_addr, k.init_size,
		      (unsigned long long)k.entry64, k.pvh_entry);
	kernel_close(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bz_valid),
		cmocka_unit_test(test_bz_setup_sects_zero_means_four),
		cmocka_unit_test(test_bz_bad_magic),
		cmocka_unit_test(test_bz_old_protocol),
		cmocka_unit_test(test_bz_no_64bit),
		cmocka_unit_test(test_bz_truncated),
		cmocka_unit_test(test_not_a_kernel),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_elf_no_pvh),
		cmocka_unit_test(test_elf_pvh),
		cmocka_unit_test(test_elf_virtual_entry),
		cmocka_unit_test(test_elf_refused),
	};
	const struct CMUnitTest real[] = {
		cmocka_unit_test(test_real_bzimage),
		cmocka_unit_test(test_real_vmlinux),
	};
	static const char *const real_files[] = { "bzImage", "vmlinux" };

	return tb_run(tests, sizeof(tests) / sizeof(tests[0]), real, real_files, 2);
}
