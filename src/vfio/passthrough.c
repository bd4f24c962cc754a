// SPDX-License-Identifier: GPL-2.0
/*
 * The passed-through PCI function's virtual config space, its BARs as KVM
 * memory slots, and its MSI-X vectors. See passthrough.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "arch/x86/platform.h"
#include "lib/err.h"
#include "lib/le.h"
#include "lib/size.h"
#include "vfio/passthrough.h"

#define PAGE			4096ULL
#define PAGE_DOWN(x)		((x) & ~(PAGE - 1))
#define PAGE_UP(x)		(((x) + PAGE - 1) & ~(PAGE - 1))

#define PCI_STATUS_CAP_LIST_BIT	0x10
#define PCI_HEADER_MULTIFUNC	0x80
#define PCI_CMD_INTX_DISABLE	0x0400
#define PCI_BAR_MEM_TYPE_64	0x04
#define PCI_BAR_MEM_PREFETCH	0x08
#define PCI_BAR_MAX		(1ULL << 31)	/* shown as 32-bit BARs */

#define PCI_CAP_ID_MSI		0x05
#define PCI_CAP_ID_PCIE		0x10
#define MSI_CTRL		2
#define MSI_CTRL_MMC		0x000E	/* log2 of the vectors capable, bits 3:1 */
#define CAPS_MAX		48	/* a chain longer than config space holds is broken */

#define MSIX_CTRL		2
#define MSIX_TABLE		4
#define MSIX_PBA		8
#define MSIX_CTRL_SIZE		0x07FF
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_BIR		0x7

#define PCIE_FLAGS		2
#define PCIE_DEVCAP		4
#define PCIE_DEVCTL		8
#define PCIE_DEVSTA		10
#define PCIE_DEVCAP2		0x24
#define PCIE_DEVCTL2		0x28
#define PCIE_CAP_SIZE		0x3C	/* version 2 */
#define PCIE_TYPE_RC_END	0x9	/* root complex integrated endpoint */
#define PCIE_DEVCAP_FLR		(1u << 28)
#define PCIE_DEVCTL_FLR		0x8000

/* A stretch of a BAR the guest reaches through a memory slot. */
struct piece {
	uint64_t off, size;
};

struct passthrough {
	struct pci_device pdev;
	struct vfio_dev_info info;
	const struct vfio_hw *hw;
	const struct memslot_ops *slots;
	int slot_base;
	void (*on_error)(void *ctx, const char *msg);
	void *err_ctx;

	const struct intx_ops *intx;
	int intx_pin;			/* 1-4 (INTA-INTD), 0: none */
	int intx_gsi;
	int intx_fd, intx_resample_fd;	/* -1 until wired */
	bool intx_wired;		/* the resampling irqfd is assigned */
	bool intx_on;			/* the real INTx signals intx_fd */

	bool has_msi;
	struct msi msi;
	unsigned int msi_on;		/* real MSI vectors enabled; 0 off */

	bool has_msix;
	struct msix msix;
	bool msix_on;			/* the real vectors are enabled */
	int *msix_fds;

	int npieces[PCI_BARS];
	struct piece pieces[PCI_BARS][3];
	uint64_t mapped_at[PCI_BARS];	/* where the BAR's slots are; 0 none */
	unsigned int slot_refused;	/* slots KVM refused (said once) */
};

/* A failure while the guest runs: @what, and why (err_msg()). */
static void fail(struct passthrough *pt, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s: %s: %s", pt->info.addr, what, err_msg());
	pt->on_error(pt->err_ctx, msg);
}

/* ---- the capability chain ---- */

/* Offsets of the real capabilities, in chain order; -1 for a broken chain. */
static int real_caps(const uint8_t *cfg, uint8_t *at, int max)
{
	unsigned int ptr = cfg[PCI_CFG_CAP_PTR] & ~3u;
	int n = 0;

	if (!(get_le16(cfg + PCI_CFG_STATUS) & PCI_STATUS_CAP_LIST_BIT))
		return 0;
	while (ptr) {
		if (ptr < PCI_CAP_START || ptr > PCI_CONFIG_SIZE - 4 || n == max)
			return -1;
		at[n++] = (uint8_t)ptr;
		ptr = cfg[ptr + 1] & ~3u;
	}
	return n;
}

static int add_msix(struct passthrough *pt, unsigned int cap, const struct msi_ops *msi)
{
	const uint8_t *cfg = pt->info.config;
	unsigned int nvec = (get_le16(cfg + cap + MSIX_CTRL) & MSIX_CTRL_SIZE) + 1;
	uint32_t table = get_le32(cfg + cap + MSIX_TABLE);
	uint32_t pba = get_le32(cfg + cap + MSIX_PBA);
	int tbar = table & MSIX_BIR, pbar = pba & MSIX_BIR;

	if (pt->info.msix_irqs && pt->info.msix_irqs < nvec)
		nvec = pt->info.msix_irqs;
	if (tbar >= PCI_BARS || pbar >= PCI_BARS || !pt->info.bar[tbar].size ||
	    !pt->info.bar[pbar].size || pt->info.bar[tbar].io || pt->info.bar[pbar].io)
		return err_set("%s: its MSI-X table or PBA is in a BAR it does not have: "
			       "the device cannot be passed through", pt->info.addr);
	if (msix_init(&pt->msix, &pt->pdev, nvec, tbar, table & ~MSIX_BIR, 0, msi)) {
		/* its vectors array, which passthrough_destroy() frees only once has_msix */
		msix_destroy(&pt->msix);
		return -1;
	}
	msix_set_pba(&pt->msix, pbar, pba & ~MSIX_BIR);
	pt->has_msix = true;
	pt->msix_fds = calloc(nvec, sizeof(int));
	if (!pt->msix_fds)
		return err_set("out of memory for %u MSI-X vectors", nvec);
	for (unsigned int i = 0; i < nvec; i++)
		pt->msix_fds[i] = msix_vector_fd(&pt->msix, i);
	return 0;
}

static int add_msi(struct passthrough *pt, unsigned int cap, const struct msi_ops *msi)
{
	unsigned int nvec = 1u << ((get_le16(pt->info.config + cap + MSI_CTRL) & MSI_CTRL_MMC) >> 1);

	/* a power of two no larger than what VFIO can enable */
	while (nvec > MSI_MAX_VECTORS || (pt->info.msi_irqs && nvec > pt->info.msi_irqs))
		nvec >>= 1;
	if (msi_init(&pt->msi, &pt->pdev, nvec, msi))
		return -1;
	pt->has_msi = true;
	return 0;
}

/*
 * PCI Express, for the guest's driver to read (payload sizes, capability
 * bits): the real device's, shown as an integrated endpoint (no link or
 * port above it) and without FLR, which the VMM does itself. Device control
 * is the guest's to write, and stays virtual.
 */
static int add_pcie(struct passthrough *pt, unsigned int real)
{
	const uint8_t *cfg = pt->info.config;
	uint8_t *c, *w;
	int cap = pci_device_add_cap(&pt->pdev, PCI_CAP_ID_PCIE, PCIE_CAP_SIZE);

	if (cap < 0)
		return -1;
	c = pt->pdev.config + cap;
	w = pt->pdev.wmask + cap;
	put_le16(c + PCIE_FLAGS, PCIE_TYPE_RC_END << 4 | 2);
	put_le32(c + PCIE_DEVCAP, get_le32(cfg + real + PCIE_DEVCAP) & ~PCIE_DEVCAP_FLR);
	put_le16(c + PCIE_DEVCTL, get_le16(cfg + real + PCIE_DEVCTL) & ~PCIE_DEVCTL_FLR);
	put_le16(w + PCIE_DEVCTL, (uint16_t)~PCIE_DEVCTL_FLR);
	pt->pdev.w1cmask[cap + PCIE_DEVSTA] = 0x0F;
	if ((cfg[real + PCIE_FLAGS] & 0xF) >= 2 && real + PCIE_DEVCTL2 + 2 <= PCI_CONFIG_SIZE)
		put_le32(c + PCIE_DEVCAP2, get_le32(cfg + real + PCIE_DEVCAP2));
	return 0;
}

static int build_caps(struct passthrough *pt, const struct msi_ops *msi)
{
	bool pcie = false;
	uint8_t at[CAPS_MAX];
	int n = real_caps(pt->info.config, at, CAPS_MAX);

	if (n < 0)
		return err_set("%s has a broken capability list: the device cannot be passed "
			       "through", pt->info.addr);
	for (int i = 0; i < n; i++) {
		uint8_t id = pt->info.config[at[i]];

		/* at 0xF8 or 0xFC its table and PBA registers would be read past config[] */
		if (id == PCI_CAP_ID_MSIX && at[i] + MSIX_CAP_SIZE > PCI_CONFIG_SIZE)
			return err_set("%s has a broken capability list (MSI-X at %#x runs past "
				       "config space): the device cannot be passed through",
				       pt->info.addr, at[i]);
		/* each shown once, the first of a kind a broken chain repeats */
		if ((id == PCI_CAP_ID_MSIX && !pt->has_msix && add_msix(pt, at[i], msi)) ||
		    (id == PCI_CAP_ID_MSI && !pt->has_msi && pt->info.msi_irqs &&
		     add_msi(pt, at[i], msi)) ||
		    (id == PCI_CAP_ID_PCIE && !pcie && at[i] + PCIE_CAP_SIZE <= PCI_CONFIG_SIZE &&
		     add_pcie(pt, at[i])))
			return strstr(err_msg(), pt->info.addr) ? -1 :
			       err_set("%s: %s", pt->info.addr, err_msg());
		pcie |= id == PCI_CAP_ID_PCIE;
	}
	if (!pt->has_msix && !pt->has_msi && !pt->intx_pin)
		return err_set("%s has no interrupt VFIO can signal (no MSI-X, MSI or INTx): "
			       "it cannot be passed through", pt->info.addr);
	return 0;
}

/* ---- BARs ---- */

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static int build_bars(struct passthrough *pt)
{
	for (int b = 0; b < PCI_BARS; b++) {
		const struct vfio_bar_info *bi = &pt->info.bar[b];
		uint64_t size = bi->size < 16 ? 16 : bi->size;

		if (!bi->size || bi->io)
			continue;	/* I/O BARs are not shown (see passthrough.h) */
		if (!is_pow2(bi->size) || (!bi->mem64 && bi->size > PCI_BAR_MAX))
			return err_set("%s: BAR %d is %#llx bytes, not a power of two (of at most "
				       "2 GiB for a 32-bit BAR): the device cannot be passed through",
				       pt->info.addr, b, (unsigned long long)bi->size);
		if (bi->mem64 && b + 1 == PCI_BARS)
			return err_set("%s: BAR 5 says it is 64-bit, which the last BAR cannot be: "
				       "the device cannot be passed through", pt->info.addr);
		if (bi->mem64) {
			if (pci_device_set_bar64(&pt->pdev, b, size, bi->prefetch))
				return -1;
			b++;	/* its upper half */
			continue;
		}
		if (pci_device_set_bar(&pt->pdev, b, (uint32_t)size, false))
			return -1;
		if (bi->prefetch)
			pt->pdev.config[PCI_CFG_BAR0 + 4 * b] |= PCI_BAR_MEM_PREFETCH;
	}
	return 0;
}

/* Removes [ts, te) from the pieces of BAR @b. */
static void cut(struct passthrough *pt, int b, uint64_t ts, uint64_t te)
{
	struct piece out[3];
	int n = 0;

	for (int i = 0; i < pt->npieces[b]; i++) {
		struct piece p = pt->pieces[b][i];
		uint64_t pe = p.off + p.size;

		if (te <= p.off || ts >= pe) {
			if (n < 3)
				out[n++] = p;
			continue;
		}
		if (ts > p.off && n < 3)
			out[n++] = (struct piece){ p.off, ts - p.off };
		if (te < pe && n < 3)
			out[n++] = (struct piece){ te, pe - te };
	}
	memcpy(pt->pieces[b], out, sizeof(out));
	pt->npieces[b] = n;
}

/*
 * What of each BAR goes into memory slots: its mmappable areas in whole
 * pages, less the pages of the MSI-X table and PBA, which must trap.
 * Anything beyond three pieces stays trapped (still right, only slower).
 */
static void plan_pieces(struct passthrough *pt)
{
	for (int b = 0; b < PCI_BARS; b++) {
		const struct vfio_bar_info *bi = &pt->info.bar[b];

		pt->npieces[b] = 0;
		if (!bi->size || bi->io || !bi->map || bi->size < PAGE)
			continue;
		for (int a = 0; a < bi->nareas && pt->npieces[b] < 3; a++) {
			uint64_t s = PAGE_UP(bi->areas[a].off);
			uint64_t e = PAGE_DOWN(bi->areas[a].off + bi->areas[a].size);

			if (e > bi->size)
				e = bi->size;
			if (s < e)
				pt->pieces[b][pt->npieces[b]++] = (struct piece){ s, e - s };
		}
	}
	if (!pt->has_msix)
		return;
	cut(pt, pt->msix.bar, PAGE_DOWN(pt->msix.table_offset),
	    PAGE_UP(pt->msix.table_offset + (uint64_t)pt->msix.nvec * MSIX_ENTRY_SIZE));
	cut(pt, pt->msix.pba_bar, PAGE_DOWN(pt->msix.pba_offset),
	    PAGE_UP(pt->msix.pba_offset + (pt->msix.nvec + 63) / 64 * 8));
}

static int slot_of(const struct passthrough *pt, int b, int i)
{
	return pt->slot_base + b * 3 + i;
}

/* Removes BAR @b's first @n slots. */
static int unmap_pieces(struct passthrough *pt, int b, int n)
{
	const struct memslot_ops *s = pt->slots;

	for (int i = 0; i < n; i++)
		if (s->set(s->ctx, slot_of(pt, b, i), 0, 0, NULL))
			return -1;
	return 0;
}

/*
 * Moves BAR @b's slots to where the guest has it now (nowhere: removed).
 * Where KVM refuses a slot (the guest put the BAR over another one's), the
 * BAR stays trapped: every access then goes through the VMM, slowly but
 * correctly, as on hardware the guest's overlap is its own business.
 */
static int follow_bar(struct passthrough *pt, int b)
{
	uint64_t addr = pci_device_bar_addr(&pt->pdev, b);
	const struct memslot_ops *s = pt->slots;

	if (addr == pt->mapped_at[b] || !pt->npieces[b])
		return 0;
	if (pt->mapped_at[b] && unmap_pieces(pt, b, pt->npieces[b]))
		return -1;
	pt->mapped_at[b] = 0;
	for (int i = 0; addr && i < pt->npieces[b]; i++) {
		const struct piece *p = &pt->pieces[b][i];

		if (!s->set(s->ctx, slot_of(pt, b, i), addr + p->off, p->size,
			    pt->info.bar[b].map + p->off))
			continue;
		if (!pt->slot_refused++)
			fprintf(stderr, "slicevm: %s: BAR %d at %#llx cannot be mapped (%s): "
				"its accesses now trap\n", pt->info.addr, b,
				(unsigned long long)addr, err_msg());
		return unmap_pieces(pt, b, i);
	}
	pt->mapped_at[b] = addr;
	return 0;
}

static void follow_bars(struct passthrough *pt)
{
	for (int b = 0; b < PCI_BARS; b++)
		if (follow_bar(pt, b))
			fail(pt, "cannot move a BAR's memory slot");
}

/*
 * The guest's memory-space, bus-master and INTx-disable bits, on the real
 * device; without an interrupt pin INTx stays disabled.
 */
static void forward_command(struct passthrough *pt)
{
	uint16_t cmd = get_le16(pt->pdev.config + PCI_CFG_COMMAND);
	uint8_t v[2];

	if (pt->intx_pin)
		put_le16(v, cmd & (PCI_CMD_MEM | PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE));
	else
		put_le16(v, (cmd & (PCI_CMD_MEM | PCI_CMD_MASTER)) | PCI_CMD_INTX_DISABLE);
	if (pt->hw->rw(pt->hw->ctx, VFIO_REGION_CONFIG, PCI_CFG_COMMAND, v, 2, true))
		fail(pt, "cannot write its command register");
}

/* The real INTx signalling the guest's line (@on), or off. */
static int set_intx(struct passthrough *pt, bool on)
{
	if (!pt->intx_wired || on == pt->intx_on)
		return 0;
	if (pt->hw->set_intx(pt->hw->ctx, on ? pt->intx_fd : -1, on ? pt->intx_resample_fd : -1))
		return -1;
	pt->intx_on = on;
	return 0;
}

/*
 * The real vectors follow the guest's MSI-X enable bit. A function
 * interrupts one way at a time: INTx goes off before MSI-X comes on, and
 * back on once MSI-X is off.
 */
static void follow_msix(struct passthrough *pt)
{
	bool on = get_le16(pt->pdev.config + pt->msix.cap + MSIX_CTRL) & MSIX_CTRL_ENABLE;

	msix_config_written(&pt->msix);
	if (on == pt->msix_on || (on && pt->msi_on))
		return;		/* (MSI is on: MSI-X stays off until it is not) */
	if (on && set_intx(pt, false)) {
		fail(pt, "cannot turn its INTx off for MSI-X");
		return;
	}
	if (pt->hw->set_msix(pt->hw->ctx, pt->msix_fds, on ? pt->msix.nvec : 0)) {
		fail(pt, "cannot set up its MSI-X vectors");
		return;
	}
	pt->msix_on = on;
	if (!on && set_intx(pt, true))
		fail(pt, "cannot turn its INTx back on");
}

/* The real MSI vectors follow the guest's enable bit and count, as MSI-X's do. */
static void follow_msi(struct passthrough *pt)
{
	unsigned int n;

	msi_config_written(&pt->msi);
	n = msi_enabled(&pt->msi);
	if (n == pt->msi_on || (n && pt->msix_on))
		return;		/* (MSI-X is on: MSI stays off until it is not) */
	if (pt->msi_on) {
		/* off, or a new count: VFIO takes a count only when enabling */
		if (pt->hw->set_msi(pt->hw->ctx, NULL, 0)) {
			fail(pt, "cannot turn its MSI vectors off");
			return;
		}
		pt->msi_on = 0;
	} else if (set_intx(pt, false)) {
		fail(pt, "cannot turn its INTx off for MSI");
		return;
	}
	if (n && pt->hw->set_msi(pt->hw->ctx, msi_fds(&pt->msi), n)) {
		fail(pt, "cannot set up its MSI vectors");
		return;
	}
	pt->msi_on = n;
	if (!n && set_intx(pt, true))
		fail(pt, "cannot turn its INTx back on");
}

static bool touches(unsigned int reg, int size, unsigned int start, unsigned int len)
{
	return reg < start + len && reg + (unsigned int)size > start;
}

static void config_written(struct pci_device *pdev, unsigned int reg, int size)
{
	struct passthrough *pt = pdev->priv;

	if (touches(reg, size, PCI_CFG_COMMAND, 2)) {
		/* slots off before decoding stops; on only once it runs */
		if (!(get_le16(pdev->config + PCI_CFG_COMMAND) & PCI_CMD_MEM)) {
			follow_bars(pt);
			forward_command(pt);
		} else {
			forward_command(pt);
			follow_bars(pt);
		}
	} else if (touches(reg, size, PCI_CFG_BAR0, 4 * PCI_BARS)) {
		follow_bars(pt);
	}
	if (pt->has_msix && touches(reg, size, pt->msix.cap, MSIX_CAP_SIZE))
		follow_msix(pt);
	if (pt->has_msi && touches(reg, size, pt->msi.cap, MSI_CAP_SIZE))
		follow_msi(pt);
}

static void bar_access(struct pci_device *pdev, int bar, uint64_t offset, void *data,
		       int size, bool is_write)
{
	struct passthrough *pt = pdev->priv;

	if (pt->has_msix && msix_bar_access(&pt->msix, bar, offset, data, size, is_write))
		return;
	if (offset + (uint64_t)size > pt->info.bar[bar].size ||
	    pt->hw->rw(pt->hw->ctx, bar, offset, data, size, is_write)) {
		if (!is_write)
			memset(data, 0xFF, size);
	}
}

/* ---- life ---- */

static void build_header(struct passthrough *pt)
{
	const uint8_t *cfg = pt->info.config;
	uint32_t class_code = get_le32(cfg + PCI_CFG_REVISION) >> 8;

	pci_device_init(&pt->pdev, get_le16(cfg + PCI_CFG_VENDOR_ID),
			get_le16(cfg + PCI_CFG_DEVICE_ID), class_code, cfg[PCI_CFG_REVISION]);
	memcpy(pt->pdev.config + PCI_CFG_SUBSYS_VENDOR, cfg + PCI_CFG_SUBSYS_VENDOR, 4);
	pt->pdev.config[PCI_CFG_HEADER_TYPE] = cfg[PCI_CFG_HEADER_TYPE] & ~PCI_HEADER_MULTIFUNC;
	/* INTx where VFIO can signal it and the VMM can wire it */
	if (pt->intx && pt->info.intx && cfg[PCI_CFG_INT_PIN] >= 1 && cfg[PCI_CFG_INT_PIN] <= 4)
		pt->intx_pin = cfg[PCI_CFG_INT_PIN];
	pt->pdev.config[PCI_CFG_INT_PIN] = (uint8_t)pt->intx_pin;
	pt->pdev.config_written = config_written;
	pt->pdev.bar_access = bar_access;
	pt->pdev.priv = pt;
}

struct passthrough *passthrough_create(const struct vfio_dev_info *info,
				       const struct vfio_hw *hw, const struct msi_ops *msi,
				       const struct intx_ops *intx,
				       const struct memslot_ops *slots, int slot_base,
				       void (*on_error)(void *ctx, const char *msg),
				       void *err_ctx)
{
	struct passthrough *pt = calloc(1, sizeof(*pt));

	if (!pt) {
		err_set("out of memory for a passed-through device");
		return NULL;
	}
	pt->info = *info;
	pt->hw = hw;
	pt->intx = intx;
	pt->intx_fd = -1;
	pt->intx_resample_fd = -1;
	pt->slots = slots;
	pt->slot_base = slot_base;
	pt->on_error = on_error;
	pt->err_ctx = err_ctx;
	build_header(pt);
	if ((pt->info.config[PCI_CFG_HEADER_TYPE] & 0x7F) != 0) {
		err_set("%s is a PCI bridge, not an endpoint: pass through the devices behind "
			"it instead", info->addr);
		passthrough_destroy(pt);
		return NULL;
	}
	if (build_bars(pt) || build_caps(pt, msi)) {
		passthrough_destroy(pt);
		return NULL;
	}
	plan_pieces(pt);
	return pt;
}

/*
 * INTx on the IOAPIC pin the _PRT gives its slot: an eventfd VFIO signals
 * raises the line in KVM, and the guest's EOI (the resample eventfd)
 * unmasks the real INTx, which VFIO masks at each interrupt.
 */
static int wire_intx(struct passthrough *pt)
{
	int slot = (pt->pdev.devfn >> 3) & 0x1F;

	pt->intx_gsi = pci_intx_gsi(slot, pt->intx_pin - 1);
	pt->pdev.config[PCI_CFG_INT_LINE] = (uint8_t)pt->intx_gsi;
	pt->intx_fd = eventfd(0, EFD_CLOEXEC);
	pt->intx_resample_fd = eventfd(0, EFD_CLOEXEC);
	if (pt->intx_fd < 0 || pt->intx_resample_fd < 0)
		return err_set_errno("%s: cannot make its INTx eventfds", pt->info.addr);
	if (pt->intx->set(pt->intx->ctx, pt->intx_gsi, pt->intx_fd, pt->intx_resample_fd, true))
		return -1;
	pt->intx_wired = true;
	if (set_intx(pt, true))
		return err_set("%s: cannot turn its INTx on: %s", pt->info.addr, err_msg());
	return 0;
}

int passthrough_attach(struct passthrough *pt, struct pci_bus *bus)
{
	uint64_t bars = 0;
	char size[32];

	for (int b = 0; b < PCI_BARS; b++)
		bars += pt->pdev.bar_size[b];
	if (pci_register_device(bus, &pt->pdev))
		return err_set("%s: %s (its BARs take %s: 32-bit ones must fit below 4 GiB, "
			       "64-bit ones in the %llu GiB window above RAM)", pt->info.addr,
			       err_msg(), size_format(bars, size, sizeof(size)),
			       (unsigned long long)(PCI_MMIO64_SIZE >> 30));
	/* the guest finds decoding on, as firmware leaves it; DMA stays off until its driver */
	forward_command(pt);
	for (int b = 0; b < PCI_BARS; b++)
		if (follow_bar(pt, b))
			return -1;
	return pt->intx_pin ? wire_intx(pt) : 0;
}

struct pci_device *passthrough_pci(struct passthrough *pt)
{
	return &pt->pdev;
}

uint64_t passthrough_mapped_bytes(const struct passthrough *pt)
{
	uint64_t n = 0;

	for (int b = 0; b < PCI_BARS; b++)
		for (int i = 0; pt->mapped_at[b] && i < pt->npieces[b]; i++)
			n += pt->pieces[b][i].size;
	return n;
}

void passthrough_destroy(struct passthrough *pt)
{
	if (!pt)
		return;
	if (pt->msix_on)
		pt->hw->set_msix(pt->hw->ctx, NULL, 0);
	if (pt->msi_on)
		pt->hw->set_msi(pt->hw->ctx, NULL, 0);
	set_intx(pt, false);
	if (pt->intx_wired)
		pt->intx->set(pt->intx->ctx, pt->intx_gsi, pt->intx_fd, -1, false);
	if (pt->intx_fd >= 0)
		close(pt->intx_fd);
	if (pt->intx_resample_fd >= 0)
		close(pt->intx_resample_fd);
	for (int b = 0; b < PCI_BARS; b++)
		if (pt->mapped_at[b])
			unmap_pieces(pt, b, pt->npieces[b]);
	if (pt->has_msix)
		msix_destroy(&pt->msix);
	free(pt->msix_fds);
	free(pt);
}
