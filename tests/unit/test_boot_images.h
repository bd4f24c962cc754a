/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_TEST_BOOT_IMAGES_H
#define SLICEVM_TEST_BOOT_IMAGES_H

/*
 * Synthetic kernels for the boot tests, built byte by byte from the boot
 * protocol and ELF layouts, written to temporary files for kernel_open().
 * Included by test_boot_*.c only.
 */
#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/le.h"

#define TB_MiB		(1ULL << 20)

struct tb_bz {
	uint16_t version;
	uint16_t xloadflags;
	uint8_t setup_sects;
	uint32_t pm_size;		/* protected-mode code bytes */
	uint32_t init_size;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
};

static inline struct tb_bz tb_bz_default(void)
{
	struct tb_bz b = {
		.version = 0x020F,
		.xloadflags = 0x7F,
		.setup_sects = 2,
		.pm_size = 0x3000,
		.init_size = 0x100000,
		.initrd_addr_max = 0x7fffffff,
		.cmdline_size = 2047,
	};
	return b;
}

/* A bzImage: setup sectors with the header, then pm_size bytes of "code" (i * 7). */
static inline uint8_t *tb_bz_build(const struct tb_bz *b, size_t *size)
{
	unsigned int sects = b->setup_sects ? b->setup_sects : 4;
	size_t off = (sects + 1) * 512, i;
	uint8_t *d = calloc(1, off + b->pm_size);

	d[0x1F1] = b->setup_sects;
	put_le32(d + 0x1F4, b->pm_size / 16);
	put_le16(d + 0x1FA, 0xFFFF);
	put_le16(d + 0x1FE, 0xAA55);
	d[0x200] = 0xEB;
	d[0x201] = 0x6A;			/* header ends at 0x26C */
	memcpy(d + 0x202, "HdrS", 4);
	put_le16(d + 0x206, b->version);
	d[0x211] = 0x01;			/* LOADED_HIGH */
	put_le32(d + 0x214, 0x100000);
	put_le32(d + 0x22C, b->initrd_addr_max);
	put_le32(d + 0x230, 0x200000);
	d[0x234] = 1;				/* relocatable */
	d[0x235] = 21;
	put_le16(d + 0x236, b->xloadflags);
	put_le32(d + 0x238, b->cmdline_size);
	put_le64(d + 0x258, 0x1000000);		/* pref_address 16M */
	put_le32(d + 0x260, b->init_size);
	for (i = 0; i < b->pm_size; i++)
		d[off + i] = (uint8_t)(i * 7);
	*size = off + b->pm_size;
	return d;
}

/*
 * An x86-64 vmlinux-like ELF: text at 16M (linked at 0xffffffff81000000),
 * data with bss right after, a per-CPU-like segment at vaddr 0, and
 * optionally a note segment with a Linux note and the Xen PVH entry note.
 */
#define TB_ELF_TEXT_PADDR	0x1000000ULL
#define TB_ELF_TEXT_VADDR	0xffffffff81000000ULL
#define TB_ELF_TEXT_SIZE	0x1000
#define TB_ELF_DATA_PADDR	0x1002000ULL
#define TB_ELF_DATA_FILESZ	0x800
#define TB_ELF_DATA_MEMSZ	0x3000
#define TB_ELF_PCPU_PADDR	0x1005000ULL
#define TB_ELF_PCPU_SIZE	0x1000
#define TB_ELF_ENTRY		0x1000100ULL
#define TB_ELF_PVH		0x1000800ULL

struct tb_elf {
	bool pvh;
	bool virtual_entry;		/* e_entry as a link-time virtual address */
	uint16_t machine;
	uint8_t class;
	uint16_t type;
};

static inline struct tb_elf tb_elf_default(void)
{
	struct tb_elf e = { .machine = EM_X86_64, .class = ELFCLASS64, .type = ET_EXEC };
	return e;
}

static inline size_t tb_note(uint8_t *p, const char *name, uint32_t type,
			     const void *desc, uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	size_t off = 12;

	put_le32(p, namesz);
	put_le32(p + 4, descsz);
	put_le32(p + 8, type);
	memcpy(p + off, name, namesz);
	off += (namesz + 3) & ~3U;
	memcpy(p + off, desc, descsz);
	off += (descsz + 3) & ~3U;
	return off;
}

static inline uint8_t *tb_elf_build(const struct tb_elf *e, size_t *size)
{
	const size_t text_off = 0x1000, data_off = 0x2000, pcpu_off = 0x3000;
	const size_t note_off = 0x4000, total = 0x5000;
	uint8_t *d = calloc(1, total);
	Elf64_Ehdr eh;
	Elf64_Phdr ph[4];
	size_t i, note_len = 0;
	int nph = e->pvh ? 4 : 3;

	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = e->class;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = e->type;
	eh.e_machine = e->machine;
	eh.e_version = EV_CURRENT;
	eh.e_entry = e->virtual_entry ?
		TB_ELF_TEXT_VADDR + (TB_ELF_ENTRY - TB_ELF_TEXT_PADDR) : TB_ELF_ENTRY;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)nph;

	memset(ph, 0, sizeof(ph));
	ph[0].p_type = PT_LOAD;
	ph[0].p_offset = text_off;
	ph[0].p_vaddr = TB_ELF_TEXT_VADDR;
	ph[0].p_paddr = TB_ELF_TEXT_PADDR;
	ph[0].p_filesz = ph[0].p_memsz = TB_ELF_TEXT_SIZE;
	ph[1].p_type = PT_LOAD;
	ph[1].p_offset = data_off;
	ph[1].p_vaddr = TB_ELF_TEXT_VADDR + (TB_ELF_DATA_PADDR - TB_ELF_TEXT_PADDR);
	ph[1].p_paddr = TB_ELF_DATA_PADDR;
	ph[1].p_filesz = TB_ELF_DATA_FILESZ;
	ph[1].p_memsz = TB_ELF_DATA_MEMSZ;
	ph[2].p_type = PT_LOAD;		/* like Linux's .data..percpu: vaddr 0 */
	ph[2].p_offset = pcpu_off;
	ph[2].p_vaddr = 0;
	ph[2].p_paddr = TB_ELF_PCPU_PADDR;
	ph[2].p_filesz = ph[2].p_memsz = TB_ELF_PCPU_SIZE;
	if (e->pvh) {
		uint64_t pvh = TB_ELF_PVH;
		uint32_t zero = 0;

		note_len += tb_note(d + note_off, "Linux", 6, "6.12\0\0\0", 8);
		note_len += tb_note(d + note_off + note_len, "Xen", 6, "linux", 6);
		note_len += tb_note(d + note_off + note_len, "Xen", 18, &pvh, 8);
		note_len += tb_note(d + note_off + note_len, "GNU", 3, &zero, 4);
		ph[3].p_type = PT_NOTE;
		ph[3].p_offset = note_off;
		ph[3].p_vaddr = TB_ELF_TEXT_VADDR + 0x800;
		ph[3].p_paddr = TB_ELF_TEXT_PADDR + 0x800;
		ph[3].p_filesz = ph[3].p_memsz = note_len;
		ph[3].p_align = 4;
	}
	memcpy(d, &eh, sizeof(eh));
	memcpy(d + sizeof(eh), ph, sizeof(ph[0]) * (size_t)nph);
	for (i = 0; i < TB_ELF_TEXT_SIZE; i++)
		d[text_off + i] = (uint8_t)(i * 3 + 1);
	for (i = 0; i < TB_ELF_DATA_FILESZ; i++)
		d[data_off + i] = (uint8_t)(i * 5 + 2);
	for (i = 0; i < TB_ELF_PCPU_SIZE; i++)
		d[pcpu_off + i] = 0x5C;
	*size = total;
	return d;
}

/* Writes @len bytes to a new temporary file; returns its malloc'd path. */
static inline char *tb_write_temp(const void *data, size_t len)
{
	char *path = strdup("/tmp/slicevm-boot-test-XXXXXX");
	int fd = mkstemp(path);

	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len)) {
		fprintf(stderr, "cannot write temp file\n");
		abort();
	}
	close(fd);
	return path;
}

static inline void tb_remove_temp(char *path)
{
	unlink(path);
	free(path);
}

/*
 * The real kernels another step leaves in cache/guest/ (SLICEVM_GUEST_DIR
 * overrides the directory). Tests on them are registered only when the file
 * is there: cmocka's TAP output reports a skip as "not ok", which
 * tests/run.sh would count as a failure.
 */
static inline bool tb_guest_file(const char *name, char *path, size_t len)
{
	const char *dir = getenv("SLICEVM_GUEST_DIR");
	struct stat st;

	snprintf(path, len, "%s/%s", dir ? dir : "cache/guest", name);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Runs @base, plus each of @opt whose kernel file @opt_files[i] exists. */
static inline int tb_run(const struct CMUnitTest *base, size_t nbase,
			 const struct CMUnitTest *opt, const char *const *opt_files,
			 size_t nopt)
{
	struct CMUnitTest all[64];
	size_t n = 0, i;
	char path[4096];

	for (i = 0; i < nbase && n < 64; i++)
		all[n++] = base[i];
	for (i = 0; i < nopt && n < 64; i++) {
		if (tb_guest_file(opt_files[i], path, sizeof(path)))
			all[n++] = opt[i];
		else
			printf("# %s absent: %s not run\n", path, opt[i].name);
	}
	return _cmocka_run_group_tests("tests", all, n, NULL, NULL);
}

#endif
