// SPDX-License-Identifier: GPL-2.0
/*
 * Reading and checking a kernel image: a bzImage (Linux x86 boot protocol,
 * entered at its 64-bit entry point) or an x86-64 ELF vmlinux (entered at
 * its physical e_entry, or through its PVH note).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/internal.h"
#include "lib/err.h"
#include "lib/file.h"
#include "lib/size.h"
#include "arch/x86/platform.h"

#define KERNEL_FILE_MAX		(512ULL << 20)
#define XEN_ELFNOTE_PHYS32_ENTRY 18

const char *kernel_name(const struct kernel_image *k)
{
	return k->path ? k->path : "kernel";
}

/* ---- bzImage ---- */

static int is_bzimage(const uint8_t *d, size_t size)
{
	return size >= BP_VERSION &&
	       get_le16(d + BP_BOOT_FLAG) == BOOT_FLAG_MAGIC &&
	       memcmp(d + BP_HEADER, "HdrS", 4) == 0;
}

static int bzimage_parse(struct kernel_image *k)
{
	const uint8_t *d = k->data;
	const char *path = kernel_name(k);
	uint64_t pm_off, pm_size, sys_bytes;
	unsigned int setup_sects;

	if (k->size < BP_HDR_MIN_END + 4)
		return err_set("%s is truncated: its setup header is cut off", path);
	k->protocol = get_le16(d + BP_VERSION);
	if (k->protocol < 0x020C)
		return err_set("%s uses boot protocol %u.%u; slicevm needs 2.12 or newer (a kernel from 2013 or later)",
			       path, k->protocol >> 8, k->protocol & 0xff);
	if (!(get_le16(d + BP_XLOADFLAGS) & XLF_KERNEL_64))
		return err_set("%s has no 64-bit entry point: give a 64-bit x86 kernel", path);

	setup_sects = d[BP_SETUP_SECTS] ? d[BP_SETUP_SECTS] : 4;
	pm_off = (uint64_t)(setup_sects + 1) * 512;
	sys_bytes = (uint64_t)get_le32(d + BP_SYSSIZE) * 16;
	if (pm_off >= k->size)
		return err_set("%s is truncated: it ends inside its real-mode setup code", path);
	pm_size = k->size - pm_off;
	if (pm_size < sys_bytes)
		return err_set("%s is truncated: it has %llu bytes of kernel code where its header says %llu",
			       path, (unsigned long long)pm_size,
			       (unsigned long long)sys_bytes);

	k->format = KERNEL_BZIMAGE;
	k->cmdline_max = get_le32(d + BP_CMDLINE_SIZE);	/* present since 2.06 */
	k->initrd_addr_max = get_le32(d + BP_INITRD_ADDR_MAX);
	k->init_size = get_le32(d + BP_INIT_SIZE);
	if (k->init_size < pm_size)
		k->init_size = (uint32_t)pm_size;
	k->load_addr = KERNEL_LOAD_ADDR;
	k->entry64 = KERNEL_LOAD_ADDR + 0x200;
	return 0;
}

/*
 * Where a bzImage decompresses itself: a relocatable kernel rounds its load
 * address up to kernel_alignment but never goes below its preferred
 * (link-time) address; a fixed one always runs at the preferred address.
 * It uses init_size bytes from there before it reads the e820 map.
 */
static uint64_t bzimage_mem_end(const struct kernel_image *k)
{
	const uint8_t *d = k->data;
	uint64_t align = get_le32(d + BP_KERNEL_ALIGNMENT);
	uint64_t pref = get_le64(d + BP_PREF_ADDRESS);
	uint64_t run = pref, pm_end;

	if (d[BP_RELOCATABLE]) {
		run = k->load_addr;
		if (align > 1 && !(align & (align - 1)))
			run = (run + align - 1) & ~(align - 1);
		if (run < pref)
			run = pref;
	}
	pm_end = k->load_addr + k->init_size;
	return run + k->init_size > pm_end ? run + k->init_size : pm_end;
}

/* ---- ELF vmlinux ---- */

static int elf_phdr(const struct kernel_image *k, unsigned int i, Elf64_Phdr *ph)
{
	Elf64_Ehdr eh;

	memcpy(&eh, k->data, sizeof(eh));
	memcpy(ph, k->data + eh.e_phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
	return ph->p_type;
}

static unsigned int elf_phnum(const struct kernel_image *k)
{
	Elf64_Ehdr eh;

	memcpy(&eh, k->data, sizeof(eh));
	return eh.e_phnum;
}

static int elf_check_header(const struct kernel_image *k, Elf64_Ehdr *eh)
{
	const char *path = kernel_name(k);

	if (k->size < sizeof(*eh))
		return err_set("%s is truncated: its ELF header is cut off", path);
	memcpy(eh, k->data, sizeof(*eh));
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return err_set("%s is not a 64-bit little-endian ELF: give an x86-64 vmlinux", path);
	if (eh->e_machine != EM_X86_64)
		return err_set("%s is an ELF for machine %u, not x86-64: give an x86-64 vmlinux",
			       path, eh->e_machine);
	if (eh->e_type != ET_EXEC)
		return err_set("%s is not an ELF executable (type %u): give a vmlinux, not a module or object",
			       path, eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    eh->e_phoff > k->size ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > k->size - eh->e_phoff)
		return err_set("%s has a damaged ELF program header table", path);
	return 0;
}

static int elf_check_load(const struct kernel_image *k, const Elf64_Phdr *ph,
			  unsigned int i)
{
	const char *path = kernel_name(k);

	if (ph->p_filesz > ph->p_memsz)
		return err_set("%s: ELF segment %u has more file bytes than memory bytes", path, i);
	if (ph->p_offset > k->size || ph->p_filesz > k->size - ph->p_offset)
		return err_set("%s is truncated: ELF segment %u ends past the end of the file",
			       path, i);
	if (ph->p_paddr + ph->p_memsz < ph->p_paddr ||
	    ph->p_paddr + ph->p_memsz > MEM_32BIT_GAP_START)
		return err_set("%s: ELF segment %u at 0x%llx does not fit below 3G",
			       path, i, (unsigned long long)ph->p_paddr);
	if (ph->p_paddr < MEM_BIOS_END)
		return err_set("%s: ELF segment %u at 0x%llx overlaps the boot data below 1M",
			       path, i, (unsigned long long)ph->p_paddr);
	return 0;
}

/* Physical address of @addr, given as physical or as a link-time virtual address. */
static int elf_to_phys(const struct kernel_image *k, uint64_t addr, uint64_t *phys)
{
	unsigned int i, n = elf_phnum(k);
	Elf64_Phdr ph;

	/* Linux's e_entry is physical; the per-CPU segment has p_vaddr 0, so try physical first. */
	for (i = 0; i < n; i++) {
		if (elf_phdr(k, i, &ph) == PT_LOAD &&
		    addr >= ph.p_paddr && addr - ph.p_paddr < ph.p_memsz) {
			*phys = addr;
			return 0;
		}
	}
	for (i = 0; i < n; i++) {
		if (elf_phdr(k, i, &ph) == PT_LOAD &&
		    addr >= ph.p_vaddr && addr - ph.p_vaddr < ph.p_memsz) {
			*phys = addr - ph.p_vaddr + ph.p_paddr;
			return 0;
		}
	}
	return -1;
}

static uint64_t align4(uint32_t v)
{
	return ((uint64_t)v + 3) & ~3ULL;
}

/* Looks for the Xen PHYS32_ENTRY note in one PT_NOTE segment. */
static int elf_scan_notes(struct kernel_image *k, const Elf64_Phdr *ph)
{
	const uint8_t *p, *end;

	if (ph->p_offset > k->size || ph->p_filesz > k->size - ph->p_offset)
		return err_set("%s is truncated: an ELF note segment ends past the end of the file",
			       kernel_name(k));
	p = k->data + ph->p_offset;
	end = p + ph->p_filesz;
	while ((size_t)(end - p) >= 12) {
		uint32_t namesz = get_le32(p), descsz = get_le32(p + 4);
		uint32_t type = get_le32(p + 8);
		uint64_t left = (uint64_t)(end - p), next, entry, phys;
		const uint8_t *name = p + 12, *desc;

		/* A damaged note ends the scan; the last one may lack its padding. */
		if (12 + align4(namesz) + descsz > left)
			break;
		desc = name + align4(namesz);
		next = 12 + align4(namesz) + align4(descsz);
		p = next <= left ? p + next : end;
		if (type != XEN_ELFNOTE_PHYS32_ENTRY || namesz != 4 ||
		    memcmp(name, "Xen", 4) != 0)
			continue;
		if (descsz == 4)
			entry = get_le32(desc);
		else if (descsz == 8)
			entry = get_le64(desc);
		else
			return err_set("%s has a PVH entry note of %u bytes, expected 4 or 8",
				       kernel_name(k), descsz);
		if (elf_to_phys(k, entry, &phys) < 0 || phys > UINT32_MAX)
			return err_set("%s has a PVH entry point 0x%llx outside its loaded segments",
				       kernel_name(k), (unsigned long long)entry);
		k->has_pvh = true;
		k->pvh_entry = (uint32_t)phys;
	}
	return 0;
}

static int elf_parse(struct kernel_image *k)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	unsigned int i, nload = 0;
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	if (elf_check_header(k, &eh) < 0)
		return -1;
	for (i = 0; i < eh.e_phnum; i++) {
		if (elf_phdr(k, i, &ph) != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (elf_check_load(k, &ph, i) < 0)
			return -1;
		if (ph.p_paddr < lo)
			lo = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > hi)
			hi = ph.p_paddr + ph.p_memsz;
		nload++;
	}
	if (!nload)
		return err_set("%s has no loadable ELF segments", kernel_name(k));
	if (elf_to_phys(k, eh.e_entry, &k->entry64) < 0)
		return err_set("%s has its entry point 0x%llx outside its loaded segments",
			       kernel_name(k), (unsigned long long)eh.e_entry);
	for (i = 0; i < eh.e_phnum; i++) {
		if (elf_phdr(k, i, &ph) == PT_NOTE && elf_scan_notes(k, &ph) < 0)
			return -1;
	}
	k->format = KERNEL_ELF;
	k->protocol = 0x020F;
	k->cmdline_max = ELF_CMDLINE_MAX;
	k->initrd_addr_max = ELF_INITRD_ADDR_MAX;
	k->load_addr = lo;
	k->init_size = (uint32_t)(hi - lo);	/* below 3G, checked above */
	return 0;
}

/* ---- public ---- */

int kernel_open(const char *path, struct kernel_image *k)
{
	struct kernel_image img;
	int ret;

	memset(&img, 0, sizeof(img));
	img.path = strdup(path);
	if (!img.path)
		return err_set("out of memory opening kernel %s", path);
	if (file_read_all("kernel", path, "give the path of a bzImage or vmlinux",
			  KERNEL_FILE_MAX, &img.data, &img.size) < 0) {
		free(img.path);
		return -1;
	}
	if (img.size >= SELFMAG && memcmp(img.data, ELFMAG, SELFMAG) == 0)
		ret = elf_parse(&img);
	else if (is_bzimage(img.data, img.size))
		ret = bzimage_parse(&img);
	else
		ret = err_set("%s is not a Linux bzImage or ELF vmlinux: give the kernel's bzImage (/boot/vmlinuz-*) or its vmlinux",
			      path);
	if (ret < 0) {
		kernel_close(&img);
		return -1;
	}
	*k = img;
	return 0;
}

void kernel_close(struct kernel_image *k)
{
	free(k->data);
	free(k->path);
	memset(k, 0, sizeof(*k));
}

uint64_t kernel_mem_end(const struct kernel_image *k)
{
	if (k->format == KERNEL_BZIMAGE)
		return bzimage_mem_end(k);
	return k->load_addr + k->init_size;
}

int kernel_check_fit(const struct guest_mem *mem, const struct kernel_image *k)
{
	const struct mem_region *low = guest_mem_boot_region(mem);
	uint64_t end = kernel_mem_end(k), have = low ? low->size : 0;
	char need[32], buf[32];

	if (end > have)
		return err_set("kernel %s needs guest memory up to %s but the guest has %s from address 0: give more --memory",
			       kernel_name(k), size_format(end, need, sizeof(need)),
			       size_format(have, buf, sizeof(buf)));
	return 0;
}

void kernel_load(struct guest_mem *mem, const struct kernel_image *k)
{
	unsigned int i, n;
	Elf64_Phdr ph;

	if (k->format == KERNEL_BZIMAGE) {
		unsigned int sects = k->data[BP_SETUP_SECTS] ? k->data[BP_SETUP_SECTS] : 4;
		size_t off = (size_t)(sects + 1) * 512;

		memcpy(guest_ptr(mem, k->load_addr, k->size - off), k->data + off,
		       k->size - off);
		return;
	}
	n = elf_phnum(k);
	for (i = 0; i < n; i++) {
		uint8_t *dst;

		if (elf_phdr(k, i, &ph) != PT_LOAD || ph.p_memsz == 0)
			continue;
		dst = guest_ptr(mem, ph.p_paddr, ph.p_memsz);
		memcpy(dst, k->data + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}
}
