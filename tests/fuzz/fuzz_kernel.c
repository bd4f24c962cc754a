// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel loader: the input is a kernel image (bzImage or ELF vmlinux),
 * opened by kernel_open() from a memfd. When it loads, boot_setup() lays it
 * into guest RAM (mapped once, each mapping followed by an inaccessible
 * guard page, emptied before every boot) with a small initrd and command
 * line: once as a one-CPU guest with 128 MiB at guest-physical 0, once
 * through the PVH note when the image has one, and once with the most CPUs,
 * a long command line and a second region of 64 MiB at 4 GiB.
 */
#include <string.h>

#include "boot/boot.h"
#include "fuzz.h"
#include "lib/err.h"

#define GUEST_LOW	(128ULL << 20)
#define GUEST_HIGH	(64ULL << 20)
#define HIGH_GPA	(4ULL << 30)
#define GUARD		4096
#define INITRD_SIZE	(64 << 10)

static struct fuzz_file file;
static struct guest_mem mem, mem2;	/* low only; low and high */
static uint8_t *ram, *ram_high;
static uint8_t initrd[INITRD_SIZE];
static char long_cmdline[600];
static bool verbose;		/* SLICEVM_FUZZ_VERBOSE set: say what each input gave */

static uint8_t *map_ram(uint64_t size)
{
	uint8_t *p = mmap(NULL, size + GUARD, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		fuzz_fail("mmap guest RAM: %s", strerror(errno));
	if (mprotect(p + size, GUARD, PROT_NONE))
		fuzz_fail("mprotect guard: %s", strerror(errno));
	return p;
}

static void setup_once(void)
{
	fuzz_file_init(&file, "kernel");
	ram = map_ram(GUEST_LOW);
	ram_high = map_ram(GUEST_HIGH);
	if (guest_mem_add(&mem, 0, GUEST_LOW, ram, MEM_HPA_UNKNOWN, MEM_KIND_RAM) ||
	    guest_mem_add(&mem2, 0, GUEST_LOW, ram, MEM_HPA_UNKNOWN, MEM_KIND_RAM) ||
	    guest_mem_add(&mem2, HIGH_GPA, GUEST_HIGH, ram_high, MEM_HPA_UNKNOWN,
			  MEM_KIND_RAM))
		fuzz_fail("guest_mem_add: %s", err_msg());
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i * 13 + 5);
	memset(long_cmdline, 'x', sizeof(long_cmdline) - 1);
	memcpy(long_cmdline, "console=ttyS0 ", 14);
	verbose = getenv("SLICEVM_FUZZ_VERBOSE") != NULL;
}

static void boot_once(struct guest_mem *gm, const struct kernel_image *k,
		      const struct boot_config *cfg)
{
	struct boot_cpu_state cpu;

	/* Fresh zero pages, as a new VM gets. */
	if (madvise(ram, GUEST_LOW, MADV_DONTNEED) ||
	    madvise(ram_high, GUEST_HIGH, MADV_DONTNEED))
		fuzz_fail("madvise: %s", strerror(errno));
	memset(&cpu, 0, sizeof(cpu));
	err_clear();
	if (boot_setup(gm, k, cfg, &cpu)) {
		if (verbose)
			fprintf(stderr, "boot_setup (%d CPUs): %s\n", cfg->ncpus, err_msg());
		if (!*err_msg())
			fuzz_fail("boot_setup failed without a message");
		return;
	}
	if (cfg->use_pvh ? cpu.long_mode || cpu.rip != k->pvh_entry :
	    !cpu.long_mode || cpu.rip != k->entry64)
		fuzz_fail("boot_setup starts the CPU at 0x%llx (long mode %d)",
			  (unsigned long long)cpu.rip, cpu.long_mode);
	if (cpu.rip >= GUEST_LOW)
		fuzz_fail("the entry point 0x%llx is outside guest RAM",
			  (unsigned long long)cpu.rip);
	if (verbose)
		fprintf(stderr, "booted (%d CPUs, %s entry at 0x%llx)\n", cfg->ncpus,
			cpu.long_mode ? "64-bit" : "PVH", (unsigned long long)cpu.rip);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kernel_image k;
	struct boot_config cfg = {
		.cmdline = "console=ttyS0 reboot=k panic=-1",
		.initrd = initrd,
		.initrd_size = sizeof(initrd),
		.ncpus = 1,
		.initrd_path = "initrd",
	};

	if (!ram)
		setup_once();
	fuzz_file_set(&file, data, size);
	err_clear();
	if (kernel_open(file.path, &k)) {
		if (verbose)
			fprintf(stderr, "kernel_open: %s\n", err_msg());
		if (!*err_msg())
			fuzz_fail("kernel_open failed without a message");
		return 0;
	}
	if (k.format != KERNEL_BZIMAGE && k.format != KERNEL_ELF)
		fuzz_fail("kernel_open gave format %d", k.format);
	if (k.size != size || memcmp(k.data, data, size))
		fuzz_fail("kernel_open read %zu bytes of %zu", k.size, size);

	boot_once(&mem, &k, &cfg);
	if (k.has_pvh) {
		cfg.use_pvh = true;
		cfg.ncpus = 4;
		boot_once(&mem, &k, &cfg);
	}
	cfg.use_pvh = false;
	cfg.ncpus = BOOT_MAX_CPUS;
	cfg.cmdline = long_cmdline;
	cfg.initrd = NULL;
	cfg.initrd_size = 0;
	boot_once(&mem2, &k, &cfg);
	kernel_close(&k);
	return 0;
}
