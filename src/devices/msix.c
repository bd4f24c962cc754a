// SPDX-License-Identifier: GPL-2.0
/*
 * MSI-X table emulation. The guest programs messages and masks; each
 * change is passed to the vector's route (msi_ops), which is where the
 * interrupt really goes: the device thread's eventfd write reaches KVM
 * directly through the route's irqfd.
 */
#include <stdlib.h>
#include <string.h>

#include "devices/msix.h"
#include "lib/err.h"
#include "lib/le.h"

#define CTRL_OFF		2	/* message control, in the capability */
#define TABLE_OFF		4
#define PBA_OFF			8
#define CTRL_ENABLE		0x8000
#define CTRL_FUNC_MASK		0x4000
#define VECTOR_MASKED		1

#define ENTRY_ADDR_LO		0
#define ENTRY_ADDR_HI		4
#define ENTRY_DATA		8
#define ENTRY_CTRL		12

int msix_init(struct msix *m, struct pci_device *pdev, unsigned int nvec, int bar,
	      uint32_t table_offset, uint32_t pba_offset, const struct msi_ops *ops)
{
	int cap;

	memset(m, 0, sizeof(*m));
	if (!nvec || nvec > MSIX_MAX_VECTORS || (table_offset | pba_offset) & 7)
		return err_set("MSI-X: %u vectors or table/PBA offsets %#x/%#x are invalid",
			       nvec, table_offset, pba_offset);
	m->v = calloc(nvec, sizeof(*m->v));
	if (!m->v)
		return err_set("out of memory for %u MSI-X vectors", nvec);
	m->pdev = pdev;
	m->bar = bar;
	m->pba_bar = bar;
	m->table_offset = table_offset;
	m->pba_offset = pba_offset;
	m->ops = ops;
	for (unsigned int i = 0; i < nvec; i++) {
		m->v[i].ctrl = VECTOR_MASKED;
		m->v[i].fd = -1;
		m->v[i].route = ops->route_add(ops->ctx, &m->v[i].fd);
		if (m->v[i].route < 0)
			return -1;
		m->nvec = i + 1;
	}
	cap = pci_device_add_cap(pdev, PCI_CAP_ID_MSIX, MSIX_CAP_SIZE);
	if (cap < 0)
		return -1;
	m->cap = (unsigned int)cap;
	put_le16(pdev->config + cap + CTRL_OFF, (uint16_t)(nvec - 1));
	put_le16(pdev->wmask + cap + CTRL_OFF, CTRL_ENABLE | CTRL_FUNC_MASK);
	put_le32(pdev->config + cap + TABLE_OFF, table_offset | (uint32_t)bar);
	put_le32(pdev->config + cap + PBA_OFF, pba_offset | (uint32_t)bar);
	return 0;
}

void msix_set_pba(struct msix *m, int bar, uint32_t offset)
{
	m->pba_bar = bar;
	m->pba_offset = offset & ~7u;
	put_le32(m->pdev->config + m->cap + PBA_OFF, m->pba_offset | (uint32_t)bar);
}

void msix_destroy(struct msix *m)
{
	/* the routes and their eventfds belong to the msi_ops provider */
	free(m->v);
	m->v = NULL;
	m->nvec = 0;
}

static uint16_t message_control(const struct msix *m)
{
	return get_le16(m->pdev->config + m->cap + CTRL_OFF);
}

/* Tells the route what the guest now wants of vector @i, if that changed. */
static void apply(struct msix *m, unsigned int i)
{
	struct msix_vector *v = &m->v[i];
	uint16_t ctrl = message_control(m);
	bool masked = !(ctrl & CTRL_ENABLE) || (ctrl & CTRL_FUNC_MASK) ||
		      (v->ctrl & VECTOR_MASKED);
	uint64_t addr = (uint64_t)v->addr_hi << 32 | v->addr_lo;

	if (v->applied && v->applied_masked == masked &&
	    (masked || (v->applied_addr == addr && v->applied_data == v->data)))
		return;
	m->ops->route_set(m->ops->ctx, v->route, addr, v->data, masked);
	v->applied = true;
	v->applied_masked = masked;
	v->applied_addr = addr;
	v->applied_data = v->data;
}

void msix_config_written(struct msix *m)
{
	for (unsigned int i = 0; i < m->nvec; i++)
		apply(m, i);
}

static uint32_t *entry_word(struct msix_vector *v, unsigned int off)
{
	switch (off) {
	case ENTRY_ADDR_LO:
		return &v->addr_lo;
	case ENTRY_ADDR_HI:
		return &v->addr_hi;
	case ENTRY_DATA:
		return &v->data;
	default:
		return &v->ctrl;
	}
}

/* One aligned dword of the table. */
static void table_dword(struct msix *m, uint64_t offset, uint8_t *data, bool is_write)
{
	unsigned int i = (unsigned int)(offset / MSIX_ENTRY_SIZE);
	unsigned int off = (unsigned int)(offset % MSIX_ENTRY_SIZE);
	uint32_t *word;

	if (i >= m->nvec) {
		if (!is_write)
			memset(data, 0xFF, 4);
		return;
	}
	word = entry_word(&m->v[i], off);
	if (!is_write) {
		put_le32(data, *word);
		return;
	}
	/* only the mask bit of vector control is writable; the rest reserved */
	*word = off == ENTRY_CTRL ? (get_le32(data) & VECTOR_MASKED) : get_le32(data);
	apply(m, i);
}

bool msix_bar_access(struct msix *m, int bar, uint64_t offset, void *data, int size,
		     bool is_write)
{
	uint64_t table_end = m->table_offset + (uint64_t)m->nvec * MSIX_ENTRY_SIZE;
	uint64_t pba_end = m->pba_offset + ((m->nvec + 63) / 64) * 8;
	uint64_t end = offset + (uint64_t)size;
	uint8_t *bytes = data;

	/*
	 * An access touching the table is the table's, even one that starts
	 * before it: unaligned, so dropped. Passed on instead, its bytes in the
	 * table would reach a passed-through function's real table.
	 */
	if (bar == m->bar && end > m->table_offset && offset < table_end) {
		if ((size != 4 && size != 8) || offset % size) {
			if (!is_write)
				memset(data, 0xFF, size);
			return true;
		}
		for (int i = 0; i < size; i += 4)
			table_dword(m, offset - m->table_offset + i, bytes + i, is_write);
		return true;
	}
	if (bar == m->pba_bar && end > m->pba_offset && offset < pba_end) {
		if (!is_write)
			memset(data, 0, size);
		return true;
	}
	return false;
}

int msix_vector_fd(const struct msix *m, unsigned int vec)
{
	return vec < m->nvec ? m->v[vec].fd : -1;
}
