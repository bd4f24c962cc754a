/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_BOOT_BOOT_H
#define SLICEVM_BOOT_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem/region.h"

/*
 * Loading a Linux kernel into guest memory and describing the machine to it:
 * the x86 boot protocol (bzImage or ELF vmlinux), boot_params, e820, ACPI,
 * and the page tables and GDT for the 64-bit entry.
 */

/*
 * Guest RAM is a list of regions (mem/region.h). The loaders need one that
 * starts at guest-physical 0 (boot data below 1M, the kernel at its load
 * address, the initrd below the kernel's limit): "low memory" below is
 * that region; e820 describes every region.
 */

enum kernel_format {
	KERNEL_BZIMAGE,
	KERNEL_ELF,
};

struct kernel_image {
	enum kernel_format format;
	uint8_t *data;			/* the whole file */
	size_t size;
	char *path;			/* copy of the file name, for messages */

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
	const void *initrd;		/* NULL for none (or see initrd_fd) */
	size_t initrd_size;
	/*
	 * Or, when initrd is NULL and initrd_size set: the file to read it
	 * from, straight into guest RAM once the plan says it fits (so a
	 * too-large initrd is refused before a byte of it is read).
	 */
	int initrd_fd;
	int ncpus;
	bool use_pvh;			/* ELF only: enter via the PVH note */
	const char *initrd_path;	/* names the initrd in messages; may be NULL */
};

/* CPUs the ACPI tables can describe (xAPIC ids 0..253; 254 is the IOAPIC). */
#define BOOT_MAX_CPUS		254

/*
 * The GDT at BOOT_GDT_ADDR (the same for both entry modes):
 *   0x00 null
 *   0x08 flat 32-bit code (PVH entry)
 *   0x10 flat 64-bit code (Linux's __BOOT_CS)
 *   0x18 flat data, 4 GiB, read/write (Linux's __BOOT_DS)
 *   0x20 TSS, base 0 limit 0x67, busy (16 bytes: 0x20 and 0x28)
 */
#define BOOT_SEL_CODE32		0x08
#define BOOT_SEL_CODE64		0x10
#define BOOT_SEL_DATA		0x18
#define BOOT_SEL_TSS		0x20

/*
 * One segment register as the CPU holds it after loading the descriptor:
 * exactly the fields of KVM's struct kvm_segment, so the vCPU code copies
 * them one by one without decoding the GDT.
 */
struct boot_segment {
	uint64_t base;
	uint32_t limit;		/* in bytes, already scaled by g: 0xffffffff when flat */
	uint16_t selector;
	uint8_t type;		/* 4-bit descriptor type, accessed/busy bit set */
	uint8_t present, dpl, db, s, l, g;
};

/*
 * Register state the boot CPU starts with. Applying it with KVM (after
 * KVM_SET_CPUID2, since KVM refuses EFER.LME without long mode in CPUID):
 *
 *   KVM_GET_SREGS, then set
 *     sregs.cs                          from cs
 *     sregs.ds, es, fs, gs, ss          from ds
 *     sregs.tr                          from tr
 *       (every kvm_segment field from the boot_segment field of the same
 *        name; avl = 0, unusable = 0)
 *     sregs.ldt    selector 0, type 2, present 0, unusable 1
 *     sregs.gdt    base = gdt_base, limit = gdt_limit
 *     sregs.idt    base 0, limit 0
 *     sregs.cr0, cr3, cr4, efer         from the fields of the same name
 *   KVM_SET_SREGS; then KVM_SET_REGS with every register 0 except rip,
 *   rsp, rsi, rbx and rflags from here.
 *
 * 64-bit entry: cs = 64-bit code (l = 1, db = 0), paging on with the identity
 * map at cr3, rsi = boot_params. PVH entry: cs = 32-bit code (db = 1), cr0 =
 * PE | ET only, cr3 = cr4 = efer = 0, rbx = hvm_start_info.
 */
struct boot_cpu_state {
	bool long_mode;		/* false: PVH 32-bit protected mode, paging off */
	uint64_t rip, rsp, rsi, rbx;
	uint64_t cr0, cr3, cr4, efer;
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint16_t code_sel, data_sel, tss_sel;	/* descriptors in the GDT */
	uint64_t rflags;	/* 0x2: interrupts off */

	/*
	 * The segment registers, matching the GDT descriptors: load cs into
	 * CS, ds into DS, ES, FS, GS and SS, tr into TR; LDTR is unusable
	 * (kvm_segment.unusable = 1, type 2, present 0); IDT base 0, limit 0.
	 */
	struct boot_segment cs, ds, tr;
};

/*
 * Copies the kernel, command line and initrd into guest memory and writes
 * boot_params (zero page), the e820 map, ACPI tables, GDT and identity page
 * tables. Checks the cmdline length and that the initrd fits below the limit
 * the kernel gives. Returns 0, or -1 with err_msg() set.
 */
/*
 * How much memory from guest-physical 0 kernel @k and an initrd of
 * @initrd_size need to boot (2M-aligned, with room to spare): the size of
 * the boot region of a layout whose other RAM is elsewhere (identity).
 */
uint64_t boot_low_memory_needed(const struct kernel_image *k, uint64_t initrd_size);

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
