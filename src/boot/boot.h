/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_BOOT_BOOT_H
#define SLICEVM_BOOT_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Loading a Linux kernel into guest memory and describing the machine to it:
 * the x86 boot protocol (bzImage or ELF vmlinux), boot_params, e820, ACPI,
 * and the page tables and GDT for the 64-bit entry.
 */

/* Guest RAM as the loaders see it (see vmm/platform.h for the layout). */
struct guest_mem {
	uint8_t *low;		/* guest physical 0 .. low_size */
	uint64_t low_size;
	uint8_t *high;		/* guest physical 4 GiB .. 4 GiB + high_size */
	uint64_t high_size;
};

/* Host pointer to [gpa, gpa + len) if it lies inside guest RAM, else NULL. */
void *guest_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

enum kernel_format {
	KERNEL_BZIMAGE,
	KERNEL_ELF,
};

struct kernel_image {
	enum kernel_format format;
	uint8_t *data;			/* the whole file */
	size_t size;

	/* From the bzImage setup header (for ELF: sane protocol values). */
	uint16_t protocol;		/* e.g. 0x020f */
	uint32_t cmdline_max;		/* longest cmdline, without the NUL */
	uint64_t initrd_addr_max;	/* highest address the initrd may end at */
	uint32_t init_size;		/* memory the kernel needs from its load address */
	uint64_t load_addr;		/* guest physical load address */
	uint64_t entry64;		/* guest physical 64-bit entry point */
	bool has_pvh;			/* ELF with a XEN_ELFNOTE_PHYS32_ENTRY note */
	uint32_t pvh_entry;
};

/*
 * Reads @path and checks it: a bzImage (magic, boot protocol at least 2.12
 * for the 64-bit entry and XLF_KERNEL_64) or an x86-64 ELF vmlinux.
 * Returns 0, or -1 with one line in err_msg() naming the problem.
 */
int kernel_open(const char *path, struct kernel_image *k);
void kernel_close(struct kernel_image *k);

struct boot_config {
	const char *cmdline;
	const void *initrd;		/* NULL for none */
	size_t initrd_size;
	int ncpus;
	bool use_pvh;			/* ELF only: enter via the PVH note */
};

/* Register state the boot CPU starts with. */
struct boot_cpu_state {
	bool long_mode;		/* false: PVH 32-bit protected mode, paging off */
	uint64_t rip, rsp, rsi, rbx;
	uint64_t cr0, cr3, cr4, efer;
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint16_t code_sel, data_sel, tss_sel;	/* descriptors in the GDT */
};

/*
 * Copies the kernel, command line and initrd into guest memory and writes
 * boot_params (zero page), the e820 map, ACPI tables, GDT and identity page
 * tables. Checks the cmdline length and that the initrd fits below the limit
 * the kernel gives. Returns 0, or -1 with err_msg() set.
 */
int boot_setup(struct guest_mem *mem, const struct kernel_image *k,
	       const struct boot_config *cfg, struct boot_cpu_state *cpu);

/* The e820 map for a guest with this RAM layout (pure, unit tested). */
struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

#define E820_RAM	1
#define E820_RESERVED	2
#define E820_ACPI	3

int e820_build(const struct guest_mem *mem, struct e820_entry *map, int max);

/* Writes RSDP, XSDT, FADT, DSDT and MADT; returns the RSDP address or 0 with err set. */
uint64_t acpi_build(struct guest_mem *mem, int ncpus);

#endif
