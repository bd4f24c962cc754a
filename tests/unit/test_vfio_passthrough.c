// SPDX-License-Identifier: GPL-2.0
/*
 * A passed-through PCI function's device model (vfio/passthrough.h), on a
 * real PCI bus, as the guest reaches it: config space through 0xCF8/0xCFC,
 * BARs through pci_mmio(). The kernel side is faked: struct vfio_hw
 * records config writes, forwarded BAR accesses and MSI-X set-ups;
 * struct memslot_ops records the KVM slots; vqsim.h's msi_ops the routes.
 * Every call to a fake takes a number from one sequence, so a test can
 * check what happened before what.
 *
 * The function is described as VFIO would describe a QEMU NVMe controller
 * (1b36:0010): one 64-bit 16K BAR with the MSI-X table and PBA in it, and
 * the capabilities power management, MSI, MSI-X and PCI Express (with FLR).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/platform.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "lib/err.h"
#include "lib/le.h"
#include "vfio/passthrough.h"
#include "vqsim.h"

#define ADDR		"0000:03:00.0"
#define SLOT_BASE	40

#define BAR0_SIZE	0x4000
#define TABLE_OFF	0x2000
#define PBA_OFF		0x3000
#define NVEC		65

/* The real function's capabilities, in chain order. */
#define CAP_PM		0x40
#define CAP_MSIX	0x50
#define CAP_MSI		0x60
#define CAP_PCIE	0x80

#define CAP_ID_PM	0x01
#define CAP_ID_MSI	0x05
#define CAP_ID_PCIE	0x10

#define CMD_INTX_DISABLE	0x0400
#define MSIX_ENABLE		0x8000
#define MSIX_FMASK		0x4000
#define PCIE_DEVCAP_FLR		(1u << 28)
#define REAL_DEVCAP		(PCIE_DEVCAP_FLR | 0x00008021u)	/* + role-based errors, ext tags, MPS 256 */
#define REAL_DEVCTL		0x2810
#define REAL_DEVCAP2		0x00000810u

#define LOG_MAX		256

/* What the fakes were asked, in order. */
enum ev_kind { EV_CONFIG, EV_BAR, EV_MSIX, EV_SLOT, EV_INTX, EV_LINE, EV_MSI };

struct ev {
	enum ev_kind kind;
	int seq;
	int region;		/* EV_CONFIG, EV_BAR */
	uint64_t off;
	int size;
	bool write;
	uint64_t val;
	int slot;		/* EV_SLOT */
	uint64_t gpa, len;
	void *host;
	unsigned int n;		/* EV_MSIX, EV_MSI */
	int fds[NVEC];
	int fd, resample_fd;	/* EV_INTX (VFIO's INTx), EV_LINE (the irqfd) */
	int gsi;		/* EV_LINE */
	bool assign;		/* EV_LINE */
};

struct fix {
	struct vfio_dev_info info;
	uint8_t *map;			/* BAR 0's "mmap" */
	struct vfio_hw hw;
	struct memslot_ops slots;
	struct intx_ops intx;
	bool with_intx;			/* create() gives the function the intx ops */
	struct vs_msi fm;
	struct pci_bus *bus;
	struct passthrough *pt;
	unsigned int slot;		/* on the bus */

	int seq;
	int nev;
	struct ev ev[LOG_MAX];
	int fail_msix;			/* set_msix fails while set */
	uint64_t fail_slot_gpa;		/* a slot added at this address is refused */
	int nerr;
	char err[512];
};

/* ---- the fakes ---- */

static struct ev *log_ev(struct fix *f, enum ev_kind kind)
{
	struct ev *e;

	assert_true(f->nev < LOG_MAX);
	e = &f->ev[f->nev++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->seq = ++f->seq;
	return e;
}

/* What the fake device's BARs read: a value made of the offset. */
static uint8_t bar_byte(uint64_t off)
{
	return (uint8_t)(0xC0 ^ off);
}

static int fake_rw(void *ctx, int region, uint64_t off, void *data, int size, bool is_write)
{
	struct fix *f = ctx;
	struct ev *e = log_ev(f, region == VFIO_REGION_CONFIG ? EV_CONFIG : EV_BAR);
	uint8_t *b = data;

	e->region = region;
	e->off = off;
	e->size = size;
	e->write = is_write;
	for (int i = 0; i < size; i++) {
		if (!is_write)
			b[i] = bar_byte(off + i);
		e->val |= (uint64_t)b[i] << (8 * i);
	}
	return 0;
}

static int fake_set_msix(void *ctx, const int *fds, unsigned int n)
{
	struct fix *f = ctx;
	struct ev *e = log_ev(f, EV_MSIX);

	e->n = n;
	assert_true(n <= NVEC);
	if (n)
		memcpy(e->fds, fds, n * sizeof(int));
	if (f->fail_msix)
		return err_set("VFIO_DEVICE_SET_IRQS (%u MSI-X vectors) failed: No space", n);
	return 0;
}

static int fake_set_msi(void *ctx, const int *fds, unsigned int n)
{
	struct fix *f = ctx;
	struct ev *e = log_ev(f, EV_MSI);

	e->n = n;
	assert_true(n <= 32);
	if (n)
		memcpy(e->fds, fds, n * sizeof(int));
	return 0;
}

static int fake_set_intx(void *ctx, int fd, int unmask_fd)
{
	struct fix *f = ctx;
	struct ev *e = log_ev(f, EV_INTX);

	e->fd = fd;
	e->resample_fd = unmask_fd;
	return 0;
}

static int fake_line(void *ctx, int gsi, int fd, int resample_fd, bool assign)
{
	struct fix *f = ctx;
	struct ev *e = log_ev(f, EV_LINE);

	e->gsi = gsi;
	e->fd = fd;
	e->resample_fd = resample_fd;
	e->assign = assign;
	return 0;
}

static int fake_slot(void *ctx, int slot, uint64_t gpa, uint64_t size, void *host)
{
	struct fix *f = ctx;
	struct ev *e = log_ev(f, EV_SLOT);

	e->slot = slot;
	e->gpa = gpa;
	e->len = size;
	e->host = host;
	if (size && gpa == f->fail_slot_gpa)
		return err_set("KVM_SET_USER_MEMORY_REGION: File exists");
	return 0;
}

static void on_error(void *ctx, const char *msg)
{
	struct fix *f = ctx;

	f->nerr++;
	snprintf(f->err, sizeof(f->err), "%s", msg);
}

/* How many events of @kind from index @from on. */
static int count(const struct fix *f, int from, enum ev_kind kind)
{
	int n = 0;

	for (int i = from; i < f->nev; i++)
		n += f->ev[i].kind == kind;
	return n;
}

/* The last event of @kind, or fails the test. */
static const struct ev *last(const struct fix *f, enum ev_kind kind)
{
	for (int i = f->nev - 1; i >= 0; i--)
		if (f->ev[i].kind == kind)
			return &f->ev[i];
	fail_msg("no event of kind %d", kind);
	return NULL;
}

/* The first event of @kind from index @from, or fails the test. */
static const struct ev *first_from(const struct fix *f, int from, enum ev_kind kind)
{
	for (int i = from; i < f->nev; i++)
		if (f->ev[i].kind == kind)
			return &f->ev[i];
	fail_msg("no event of kind %d from %d", kind, from);
	return NULL;
}

/* ---- the real function, as VFIO describes it ---- */

static void cap(uint8_t *cfg, unsigned int at, uint8_t id, uint8_t next)
{
	cfg[at] = id;
	cfg[at + 1] = next;
}

static void nvme_info(struct vfio_dev_info *info, uint8_t *map)
{
	uint8_t *c = info->config;

	memset(info, 0, sizeof(*info));
	snprintf(info->addr, sizeof(info->addr), "%s", ADDR);
	put_le16(c + PCI_CFG_VENDOR_ID, 0x1B36);
	put_le16(c + PCI_CFG_DEVICE_ID, 0x0010);
	put_le16(c + PCI_CFG_COMMAND, 0x0406);	/* as the host left it */
	put_le16(c + PCI_CFG_STATUS, PCI_STATUS_CAP_LIST | 0x0200);
	put_le32(c + PCI_CFG_REVISION, 0x01080200 | 0x02);	/* class 010802, revision 2 */
	c[PCI_CFG_HEADER_TYPE] = 0x80;			/* multi-function */
	put_le32(c + PCI_CFG_BAR0, 0xFEBD0000 | 0x4);	/* 64-bit memory */
	put_le32(c + PCI_CFG_BAR0 + 4, 0);		/* its upper half */
	put_le16(c + PCI_CFG_SUBSYS_VENDOR, 0x1AF4);
	put_le16(c + PCI_CFG_SUBSYS_ID, 0x1100);
	put_le32(c + 0x30, 0xFEB80000);			/* an expansion ROM */
	c[PCI_CFG_CAP_PTR] = CAP_PM;
	c[PCI_CFG_INT_LINE] = 11;
	c[PCI_CFG_INT_PIN] = 1;

	cap(c, CAP_PM, CAP_ID_PM, CAP_MSIX);
	put_le16(c + CAP_PM + 2, 0x0003);

	cap(c, CAP_MSIX, PCI_CAP_ID_MSIX, CAP_MSI);
	put_le16(c + CAP_MSIX + 2, NVEC - 1);
	put_le32(c + CAP_MSIX + 4, TABLE_OFF | 0);
	put_le32(c + CAP_MSIX + 8, PBA_OFF | 0);

	cap(c, CAP_MSI, CAP_ID_MSI, CAP_PCIE);
	put_le16(c + CAP_MSI + 2, 0x0080);

	cap(c, CAP_PCIE, CAP_ID_PCIE, 0);
	put_le16(c + CAP_PCIE + 2, 0x0002);		/* v2, endpoint */
	put_le32(c + CAP_PCIE + 4, REAL_DEVCAP);
	put_le16(c + CAP_PCIE + 8, REAL_DEVCTL);
	put_le32(c + CAP_PCIE + 0x0C, 0x00477811);	/* link: x4 ... */
	put_le32(c + CAP_PCIE + 0x24, REAL_DEVCAP2);

	info->bar[0].size = BAR0_SIZE;
	info->bar[0].mem64 = true;
	info->bar[0].nareas = 1;
	info->bar[0].areas[0].off = 0;
	info->bar[0].areas[0].size = BAR0_SIZE;
	info->bar[0].map = map;
	info->msix_irqs = NVEC;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->map = aligned_alloc(4096, BAR0_SIZE);
	if (!f->map)
		return -1;
	nvme_info(&f->info, f->map);
	f->hw = (struct vfio_hw){ .rw = fake_rw, .set_msix = fake_set_msix,
				  .set_msi = fake_set_msi, .set_intx = fake_set_intx, .ctx = f };
	f->intx = (struct intx_ops){ .set = fake_line, .ctx = f };
	f->slots = (struct memslot_ops){ .set = fake_slot, .ctx = f };
	vs_msi_init(&f->fm, false);
	f->bus = pci_create(NULL, NULL);
	if (!f->bus || pci_set_mmio_window(f->bus, PCI_MMIO_START, PCI_MMIO_END))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	passthrough_destroy(f->pt);
	pci_destroy(f->bus);
	vs_msi_close(&f->fm);
	free(f->map);
	free(f);
	return 0;
}

static struct passthrough *create(struct fix *f)
{
	return passthrough_create(&f->info, &f->hw, &f->fm.ops, f->with_intx ? &f->intx : NULL,
				  &f->slots, SLOT_BASE, on_error, f);
}

/* Creates and attaches the function as the VMM does; fails the test if refused. */
static void start(struct fix *f)
{
	f->pt = create(f);
	if (!f->pt)
		fail_msg("refused: %s", err_msg());
	assert_int_equal(passthrough_attach(f->pt, f->bus), 0);
	f->slot = (unsigned int)passthrough_pci(f->pt)->devfn >> 3;
	assert_int_equal(passthrough_pci(f->pt)->devfn & 7, 0);
}

static void assert_msg_has(const char *msg, const char *needle)
{
	if (!strstr(msg, needle))
		fail_msg("'%s' not in: %s", needle, msg);
}

static void refused(struct fix *f, const char *needle)
{
	err_clear();
	assert_null(create(f));
	assert_msg_has(err_msg(), needle);
	assert_msg_has(err_msg(), ADDR);
}

/* ---- the guest's accesses ---- */

static uint32_t cfg_read(struct fix *f, unsigned int reg, int size)
{
	return vs_cfg_read(f->bus, f->slot, reg, size);
}

static void cfg_write(struct fix *f, unsigned int reg, int size, uint32_t v)
{
	vs_cfg_write(f->bus, f->slot, reg, size, v);
}

/* BAR 0's address as the guest programmed it (both halves: it is 64-bit). */
static uint64_t bar0(struct fix *f)
{
	return (cfg_read(f, PCI_CFG_BAR0, 4) & PCI_BAR_MEM_MASK) |
	       (uint64_t)cfg_read(f, PCI_CFG_BAR0 + 4, 4) << 32;
}

/* The capability @id, found as an OS finds it; 0 if absent. */
static unsigned int find_cap(struct fix *f, uint8_t id)
{
	unsigned int at = cfg_read(f, PCI_CFG_CAP_PTR, 1) & ~3u;

	for (int n = 0; at; n++) {
		assert_true(n < 48);
		assert_true(at >= PCI_CAP_START && at <= PCI_CONFIG_SIZE - 4);
		if (cfg_read(f, at, 1) == id)
			return at;
		at = cfg_read(f, at + 1, 1) & ~3u;
	}
	return 0;
}

static void msix_ctrl(struct fix *f, uint16_t v)
{
	unsigned int c = find_cap(f, PCI_CAP_ID_MSIX);

	assert_int_not_equal(c, 0);
	cfg_write(f, c + 2, 2, v);
}

static uint64_t entry_gpa(struct fix *f, unsigned int vec, unsigned int off)
{
	return bar0(f) + TABLE_OFF + 16ULL * vec + off;
}

/* ---- tests: the header ---- */

static void test_header(void **state)
{
	struct fix *f = *state;

	start(f);
	assert_int_equal(cfg_read(f, PCI_CFG_VENDOR_ID, 2), 0x1B36);
	assert_int_equal(cfg_read(f, PCI_CFG_DEVICE_ID, 2), 0x0010);
	assert_int_equal(cfg_read(f, PCI_CFG_REVISION, 4), 0x01080202);
	assert_int_equal(cfg_read(f, PCI_CFG_SUBSYS_VENDOR, 2), 0x1AF4);
	assert_int_equal(cfg_read(f, PCI_CFG_SUBSYS_ID, 2), 0x1100);
	/* one function: no multi-function bit */
	assert_int_equal(cfg_read(f, PCI_CFG_HEADER_TYPE, 1), 0);
	/* MSI-X only: no interrupt pin */
	assert_int_equal(cfg_read(f, PCI_CFG_INT_PIN, 1), 0);
	/* the expansion ROM is hidden, and stays so */
	assert_int_equal(cfg_read(f, 0x30, 4), 0);
	cfg_write(f, 0x30, 4, 0xFFFFFFFF);
	assert_int_equal(cfg_read(f, 0x30, 4), 0);
	cfg_write(f, 0x30, 4, 0xFEB80001);
	assert_int_equal(cfg_read(f, 0x30, 4), 0);
	/* ids are read-only */
	cfg_write(f, PCI_CFG_VENDOR_ID, 4, 0x12345678);
	assert_int_equal(cfg_read(f, PCI_CFG_VENDOR_ID, 4), 0x00101B36);
	/* and none of this reached the device */
	assert_int_equal(count(f, 0, EV_CONFIG), 1);	/* attach's command write */
	assert_int_equal(last(f, EV_CONFIG)->off, PCI_CFG_COMMAND);
}

/* ---- tests: the capability chain ---- */

static void test_capability_chain(void **state)
{
	struct fix *f = *state;
	unsigned int at, n = 0;
	bool msix = false, pcie = false;

	start(f);
	assert_true(cfg_read(f, PCI_CFG_STATUS, 2) & PCI_STATUS_CAP_LIST);
	/* walked as an OS walks it: every step valid, and it ends */
	at = cfg_read(f, PCI_CFG_CAP_PTR, 1);
	while (at) {
		uint8_t id = (uint8_t)cfg_read(f, at, 1);

		assert_true(++n < 48);
		assert_int_equal(at % 4, 0);
		assert_true(at >= PCI_CAP_START && at <= PCI_CONFIG_SIZE - 4);
		assert_int_not_equal(id, CAP_ID_PM);
		assert_int_not_equal(id, CAP_ID_MSI);
		msix |= id == PCI_CAP_ID_MSIX;
		pcie |= id == CAP_ID_PCIE;
		at = cfg_read(f, at + 1, 1);
	}
	assert_true(msix);
	assert_true(pcie);
	assert_int_equal(n, 2);
}

static void test_msix_capability(void **state)
{
	struct fix *f = *state;
	unsigned int c;

	start(f);
	c = find_cap(f, PCI_CAP_ID_MSIX);
	/* the real table size and layout, disabled */
	assert_int_equal(cfg_read(f, c + 2, 2), NVEC - 1);
	assert_int_equal(cfg_read(f, c + 4, 4), TABLE_OFF | 0);
	assert_int_equal(cfg_read(f, c + 8, 4), PBA_OFF | 0);
}

static void test_pcie_capability(void **state)
{
	struct fix *f = *state;
	unsigned int c, cfg_writes;

	start(f);
	c = find_cap(f, CAP_ID_PCIE);
	assert_int_not_equal(c, 0);
	/* version 2, a root-complex integrated endpoint */
	assert_int_equal(cfg_read(f, c + 2, 2) & 0xF, 2);
	assert_int_equal((cfg_read(f, c + 2, 2) >> 4) & 0xF, 9);
	/* the real device capabilities, but FLR */
	assert_int_equal(cfg_read(f, c + 4, 4) & PCIE_DEVCAP_FLR, 0);
	assert_int_equal(cfg_read(f, c + 4, 4), REAL_DEVCAP & ~PCIE_DEVCAP_FLR);
	assert_int_equal(cfg_read(f, c + 8, 2), REAL_DEVCTL);
	assert_int_equal(cfg_read(f, c + 0x24, 4), REAL_DEVCAP2);
	/* no link: an integrated endpoint has none */
	assert_int_equal(cfg_read(f, c + 0x0C, 4), 0);

	/* device control is the guest's, and stays virtual */
	cfg_writes = (unsigned int)count(f, 0, EV_CONFIG);
	cfg_write(f, c + 8, 2, 0x5030);
	assert_int_equal(cfg_read(f, c + 8, 2), 0x5030);
	/* initiating an FLR does nothing: the bit reads 0 */
	cfg_write(f, c + 8, 2, 0x8000 | 0x2810);
	assert_int_equal(cfg_read(f, c + 8, 2), 0x2810);
	/* device capabilities are read-only */
	cfg_write(f, c + 4, 4, 0xFFFFFFFF);
	assert_int_equal(cfg_read(f, c + 4, 4), REAL_DEVCAP & ~PCIE_DEVCAP_FLR);
	assert_int_equal(count(f, 0, EV_CONFIG), cfg_writes);
	for (int i = 0; i < f->nev; i++)
		if (f->ev[i].kind == EV_CONFIG)
			assert_int_equal(f->ev[i].off, PCI_CFG_COMMAND);
}

/* ---- tests: BARs ---- */

static void test_bar_sizing(void **state)
{
	struct fix *f = *state;
	uint32_t addr;

	start(f);
	addr = cfg_read(f, PCI_CFG_BAR0, 4);
	/*
	 * a 64-bit BAR, as the device has it; on this bus (no 64-bit window)
	 * placed in the 32-bit window, aligned to its size
	 */
	assert_int_equal(addr & 0xF, 0x4);
	addr &= ~0xFu;
	assert_true(addr >= PCI_MMIO_START && addr + BAR0_SIZE <= PCI_MMIO_END);
	assert_int_equal(addr & (BAR0_SIZE - 1), 0);
	assert_int_equal(cfg_read(f, PCI_CFG_BAR0 + 4, 4), 0);

	/* sizing: both halves */
	cfg_write(f, PCI_CFG_BAR0, 4, 0xFFFFFFFF);
	cfg_write(f, PCI_CFG_BAR0 + 4, 4, 0xFFFFFFFF);
	assert_int_equal(cfg_read(f, PCI_CFG_BAR0, 4), ~(uint32_t)(BAR0_SIZE - 1) | 0x4);
	assert_int_equal(cfg_read(f, PCI_CFG_BAR0 + 4, 4), 0xFFFFFFFF);
	assert_int_equal(passthrough_mapped_bytes(f->pt), 0);	/* no address: no slot */
	for (int b = 2; b < PCI_BARS; b++) {
		cfg_write(f, PCI_CFG_BAR0 + 4 * b, 4, 0xFFFFFFFF);
		assert_int_equal(cfg_read(f, PCI_CFG_BAR0 + 4 * b, 4), 0);
	}
	cfg_write(f, PCI_CFG_BAR0, 4, addr);
	cfg_write(f, PCI_CFG_BAR0 + 4, 4, 0);
	assert_int_equal(cfg_read(f, PCI_CFG_BAR0, 4), addr | 0x4);
	assert_int_equal(bar0(f), addr);
	assert_int_equal(passthrough_mapped_bytes(f->pt), TABLE_OFF);
}

/* A bus with a 64-bit window puts 64-bit BARs there, large ones too. */
static void test_bar64_window(void **state)
{
	struct fix *f = *state;
	const uint64_t win = PCI_MMIO64_SIZE, big = 8ULL << 30;
	const struct ev *e;

	assert_int_equal(pci_set_mmio64_window(f->bus, win, 2 * win), 0);
	f->info.bar[2].size = big;		/* an 8 GiB prefetchable BAR 2, as a GPU's */
	f->info.bar[2].mem64 = true;
	f->info.bar[2].prefetch = true;
	f->info.bar[2].nareas = 1;
	f->info.bar[2].areas[0].size = big;
	f->info.bar[2].map = (uint8_t *)0x7f0000000000ULL;	/* never touched */
	start(f);
	assert_int_equal(cfg_read(f, PCI_CFG_BAR0 + 8, 4) & 0xF, 0x4 | 0x8);
	assert_int_equal(passthrough_pci(f->pt)->bar_size[2], big);
	e = last(f, EV_SLOT);
	assert_int_equal(e->slot, SLOT_BASE + 2 * 3);
	assert_true(e->gpa >= win && e->gpa + big <= 2 * win);
	assert_int_equal(e->gpa % big, 0);
	assert_int_equal(e->len, big);
	assert_int_equal(cfg_read(f, PCI_CFG_BAR0 + 12, 4), (uint32_t)(e->gpa >> 32));
	/* BAR 0 went to the 64-bit window too */
	assert_true(bar0(f) >= win);
	/* sizing the upper half reads the size's upper bits */
	cfg_write(f, PCI_CFG_BAR0 + 12, 4, 0xFFFFFFFF);
	assert_int_equal(cfg_read(f, PCI_CFG_BAR0 + 12, 4), (uint32_t)(~(big - 1) >> 32));
}

static void test_io_and_prefetch_bars(void **state)
{
	struct fix *f = *state;

	/* an I/O BAR 2 and a prefetchable 32-bit BAR 3 (BAR 0 is 64-bit: its type bits) */
	f->info.bar[2].size = 0x100;
	f->info.bar[2].io = true;
	f->info.bar[3].size = 0x1000;
	f->info.bar[3].prefetch = true;
	start(f);
	cfg_write(f, PCI_CFG_BAR0 + 8, 4, 0xFFFFFFFF);
	assert_int_equal(cfg_read(f, PCI_CFG_BAR0 + 8, 4), 0);
	assert_int_equal(cfg_read(f, PCI_CFG_BAR0 + 12, 4) & 0xF, 0x8);
	assert_int_not_equal(cfg_read(f, PCI_CFG_BAR0 + 12, 4) & PCI_BAR_MEM_MASK, 0);
	cfg_write(f, PCI_CFG_BAR0 + 12, 4, 0xFFFFFFFF);
	assert_int_equal(cfg_read(f, PCI_CFG_BAR0 + 12, 4), 0xFFFFF000 | 0x8);
	/* BAR 0 is 64-bit, not prefetchable */
	assert_int_equal(cfg_read(f, PCI_CFG_BAR0, 4) & 0xF, 0x4);
	/* no command register I/O bit reaches the device */
	cfg_write(f, PCI_CFG_COMMAND, 2, PCI_CMD_IO | PCI_CMD_MEM);
	assert_int_equal(last(f, EV_CONFIG)->val, PCI_CMD_MEM | CMD_INTX_DISABLE);
}

static void test_bar_slots(void **state)
{
	struct fix *f = *state;
	const struct ev *e;

	start(f);
	/* the MSI-X table and PBA pages trap; the rest is one slot */
	assert_int_equal(count(f, 0, EV_SLOT), 1);
	e = last(f, EV_SLOT);
	assert_int_equal(e->slot, SLOT_BASE);
	assert_int_equal(e->gpa, bar0(f));
	assert_int_equal(e->len, TABLE_OFF);
	assert_ptr_equal(e->host, f->map);
	assert_int_equal(passthrough_mapped_bytes(f->pt), TABLE_OFF);
}

static void test_bar_slots_split(void **state)
{
	struct fix *f = *state;
	const struct ev *e;
	uint64_t at;

	/* a 64K BAR with the table and PBA in the middle: three slots around them */
	f->info.bar[0].size = 0x10000;
	f->info.bar[0].areas[0].size = 0x10000;
	free(f->map);
	f->map = aligned_alloc(4096, 0x10000);
	assert_non_null(f->map);
	f->info.bar[0].map = f->map;
	put_le32(f->info.config + CAP_MSIX + 4, 0x4000);
	put_le32(f->info.config + CAP_MSIX + 8, 0x8800);
	start(f);
	at = bar0(f);
	assert_int_equal(count(f, 0, EV_SLOT), 3);
	e = first_from(f, 0, EV_SLOT);
	assert_int_equal(e->slot, SLOT_BASE);
	assert_int_equal(e->gpa, at);
	assert_int_equal(e->len, 0x4000);
	assert_ptr_equal(e->host, f->map);
	e = first_from(f, (int)(e - f->ev) + 1, EV_SLOT);
	assert_int_equal(e->slot, SLOT_BASE + 1);
	assert_int_equal(e->gpa, at + 0x5000);
	assert_int_equal(e->len, 0x3000);
	assert_ptr_equal(e->host, f->map + 0x5000);
	e = first_from(f, (int)(e - f->ev) + 1, EV_SLOT);
	assert_int_equal(e->slot, SLOT_BASE + 2);
	assert_int_equal(e->gpa, at + 0x9000);
	assert_int_equal(e->len, 0x7000);
	assert_ptr_equal(e->host, f->map + 0x9000);
	assert_int_equal(passthrough_mapped_bytes(f->pt), 0x4000 + 0x3000 + 0x7000);
}

static void test_bar_moves(void **state)
{
	struct fix *f = *state;
	uint64_t old, new;
	const struct ev *e;
	int mark;

	start(f);
	old = bar0(f);
	new = old + 0x100000;
	assert_true(new + BAR0_SIZE <= PCI_MMIO_END);

	/* sizing while decoding: the slot goes, and comes back at the address */
	mark = f->nev;
	cfg_write(f, PCI_CFG_BAR0, 4, 0xFFFFFFFF);
	assert_int_equal(count(f, mark, EV_SLOT), 1);
	e = last(f, EV_SLOT);
	assert_int_equal(e->slot, SLOT_BASE);
	assert_int_equal(e->len, 0);
	assert_int_equal(passthrough_mapped_bytes(f->pt), 0);

	mark = f->nev;
	cfg_write(f, PCI_CFG_BAR0, 4, (uint32_t)new);
	assert_int_equal(count(f, mark, EV_SLOT), 1);
	e = last(f, EV_SLOT);
	assert_int_equal(e->slot, SLOT_BASE);
	assert_int_equal(e->gpa, new);
	assert_int_equal(e->len, TABLE_OFF);
	assert_ptr_equal(e->host, f->map);

	/* moved straight to another address: removed, then re-added there */
	mark = f->nev;
	cfg_write(f, PCI_CFG_BAR0, 4, (uint32_t)old);
	assert_int_equal(count(f, mark, EV_SLOT), 2);
	e = first_from(f, mark, EV_SLOT);
	assert_int_equal(e->len, 0);
	e = last(f, EV_SLOT);
	assert_int_equal(e->gpa, old);
	assert_int_equal(e->len, TABLE_OFF);
	assert_int_equal(passthrough_mapped_bytes(f->pt), TABLE_OFF);

	/* the same address again: nothing to do */
	mark = f->nev;
	cfg_write(f, PCI_CFG_BAR0, 4, (uint32_t)old);
	assert_int_equal(count(f, mark, EV_SLOT), 0);

	/* BAR accesses follow the BAR too: the old place is no longer it */
	cfg_write(f, PCI_CFG_BAR0, 4, (uint32_t)new);
	assert_int_equal(vs_mmio_read(f->bus, new + 0x10, 4),
			 bar_byte(0x10) | bar_byte(0x11) << 8 | bar_byte(0x12) << 16 |
			 (uint32_t)bar_byte(0x13) << 24);
	assert_false(pci_mmio(f->bus, old + 0x10, (uint8_t[4]){ 0 }, 4, false));
}

static void test_bar_moved_while_off(void **state)
{
	struct fix *f = *state;
	uint64_t old, new;
	const struct ev *e;
	int mark;

	start(f);
	old = bar0(f);
	new = old + 0x200000;
	cfg_write(f, PCI_CFG_COMMAND, 2, 0);
	mark = f->nev;
	cfg_write(f, PCI_CFG_BAR0, 4, (uint32_t)new);
	assert_int_equal(count(f, mark, EV_SLOT), 0);
	cfg_write(f, PCI_CFG_COMMAND, 2, PCI_CMD_MEM);
	assert_int_equal(count(f, mark, EV_SLOT), 1);
	e = last(f, EV_SLOT);
	assert_int_equal(e->gpa, new);
	assert_int_equal(e->len, TABLE_OFF);
}

/* A slot KVM refuses (the guest put the BAR over another's): the BAR traps, the VM runs on. */
static void test_bar_slot_refused(void **state)
{
	struct fix *f = *state;
	uint64_t at, there = PCI_MMIO_START + 0x100000;
	int mark;

	start(f);
	at = bar0(f);
	f->fail_slot_gpa = there;
	mark = f->nev;
	cfg_write(f, PCI_CFG_BAR0, 4, (uint32_t)there);
	assert_int_equal(f->nerr, 0);
	assert_int_equal(passthrough_mapped_bytes(f->pt), 0);
	/* the old slot went, the new one was refused and nothing is left behind */
	assert_int_equal(count(f, mark, EV_SLOT), 2);
	assert_int_equal(last(f, EV_SLOT)->len, TABLE_OFF);
	/* its registers still work, through the VMM */
	mark = f->nev;
	assert_int_equal(vs_mmio_read(f->bus, there + 0x1C, 1), bar_byte(0x1C));
	assert_int_equal(count(f, mark, EV_BAR), 1);
	/* moved back, it is mapped again */
	cfg_write(f, PCI_CFG_BAR0, 4, (uint32_t)at);
	assert_int_equal(passthrough_mapped_bytes(f->pt), TABLE_OFF);
	/* and a BAR 5 that claims 64 bits is refused at once */
	passthrough_destroy(f->pt);
	f->pt = NULL;
	f->info.bar[5].size = 0x1000;
	f->info.bar[5].mem64 = true;
	refused(f, "BAR 5");
}

static void test_bar_without_mmap(void **state)
{
	struct fix *f = *state;
	const struct ev *e;
	uint64_t at;
	int mark;

	f->info.bar[0].map = NULL;
	f->info.bar[0].nareas = 0;
	start(f);
	at = bar0(f);
	assert_int_equal(count(f, 0, EV_SLOT), 0);
	assert_int_equal(passthrough_mapped_bytes(f->pt), 0);

	/* every access goes to the device, as made */
	vs_mmio_write(f->bus, at + 0x14, 4, 0x00460001);
	e = last(f, EV_BAR);
	assert_int_equal(e->region, 0);
	assert_true(e->write);
	assert_int_equal(e->off, 0x14);
	assert_int_equal(e->size, 4);
	assert_int_equal(e->val, 0x00460001);

	assert_int_equal(vs_mmio_read(f->bus, at + 0x1C, 4),
			 bar_byte(0x1C) | bar_byte(0x1D) << 8 | bar_byte(0x1E) << 16 |
			 (uint32_t)bar_byte(0x1F) << 24);
	e = last(f, EV_BAR);
	assert_false(e->write);
	assert_int_equal(e->off, 0x1C);
	assert_int_equal(e->size, 4);

	vs_mmio_write(f->bus, at + 0x28, 8, 0x123456789ABCDEF0ULL);
	e = last(f, EV_BAR);
	assert_int_equal(e->off, 0x28);
	assert_int_equal(e->size, 8);
	assert_int_equal(e->val, 0x123456789ABCDEF0ULL);

	assert_int_equal(vs_mmio_read(f->bus, at + 0x1003, 1), bar_byte(0x1003));
	e = last(f, EV_BAR);
	assert_int_equal(e->off, 0x1003);
	assert_int_equal(e->size, 1);

	/* but not the MSI-X table's, nor the PBA's */
	mark = f->nev;
	vs_mmio_write(f->bus, at + TABLE_OFF + 8, 4, 0x4041);
	assert_int_equal(vs_mmio_read(f->bus, at + TABLE_OFF + 8, 4), 0x4041);
	assert_int_equal(vs_mmio_read(f->bus, at + PBA_OFF, 8), 0);
	assert_int_equal(count(f, mark, EV_BAR), 0);
	/* the rest of the table's page is the device's */
	vs_mmio_read(f->bus, at + TABLE_OFF + NVEC * 16, 4);
	e = last(f, EV_BAR);
	assert_int_equal(e->off, TABLE_OFF + NVEC * 16);
}

/* ---- tests: the command register ---- */

static void test_command_attach(void **state)
{
	struct fix *f = *state;
	const struct ev *e;

	start(f);
	/* decoding on, as firmware leaves it; no DMA until the driver; INTx off */
	assert_int_equal(count(f, 0, EV_CONFIG), 1);
	e = last(f, EV_CONFIG);
	assert_true(e->write);
	assert_int_equal(e->off, PCI_CFG_COMMAND);
	assert_int_equal(e->size, 2);
	assert_int_equal(e->val, PCI_CMD_MEM | CMD_INTX_DISABLE);
	assert_int_equal(cfg_read(f, PCI_CFG_COMMAND, 2) & (PCI_CMD_MEM | PCI_CMD_MASTER),
			 PCI_CMD_MEM);

	/* the driver enables DMA */
	cfg_write(f, PCI_CFG_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	e = last(f, EV_CONFIG);
	assert_int_equal(e->off, PCI_CFG_COMMAND);
	assert_int_equal(e->val, PCI_CMD_MEM | PCI_CMD_MASTER | CMD_INTX_DISABLE);
	/* and a byte write to the command register's low half does too */
	cfg_write(f, PCI_CFG_COMMAND, 1, PCI_CMD_MEM);
	assert_int_equal(last(f, EV_CONFIG)->val, PCI_CMD_MEM | CMD_INTX_DISABLE);
	/* INTx stays disabled on the device whatever the guest says */
	cfg_write(f, PCI_CFG_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	assert_int_equal(last(f, EV_CONFIG)->val,
			 PCI_CMD_MEM | PCI_CMD_MASTER | CMD_INTX_DISABLE);
	/* other registers are not forwarded */
	cfg_write(f, PCI_CFG_LATENCY, 1, 0x40);
	cfg_write(f, PCI_CFG_INT_LINE, 1, 10);
	assert_int_equal(count(f, 0, EV_CONFIG), 4);
}

static void test_command_memory_off_on(void **state)
{
	struct fix *f = *state;
	const struct ev *slot, *cmd;
	uint64_t at;
	int mark;

	start(f);
	at = bar0(f);

	/* decoding off: the slot goes before the device stops decoding */
	mark = f->nev;
	cfg_write(f, PCI_CFG_COMMAND, 2, PCI_CMD_MASTER);
	slot = first_from(f, mark, EV_SLOT);
	cmd = first_from(f, mark, EV_CONFIG);
	assert_int_equal(slot->slot, SLOT_BASE);
	assert_int_equal(slot->len, 0);
	assert_int_equal(cmd->val, PCI_CMD_MASTER | CMD_INTX_DISABLE);
	assert_true(slot->seq < cmd->seq);
	assert_int_equal(passthrough_mapped_bytes(f->pt), 0);
	/* and the BAR no longer answers */
	assert_false(pci_mmio(f->bus, at, (uint8_t[4]){ 0 }, 4, false));

	/* on again: the slot comes back once the device decodes */
	mark = f->nev;
	cfg_write(f, PCI_CFG_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	slot = first_from(f, mark, EV_SLOT);
	cmd = first_from(f, mark, EV_CONFIG);
	assert_int_equal(cmd->val, PCI_CMD_MEM | PCI_CMD_MASTER | CMD_INTX_DISABLE);
	assert_int_equal(slot->slot, SLOT_BASE);
	assert_int_equal(slot->gpa, at);
	assert_int_equal(slot->len, TABLE_OFF);
	assert_ptr_equal(slot->host, f->map);
	assert_true(cmd->seq < slot->seq);
	assert_int_equal(count(f, mark, EV_SLOT), 1);
	assert_int_equal(passthrough_mapped_bytes(f->pt), TABLE_OFF);

	/* MEM staying on: no slot churn */
	mark = f->nev;
	cfg_write(f, PCI_CFG_COMMAND, 2, PCI_CMD_MEM);
	assert_int_equal(count(f, mark, EV_SLOT), 0);
}

/* ---- tests: MSI-X ---- */

static void test_msix_table_emulated(void **state)
{
	struct fix *f = *state;
	int mark;

	start(f);
	mark = f->nev;
	/* vector 3: a message, masked at reset */
	assert_int_equal(vs_mmio_read(f->bus, entry_gpa(f, 3, 12), 4), 1);
	vs_mmio_write(f->bus, entry_gpa(f, 3, 0), 4, 0xFEE01000);
	vs_mmio_write(f->bus, entry_gpa(f, 3, 4), 4, 0);
	vs_mmio_write(f->bus, entry_gpa(f, 3, 8), 4, 0x4023);
	assert_int_equal(vs_mmio_read(f->bus, entry_gpa(f, 3, 0), 4), 0xFEE01000);
	assert_int_equal(vs_mmio_read(f->bus, entry_gpa(f, 3, 8), 4), 0x4023);
	/* the last vector, by qword */
	vs_mmio_write(f->bus, entry_gpa(f, NVEC - 1, 0), 8, 0xFEE02000);
	assert_int_equal(vs_mmio_read(f->bus, entry_gpa(f, NVEC - 1, 0), 8), 0xFEE02000);
	/* the PBA reads zeros */
	assert_int_equal(vs_mmio_read(f->bus, bar0(f) + PBA_OFF, 8), 0);
	assert_int_equal(vs_mmio_read(f->bus, bar0(f) + PBA_OFF + 8, 8), 0);
	/* none of it reached the device */
	assert_int_equal(count(f, mark, EV_BAR), 0);
	assert_int_equal(count(f, mark, EV_MSIX), 0);
}

static void test_msix_enable(void **state)
{
	struct fix *f = *state;
	const struct ev *e;
	int mark;

	start(f);
	assert_int_equal(f->fm.added, NVEC);
	assert_int_equal(count(f, 0, EV_MSIX), 0);

	msix_ctrl(f, MSIX_ENABLE);
	assert_int_equal(count(f, 0, EV_MSIX), 1);
	e = last(f, EV_MSIX);
	assert_int_equal(e->n, NVEC);
	for (int i = 0; i < NVEC; i++)
		assert_int_equal(e->fds[i], f->fm.r[i].fd);
	assert_int_equal(e->fds[0], VS_FAKE_FD_BASE);
	assert_int_equal(e->fds[NVEC - 1], VS_FAKE_FD_BASE + NVEC - 1);

	/* still enabled (the function mask on, then off): not set up again */
	mark = f->nev;
	msix_ctrl(f, MSIX_ENABLE | MSIX_FMASK);
	msix_ctrl(f, MSIX_ENABLE);
	assert_int_equal(count(f, mark, EV_MSIX), 0);

	/* disabled: the real vectors go */
	msix_ctrl(f, 0);
	assert_int_equal(count(f, mark, EV_MSIX), 1);
	assert_int_equal(last(f, EV_MSIX)->n, 0);
	msix_ctrl(f, 0);
	assert_int_equal(count(f, mark, EV_MSIX), 1);

	/* and back */
	msix_ctrl(f, MSIX_ENABLE);
	assert_int_equal(count(f, mark, EV_MSIX), 2);
	assert_int_equal(last(f, EV_MSIX)->n, NVEC);
}

static void test_msix_mask_unmask(void **state)
{
	struct fix *f = *state;
	int mark;

	start(f);
	vs_mmio_write(f->bus, entry_gpa(f, 7, 0), 4, 0xFEE03000);
	vs_mmio_write(f->bus, entry_gpa(f, 7, 4), 4, 0);
	vs_mmio_write(f->bus, entry_gpa(f, 7, 8), 4, 0x4027);
	msix_ctrl(f, MSIX_ENABLE);
	assert_true(f->fm.r[7].masked);
	assert_int_equal(f->fm.unmasked_sets, 0);

	mark = f->nev;
	vs_mmio_write(f->bus, entry_gpa(f, 7, 12), 4, 0);
	assert_false(f->fm.r[7].masked);
	assert_int_equal(f->fm.r[7].addr, 0xFEE03000);
	assert_int_equal(f->fm.r[7].data, 0x4027);
	assert_int_equal(f->fm.unmasked_sets, 1);
	vs_mmio_write(f->bus, entry_gpa(f, 7, 12), 4, 1);
	assert_true(f->fm.r[7].masked);
	/* masking is the route's business: the device's vectors stay */
	assert_int_equal(count(f, mark, EV_MSIX), 0);
	assert_int_equal(count(f, mark, EV_BAR), 0);
	/* the other vectors never unmasked */
	for (int i = 0; i < NVEC; i++)
		if (i != 7)
			assert_true(f->fm.r[i].sets == 0 || f->fm.r[i].masked);
}

static void test_msix_fewer_irqs(void **state)
{
	struct fix *f = *state;

	/* VFIO can enable fewer vectors than the table has: the guest sees those */
	f->info.msix_irqs = 16;
	start(f);
	assert_int_equal(cfg_read(f, find_cap(f, PCI_CAP_ID_MSIX) + 2, 2), 15);
	assert_int_equal(f->fm.added, 16);
	msix_ctrl(f, MSIX_ENABLE);
	assert_int_equal(last(f, EV_MSIX)->n, 16);
}

static void test_destroy_msix_on(void **state)
{
	struct fix *f = *state;
	int mark;

	start(f);
	msix_ctrl(f, MSIX_ENABLE);
	mark = f->nev;
	passthrough_destroy(f->pt);
	f->pt = NULL;
	assert_int_equal(count(f, mark, EV_MSIX), 1);
	assert_int_equal(first_from(f, mark, EV_MSIX)->n, 0);
	/* and the slot is removed */
	assert_int_equal(count(f, mark, EV_SLOT), 1);
	assert_int_equal(first_from(f, mark, EV_SLOT)->slot, SLOT_BASE);
	assert_int_equal(first_from(f, mark, EV_SLOT)->len, 0);
}

static void test_destroy_msix_off(void **state)
{
	struct fix *f = *state;
	int mark;

	start(f);
	cfg_write(f, PCI_CFG_COMMAND, 2, 0);
	mark = f->nev;
	passthrough_destroy(f->pt);
	f->pt = NULL;
	/* nothing enabled, nothing mapped: nothing to undo */
	assert_int_equal(f->nev, mark);
}

static void test_msix_set_fails(void **state)
{
	struct fix *f = *state;

	start(f);
	f->fail_msix = 1;
	msix_ctrl(f, MSIX_ENABLE);
	assert_int_equal(f->nerr, 1);
	assert_msg_has(f->err, ADDR);
	assert_msg_has(f->err, "MSI-X");
	assert_msg_has(f->err, "No space");
	/* not on, so destroy does not disable what was never enabled */
	f->fail_msix = 0;
	passthrough_destroy(f->pt);
	f->pt = NULL;
	assert_int_equal(count(f, 0, EV_MSIX), 1);
}

/* ---- tests: refusals ---- */

static void test_refuse_bridge(void **state)
{
	struct fix *f = *state;

	f->info.config[PCI_CFG_HEADER_TYPE] = 0x01;
	refused(f, "bridge");
	f->info.config[PCI_CFG_HEADER_TYPE] = 0x81;
	refused(f, "bridge");
	assert_int_equal(f->nev, 0);
}

static void test_refuse_large_bar(void **state)
{
	struct fix *f = *state;
	struct passthrough *pt;

	/* 2 GiB is the most a 32-bit BAR shows; a 64-bit one may be larger */
	f->info.bar[0].mem64 = false;
	f->info.bar[0].size = 1ULL << 31;
	pt = create(f);
	assert_non_null(pt);
	passthrough_destroy(pt);
	f->info.bar[0].size = 1ULL << 32;
	refused(f, "BAR 0");
	f->info.bar[0].mem64 = true;
	pt = create(f);
	assert_non_null(pt);
	passthrough_destroy(pt);
	/* and a BAR whose size is no power of two */
	f->info.bar[0].size = 0x6000;
	refused(f, "BAR 0");
	/* also the second BAR */
	f->info.bar[0].size = BAR0_SIZE;
	f->info.bar[2].size = 0x3000;
	refused(f, "BAR 2");
	/* a 64-bit BAR too large for any window is refused when placed */
	f->info.bar[2].size = 1ULL << 40;
	f->info.bar[2].mem64 = true;
	f->pt = create(f);
	assert_non_null(f->pt);
	err_clear();
	assert_int_equal(passthrough_attach(f->pt, f->bus), -1);
	assert_non_null(strstr(err_msg(), "window"));
}

static void test_refuse_capability_loop(void **state)
{
	struct fix *f = *state;

	f->info.config[CAP_PCIE + 1] = CAP_PCIE;		/* the last points to itself */
	refused(f, "broken capability list");
	f->info.config[CAP_PCIE + 1] = CAP_PM;			/* back to the first */
	refused(f, "broken capability list");
	f->info.config[CAP_PCIE + 1] = 0x10;			/* into the header */
	refused(f, "broken capability list");
	f->info.config[CAP_PCIE + 1] = 0;
	/* a status without the list bit: no capabilities at all, so no MSI-X */
	put_le16(f->info.config + PCI_CFG_STATUS, 0);
	refused(f, "no interrupt VFIO can signal");
	assert_int_equal(f->fm.added, 0);
}

static void test_refuse_msix_elsewhere(void **state)
{
	struct fix *f = *state;

	/* the table in BAR 2, which the device lacks */
	put_le32(f->info.config + CAP_MSIX + 4, TABLE_OFF | 2);
	refused(f, "MSI-X");
	/* or in the upper half of BAR 0 */
	put_le32(f->info.config + CAP_MSIX + 4, TABLE_OFF | 1);
	refused(f, "MSI-X");
	/* the PBA in a BAR that does not exist */
	put_le32(f->info.config + CAP_MSIX + 4, TABLE_OFF | 0);
	put_le32(f->info.config + CAP_MSIX + 8, PBA_OFF | 7);
	refused(f, "MSI-X");
	/* the table in an I/O BAR */
	put_le32(f->info.config + CAP_MSIX + 8, PBA_OFF | 0);
	put_le32(f->info.config + CAP_MSIX + 4, TABLE_OFF | 2);
	f->info.bar[2].size = 0x4000;
	f->info.bar[2].io = true;
	refused(f, "MSI-X");
}

static void test_refuse_routes_fail(void **state)
{
	struct fix *f = *state;

	/* the VMM cannot make a vector's route (ASan: nothing leaks) */
	f->fm.fail_at = 10;
	err_clear();
	assert_null(create(f));
	assert_int_equal(f->nev, 0);
}

/* ---- tests: INTx ---- */

/* A function VFIO can signal INTx for, given the VMM's lines. */
static void start_intx(struct fix *f)
{
	f->info.intx = true;
	f->with_intx = true;
	start(f);
}

static void test_intx_wired(void **state)
{
	struct fix *f = *state;
	const struct ev *line, *on;
	int gsi;

	start_intx(f);
	gsi = pci_intx_gsi((int)f->slot, 0);
	assert_int_equal(cfg_read(f, PCI_CFG_INT_PIN, 1), 1);		/* INTA, the real pin */
	assert_int_equal(cfg_read(f, PCI_CFG_INT_LINE, 1), gsi);
	/* the resampling irqfd on the _PRT's GSI, then VFIO signals its eventfd */
	assert_int_equal(count(f, 0, EV_LINE), 1);
	line = last(f, EV_LINE);
	assert_true(line->assign);
	assert_int_equal(line->gsi, gsi);
	assert_true(line->fd >= 0 && line->resample_fd >= 0 && line->fd != line->resample_fd);
	assert_int_equal(count(f, 0, EV_INTX), 1);
	on = last(f, EV_INTX);
	assert_int_equal(on->fd, line->fd);
	assert_int_equal(on->resample_fd, line->resample_fd);
	assert_true(line->seq < on->seq);
	/* with a pin the guest's INTx-disable bit is the device's */
	assert_int_equal(first_from(f, 0, EV_CONFIG)->val, PCI_CMD_MEM);
	cfg_write(f, PCI_CFG_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER | CMD_INTX_DISABLE);
	assert_int_equal(last(f, EV_CONFIG)->val,
			 PCI_CMD_MEM | PCI_CMD_MASTER | CMD_INTX_DISABLE);
	cfg_write(f, PCI_CFG_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	assert_int_equal(last(f, EV_CONFIG)->val, PCI_CMD_MEM | PCI_CMD_MASTER);
}

static void test_intx_msix_handover(void **state)
{
	struct fix *f = *state;
	const struct ev *off, *msix, *on;
	int mark, fd;

	start_intx(f);
	fd = last(f, EV_INTX)->fd;
	/* MSI-X on: INTx goes off first (VFIO runs one kind at a time) */
	mark = f->nev;
	msix_ctrl(f, MSIX_ENABLE);
	off = first_from(f, mark, EV_INTX);
	msix = first_from(f, mark, EV_MSIX);
	assert_int_equal(off->fd, -1);
	assert_int_equal(msix->n, NVEC);
	assert_true(off->seq < msix->seq);
	assert_int_equal(count(f, mark, EV_INTX), 1);
	/* MSI-X off: INTx comes back after it */
	mark = f->nev;
	msix_ctrl(f, 0);
	msix = first_from(f, mark, EV_MSIX);
	on = first_from(f, mark, EV_INTX);
	assert_int_equal(msix->n, 0);
	assert_int_equal(on->fd, fd);
	assert_true(msix->seq < on->seq);
	/* the line itself stays wired all along */
	assert_int_equal(count(f, 0, EV_LINE), 1);
}

static void test_intx_destroy(void **state)
{
	struct fix *f = *state;
	const struct ev *off, *line;
	int mark, fd;

	start_intx(f);
	fd = last(f, EV_LINE)->fd;
	mark = f->nev;
	passthrough_destroy(f->pt);
	f->pt = NULL;
	off = first_from(f, mark, EV_INTX);
	line = first_from(f, mark, EV_LINE);
	assert_int_equal(off->fd, -1);
	assert_false(line->assign);
	assert_int_equal(line->fd, fd);
	assert_true(off->seq < line->seq);
	/* and the eventfds are closed */
	assert_int_equal(fcntl(fd, F_GETFD), -1);
}

/* Without the VMM's lines, or VFIO's INTx, or a pin: no INTx, and INTx stays off. */
static void test_intx_absent(void **state)
{
	struct fix *f = *state;

	f->with_intx = true;		/* but VFIO has no INTx for it */
	start(f);
	assert_int_equal(cfg_read(f, PCI_CFG_INT_PIN, 1), 0);
	assert_int_equal(count(f, 0, EV_LINE), 0);
	assert_int_equal(count(f, 0, EV_INTX), 0);
	assert_int_equal(last(f, EV_CONFIG)->val, PCI_CMD_MEM | CMD_INTX_DISABLE);
}

/* INTx alone (no MSI-X) is enough to pass a function through; neither is refused. */
static void test_intx_without_msix(void **state)
{
	struct fix *f = *state;

	f->info.config[CAP_PM + 1] = CAP_PCIE;			/* the chain skips MSI-X */
	f->info.intx = true;
	f->with_intx = true;
	start(f);
	assert_int_equal(f->fm.added, 0);
	assert_int_equal(cfg_read(f, PCI_CFG_INT_PIN, 1), 1);
	passthrough_destroy(f->pt);
	f->pt = NULL;
	f->info.config[PCI_CFG_INT_PIN] = 0;
	refused(f, "no interrupt VFIO can signal");
}

/* ---- tests: MSI ---- */

#define MSI_VECS	8

/* The real MSI capability: 64-bit, capable of 8 vectors, which VFIO offers. */
static void with_msi(struct fix *f)
{
	put_le16(f->info.config + CAP_MSI + 2, 0x0080 | 3 << 1);
	f->info.msi_irqs = MSI_VECS;
}

/* MSI's message control, address and data, as a driver programs them. */
static void msi_program(struct fix *f, unsigned int c, uint16_t ctrl)
{
	cfg_write(f, c + 4, 4, 0xFEE00000);
	cfg_write(f, c + 8, 4, 0);
	cfg_write(f, c + 12, 2, 0x4060);
	cfg_write(f, c + 2, 2, ctrl);
}

static void test_msi_capability(void **state)
{
	struct fix *f = *state;
	unsigned int c;

	with_msi(f);
	start(f);
	c = find_cap(f, CAP_ID_MSI);
	assert_int_not_equal(c, 0);
	/* 64-bit, per-vector masks, 8 vectors capable (log2 3), none enabled */
	assert_int_equal(cfg_read(f, c + 2, 2), 0x0100 | 0x0080 | 3 << 1);
	assert_int_equal(f->fm.added, NVEC + MSI_VECS);
	/* the mask bits take only the vectors there are */
	cfg_write(f, c + 16, 4, 0xFFFFFFFF);
	assert_int_equal(cfg_read(f, c + 16, 4), 0xFF);
	/* no address bits below the dword */
	cfg_write(f, c + 4, 4, 0xFEE00003);
	assert_int_equal(cfg_read(f, c + 4, 4), 0xFEE00000);
	/* and without VFIO's MSI the capability stays hidden */
	passthrough_destroy(f->pt);
	f->pt = NULL;
	f->info.msi_irqs = 0;
	start(f);
	assert_int_equal(find_cap(f, CAP_ID_MSI), 0);
}

static void test_msi_enable(void **state)
{
	struct fix *f = *state;
	unsigned int c, base;
	const struct ev *e;
	int mark;

	with_msi(f);
	start(f);
	c = find_cap(f, CAP_ID_MSI);
	base = NVEC;		/* MSI-X took the first routes */
	mark = f->nev;
	/* enabled with 4 of its 8 vectors (MME 2) */
	msi_program(f, c, 0x0001 | 2 << 4);
	assert_int_equal(count(f, mark, EV_MSI), 1);
	e = last(f, EV_MSI);
	assert_int_equal(e->n, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(e->fds[i], f->fm.r[base + i].fd);
	/* each enabled vector sends the data with its number in the low bits */
	for (unsigned int i = 0; i < 4; i++) {
		assert_false(f->fm.r[base + i].masked);
		assert_int_equal(f->fm.r[base + i].addr, 0xFEE00000);
		assert_int_equal(f->fm.r[base + i].data, 0x4060 | i);
	}
	for (unsigned int i = 4; i < MSI_VECS; i++)
		assert_true(f->fm.r[base + i].masked);
	/* a vector the guest masks */
	cfg_write(f, c + 16, 4, 0x2);
	assert_true(f->fm.r[base + 1].masked);
	assert_false(f->fm.r[base + 0].masked);
	cfg_write(f, c + 16, 4, 0);
	assert_false(f->fm.r[base + 1].masked);
	/* a new count: off, then on with it */
	mark = f->nev;
	cfg_write(f, c + 2, 2, 0x0001 | 3 << 4);
	assert_int_equal(count(f, mark, EV_MSI), 2);
	assert_int_equal(first_from(f, mark, EV_MSI)->n, 0);
	assert_int_equal(last(f, EV_MSI)->n, 8);
	/* off */
	mark = f->nev;
	cfg_write(f, c + 2, 2, 0);
	assert_int_equal(count(f, mark, EV_MSI), 1);
	assert_int_equal(last(f, EV_MSI)->n, 0);
	for (unsigned int i = 0; i < MSI_VECS; i++)
		assert_true(f->fm.r[base + i].masked);
	/* and destroy turns nothing off twice */
	mark = f->nev;
	passthrough_destroy(f->pt);
	f->pt = NULL;
	assert_int_equal(count(f, mark, EV_MSI), 0);
}

/* One kind at a time: MSI-X on keeps MSI off, and INTx goes off for MSI. */
static void test_msi_exclusive(void **state)
{
	struct fix *f = *state;
	unsigned int c;
	int mark;

	with_msi(f);
	f->info.intx = true;
	f->with_intx = true;
	start(f);
	c = find_cap(f, CAP_ID_MSI);
	msix_ctrl(f, MSIX_ENABLE);
	mark = f->nev;
	msi_program(f, c, 0x0001);
	assert_int_equal(count(f, mark, EV_MSI), 0);
	msix_ctrl(f, 0);
	/* MSI-X off: INTx back; MSI's enable bit is still set but was refused while MSI-X ran */
	cfg_write(f, c + 2, 2, 0);
	mark = f->nev;
	msi_program(f, c, 0x0001);
	assert_int_equal(first_from(f, mark, EV_INTX)->fd, -1);
	assert_true(first_from(f, mark, EV_INTX)->seq < first_from(f, mark, EV_MSI)->seq);
	assert_int_equal(last(f, EV_MSI)->n, 1);
	/* now MSI-X stays off */
	mark = f->nev;
	msix_ctrl(f, MSIX_ENABLE);
	assert_int_equal(count(f, mark, EV_MSIX), 0);
	/* MSI off: INTx back on */
	msix_ctrl(f, 0);
	mark = f->nev;
	cfg_write(f, c + 2, 2, 0);
	assert_int_equal(first_from(f, mark, EV_MSI)->n, 0);
	assert_true(first_from(f, mark, EV_INTX)->fd >= 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx_wired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msi_capability, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msi_enable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msi_exclusive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx_msix_handover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx_without_msix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capability_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix_capability, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pcie_capability, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar64_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_slot_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_and_prefetch_bars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_slots_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_moved_while_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_without_mmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_attach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_memory_off_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix_table_emulated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix_enable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix_mask_unmask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix_fewer_irqs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_msix_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_msix_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix_set_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_bridge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_large_bar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_capability_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_msix_elsewhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_routes_fail, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
