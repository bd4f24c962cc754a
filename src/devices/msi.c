// SPDX-License-Identifier: GPL-2.0
/*
 * MSI capability emulation. The guest programs one message for all its
 * vectors and masks each; every change reaches the vector's route
 * (msi_ops), where the interrupt really goes.
 */
#include <string.h>

#include "devices/msi.h"
#include "lib/err.h"
#include "lib/le.h"

#define PCI_CAP_ID_MSI		0x05
#define CTRL			2
#define ADDR_LO			4
#define ADDR_HI			8
#define DATA			12
#define MASK			16
#define CTRL_ENABLE		0x0001
#define CTRL_MMC_SHIFT		1	/* bits 3:1, log2 of the vectors capable */
#define CTRL_MME_SHIFT		4	/* bits 6:4, log2 of the vectors enabled */
#define CTRL_MME		0x0070
#define CTRL_64BIT		0x0080
#define CTRL_MASKABLE		0x0100

static unsigned int log2u(unsigned int v)
{
	unsigned int l = 0;

	while (v > 1) {
		v >>= 1;
		l++;
	}
	return l;
}

int msi_init(struct msi *m, struct pci_device *pdev, unsigned int nvec,
	     const struct msi_ops *ops)
{
	uint8_t *c, *w;
	int cap;

	memset(m, 0, sizeof(*m));
	if (!nvec || nvec > MSI_MAX_VECTORS || (nvec & (nvec - 1)))
		return err_set("MSI: %u vectors is not a power of two up to %d", nvec,
			       MSI_MAX_VECTORS);
	m->pdev = pdev;
	m->ops = ops;
	for (unsigned int i = 0; i < nvec; i++) {
		m->fd[i] = -1;
		m->route[i] = ops->route_add(ops->ctx, &m->fd[i]);
		if (m->route[i] < 0)
			return -1;
		m->nvec = i + 1;
	}
	cap = pci_device_add_cap(pdev, PCI_CAP_ID_MSI, MSI_CAP_SIZE);
	if (cap < 0)
		return -1;
	m->cap = (unsigned int)cap;
	c = pdev->config + cap;
	w = pdev->wmask + cap;
	put_le16(c + CTRL, (uint16_t)(log2u(nvec) << CTRL_MMC_SHIFT | CTRL_64BIT | CTRL_MASKABLE));
	put_le16(w + CTRL, CTRL_ENABLE | CTRL_MME);
	put_le32(w + ADDR_LO, 0xFFFFFFFC);
	put_le32(w + ADDR_HI, 0xFFFFFFFF);
	put_le16(w + DATA, 0xFFFF);
	put_le32(w + MASK, nvec == 32 ? 0xFFFFFFFF : (1u << nvec) - 1);
	return 0;
}

unsigned int msi_enabled(const struct msi *m)
{
	uint16_t ctrl = get_le16(m->pdev->config + m->cap + CTRL);
	unsigned int n;

	if (!(ctrl & CTRL_ENABLE))
		return 0;
	/* more than the function is capable of means what it is capable of */
	n = 1u << ((ctrl & CTRL_MME) >> CTRL_MME_SHIFT);
	return n > m->nvec ? m->nvec : n;
}

const int *msi_fds(const struct msi *m)
{
	return m->fd;
}

void msi_config_written(struct msi *m)
{
	const uint8_t *c = m->pdev->config + m->cap;
	uint64_t addr = (uint64_t)get_le32(c + ADDR_HI) << 32 | get_le32(c + ADDR_LO);
	uint32_t mask = get_le32(c + MASK), data = get_le16(c + DATA);
	unsigned int n = msi_enabled(m);

	for (unsigned int i = 0; i < m->nvec; i++) {
		bool masked = i >= n || (mask & (1u << i));
		/* vector i: the low log2(n) bits of the data are its number */
		uint32_t d = (data & ~(n ? n - 1 : 0)) | i;

		if (m->applied[i] && m->applied_masked[i] == masked &&
		    (masked || (m->applied_addr[i] == addr && m->applied_data[i] == d)))
			continue;
		m->ops->route_set(m->ops->ctx, m->route[i], addr, d, masked);
		m->applied[i] = true;
		m->applied_masked[i] = masked;
		m->applied_addr[i] = addr;
		m->applied_data[i] = d;
	}
}
