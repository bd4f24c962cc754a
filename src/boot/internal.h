/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_BOOT_INTERNAL_H
#define SLICEVM_BOOT_INTERNAL_H

/*
 * Helpers shared by the files of the boot module only: little-endian field
 * access (guest structures are little-endian and often unaligned) and the
 * kernel loader's hooks for boot_setup().
 */

#include <stdint.h>
#include <string.h>

#include "boot/boot.h"
#include "lib/le.h"

/* Offsets in the bzImage file and in struct boot_params (they coincide for the setup header). */
#define BP_ACPI_RSDP_ADDR	0x070
#define BP_EXT_RAMDISK_IMAGE	0x0C0
#define BP_EXT_RAMDISK_SIZE	0x0C4
#define BP_EXT_CMD_LINE_PTR	0x0C8
#define BP_E820_ENTRIES		0x1E8
#define BP_SENTINEL		0x1EF
#define BP_HDR			0x1F1	/* setup header starts here */
#define BP_SETUP_SECTS		0x1F1
#define BP_SYSSIZE		0x1F4
#define BP_BOOT_FLAG		0x1FE
#define BP_JUMP			0x200
#define BP_HEADER		0x202
#define BP_VERSION		0x206
#define BP_TYPE_OF_LOADER	0x210
#define BP_LOADFLAGS		0x211
#define BP_CODE32_START		0x214
#define BP_RAMDISK_IMAGE	0x218
#define BP_RAMDISK_SIZE		0x21C
#define BP_HEAP_END_PTR		0x224
#define BP_CMD_LINE_PTR		0x228
#define BP_INITRD_ADDR_MAX	0x22C
#define BP_KERNEL_ALIGNMENT	0x230
#define BP_RELOCATABLE		0x234
#define BP_XLOADFLAGS		0x236
#define BP_CMDLINE_SIZE		0x238
#define BP_PREF_ADDRESS		0x258
#define BP_INIT_SIZE		0x260
#define BP_HDR_MIN_END		0x264	/* a 2.12 header reaches at least here */
#define BP_HDR_MAX_END		0x290	/* the setup header area of boot_params */
#define BP_E820_TABLE		0x2D0
#define BP_E820_MAX		128
#define BP_SIZE			0x1000

#define BOOT_FLAG_MAGIC		0xAA55
#define LOADED_HIGH		0x01
#define CAN_USE_HEAP		0x80
#define XLF_KERNEL_64		0x0001
#define TYPE_OF_LOADER_UNKNOWN	0xFF

/* ELF-kernel defaults (no setup header to read them from). */
#define ELF_CMDLINE_MAX		2047
#define ELF_INITRD_ADDR_MAX	0x7fffffffULL

/*
 * First guest-physical byte past the memory the kernel uses before it reads
 * the memory map (its image plus, for a bzImage, the decompression buffer at
 * its run address). The initrd must start at or above it.
 */
uint64_t kernel_mem_end(const struct kernel_image *k);

/* Checks that the kernel fits in @mem; -1 with err set if not. */
int kernel_check_fit(const struct guest_mem *mem, const struct kernel_image *k);

/* Copies the kernel into guest memory (after kernel_check_fit() passed). */
void kernel_load(struct guest_mem *mem, const struct kernel_image *k);

/* Name of the kernel file for messages. */
const char *kernel_name(const struct kernel_image *k);

#endif
