// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the seed kernels of tests/fuzz/corpus/kernel/ into the directory
 * given: small synthetic bzImages and ELF vmlinux files built by the boot
 * unit tests' builders (tests/unit/test_boot_images.h), never a real kernel.
 *
 *   cc -Isrc -Itests/unit -o build/kernel_seeds tests/fuzz/kernel_seeds.c
 *   build/kernel_seeds tests/fuzz/corpus/kernel
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "test_boot_images.h"

static void save(const char *dir, const char *name, uint8_t *data, const size_t *sizep)
{
	size_t size = *sizep;
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f)) {
		perror(path);
		exit(1);
	}
	free(data);
}

int main(int argc, char **argv)
{
	struct tb_bz b = tb_bz_default();
	struct tb_elf e = tb_elf_default();
	size_t size;

	if (argc != 2) {
		fprintf(stderr, "usage: kernel_seeds DIR\n");
		return 2;
	}
	b.pm_size = 0x400;
	save(argv[1], "bzimage-2.15", tb_bz_build(&b, &size), &size);
	b.version = 0x020C;
	b.setup_sects = 0;		/* means 4 */
	b.cmdline_size = 255;
	b.initrd_addr_max = 0x37ffffff;
	save(argv[1], "bzimage-2.12-old-defaults", tb_bz_build(&b, &size), &size);
	save(argv[1], "elf-vmlinux", tb_elf_build(&e, &size), &size);
	e.pvh = true;
	save(argv[1], "elf-vmlinux-pvh", tb_elf_build(&e, &size), &size);
	e.pvh = false;
	e.virtual_entry = true;
	save(argv[1], "elf-vmlinux-virtual-entry", tb_elf_build(&e, &size), &size);
	return 0;
}
