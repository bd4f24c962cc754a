// SPDX-License-Identifier: GPL-2.0
/*
 * boot_setup(): everything a Linux kernel expects to find in memory and in
 * the boot CPU's registers when slicevm jumps to it, either through the
 * 64-bit boot protocol (Documentation/arch/x86/boot.rst: paging on with an
 * identity map, a flat GDT, %rsi = boot_params) or through the PVH entry
 * (32-bit protected mode, paging off, %ebx = hvm_start_info).
 */
#include <string.h>

#include "boot/internal.h"
#include "lib/err.h"
#include "lib/file.h"
#include "lib/size.h"
#include "arch/x86/platform.h"

#define PAGE_SIZE		0x1000ULL
#define HUGE_2M			0x200000ULL

/* Page table entry bits. */
#define PTE_PRESENT		0x001ULL
#define PTE_WRITE		0x002ULL
#define PTE_PS			0x080ULL	/* 2 MiB page in a PD entry */

#define BOOT_PDPT_ADDR		(BOOT_PML4_ADDR + PAGE_SIZE)
#define BOOT_PD_ADDR		(BOOT_PML4_ADDR + 2 * PAGE_SIZE)
#define BOOT_PD_COUNT		4	/* 4 x 1 GiB: the first 4 GiB */

#define GDT_ENTRIES		6	/* null, code32, code64, data, TSS (2 slots) */
#define TSS_LIMIT		0x67

/* Control register bits. */
#define CR0_PE			0x00000001ULL
#define CR0_ET			0x00000010ULL
#define CR0_PG			0x80000000ULL
#define CR4_PAE			0x00000020ULL
#define EFER_LME		0x00000100ULL
#define EFER_LMA		0x00000400ULL
#define RFLAGS_RESERVED		0x2ULL

/* hvm_start_info (Xen public/arch-x86/hvm/start_info.h), version 1. */
#define PVH_MAGIC		0x336ec578U
#define PVH_START_SIZE		56
#define PVH_MODLIST_ADDR	(BOOT_PVH_INFO_ADDR + 0x40)
#define PVH_MODLIST_SIZE	32
#define PVH_MEMMAP_ADDR		(BOOT_PVH_INFO_ADDR + 0x80)
#define PVH_MEMMAP_ENTRY	24
#define PVH_MEMMAP_MAX		((BOOT_ZERO_PAGE_ADDR - PVH_MEMMAP_ADDR) / PVH_MEMMAP_ENTRY)

_Static_assert(PVH_MODLIST_ADDR >= BOOT_PVH_INFO_ADDR + PVH_START_SIZE, "start info overlap");
_Static_assert(PVH_MEMMAP_ADDR >= PVH_MODLIST_ADDR + PVH_MODLIST_SIZE, "modlist overlap");
_Static_assert(BP_E820_MAX <= PVH_MEMMAP_MAX, "PVH memory map area too small");
_Static_assert(BOOT_PD_ADDR + BOOT_PD_COUNT * PAGE_SIZE <= BOOT_CMDLINE_ADDR, "page tables overlap");

/* Setup-heap end the boot protocol suggests (0xFE00) minus 0x200, as heap_end_ptr wants. */
#define HEAP_END_PTR		(0xFE00 - 0x200)

struct boot_plan {
	struct e820_entry map[BP_E820_MAX];
	int nmap;
	size_t cmdline_len;
	uint64_t initrd_addr;
	bool pvh;
};

/*
 * The initrd goes as high as it can: page-aligned, ending at or below both
 * the kernel's limit and the top of low memory, and above the memory the
 * kernel uses while it decompresses and starts.
 */
static int plan_initrd(const struct guest_mem *mem, const struct kernel_image *k,
		       const struct boot_config *cfg, struct boot_plan *plan)
{
	const char *name = cfg->initrd_path ? cfg->initrd_path : "image";
	const struct mem_region *low = guest_mem_boot_region(mem);
	uint64_t floor, limit = low->size, size = cfg->initrd_size;
	char b1[32], b2[32], b3[32];

	if (!size)
		return 0;
	floor = (kernel_mem_end(k) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (k->initrd_addr_max + 1 < limit)
		limit = k->initrd_addr_max + 1;
	if (size <= limit && ((limit - size) & ~(PAGE_SIZE - 1)) >= floor) {
		plan->initrd_addr = (limit - size) & ~(PAGE_SIZE - 1);
		return 0;
	}
	size_format(size, b1, sizeof(b1));
	size_format(limit, b2, sizeof(b2));
	if (limit < low->size)
		return err_set("initrd %s of %s does not fit below %s, the highest address %s accepts for it: use a smaller initrd",
			       name, b1, b2, kernel_name(k));
	return err_set("initrd %s of %s does not fit below %s in a guest with %s of memory: give more --memory",
		       name, b1, b2, size_format(guest_mem_total(mem), b3, sizeof(b3)));
}

/* Every check, before anything is written, so a refused setup changes nothing. */
static int plan_boot(const struct guest_mem *mem, const struct kernel_image *k,
		     const struct boot_config *cfg, struct boot_plan *plan)
{
	const char *cmdline = cfg->cmdline ? cfg->cmdline : "";

	memset(plan, 0, sizeof(*plan));
	if (!guest_mem_boot_region(mem))
		return err_set("guest has no memory at address 0: give --memory 64M or more");
	plan->nmap = e820_build(mem, plan->map, BP_E820_MAX);
	if (plan->nmap < 0)
		return -1;
	if (cfg->ncpus < 1 || cfg->ncpus > BOOT_MAX_CPUS)
		return err_set("%d CPUs requested; slicevm guests have 1 to %d",
			       cfg->ncpus, BOOT_MAX_CPUS);
	plan->cmdline_len = strlen(cmdline);
	if (plan->cmdline_len > k->cmdline_max || plan->cmdline_len >= BOOT_CMDLINE_MAX)
		return err_set("kernel command line is %zu bytes; this kernel accepts at most %u",
			       plan->cmdline_len,
			       k->cmdline_max < BOOT_CMDLINE_MAX - 1 ?
			       k->cmdline_max : (unsigned int)BOOT_CMDLINE_MAX - 1);
	if (cfg->use_pvh && !(k->format == KERNEL_ELF && k->has_pvh))
		return err_set("%s has no PVH entry note: give an ELF vmlinux built with CONFIG_PVH, or boot without PVH",
			       kernel_name(k));
	plan->pvh = cfg->use_pvh;
	if (kernel_check_fit(mem, k) < 0)
		return -1;
	return plan_initrd(mem, k, cfg, plan);
}

/* A setup header for an ELF kernel, which has none of its own. */
static void zero_page_elf_header(uint8_t *bp, const struct kernel_image *k)
{
	put_le16(bp + BP_BOOT_FLAG, BOOT_FLAG_MAGIC);
	bp[BP_JUMP + 1] = BP_HDR_MIN_END + 8 - BP_HEADER;
	memcpy(bp + BP_HEADER, "HdrS", 4);
	put_le16(bp + BP_VERSION, k->protocol);
	put_le32(bp + BP_CODE32_START, (uint32_t)k->load_addr);
	put_le32(bp + BP_INITRD_ADDR_MAX, (uint32_t)k->initrd_addr_max);
	put_le32(bp + BP_KERNEL_ALIGNMENT, 0x1000000);
	put_le32(bp + BP_CMDLINE_SIZE, k->cmdline_max);
	put_le64(bp + BP_PREF_ADDRESS, k->load_addr);
	put_le32(bp + BP_INIT_SIZE, k->init_size);
}

static void write_zero_page(struct guest_mem *mem, const struct kernel_image *k,
			    const struct boot_config *cfg, const struct boot_plan *plan,
			    uint64_t rsdp)
{
	uint8_t *bp = guest_ptr(mem, BOOT_ZERO_PAGE_ADDR, BP_SIZE);
	int i;

	memset(bp, 0, BP_SIZE);
	if (k->format == KERNEL_BZIMAGE) {
		size_t end = BP_HEADER + k->data[BP_JUMP + 1];

		if (end > BP_HDR_MAX_END)
			end = BP_HDR_MAX_END;
		if (end > k->size)
			end = k->size;
		memcpy(bp + BP_HDR, k->data + BP_HDR, end - BP_HDR);
	} else {
		zero_page_elf_header(bp, k);
	}
	bp[BP_TYPE_OF_LOADER] = TYPE_OF_LOADER_UNKNOWN;
	bp[BP_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
	put_le16(bp + BP_HEAP_END_PTR, HEAP_END_PTR);
	put_le32(bp + BP_CODE32_START, (uint32_t)k->load_addr);
	put_le32(bp + BP_CMD_LINE_PTR, (uint32_t)BOOT_CMDLINE_ADDR);
	put_le32(bp + BP_EXT_CMD_LINE_PTR, (uint32_t)(BOOT_CMDLINE_ADDR >> 32));
	if (plan->initrd_addr) {
		put_le32(bp + BP_RAMDISK_IMAGE, (uint32_t)plan->initrd_addr);
		put_le32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(plan->initrd_addr >> 32));
		put_le32(bp + BP_RAMDISK_SIZE, (uint32_t)cfg->initrd_size);
		put_le32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)cfg->initrd_size >> 32));
	}
	if (k->protocol >= 0x020E)
		put_le64(bp + BP_ACPI_RSDP_ADDR, rsdp);
	bp[BP_E820_ENTRIES] = (uint8_t)plan->nmap;
	for (i = 0; i < plan->nmap; i++) {
		uint8_t *e = bp + BP_E820_TABLE + i * 20;

		put_le64(e, plan->map[i].addr);
		put_le64(e + 8, plan->map[i].size);
		put_le32(e + 16, plan->map[i].type);
	}
}

/*
 * A segment descriptor for a flat (base 0, 4 GiB) segment or the TSS.
 * access = P | DPL | S | type; flags = G | D/B | L (the high nibble of byte 6).
 */
static uint64_t gdt_entry(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (uint64_t)(limit & 0xffff) |
	       (uint64_t)(base & 0xffffff) << 16 |
	       (uint64_t)access << 40 |
	       (uint64_t)((limit >> 16) & 0xf) << 48 |
	       (uint64_t)(flags & 0xf0) << 48 |
	       (uint64_t)(base >> 24) << 56;
}

/* Descriptor bits, as boot_segment fields and as descriptor bytes. */
#define SEG_TYPE_CODE		0xB	/* execute/read, accessed */
#define SEG_TYPE_DATA		0x3	/* read/write, accessed */
#define SEG_TYPE_TSS_BUSY	0xB	/* 32/64-bit TSS, busy */

static uint64_t gdt_from_segment(const struct boot_segment *s)
{
	uint8_t access = (uint8_t)(s->present << 7 | s->dpl << 5 | s->s << 4 | s->type);
	uint8_t flags = (uint8_t)(s->g << 7 | s->db << 6 | s->l << 5);
	uint32_t limit = s->g ? s->limit >> 12 : s->limit;

	return gdt_entry((uint32_t)s->base, limit, access, flags);
}

static void flat_segment(struct boot_segment *s, uint16_t sel, uint8_t type, bool code64)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code64;
	s->db = !code64;	/* 32-bit code and data; must be 0 when l is set */
}

/* Never used by the guest, which loads its own TR; VMX entry wants a usable busy TSS. */
static void tss_segment(struct boot_segment *s)
{
	memset(s, 0, sizeof(*s));
	s->selector = BOOT_SEL_TSS;
	s->limit = TSS_LIMIT;
	s->type = SEG_TYPE_TSS_BUSY;
	s->present = 1;
}

/* The GDT holds every descriptor either entry mode loads, so both find theirs. */
static void write_gdt(struct guest_mem *mem)
{
	uint8_t *gdt = guest_ptr(mem, BOOT_GDT_ADDR, GDT_ENTRIES * 8);
	struct boot_segment c32, c64, data, tss;

	flat_segment(&c32, BOOT_SEL_CODE32, SEG_TYPE_CODE, false);
	flat_segment(&c64, BOOT_SEL_CODE64, SEG_TYPE_CODE, true);
	flat_segment(&data, BOOT_SEL_DATA, SEG_TYPE_DATA, false);
	tss_segment(&tss);
	memset(gdt, 0, GDT_ENTRIES * 8);
	put_le64(gdt + BOOT_SEL_CODE32, gdt_from_segment(&c32));
	put_le64(gdt + BOOT_SEL_CODE64, gdt_from_segment(&c64));
	put_le64(gdt + BOOT_SEL_DATA, gdt_from_segment(&data));
	/* In long mode a TSS descriptor takes two slots; the second (base 63:32) stays 0. */
	put_le64(gdt + BOOT_SEL_TSS, gdt_from_segment(&tss));
}

/* Identity map of the first 4 GiB with 2 MiB pages: PML4 -> PDPT -> 4 PDs. */
static void write_page_tables(struct guest_mem *mem)
{
	uint8_t *pt = guest_ptr(mem, BOOT_PML4_ADDR, (2 + BOOT_PD_COUNT) * PAGE_SIZE);
	uint8_t *pdpt = pt + PAGE_SIZE, *pd = pt + 2 * PAGE_SIZE;
	uint64_t i;

	memset(pt, 0, (2 + BOOT_PD_COUNT) * PAGE_SIZE);
	put_le64(pt, BOOT_PDPT_ADDR | PTE_PRESENT | PTE_WRITE);
	for (i = 0; i < BOOT_PD_COUNT; i++)
		put_le64(pdpt + i * 8, (BOOT_PD_ADDR + i * PAGE_SIZE) | PTE_PRESENT | PTE_WRITE);
	for (i = 0; i < BOOT_PD_COUNT * 512; i++)
		put_le64(pd + i * 8, i * HUGE_2M | PTE_PRESENT | PTE_WRITE | PTE_PS);
}

/* hvm_start_info with the command line, the initrd as module 0 and the e820 map. */
static void write_pvh_info(struct guest_mem *mem, const struct boot_config *cfg,
			   const struct boot_plan *plan, uint64_t rsdp)
{
	uint8_t *si = guest_ptr(mem, BOOT_PVH_INFO_ADDR, BOOT_ZERO_PAGE_ADDR - BOOT_PVH_INFO_ADDR);
	uint8_t *mod = si + (PVH_MODLIST_ADDR - BOOT_PVH_INFO_ADDR);
	uint8_t *map = si + (PVH_MEMMAP_ADDR - BOOT_PVH_INFO_ADDR);
	int i;

	memset(si, 0, BOOT_ZERO_PAGE_ADDR - BOOT_PVH_INFO_ADDR);
	put_le32(si, PVH_MAGIC);
	put_le32(si + 4, 1);			/* version: has the memory map */
	if (plan->initrd_addr) {
		put_le32(si + 12, 1);		/* nr_modules */
		put_le64(si + 16, PVH_MODLIST_ADDR);
		put_le64(mod, plan->initrd_addr);
		put_le64(mod + 8, cfg->initrd_size);
	}
	put_le64(si + 24, BOOT_CMDLINE_ADDR);
	put_le64(si + 32, rsdp);
	put_le64(si + 40, PVH_MEMMAP_ADDR);
	put_le32(si + 48, (uint32_t)plan->nmap);
	for (i = 0; i < plan->nmap; i++) {
		uint8_t *e = map + i * PVH_MEMMAP_ENTRY;

		put_le64(e, plan->map[i].addr);
		put_le64(e + 8, plan->map[i].size);
		put_le32(e + 16, plan->map[i].type);	/* same numbers as e820 */
	}
}

static void cpu_state(struct boot_cpu_state *cpu, const struct kernel_image *k, bool pvh)
{
	memset(cpu, 0, sizeof(*cpu));
	if (pvh)
		flat_segment(&cpu->cs, BOOT_SEL_CODE32, SEG_TYPE_CODE, false);
	else
		flat_segment(&cpu->cs, BOOT_SEL_CODE64, SEG_TYPE_CODE, true);
	flat_segment(&cpu->ds, BOOT_SEL_DATA, SEG_TYPE_DATA, false);
	tss_segment(&cpu->tr);
	cpu->code_sel = cpu->cs.selector;
	cpu->data_sel = cpu->ds.selector;
	cpu->tss_sel = cpu->tr.selector;
	cpu->gdt_base = BOOT_GDT_ADDR;
	cpu->gdt_limit = GDT_ENTRIES * 8 - 1;
	cpu->rflags = RFLAGS_RESERVED;
	cpu->rsp = BOOT_STACK_ADDR;
	if (pvh) {
		cpu->long_mode = false;
		cpu->rip = k->pvh_entry;
		cpu->rbx = BOOT_PVH_INFO_ADDR;
		cpu->cr0 = CR0_PE | CR0_ET;
		return;
	}
	cpu->long_mode = true;
	cpu->rip = k->entry64;
	cpu->rsi = BOOT_ZERO_PAGE_ADDR;
	cpu->cr0 = CR0_PE | CR0_ET | CR0_PG;
	cpu->cr3 = BOOT_PML4_ADDR;
	cpu->cr4 = CR4_PAE;
	cpu->efer = EFER_LME | EFER_LMA;
}

#define SZ_2M	(2ULL << 20)
#define BOOT_LOW_SPARE	(16ULL << 20)	/* early allocations before the rest of RAM is known */

static uint64_t align_2m(uint64_t x)
{
	return (x + SZ_2M - 1) & ~(SZ_2M - 1);
}

uint64_t boot_low_memory_needed(const struct kernel_image *k, uint64_t initrd_size)
{
	return align_2m(kernel_mem_end(k)) + align_2m(initrd_size) + BOOT_LOW_SPARE;
}

int boot_setup(struct guest_mem *mem, const struct kernel_image *k,
	       const struct boot_config *cfg, struct boot_cpu_state *cpu)
{
	struct boot_plan plan;
	uint64_t rsdp;

	if (plan_boot(mem, k, cfg, &plan) < 0)
		return -1;
	rsdp = acpi_build(mem, cfg->ncpus);
	if (!rsdp)
		return -1;
	kernel_load(mem, k);
	memcpy(guest_ptr(mem, BOOT_CMDLINE_ADDR, plan.cmdline_len + 1),
	       cfg->cmdline ? cfg->cmdline : "", plan.cmdline_len + 1);
	if (plan.initrd_addr && cfg->initrd)
		memcpy(guest_ptr(mem, plan.initrd_addr, cfg->initrd_size), cfg->initrd,
		       cfg->initrd_size);
	else if (plan.initrd_addr &&
		 file_read_into(cfg->initrd_fd, "initrd", cfg->initrd_path ? cfg->initrd_path : "",
				guest_ptr(mem, plan.initrd_addr, cfg->initrd_size),
				cfg->initrd_size))
		return -1;
	write_zero_page(mem, k, cfg, &plan, rsdp);
	if (plan.pvh)
		write_pvh_info(mem, cfg, &plan, rsdp);
	write_page_tables(mem);
	write_gdt(mem);
	cpu_state(cpu, k, plan.pvh);
	return 0;
}
