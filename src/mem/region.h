/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_MEM_REGION_H
#define SLICEVM_MEM_REGION_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Guest memory as data: a list of regions, each a piece of guest-physical
 * address space backed by one host mapping. Built in one place (a layout
 * below) and read by everything that needs to know where RAM is: e820 and
 * the loaders (boot/), KVM memory slots and, later, VFIO DMA maps. Nothing
 * else assumes where RAM starts or ends.
 */

#define MEM_REGIONS_MAX		8
#define MEM_HPA_UNKNOWN		UINT64_MAX

enum mem_kind {
	MEM_KIND_RAM,		/* ordinary guest RAM */
	MEM_KIND_IDENTITY,	/* RAM whose guest-physical address is its host-physical one */
};

struct mem_region {
	uint64_t gpa;		/* guest-physical start */
	uint64_t size;		/* bytes, a multiple of 4K */
	uint8_t *host;		/* where the VMM sees it */
	uint64_t hpa;		/* host-physical start, or MEM_HPA_UNKNOWN */
	enum mem_kind kind;
};

/* Regions in ascending guest-physical order, never overlapping. */
struct guest_mem {
	int nr;
	struct mem_region r[MEM_REGIONS_MAX];
};

/*
 * Appends a region above the last one. Refused (-1, err_msg() set): no
 * room, not page-aligned, overlapping or below the previous region, or
 * reaching into the guest's device window (MEM_32BIT_GAP_START..4G).
 */
int guest_mem_add(struct guest_mem *m, uint64_t gpa, uint64_t size, uint8_t *host,
		  uint64_t hpa, enum mem_kind kind);

/* Host pointer to [gpa, gpa + len) if one region holds all of it, else NULL. */
void *guest_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* The region that starts at guest-physical 0 (the boot code's), or NULL. */
const struct mem_region *guest_mem_boot_region(const struct guest_mem *m);

/*
 * The 64-bit PCI window [@start, @end): PCI_MMIO64_SIZE bytes at the first
 * multiple of that size above 4 GiB and above the last region.
 */
void guest_mem_pci64_window(const struct guest_mem *m, uint64_t *start, uint64_t *end);

/* Bytes of RAM in all regions. */
uint64_t guest_mem_total(const struct guest_mem *m);

/* Bytes of RAM whose guest-physical address equals its host-physical one. */
uint64_t guest_mem_identity_bytes(const struct guest_mem *m);

/*
 * The usual layout: @size bytes at @host, from guest-physical 0 up to the
 * device window at 3G, the rest from 4G. @hpa, when known, is the host
 * physical address of @host (contiguous memory), else MEM_HPA_UNKNOWN.
 */
int mem_layout_split(struct guest_mem *m, uint8_t *host, uint64_t size, uint64_t hpa);

/*
 * The identity layout of a critical VM: the reserved range [@hpa, +@size)
 * at @host appears at guest-physical @hpa; below it, @boot_size bytes at
 * @boot_host from guest-physical 0 hold what Linux needs low in the
 * address space (the real-mode trampoline, boot data, the kernel at its
 * load address, the initrd). The range must lie above the boot region and
 * outside the device window.
 */
int mem_layout_identity(struct guest_mem *m, uint8_t *boot_host, uint64_t boot_size,
			uint8_t *host, uint64_t hpa, uint64_t size);

#endif
