// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-pci modern transport (virtio/pci.h), driven the way Linux's
 * virtio_pci_modern driver drives it: through config space (0xCF8/0xCFC)
 * and BAR 0 accesses (pci_mmio()), on a real bus. The device behind it is
 * a fake that records start()/reset() and serves a small configuration
 * space; MSI routes (vqsim.h's, on real eventfds) and doorbells are fakes
 * that record what they are told. Guest memory is vqsim.h's: one malloc'd
 * 64K region at guest-physical 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/platform.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "lib/err.h"
#include "mem/region.h"
#include "virtio/pci.h"
#include "virtio/virtio.h"
#include "vqsim.h"

#define RAM_SIZE	0x10000ULL
#define NQUEUES		2
#define QSIZE		16
#define CFG_SIZE	8
#define DEV_FEATURES	(1ULL << 0 | 1ULL << 5 | 1ULL << VIRTIO_RING_F_INDIRECT_DESC)
#define F_VERSION_1	(1ULL << VIRTIO_F_VERSION_1)

/* virtio_pci_cap (virtio 1.2, 4.1.4) */
#define CAP_COMMON	1
#define CAP_NOTIFY	2
#define CAP_ISR		3
#define CAP_DEVICE	4
#define CAP_PCI_CFG	5

/* common configuration (4.1.4.3) */
#define DFSELECT	0x00
#define DF		0x04
#define GFSELECT	0x08
#define GF		0x0C
#define MSIX_CONFIG	0x10
#define NUM_QUEUES	0x12
#define STATUS		0x14
#define CONFIG_GEN	0x15
#define Q_SELECT	0x16
#define Q_SIZE		0x18
#define Q_MSIX		0x1A
#define Q_ENABLE	0x1C
#define Q_NOTIFY_OFF	0x1E
#define Q_DESC		0x20
#define Q_DRIVER	0x28
#define Q_DEVICE	0x30

#define S_ACK		VIRTIO_STATUS_ACKNOWLEDGE
#define S_DRIVER	VIRTIO_STATUS_DRIVER
#define S_DRIVER_OK	VIRTIO_STATUS_DRIVER_OK
#define S_FEATURES_OK	VIRTIO_STATUS_FEATURES_OK
#define S_NEEDS_RESET	VIRTIO_STATUS_NEEDS_RESET
#define S_FAILED	VIRTIO_STATUS_FAILED

#define MSIX_ENABLE	0x8000

/* Where the test driver puts each queue's areas in guest RAM. */
static const uint64_t q_desc[NQUEUES] = { 0x1000, 0x4000 };
static const uint64_t q_driver[NQUEUES] = { 0x2000, 0x5000 };
static const uint64_t q_device[NQUEUES] = { 0x3000, 0x6000 };

/* --- fakes ----------------------------------------------------------------- */

struct fake_dev {
	int starts, resets;
	int start_ret;
	unsigned int nqueues;
	uint64_t features;
	struct virtio_link *link;
	struct virtio_queue q[NQUEUES];	/* copies of what start() got */
	uint8_t cfg[CFG_SIZE];
	int cfg_reads, cfg_writes;
	unsigned int last_off;
	int last_size;
	uint8_t written[8];
};

static int fake_start(void *dev, struct virtio_queue *queues, unsigned int nqueues,
		      uint64_t features, struct virtio_link *link)
{
	struct fake_dev *d = dev;

	d->starts++;
	d->nqueues = nqueues;
	d->features = features;
	d->link = link;
	for (unsigned int i = 0; i < nqueues && i < NQUEUES; i++)
		d->q[i] = queues[i];
	return d->start_ret;
}

static void fake_reset(void *dev)
{
	struct fake_dev *d = dev;

	d->resets++;
}

static void fake_config_read(void *dev, unsigned int offset, void *data, int size)
{
	struct fake_dev *d = dev;

	d->cfg_reads++;
	d->last_off = offset;
	d->last_size = size;
	assert_true(offset + size <= CFG_SIZE);
	memcpy(data, d->cfg + offset, size);
}

static void fake_config_write(void *dev, unsigned int offset, const void *data, int size)
{
	struct fake_dev *d = dev;

	d->cfg_writes++;
	d->last_off = offset;
	d->last_size = size;
	assert_true(offset + size <= CFG_SIZE);
	memcpy(d->written, data, size);
}

static const struct virtio_dev_ops fake_ops = {
	.start = fake_start,
	.reset = fake_reset,
	.config_read = fake_config_read,
	.config_write = fake_config_write,
};

#define BELLS_MAX	64

struct bell {
	uint64_t addr;
	unsigned int len;
	int fd;
};

struct fake_bells {
	int armed;
	struct bell b[BELLS_MAX];
	int assigns, deassigns;
	uint64_t fail_addr;		/* an assign here fails; 0 none */
};

static int fake_bell_set(void *ctx, uint64_t addr, unsigned int len, int fd, bool assign)
{
	struct fake_bells *fb = ctx;

	if (assign) {
		if (addr == fb->fail_addr)
			return -1;
		for (int i = 0; i < fb->armed; i++)
			assert_true(fb->b[i].addr != addr);	/* never armed twice */
		assert_true(fb->armed < BELLS_MAX);
		fb->b[fb->armed++] = (struct bell){ addr, len, fd };
		fb->assigns++;
		return 0;
	}
	for (int i = 0; i < fb->armed; i++) {
		if (fb->b[i].addr == addr && fb->b[i].len == len && fb->b[i].fd == fd) {
			fb->b[i] = fb->b[--fb->armed];
			fb->deassigns++;
			return 0;
		}
	}
	fail_msg("doorbell %#llx (fd %d) disarmed but not armed", (unsigned long long)addr, fd);
	return -1;
}

/* The doorbell armed at @addr, or NULL. */
static const struct bell *bell_at(const struct fake_bells *fb, uint64_t addr)
{
	for (int i = 0; i < fb->armed; i++)
		if (fb->b[i].addr == addr)
			return &fb->b[i];
	return NULL;
}

/* --- the fixture --------------------------------------------------------- */

struct caps {
	bool have[6];
	int count[6];
	unsigned int at[6];	/* config offset of the capability */
	uint8_t bar[6], cap_len[6];
	uint32_t off[6], len[6];
	uint32_t multiplier;
	unsigned int msix;
};

struct fix {
	struct vs_ram ram;
	struct pci_bus *bus;
	struct fake_dev dev;
	struct virtio_device_desc desc;
	struct virtio_device_desc desc2;	/* a second function's; outlives it */
	struct vs_msi msi;
	struct fake_bells bells;
	struct doorbell_ops bell_ops;
	struct virtio_pci *vps[4];	/* every function made, freed after the bus */
	int nvps;
	struct virtio_pci *vp;		/* the one the helpers talk to */
	struct pci_device *pdev;
	unsigned int slot;
	uint64_t bar;
	struct caps caps;
};

static uint32_t cfg_read(struct fix *f, unsigned int reg, int size)
{
	return vs_cfg_read(f->bus, f->slot, reg, size);
}

static void cfg_write(struct fix *f, unsigned int reg, int size, uint32_t v)
{
	vs_cfg_write(f->bus, f->slot, reg, size, v);
}

static uint64_t mmio_read(struct fix *f, uint64_t gpa, int size)
{
	return vs_mmio_read(f->bus, gpa, size);
}

static void mmio_write(struct fix *f, uint64_t gpa, int size, uint64_t v)
{
	vs_mmio_write(f->bus, gpa, size, v);
}

/* Walks the capability list as virtio_pci_find_capability() does. */
static void find_caps(struct fix *f)
{
	struct caps *c = &f->caps;
	unsigned int at, n;

	memset(c, 0, sizeof(*c));
	assert_true(cfg_read(f, PCI_CFG_STATUS, 2) & PCI_STATUS_CAP_LIST);
	at = cfg_read(f, PCI_CFG_CAP_PTR, 1);
	for (n = 0; at && n < 48; n++) {
		unsigned int id = cfg_read(f, at, 1);

		assert_true(at >= PCI_CAP_START && at % 4 == 0);
		if (id == PCI_CAP_ID_MSIX)
			c->msix = at;
		if (id == PCI_CAP_ID_VNDR) {
			unsigned int type = cfg_read(f, at + 3, 1);

			assert_true(type >= 1 && type <= 5);
			c->count[type]++;
			if (!c->have[type]) {
				c->have[type] = true;
				c->at[type] = at;
				c->cap_len[type] = (uint8_t)cfg_read(f, at + 2, 1);
				c->bar[type] = (uint8_t)cfg_read(f, at + 4, 1);
				c->off[type] = cfg_read(f, at + 8, 4);
				c->len[type] = cfg_read(f, at + 12, 4);
				if (type == CAP_NOTIFY)
					c->multiplier = cfg_read(f, at + 16, 4);
			}
		}
		at = cfg_read(f, at + 1, 1);
	}
	assert_int_equal(at, 0);
}

static struct virtio_pci *attach(struct fix *f, const struct virtio_device_desc *desc)
{
	struct virtio_pci *vp = virtio_pci_create(desc, &f->ram.gm, &f->msi.ops, &f->bell_ops);

	assert_non_null(vp);
	assert_true(f->nvps < 4);
	f->vps[f->nvps++] = vp;
	assert_int_equal(virtio_pci_attach(vp, f->bus), 0);
	return vp;
}

/* Makes @vp the function the helpers talk to. */
static void use(struct fix *f, struct virtio_pci *vp)
{
	f->vp = vp;
	f->pdev = virtio_pci_device(vp);
	f->slot = (unsigned int)f->pdev->devfn >> 3;
	f->bar = cfg_read(f, PCI_CFG_BAR0, 4) & PCI_BAR_MEM_MASK;
	find_caps(f);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	if (vs_ram_init(&f->ram, RAM_SIZE, 0))
		return -1;
	for (int i = 0; i < CFG_SIZE; i++)
		f->dev.cfg[i] = (uint8_t)(0x10 + i);
	f->desc = (struct virtio_device_desc){
		.name = "virtio-fake",
		.device_id = VIRTIO_ID_BLOCK,
		.pci_class = 0x018000,
		.features = DEV_FEATURES,
		.nqueues = NQUEUES,
		.queue_size = QSIZE,
		.config_size = CFG_SIZE,
		.ops = &fake_ops,
		.dev = &f->dev,
	};
	vs_msi_init(&f->msi, true);
	f->bell_ops = (struct doorbell_ops){ fake_bell_set, &f->bells };
	f->bus = pci_create(NULL, NULL);
	if (!f->bus)
		return -1;
	pci_set_mmio_window(f->bus, PCI_MMIO_START, PCI_MMIO_END);
	*state = f;
	use(f, attach(f, &f->desc));
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	/* the functions must outlive the bus (pci.h) */
	pci_destroy(f->bus);
	for (int i = 0; i < f->nvps; i++)
		virtio_pci_destroy(f->vps[i]);
	/* a started device is reset, and every doorbell disarmed */
	assert_int_equal(f->dev.resets, f->dev.starts - (f->dev.start_ret ? f->dev.starts : 0));
	assert_int_equal(f->bells.armed, 0);
	vs_msi_close(&f->msi);
	vs_ram_free(&f->ram);
	free(f);
	return 0;
}

/* --- the driver's side ---------------------------------------------------- */

static uint64_t common(struct fix *f, unsigned int off)
{
	return f->bar + f->caps.off[CAP_COMMON] + off;
}

static uint64_t cc_read(struct fix *f, unsigned int off, int size)
{
	return mmio_read(f, common(f, off), size);
}

static void cc_write(struct fix *f, unsigned int off, int size, uint64_t v)
{
	mmio_write(f, common(f, off), size, v);
}

static uint8_t status(struct fix *f)
{
	return (uint8_t)cc_read(f, STATUS, 1);
}

/* vp_set_status(): the driver writes the whole byte, old bits and new. */
static void add_status(struct fix *f, uint8_t bits)
{
	cc_write(f, STATUS, 1, status(f) | bits);
}

static uint64_t device_features(struct fix *f)
{
	uint64_t lo, hi;

	cc_write(f, DFSELECT, 4, 0);
	lo = cc_read(f, DF, 4);
	cc_write(f, DFSELECT, 4, 1);
	hi = cc_read(f, DF, 4);
	return hi << 32 | lo;
}

static void set_driver_features(struct fix *f, uint64_t features)
{
	cc_write(f, GFSELECT, 4, 0);
	cc_write(f, GF, 4, (uint32_t)features);
	cc_write(f, GFSELECT, 4, 1);
	cc_write(f, GF, 4, features >> 32);
}

static uint64_t driver_features(struct fix *f)
{
	uint64_t lo, hi;

	cc_write(f, GFSELECT, 4, 0);
	lo = cc_read(f, GF, 4);
	cc_write(f, GFSELECT, 4, 1);
	hi = cc_read(f, GF, 4);
	return hi << 32 | lo;
}

/* Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK: the status read back. */
static uint8_t negotiate(struct fix *f, uint64_t features)
{
	cc_write(f, STATUS, 1, 0);
	assert_int_equal(status(f), 0);
	add_status(f, S_ACK);
	add_status(f, S_DRIVER);
	set_driver_features(f, features);
	add_status(f, S_FEATURES_OK);
	return status(f);
}

/* Turns MSI-X on and programs/unmasks vector @vec, as pci_alloc_irq_vectors + request_irq. */
static void msix_vector_on(struct fix *f, unsigned int vec)
{
	uint32_t table = cfg_read(f, f->caps.msix + 4, 4);
	uint64_t entry = f->bar + (table & ~7u) + 16ULL * vec;

	assert_int_equal(table & 7, 0);		/* BAR 0 */
	cfg_write(f, f->caps.msix + 2, 2, MSIX_ENABLE);
	mmio_write(f, entry, 4, 0xFEE00000);
	mmio_write(f, entry + 4, 4, 0);
	mmio_write(f, entry + 8, 4, 0x4020 + vec);
	mmio_write(f, entry + 12, 4, 0);
}

/* vp_modern_find_vqs()/setup_vq(): everything but queue_enable. */
static void setup_queue(struct fix *f, unsigned int q, uint16_t size, uint16_t vector,
			bool halves)
{
	cc_write(f, Q_SELECT, 2, q);
	assert_int_equal(cc_read(f, Q_SELECT, 2), q);
	assert_int_equal(cc_read(f, Q_SIZE, 2), QSIZE);
	assert_int_equal(cc_read(f, Q_ENABLE, 2), 0);
	cc_write(f, Q_SIZE, 2, size);
	cc_write(f, Q_MSIX, 2, vector);
	assert_int_equal(cc_read(f, Q_MSIX, 2), vector);
	if (halves) {
		/* vp_iowrite64_twopart(): low dword, then high */
		cc_write(f, Q_DESC, 4, (uint32_t)q_desc[q]);
		cc_write(f, Q_DESC + 4, 4, q_desc[q] >> 32);
		cc_write(f, Q_DRIVER, 4, (uint32_t)q_driver[q]);
		cc_write(f, Q_DRIVER + 4, 4, q_driver[q] >> 32);
		cc_write(f, Q_DEVICE, 4, (uint32_t)q_device[q]);
		cc_write(f, Q_DEVICE + 4, 4, q_device[q] >> 32);
	} else {
		cc_write(f, Q_DESC, 8, q_desc[q]);
		cc_write(f, Q_DRIVER, 8, q_driver[q]);
		cc_write(f, Q_DEVICE, 8, q_device[q]);
	}
}

static uint64_t notify_addr(struct fix *f, unsigned int q)
{
	uint64_t off;

	cc_write(f, Q_SELECT, 2, q);
	off = cc_read(f, Q_NOTIFY_OFF, 2);
	return f->bar + f->caps.off[CAP_NOTIFY] + off * f->caps.multiplier;
}

/* The whole of Linux's probe: both queues set up, enabled, DRIVER_OK. */
static void bring_up(struct fix *f)
{
	int starts = f->dev.starts;

	assert_int_equal(negotiate(f, F_VERSION_1 | 1ULL << 0),
			 S_ACK | S_DRIVER | S_FEATURES_OK);
	msix_vector_on(f, 0);
	cc_write(f, MSIX_CONFIG, 2, 0);
	assert_int_equal(cc_read(f, MSIX_CONFIG, 2), 0);
	setup_queue(f, 0, 8, 1, true);
	setup_queue(f, 1, QSIZE, 2, false);
	for (unsigned int q = 0; q < NQUEUES; q++) {
		cc_write(f, Q_SELECT, 2, q);
		cc_write(f, Q_ENABLE, 2, 1);
	}
	add_status(f, S_DRIVER_OK);
	assert_int_equal(f->dev.starts, starts + 1);
	assert_non_null(f->dev.link);
}

/* --- identity and layout ----------------------------------------------------- */

static void test_identity(void **state)
{
	struct fix *f = *state;

	assert_int_equal(cfg_read(f, PCI_CFG_VENDOR_ID, 2), 0x1AF4);
	assert_int_equal(cfg_read(f, PCI_CFG_DEVICE_ID, 2), 0x1040 + VIRTIO_ID_BLOCK);
	assert_int_equal(cfg_read(f, PCI_CFG_REVISION, 1), 1);
	assert_int_equal(cfg_read(f, PCI_CFG_REVISION, 4) >> 8, 0x018000);
	assert_int_equal(cfg_read(f, PCI_CFG_HEADER_TYPE, 1), 0);
	assert_int_equal(cfg_read(f, PCI_CFG_SUBSYS_VENDOR, 2), 0x1AF4);
	assert_int_equal(cfg_read(f, PCI_CFG_INT_PIN, 1), 0);	/* no INTx */
	/* BAR 0: 32-bit memory, placed in the window, decoding on */
	assert_true(f->bar >= PCI_MMIO_START && f->bar < PCI_MMIO_END);
	assert_int_equal(cfg_read(f, PCI_CFG_BAR0, 4) & 0xF, 0);
	assert_true(cfg_read(f, PCI_CFG_COMMAND, 2) & PCI_CMD_MEM);
	cfg_write(f, PCI_CFG_BAR0, 4, 0xFFFFFFFF);
	assert_int_equal(cfg_read(f, PCI_CFG_BAR0, 4), 0xFFFF8000);	/* 32K */
	cfg_write(f, PCI_CFG_BAR0, 4, (uint32_t)f->bar);
	assert_int_equal(f->bar % 0x8000, 0);
	for (int bar = 1; bar < PCI_BARS; bar++)
		assert_int_equal(cfg_read(f, PCI_CFG_BAR0 + 4 * bar, 4), 0);
	/* what virtio_pci_device() gives is the function on the bus */
	assert_int_equal(pci_device_bar_addr(f->pdev, 0), f->bar);
}

/*
 * virtio 1.2, 4.1.2.1: "Non-transitional devices SHOULD have a PCI
 * Subsystem Device ID of 0x40 or higher" (to keep legacy drivers off).
 */
static void test_subsystem_id(void **state)
{
	struct fix *f = *state;

	assert_true(cfg_read(f, PCI_CFG_SUBSYS_ID, 2) >= 0x40);
}

static void test_capabilities(void **state)
{
	struct fix *f = *state;
	const struct caps *c = &f->caps;
	static const int types[] = { CAP_COMMON, CAP_NOTIFY, CAP_ISR, CAP_DEVICE };

	for (unsigned int i = 0; i < 4; i++) {
		int t = types[i];

		assert_true(c->have[t]);
		assert_int_equal(c->count[t], 1);
		assert_int_equal(c->bar[t], 0);
		assert_int_equal(c->cap_len[t], t == CAP_NOTIFY ? 20 : 16);
		assert_true(c->len[t] > 0);
		assert_true((uint64_t)c->off[t] + c->len[t] <= 0x8000);
		/* no two structures overlap */
		for (unsigned int j = 0; j < i; j++) {
			int u = types[j];

			assert_true(c->off[t] + c->len[t] <= c->off[u] ||
				    c->off[u] + c->len[u] <= c->off[t]);
		}
	}
	assert_int_equal(c->off[CAP_COMMON] % 4, 0);
	assert_true(c->len[CAP_COMMON] >= 0x38);
	assert_true(c->len[CAP_ISR] >= 1);
	assert_int_equal(c->len[CAP_DEVICE], CFG_SIZE);
	assert_int_equal(c->off[CAP_DEVICE] % 4, 0);
	/* an even power of two, or 0 (4.1.4.4) */
	assert_int_equal(c->multiplier, 4);
	assert_int_equal(c->off[CAP_NOTIFY] % 2, 0);
	/* every queue's notify address fits: len >= off * multiplier + 2 */
	for (unsigned int q = 0; q < NQUEUES; q++) {
		cc_write(f, Q_SELECT, 2, q);
		assert_true(cc_read(f, Q_NOTIFY_OFF, 2) * c->multiplier + 2 <=
			    c->len[CAP_NOTIFY]);
	}

	/* MSI-X: one vector for config changes plus one per queue, in BAR 0 */
	assert_true(c->msix);
	assert_int_equal(cfg_read(f, c->msix + 2, 2) & 0x7FF, NQUEUES);
	assert_int_equal(cfg_read(f, c->msix + 4, 4) & 7, 0);
	assert_int_equal(cfg_read(f, c->msix + 8, 4) & 7, 0);
	for (unsigned int i = 0; i < 4; i++) {
		uint32_t table = cfg_read(f, c->msix + 4, 4) & ~7u;
		int t = types[i];

		assert_true(table + 16 * (NQUEUES + 1) <= c->off[t] ||
			    c->off[t] + c->len[t] <= table);
	}
	assert_int_equal(cc_read(f, NUM_QUEUES, 2), NQUEUES);
}

/*
 * The PCI_CFG capability (4.1.4.9): the driver chooses BAR 0, an offset
 * and a length, then reads or writes pci_cfg_data, which the device turns
 * into the same access to the BAR.
 */
static void test_pci_cfg_capability(void **state)
{
	struct fix *f = *state;
	unsigned int at;

	assert_true(f->caps.have[CAP_PCI_CFG]);
	assert_int_equal(f->caps.count[CAP_PCI_CFG], 1);
	at = f->caps.at[CAP_PCI_CFG];
	assert_int_equal(f->caps.cap_len[CAP_PCI_CFG], 20);
	/* read num_queues (common config offset 0x12) through the window */
	cfg_write(f, at + 4, 1, 0);
	cfg_write(f, at + 8, 4, f->caps.off[CAP_COMMON] + 0x12);
	cfg_write(f, at + 12, 4, 2);
	assert_int_equal(cfg_read(f, at + 16, 2), f->desc.nqueues);
	/* write device_status (0x14) through it, and see it through the BAR */
	cfg_write(f, at + 8, 4, f->caps.off[CAP_COMMON] + 0x14);
	cfg_write(f, at + 12, 4, 1);
	cfg_write(f, at + 16, 1, 1);
	assert_int_equal(status(f), 1);
	/* a length the BAR cannot take, or another BAR: nothing happens */
	cfg_write(f, at + 12, 4, 3);
	cfg_write(f, at + 16, 1, 3);
	assert_int_equal(status(f), 1);
	cfg_write(f, at + 4, 1, 2);
	cfg_write(f, at + 12, 4, 1);
	cfg_write(f, at + 16, 1, 3);
	assert_int_equal(status(f), 1);
	/* an offset past the BAR */
	cfg_write(f, at + 4, 1, 0);
	cfg_write(f, at + 8, 4, 0xFFFFFFFC);
	cfg_write(f, at + 12, 4, 4);
	cfg_write(f, at + 16, 4, 0);
	assert_int_equal(status(f), 1);
}

static void test_no_device_config(void **state)
{
	struct fix *f = *state;
	struct virtio_pci *first = f->vp, *vp;
	int reads;

	f->desc2 = f->desc;
	f->desc2.config_size = 0;
	vp = attach(f, &f->desc2);
	use(f, vp);
	assert_int_equal(f->slot, 2);
	assert_false(f->caps.have[CAP_DEVICE]);
	assert_true(f->caps.have[CAP_COMMON] && f->caps.have[CAP_NOTIFY] &&
		    f->caps.have[CAP_ISR]);
	reads = f->dev.cfg_reads;
	assert_int_equal(mmio_read(f, f->bar + 0x2000, 4), 0);	/* where it would be */
	assert_int_equal(f->dev.cfg_reads, reads);
	use(f, first);
}

static void test_create_refuses(void **state)
{
	struct fix *f = *state;
	struct virtio_device_desc d = f->desc;

	d.nqueues = 0;
	assert_null(virtio_pci_create(&d, &f->ram.gm, &f->msi.ops, &f->bell_ops));
	d.nqueues = VIRTIO_MAX_QUEUES + 1;
	assert_null(virtio_pci_create(&d, &f->ram.gm, &f->msi.ops, &f->bell_ops));
	d.nqueues = 1;
	d.queue_size = 24;
	assert_null(virtio_pci_create(&d, &f->ram.gm, &f->msi.ops, &f->bell_ops));
	d.queue_size = 0;
	assert_null(virtio_pci_create(&d, &f->ram.gm, &f->msi.ops, &f->bell_ops));
	d.queue_size = 16;
	d.config_size = 0x1001;
	assert_null(virtio_pci_create(&d, &f->ram.gm, &f->msi.ops, &f->bell_ops));
}

/* --- features and status ---------------------------------------------------- */

static void test_features(void **state)
{
	struct fix *f = *state;

	assert_int_equal(device_features(f), DEV_FEATURES | F_VERSION_1);
	assert_int_equal(cc_read(f, DFSELECT, 4), 1);
	cc_write(f, DFSELECT, 4, 2);
	assert_int_equal(cc_read(f, DF, 4), 0);
	cc_write(f, DFSELECT, 4, 0xFFFFFFFF);
	assert_int_equal(cc_read(f, DF, 4), 0);
	cc_write(f, DF, 4, 0xFFFFFFFF);			/* read-only */
	cc_write(f, DFSELECT, 4, 0);
	assert_int_equal(cc_read(f, DF, 4), (uint32_t)DEV_FEATURES);

	/* a feature not offered (bit 1): FEATURES_OK does not stick */
	assert_int_equal(negotiate(f, F_VERSION_1 | 1ULL << 0 | 1ULL << 1), S_ACK | S_DRIVER);
	/* one in the upper half (bit 33) neither */
	assert_int_equal(negotiate(f, F_VERSION_1 | 1ULL << 33), S_ACK | S_DRIVER);
	/* nor without VERSION_1 */
	assert_int_equal(negotiate(f, 1ULL << 0), S_ACK | S_DRIVER);
	/* DRIVER_OK now would be a device that cannot run */
	add_status(f, S_DRIVER_OK);
	assert_int_equal(f->dev.starts, 0);
	assert_true(status(f) & S_NEEDS_RESET);

	/* a subset of what is offered: accepted */
	assert_int_equal(negotiate(f, F_VERSION_1 | 1ULL << 5), S_ACK | S_DRIVER | S_FEATURES_OK);
	assert_int_equal(driver_features(f), F_VERSION_1 | 1ULL << 5);
	/* and fixed from then on */
	set_driver_features(f, F_VERSION_1 | 1ULL << 0);
	assert_int_equal(driver_features(f), F_VERSION_1 | 1ULL << 5);
	cc_write(f, GFSELECT, 4, 2);
	assert_int_equal(cc_read(f, GF, 4), 0);

	/* start() gets exactly the accepted features */
	add_status(f, S_DRIVER_OK);
	assert_int_equal(f->dev.starts, 1);
	assert_int_equal(f->dev.features, F_VERSION_1 | 1ULL << 5);
}

static void test_status_sticky(void **state)
{
	struct fix *f = *state;

	cc_write(f, STATUS, 1, S_ACK | S_DRIVER);
	assert_int_equal(status(f), S_ACK | S_DRIVER);
	cc_write(f, STATUS, 1, S_ACK);			/* bits are not cleared ... */
	assert_int_equal(status(f), S_ACK | S_DRIVER);
	cc_write(f, STATUS, 1, S_NEEDS_RESET);		/* ... nor is the device's one set */
	assert_int_equal(status(f), S_ACK | S_DRIVER);
	set_driver_features(f, F_VERSION_1);
	cc_write(f, STATUS, 1, S_ACK | S_DRIVER | S_FEATURES_OK);
	cc_write(f, STATUS, 1, S_ACK);
	assert_int_equal(status(f), S_ACK | S_DRIVER | S_FEATURES_OK);
	/* a status written wider than a byte is not the driver's (4.1.3.1) */
	cc_write(f, STATUS, 2, S_FAILED);
	assert_int_equal(status(f), S_ACK | S_DRIVER | S_FEATURES_OK);
	cc_write(f, STATUS, 1, S_FAILED);
	assert_int_equal(status(f), S_ACK | S_DRIVER | S_FEATURES_OK | S_FAILED);
	/* DRIVER_OK after FAILED starts nothing */
	add_status(f, S_DRIVER_OK);
	assert_int_equal(f->dev.starts, 0);
	/* only a reset clears */
	cc_write(f, STATUS, 1, 0);
	assert_int_equal(status(f), 0);
	assert_int_equal(f->dev.resets, 0);		/* never started */
	assert_int_equal(cc_read(f, CONFIG_GEN, 1), 0);
}

/* --- queues and start --------------------------------------------------------- */

static void test_bring_up(void **state)
{
	struct fix *f = *state;

	bring_up(f);
	assert_int_equal(status(f), S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	assert_int_equal(f->dev.starts, 1);
	assert_int_equal(f->dev.nqueues, NQUEUES);
	assert_int_equal(f->dev.features, F_VERSION_1 | 1ULL << 0);
	assert_non_null(f->dev.link);
	assert_non_null(f->dev.link->needs_reset);
	for (unsigned int q = 0; q < NQUEUES; q++) {
		const struct virtio_queue *vq = &f->dev.q[q];
		const struct bell *b = bell_at(&f->bells, notify_addr(f, q));

		assert_int_equal(vq->index, q);
		assert_int_equal(vq->vq.size, q == 0 ? 8 : QSIZE);
		assert_int_equal(vq->vq.desc_gpa, q_desc[q]);
		assert_int_equal(vq->vq.avail_gpa, q_driver[q]);
		assert_int_equal(vq->vq.used_gpa, q_device[q]);
		assert_ptr_equal(vq->vq.desc, vs_gp(&f->ram, q_desc[q]));
		assert_ptr_equal(vq->vq.used, vs_gp(&f->ram, q_device[q]));
		assert_false(vq->vq.broken);
		assert_false(vq->vq.event_idx);
		/* vector 1 + q, as the driver chose */
		assert_int_equal(vq->call_fd, f->msi.r[1 + q].fd);
		/* the kick eventfd is the one the doorbell signals */
		assert_non_null(b);
		assert_true(vq->kick_fd >= 0);
		assert_int_equal(vq->kick_fd, b->fd);
	}
	assert_true(f->dev.q[0].kick_fd != f->dev.q[1].kick_fd);
	/* the registers read back as written */
	cc_write(f, Q_SELECT, 2, 0);
	assert_int_equal(cc_read(f, Q_SIZE, 2), 8);
	assert_int_equal(cc_read(f, Q_ENABLE, 2), 1);
	assert_int_equal(cc_read(f, Q_MSIX, 2), 1);
	assert_int_equal(cc_read(f, Q_DESC, 8), q_desc[0]);
	assert_int_equal(cc_read(f, Q_DRIVER, 4), q_driver[0]);
	assert_int_equal(cc_read(f, Q_DRIVER + 4, 4), 0);
	assert_int_equal(cc_read(f, Q_DEVICE, 8), q_device[0]);
	/* the MSI-X entry the driver unmasked reached its route */
	assert_false(f->msi.r[0].masked);
	assert_int_equal(f->msi.r[0].addr, 0xFEE00000);
	assert_int_equal(f->msi.r[0].data, 0x4020);

	/* set-up is fixed once running */
	cc_write(f, Q_SIZE, 2, 4);
	cc_write(f, Q_DESC, 8, 0x8000);
	assert_int_equal(cc_read(f, Q_SIZE, 2), 8);
	assert_int_equal(cc_read(f, Q_DESC, 8), q_desc[0]);
	/* a second DRIVER_OK does not start it again */
	cc_write(f, STATUS, 1, status(f));
	assert_int_equal(f->dev.starts, 1);
}

static void test_queue_halves_and_64bit(void **state)
{
	struct fix *f = *state;

	assert_int_equal(negotiate(f, F_VERSION_1), S_ACK | S_DRIVER | S_FEATURES_OK);
	cc_write(f, Q_SELECT, 2, 1);
	/* high half first, then low: each keeps the other */
	cc_write(f, Q_DESC + 4, 4, 0x12);
	cc_write(f, Q_DESC, 4, 0x34567000);
	assert_int_equal(cc_read(f, Q_DESC, 8), 0x1234567000ULL);
	cc_write(f, Q_DESC, 4, 0x1000);
	assert_int_equal(cc_read(f, Q_DESC, 8), 0x1200001000ULL);
	cc_write(f, Q_DESC + 4, 4, 0);
	assert_int_equal(cc_read(f, Q_DESC + 4, 4), 0);
	cc_write(f, Q_DRIVER, 8, 0xAABBCCDD11223344ULL);
	assert_int_equal(cc_read(f, Q_DRIVER, 4), 0x11223344);
	assert_int_equal(cc_read(f, Q_DRIVER + 4, 4), 0xAABBCCDD);
	cc_write(f, Q_DEVICE + 4, 4, 0x1);
	assert_int_equal(cc_read(f, Q_DEVICE, 8), 0x100000000ULL);
	/* only a 1 enables (a driver must not write 0: ignored) */
	cc_write(f, Q_ENABLE, 2, 0);
	assert_int_equal(cc_read(f, Q_ENABLE, 2), 0);
	cc_write(f, Q_ENABLE, 2, 2);
	assert_int_equal(cc_read(f, Q_ENABLE, 2), 0);
	/* once enabled, the queue's set-up is fixed (only its vector may change) */
	cc_write(f, Q_SIZE, 2, 8);
	cc_write(f, Q_ENABLE, 2, 1);
	cc_write(f, Q_SIZE, 2, 4);
	cc_write(f, Q_DESC, 8, 0x2000);
	cc_write(f, Q_DRIVER + 4, 4, 0);
	cc_write(f, Q_DEVICE, 4, 0x3000);
	cc_write(f, Q_ENABLE, 2, 0);
	assert_int_equal(cc_read(f, Q_SIZE, 2), 8);
	assert_int_equal(cc_read(f, Q_DESC, 8), 0x1000);
	assert_int_equal(cc_read(f, Q_DRIVER, 8), 0xAABBCCDD11223344ULL);
	assert_int_equal(cc_read(f, Q_DEVICE, 8), 0x100000000ULL);
	assert_int_equal(cc_read(f, Q_ENABLE, 2), 1);
	cc_write(f, Q_MSIX, 2, 1);
	assert_int_equal(cc_read(f, Q_MSIX, 2), 1);
	/* queue 0 untouched */
	cc_write(f, Q_SELECT, 2, 0);
	assert_int_equal(cc_read(f, Q_DESC, 8), 0);
	assert_int_equal(cc_read(f, Q_DRIVER, 8), 0);
	assert_int_equal(cc_read(f, Q_DEVICE, 8), 0);
	assert_int_equal(cc_read(f, Q_MSIX, 2), MSIX_NO_VECTOR);
}

static void test_disabled_queue(void **state)
{
	struct fix *f = *state;

	assert_int_equal(negotiate(f, F_VERSION_1), S_ACK | S_DRIVER | S_FEATURES_OK);
	setup_queue(f, 1, QSIZE, 2, false);
	cc_write(f, Q_ENABLE, 2, 1);
	/* queue 0 left alone: the device sees it with size 0 */
	add_status(f, S_DRIVER_OK);
	assert_int_equal(f->dev.starts, 1);
	assert_false(status(f) & S_NEEDS_RESET);
	assert_int_equal(f->dev.q[0].vq.size, 0);
	assert_int_equal(f->dev.q[0].index, 0);
	assert_int_equal(f->dev.q[0].call_fd, -1);		/* no vector */
	assert_true(f->dev.q[0].kick_fd >= 0);
	assert_int_equal(f->dev.q[1].vq.size, QSIZE);
	assert_int_equal(f->dev.q[1].call_fd, f->msi.r[2].fd);
}

static void test_vectors(void **state)
{
	struct fix *f = *state;

	/* vectors 0..NQUEUES exist; others read back NO_VECTOR (4.1.5.1.2) */
	assert_int_equal(cc_read(f, MSIX_CONFIG, 2), MSIX_NO_VECTOR);
	cc_write(f, MSIX_CONFIG, 2, NQUEUES);
	assert_int_equal(cc_read(f, MSIX_CONFIG, 2), NQUEUES);
	cc_write(f, MSIX_CONFIG, 2, NQUEUES + 1);
	assert_int_equal(cc_read(f, MSIX_CONFIG, 2), MSIX_NO_VECTOR);
	cc_write(f, Q_SELECT, 2, 0);
	assert_int_equal(cc_read(f, Q_MSIX, 2), MSIX_NO_VECTOR);
	cc_write(f, Q_MSIX, 2, 0);
	assert_int_equal(cc_read(f, Q_MSIX, 2), 0);
	cc_write(f, Q_MSIX, 2, 0x7FF);
	assert_int_equal(cc_read(f, Q_MSIX, 2), MSIX_NO_VECTOR);
	/* unmapped: the queue has no call_fd */
	assert_int_equal(negotiate(f, F_VERSION_1), S_ACK | S_DRIVER | S_FEATURES_OK);
	setup_queue(f, 0, QSIZE, MSIX_NO_VECTOR, true);
	cc_write(f, Q_ENABLE, 2, 1);
	setup_queue(f, 1, QSIZE, 0, true);			/* shares the config vector */
	cc_write(f, Q_ENABLE, 2, 1);
	add_status(f, S_DRIVER_OK);
	assert_int_equal(f->dev.starts, 1);
	assert_int_equal(f->dev.q[0].call_fd, -1);
	assert_int_equal(f->dev.q[1].call_fd, f->msi.r[0].fd);
}

static void test_unknown_queue(void **state)
{
	struct fix *f = *state;
	static const uint16_t sel[] = { NQUEUES, VIRTIO_MAX_QUEUES, 0xFFFF };

	for (unsigned int i = 0; i < 3; i++) {
		cc_write(f, Q_SELECT, 2, sel[i]);
		assert_int_equal(cc_read(f, Q_SELECT, 2), sel[i]);
		assert_int_equal(cc_read(f, Q_SIZE, 2), 0);
		assert_int_equal(cc_read(f, Q_ENABLE, 2), 0);
		cc_write(f, Q_SIZE, 2, 8);
		cc_write(f, Q_DESC, 8, 0x1000);
		cc_write(f, Q_MSIX, 2, 1);
		cc_write(f, Q_ENABLE, 2, 1);
		assert_int_equal(cc_read(f, Q_SIZE, 2), 0);
		assert_int_equal(cc_read(f, Q_DESC, 8), 0);
		assert_int_equal(cc_read(f, Q_ENABLE, 2), 0);
	}
	/* the real ones are untouched */
	for (unsigned int q = 0; q < NQUEUES; q++) {
		cc_write(f, Q_SELECT, 2, q);
		assert_int_equal(cc_read(f, Q_SIZE, 2), QSIZE);
		assert_int_equal(cc_read(f, Q_DESC, 8), 0);
		assert_int_equal(cc_read(f, Q_ENABLE, 2), 0);
		assert_int_equal(cc_read(f, Q_MSIX, 2), MSIX_NO_VECTOR);
	}
}

static void test_queue_outside_memory(void **state)
{
	struct fix *f = *state;
	int cfg_fd = f->msi.r[0].fd;

	assert_int_equal(negotiate(f, F_VERSION_1), S_ACK | S_DRIVER | S_FEATURES_OK);
	cc_write(f, MSIX_CONFIG, 2, 0);
	setup_queue(f, 0, QSIZE, 1, true);
	cc_write(f, Q_ENABLE, 2, 1);
	cc_write(f, Q_SELECT, 2, 1);
	cc_write(f, Q_SIZE, 2, QSIZE);
	cc_write(f, Q_DESC, 8, RAM_SIZE - 0x80);		/* runs off the end of RAM */
	cc_write(f, Q_DRIVER, 8, q_driver[1]);
	cc_write(f, Q_DEVICE, 8, q_device[1]);
	cc_write(f, Q_ENABLE, 2, 1);
	assert_int_equal(vs_efd_take(cfg_fd), 0);
	add_status(f, S_DRIVER_OK);
	assert_int_equal(f->dev.starts, 0);
	assert_int_equal(status(f), S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK |
			 S_NEEDS_RESET);
	/* a configuration change interrupt on the config vector */
	assert_int_equal(vs_efd_take(cfg_fd), 1);
	assert_int_equal(vs_efd_take(f->msi.r[1].fd), 0);
	assert_int_equal(mmio_read(f, f->bar + f->caps.off[CAP_ISR], 1), 2);
	assert_int_equal(mmio_read(f, f->bar + f->caps.off[CAP_ISR], 1), 0);
	/* the reset clears it; reset() is not owed */
	cc_write(f, STATUS, 1, 0);
	assert_int_equal(status(f), 0);
	assert_int_equal(f->dev.resets, 0);
}

static void test_bad_queue_size(void **state)
{
	struct fix *f = *state;

	/* not a power of two: refused at DRIVER_OK */
	assert_int_equal(negotiate(f, F_VERSION_1), S_ACK | S_DRIVER | S_FEATURES_OK);
	setup_queue(f, 0, 12, 1, false);
	cc_write(f, Q_ENABLE, 2, 1);
	add_status(f, S_DRIVER_OK);
	assert_int_equal(f->dev.starts, 0);
	assert_true(status(f) & S_NEEDS_RESET);
}

/*
 * queue_size "on reset, specifies the maximum queue size supported by the
 * device" (4.1.4.3); the driver may only make it smaller: a larger size is
 * refused (NEEDS_RESET) or clamped, never handed to the device.
 */
static void test_queue_size_above_max(void **state)
{
	struct fix *f = *state;

	assert_int_equal(negotiate(f, F_VERSION_1), S_ACK | S_DRIVER | S_FEATURES_OK);
	setup_queue(f, 0, QSIZE * 2, 1, false);
	cc_write(f, Q_ENABLE, 2, 1);
	add_status(f, S_DRIVER_OK);
	if (f->dev.starts)
		assert_true(f->dev.q[0].vq.size <= QSIZE);
	else
		assert_true(status(f) & S_NEEDS_RESET);
}

static void test_start_fails(void **state)
{
	struct fix *f = *state;

	f->dev.start_ret = -1;
	bring_up(f);
	assert_int_equal(f->dev.starts, 1);
	assert_true(status(f) & S_NEEDS_RESET);
	assert_true(status(f) & S_DRIVER_OK);
	assert_int_equal(vs_efd_take(f->msi.r[0].fd), 1);
	cc_write(f, STATUS, 1, 0);
	assert_int_equal(f->dev.resets, 0);			/* it never ran */
}

static void test_needs_reset_from_device(void **state)
{
	struct fix *f = *state;
	uint64_t isr;

	bring_up(f);
	assert_int_equal(vs_efd_take(f->msi.r[0].fd), 0);
	assert_int_equal(mmio_read(f, f->bar + f->caps.off[CAP_ISR], 1), 0);
	/* the device's thread gives up on a broken queue */
	f->dev.link->needs_reset(f->dev.link);
	assert_true(status(f) & S_NEEDS_RESET);
	assert_int_equal(vs_efd_take(f->msi.r[0].fd), 1);
	/* once: a second call changes nothing */
	f->dev.link->needs_reset(f->dev.link);
	assert_int_equal(vs_efd_take(f->msi.r[0].fd), 0);
	/* ISR: the config bit, cleared by the read (4.1.4.5) */
	isr = mmio_read(f, f->bar + f->caps.off[CAP_ISR], 4);
	assert_int_equal(isr, 2);
	assert_int_equal(mmio_read(f, f->bar + f->caps.off[CAP_ISR], 1), 0);
	/* the driver cannot clear it ... */
	cc_write(f, STATUS, 1, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	assert_true(status(f) & S_NEEDS_RESET);
	/* ... a reset does */
	cc_write(f, STATUS, 1, 0);
	assert_int_equal(status(f), 0);
	assert_int_equal(f->dev.resets, 1);
}

static void test_reset(void **state)
{
	struct fix *f = *state;
	uint64_t isr = f->bar + f->caps.off[CAP_ISR];

	bring_up(f);
	cc_write(f, DFSELECT, 4, 1);
	f->dev.link->needs_reset(f->dev.link);		/* leaves ISR set */
	vs_efd_take(f->msi.r[0].fd);
	/* a kick that reaches the VMM just before the reset */
	mmio_write(f, notify_addr(f, 0), 2, 0);
	cc_write(f, Q_SELECT, 2, 1);

	cc_write(f, STATUS, 1, 0);
	assert_int_equal(f->dev.resets, 1);
	assert_int_equal(status(f), 0);
	assert_int_equal(cc_read(f, DFSELECT, 4), 0);
	assert_int_equal(cc_read(f, GFSELECT, 4), 0);
	assert_int_equal(driver_features(f), 0);
	assert_int_equal(cc_read(f, MSIX_CONFIG, 2), MSIX_NO_VECTOR);
	assert_int_equal(cc_read(f, Q_SELECT, 2), 0);
	for (unsigned int q = 0; q < NQUEUES; q++) {
		cc_write(f, Q_SELECT, 2, q);
		assert_int_equal(cc_read(f, Q_SIZE, 2), QSIZE);
		assert_int_equal(cc_read(f, Q_ENABLE, 2), 0);
		assert_int_equal(cc_read(f, Q_MSIX, 2), MSIX_NO_VECTOR);
		assert_int_equal(cc_read(f, Q_DESC, 8), 0);
		assert_int_equal(cc_read(f, Q_DRIVER, 8), 0);
		assert_int_equal(cc_read(f, Q_DEVICE, 8), 0);
		/* no kick carried over to the next driver */
		assert_int_equal(vs_efd_take(f->dev.q[q].kick_fd), 0);
	}
	assert_int_equal(mmio_read(f, isr, 1), 0);
	/* a second reset owes the device nothing */
	cc_write(f, STATUS, 1, 0);
	assert_int_equal(f->dev.resets, 1);
	/* MSI-X is PCI's, not virtio's: the table survives */
	assert_false(f->msi.r[0].masked);

	/* and it starts again */
	bring_up(f);
	assert_int_equal(f->dev.starts, 2);
	assert_int_equal(status(f), S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/* --- notifications, doorbells, ISR, device config ------------------------------ */

static void test_notify(void **state)
{
	struct fix *f = *state;

	bring_up(f);
	/* vp_notify(): the queue index, 16 bits, at the queue's address */
	mmio_write(f, notify_addr(f, 1), 2, 1);
	assert_int_equal(vs_efd_take(f->dev.q[1].kick_fd), 1);
	assert_int_equal(vs_efd_take(f->dev.q[0].kick_fd), 0);
	mmio_write(f, notify_addr(f, 0), 2, 0);
	mmio_write(f, notify_addr(f, 0), 2, 0);
	assert_int_equal(vs_efd_take(f->dev.q[0].kick_fd), 2);
	assert_int_equal(vs_efd_take(f->dev.q[1].kick_fd), 0);
	/* past the last queue: nobody */
	mmio_write(f, f->bar + f->caps.off[CAP_NOTIFY] + NQUEUES * f->caps.multiplier, 2, 0);
	mmio_write(f, f->bar + f->caps.off[CAP_NOTIFY] + 0x400, 4, 0);
	assert_int_equal(vs_efd_take(f->dev.q[0].kick_fd), 0);
	assert_int_equal(vs_efd_take(f->dev.q[1].kick_fd), 0);
	/* reads of the area are harmless */
	assert_int_equal(mmio_read(f, notify_addr(f, 1), 2), 0);
	assert_int_equal(vs_efd_take(f->dev.q[1].kick_fd), 0);
}

static void assert_armed_at(struct fix *f, uint64_t bar)
{
	assert_int_equal(f->bells.armed, NQUEUES);
	for (unsigned int q = 0; q < NQUEUES; q++) {
		const struct bell *b = bell_at(&f->bells, bar + f->caps.off[CAP_NOTIFY] +
					       q * f->caps.multiplier);

		assert_non_null(b);
		assert_int_equal(b->len, 0);
		assert_true(b->fd >= 0);
	}
}

static void test_doorbells(void **state)
{
	struct fix *f = *state;
	uint64_t old = f->bar, moved = f->bar + 0x100000;
	int kick0;
	uint16_t cmd;

	/* armed at attach, one per queue, on the queue's kick eventfd */
	assert_armed_at(f, old);
	kick0 = bell_at(&f->bells, old + f->caps.off[CAP_NOTIFY])->fd;
	assert_true(kick0 != bell_at(&f->bells, old + f->caps.off[CAP_NOTIFY] +
				     f->caps.multiplier)->fd);

	/* memory decoding off: disarmed; back on: armed again */
	cmd = (uint16_t)cfg_read(f, PCI_CFG_COMMAND, 2);
	cfg_write(f, PCI_CFG_COMMAND, 2, cmd & ~PCI_CMD_MEM);
	assert_int_equal(f->bells.armed, 0);
	cfg_write(f, PCI_CFG_COMMAND, 2, cmd);
	assert_armed_at(f, old);

	/* Linux sizing and moving the BAR: decoding off, sized, moved, on */
	cfg_write(f, PCI_CFG_COMMAND, 2, cmd & ~PCI_CMD_MEM);
	cfg_write(f, PCI_CFG_BAR0, 4, 0xFFFFFFFF);
	assert_int_equal(f->bells.armed, 0);
	cfg_write(f, PCI_CFG_BAR0, 4, (uint32_t)moved);
	assert_int_equal(f->bells.armed, 0);
	cfg_write(f, PCI_CFG_COMMAND, 2, cmd);
	assert_armed_at(f, moved);
	assert_null(bell_at(&f->bells, old + f->caps.off[CAP_NOTIFY]));
	assert_int_equal(bell_at(&f->bells, moved + f->caps.off[CAP_NOTIFY])->fd, kick0);

	/* sized with decoding on: disarmed meanwhile */
	cfg_write(f, PCI_CFG_BAR0, 4, 0xFFFFFFFF);
	assert_int_equal(f->bells.armed, 0);
	cfg_write(f, PCI_CFG_BAR0, 4, (uint32_t)moved);
	assert_armed_at(f, moved);

	/* moved in one write with decoding on: re-armed at once */
	cfg_write(f, PCI_CFG_BAR0, 4, (uint32_t)old);
	assert_armed_at(f, old);

	/* unrelated config writes do not churn them */
	{
		int assigns = f->bells.assigns, deassigns = f->bells.deassigns;

		cfg_write(f, PCI_CFG_LATENCY, 1, 0x20);
		cfg_write(f, PCI_CFG_COMMAND, 2, cmd | PCI_CMD_MASTER);
		cfg_write(f, f->caps.msix + 2, 2, MSIX_ENABLE);
		assert_int_equal(f->bells.assigns, assigns);
		assert_int_equal(f->bells.deassigns, deassigns);
	}

	/* the old address is dead on the bus, the new one live */
	f->bar = moved;
	cfg_write(f, PCI_CFG_BAR0, 4, (uint32_t)moved);
	{
		uint8_t b[4] = { 0 };

		assert_false(pci_mmio(f->bus, old + f->caps.off[CAP_COMMON] + STATUS, b, 1,
				      false));
	}
	bring_up(f);
	assert_int_equal(f->dev.q[0].kick_fd, kick0);
	mmio_write(f, notify_addr(f, 0), 2, 0);		/* the exit path */
	assert_int_equal(vs_efd_take(kick0), 1);
}

static void test_doorbell_failure(void **state)
{
	struct fix *f = *state;
	struct virtio_pci *first = f->vp, *vp;
	uint64_t notify = f->caps.off[CAP_NOTIFY];
	uint64_t next_bar;

	/* the next function's BAR lands 32K further; make its 2nd doorbell fail */
	next_bar = f->bar + 0x8000;
	f->bells.fail_addr = next_bar + notify + f->caps.multiplier;
	f->desc2 = f->desc;
	vp = attach(f, &f->desc2);
	use(f, vp);
	assert_int_equal(f->bar, next_bar);
	/* none of its doorbells stays armed; the first function's do */
	for (unsigned int q = 0; q < NQUEUES; q++)
		assert_null(bell_at(&f->bells, next_bar + notify + q * f->caps.multiplier));
	assert_int_equal(f->bells.armed, NQUEUES);
	/* notifications still arrive, through the exit path */
	bring_up(f);
	mmio_write(f, notify_addr(f, 1), 2, 1);
	assert_int_equal(vs_efd_take(f->dev.q[1].kick_fd), 1);
	f->bells.fail_addr = 0;
	use(f, first);
}

static void test_isr(void **state)
{
	struct fix *f = *state;
	uint64_t isr = f->bar + f->caps.off[CAP_ISR];

	assert_int_equal(mmio_read(f, isr, 1), 0);
	mmio_write(f, isr, 1, 3);				/* read-only */
	assert_int_equal(mmio_read(f, isr, 1), 0);
	bring_up(f);
	f->dev.link->needs_reset(f->dev.link);
	/* bytes past the first do not read (or clear) it */
	assert_int_equal(mmio_read(f, isr + 1, 1), 0);
	assert_int_equal(mmio_read(f, isr, 1), 2);
	assert_int_equal(mmio_read(f, isr, 1), 0);
}

static void test_device_config(void **state)
{
	struct fix *f = *state;
	uint64_t dev = f->bar + f->caps.off[CAP_DEVICE];

	assert_int_equal(mmio_read(f, dev, 1), 0x10);
	assert_int_equal(f->dev.last_off, 0);
	assert_int_equal(f->dev.last_size, 1);
	assert_int_equal(mmio_read(f, dev + 2, 2), 0x1312);
	assert_int_equal(f->dev.last_off, 2);
	assert_int_equal(f->dev.last_size, 2);
	assert_int_equal(mmio_read(f, dev + 4, 4), 0x17161514);
	assert_int_equal(mmio_read(f, dev, 8), 0x1716151413121110ULL);
	assert_int_equal(f->dev.last_size, 8);
	assert_int_equal(f->dev.cfg_reads, 4);
	/* past config_size: 0, and the device is not asked */
	assert_int_equal(mmio_read(f, dev + 6, 4), 0);
	assert_int_equal(mmio_read(f, dev + CFG_SIZE, 1), 0);
	assert_int_equal(mmio_read(f, dev + 4, 8), 0);
	assert_int_equal(mmio_read(f, dev + 0xFFC, 4), 0);
	assert_int_equal(f->dev.cfg_reads, 4);
	/* writes go to config_write, in range only */
	mmio_write(f, dev + 4, 2, 0xBEEF);
	assert_int_equal(f->dev.cfg_writes, 1);
	assert_int_equal(f->dev.last_off, 4);
	assert_int_equal(f->dev.last_size, 2);
	assert_memory_equal(f->dev.written, "\xEF\xBE", 2);
	mmio_write(f, dev + 7, 2, 0);
	assert_int_equal(f->dev.cfg_writes, 1);
	/* the generation stays put across reads */
	assert_int_equal(cc_read(f, CONFIG_GEN, 1), 0);
}

static void test_common_edges(void **state)
{
	struct fix *f = *state;

	/* num_queues is read-only */
	cc_write(f, NUM_QUEUES, 2, 7);
	assert_int_equal(cc_read(f, NUM_QUEUES, 2), NQUEUES);
	/* past the common structure: 0 */
	assert_int_equal(cc_read(f, 0x38, 2), 0);
	assert_int_equal(cc_read(f, 0x36, 4), 0);
	assert_int_equal(cc_read(f, 0x100, 4), 0);
	/* a select written with the wrong width is ignored */
	cc_write(f, Q_SELECT, 4, 1);
	assert_int_equal(cc_read(f, Q_SELECT, 2), 0);
	cc_write(f, DFSELECT, 2, 1);
	assert_int_equal(cc_read(f, DFSELECT, 4), 0);
	/* holes and MSI-X PBA in the BAR read 0, not all ones */
	assert_int_equal(mmio_read(f, f->bar + 0x7FF8, 8), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_identity),
		T(test_subsystem_id),
		T(test_capabilities),
		T(test_pci_cfg_capability),
		T(test_no_device_config),
		T(test_create_refuses),
		T(test_features),
		T(test_status_sticky),
		T(test_bring_up),
		T(test_queue_halves_and_64bit),
		T(test_disabled_queue),
		T(test_vectors),
		T(test_unknown_queue),
		T(test_queue_outside_memory),
		T(test_bad_queue_size),
		T(test_queue_size_above_max),
		T(test_start_fails),
		T(test_needs_reset_from_device),
		T(test_reset),
		T(test_notify),
		T(test_doorbells),
		T(test_doorbell_failure),
		T(test_isr),
		T(test_device_config),
		T(test_common_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
