// SPDX-License-Identifier: GPL-2.0
/* Guest memory regions and the two layouts (see region.h). */
#include <string.h>

#include "lib/err.h"
#include "lib/size.h"
#include "mem/region.h"
#include "arch/x86/platform.h"

#define PAGE_MASK_4K	0xFFFULL

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int guest_mem_add(struct guest_mem *m, uint64_t gpa, uint64_t size, uint8_t *host,
		  uint64_t hpa, enum mem_kind kind)
{
	const struct mem_region *last = m->nr ? &m->r[m->nr - 1] : NULL;
	char a[32], b[32];

	if (m->nr >= MEM_REGIONS_MAX)
		return err_set("guest memory needs more than %d regions", MEM_REGIONS_MAX);
	if (!size || (gpa | size) & PAGE_MASK_4K || gpa + size < gpa)
		return err_set("guest memory region %#llx+%s is not whole pages",
			       (unsigned long long)gpa, size_format(size, a, sizeof(a)));
	if (last && gpa < last->gpa + last->size)
		return err_set("guest memory region at %#llx overlaps the one at %#llx",
			       (unsigned long long)gpa, (unsigned long long)last->gpa);
	if (overlaps(gpa, size, MEM_32BIT_GAP_START, MEM_HIGH_START - MEM_32BIT_GAP_START))
		return err_set("guest RAM at %#llx of %s reaches into the device window %s-4G: "
			       "use memory below %s or above 4G", (unsigned long long)gpa,
			       size_format(size, a, sizeof(a)),
			       size_format(MEM_32BIT_GAP_START, b, sizeof(b)), b);
	m->r[m->nr++] = (struct mem_region){
		.gpa = gpa, .size = size, .host = host, .hpa = hpa, .kind = kind,
	};
	return 0;
}

void *guest_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < m->nr; i++) {
		const struct mem_region *r = &m->r[i];

		/* [gpa, gpa + len) inside [r->gpa, r->gpa + r->size), without overflow */
		if (r->host && gpa >= r->gpa && gpa - r->gpa <= r->size &&
		    len <= r->size - (gpa - r->gpa))
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

const struct mem_region *guest_mem_boot_region(const struct guest_mem *m)
{
	return m->nr && m->r[0].gpa == 0 ? &m->r[0] : NULL;
}

void guest_mem_pci64_window(const struct guest_mem *m, uint64_t *start, uint64_t *end)
{
	uint64_t top = MEM_HIGH_START;

	for (int i = 0; i < m->nr; i++)
		if (m->r[i].gpa + m->r[i].size > top)
			top = m->r[i].gpa + m->r[i].size;
	*start = (top + PCI_MMIO64_SIZE - 1) & ~(PCI_MMIO64_SIZE - 1);
	*end = *start + PCI_MMIO64_SIZE;
}

uint64_t guest_mem_total(const struct guest_mem *m)
{
	uint64_t total = 0;

	for (int i = 0; i < m->nr; i++)
		total += m->r[i].size;
	return total;
}

uint64_t guest_mem_identity_bytes(const struct guest_mem *m)
{
	uint64_t n = 0;

	for (int i = 0; i < m->nr; i++)
		if (m->r[i].hpa == m->r[i].gpa)
			n += m->r[i].size;
	return n;
}

int mem_layout_split(struct guest_mem *m, uint8_t *host, uint64_t size, uint64_t hpa)
{
	uint64_t low = size < MEM_32BIT_GAP_START ? size : MEM_32BIT_GAP_START;

	memset(m, 0, sizeof(*m));
	if (guest_mem_add(m, 0, low, host, hpa, MEM_KIND_RAM))
		return -1;
	if (size == low)
		return 0;
	return guest_mem_add(m, MEM_HIGH_START, size - low, host ? host + low : NULL,
			     hpa == MEM_HPA_UNKNOWN ? hpa : hpa + low, MEM_KIND_RAM);
}

int mem_layout_identity(struct guest_mem *m, uint8_t *boot_host, uint64_t boot_size,
			uint8_t *host, uint64_t hpa, uint64_t size)
{
	char a[32], b[32];

	memset(m, 0, sizeof(*m));
	if (hpa < boot_size)
		return err_set("the reserved range at %#llx starts inside the %s the guest needs "
			       "low in memory: reserve a range above %s",
			       (unsigned long long)hpa, size_format(boot_size, a, sizeof(a)),
			       size_format(boot_size, b, sizeof(b)));
	if (guest_mem_add(m, 0, boot_size, boot_host, MEM_HPA_UNKNOWN, MEM_KIND_RAM))
		return -1;
	return guest_mem_add(m, hpa, size, host, hpa, MEM_KIND_IDENTITY);
}
