// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "devices/pci.h"
#include "lib/err.h"
#include "arch/x86/platform.h"

#define ADDR	(PORT_PCI_CONFIG_ADDR - PORT_PCI_CONFIG_ADDR)
#define DATA	(PORT_PCI_CONFIG_DATA - PORT_PCI_CONFIG_ADDR)
#define RCR	1

static int resets;

static void record_event(void *ctx, enum vm_event event)
{
	if (event == VM_EVENT_RESET)
		resets++;
}

static int setup(void **state)
{
	resets = 0;
	*state = pci_create(record_event, NULL);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	pci_destroy(*state);
	return 0;
}

static uint32_t in(struct pci_bus *bus, uint16_t port, int size)
{
	uint8_t b[4] = { 0x5A, 0x5A, 0x5A, 0x5A };

	pci_pio(bus, port, b, size, false);
	switch (size) {
	case 1:
		return b[0];
	case 2:
		return b[0] | b[1] << 8;
	}
	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static void out(struct pci_bus *bus, uint16_t port, int size, uint32_t v)
{
	uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };

	pci_pio(bus, port, b, size, true);
}

static uint32_t cfg_addr(int bus, int dev, int fn, int reg)
{
	return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xFC);
}

static uint32_t cfg_read(struct pci_bus *bus, int dev, int fn, int reg, int size)
{
	out(bus, ADDR, 4, cfg_addr(0, dev, fn, reg));
	return in(bus, DATA + (reg & 3), size);
}

static void cfg_write(struct pci_bus *bus, int dev, int fn, int reg, int size, uint32_t v)
{
	out(bus, ADDR, 4, cfg_addr(0, dev, fn, reg));
	out(bus, DATA + (reg & 3), size, v);
}

static void test_host_bridge(void **state)
{
	struct pci_bus *bus = *state;

	assert_int_equal(cfg_read(bus, 0, 0, 0x00, 4),
			 PCI_HOST_DEVICE << 16 | PCI_HOST_VENDOR);
	assert_int_equal(PCI_HOST_VENDOR, 0x8086);
	assert_int_equal(cfg_read(bus, 0, 0, 0x08, 4) >> 8, 0x060000);
	assert_int_equal(cfg_read(bus, 0, 0, 0x0E, 1), 0x00);	/* type 0, single fn */
	for (int reg = 0x10; reg < 0x28; reg += 4)		/* no BARs */
		assert_int_equal(cfg_read(bus, 0, 0, reg, 4), 0);
	assert_int_equal(cfg_read(bus, 0, 0, 0x3C, 4), 0);	/* no interrupt */
	assert_int_equal(cfg_read(bus, 0, 0, 0xFC, 4), 0);
}

static void test_byte_and_word_accesses(void **state)
{
	struct pci_bus *bus = *state;

	out(bus, ADDR, 4, cfg_addr(0, 0, 0, 0));
	assert_int_equal(in(bus, DATA + 0, 1), 0x86);
	assert_int_equal(in(bus, DATA + 1, 1), 0x80);
	assert_int_equal(in(bus, DATA + 2, 1), PCI_HOST_DEVICE & 0xFF);
	assert_int_equal(in(bus, DATA + 3, 1), PCI_HOST_DEVICE >> 8);
	assert_int_equal(in(bus, DATA + 0, 2), 0x8086);
	assert_int_equal(in(bus, DATA + 1, 2), (PCI_HOST_DEVICE & 0xFF) << 8 | 0x80);
	assert_int_equal(in(bus, DATA + 2, 2), PCI_HOST_DEVICE);
	/* The class code through byte reads of register 0x08. */
	assert_int_equal(cfg_read(bus, 0, 0, 0x0B, 1), 0x06);
	assert_int_equal(cfg_read(bus, 0, 0, 0x0A, 1), 0x00);
	assert_int_equal(cfg_read(bus, 0, 0, 0x0A, 2), 0x0600);
	/* The low address bits do not shift the window. */
	out(bus, ADDR, 4, cfg_addr(0, 0, 0, 0) | 0x3);
	assert_int_equal(in(bus, DATA, 4), PCI_HOST_DEVICE << 16 | 0x8086);
}

static void test_address_register(void **state)
{
	struct pci_bus *bus = *state;

	out(bus, ADDR, 4, 0x80001234);
	assert_int_equal(in(bus, ADDR, 4), 0x80001234);
	/* Linux's mechanism #1 probe: a byte write to 0xCFB changes nothing. */
	out(bus, ADDR, 4, 0x12345678);
	out(bus, 3, 1, 0x01);
	assert_int_equal(in(bus, ADDR, 4), 0x12345678);
	out(bus, ADDR, 4, 0x80000000);
	assert_int_equal(in(bus, ADDR, 4), 0x80000000);
	/* Narrow accesses to 0xCF8-0xCFB are not the address register. */
	out(bus, ADDR, 2, 0);
	out(bus, 2, 1, 0x55);
	assert_int_equal(in(bus, ADDR, 4), 0x80000000);
	assert_int_equal(in(bus, ADDR, 2), 0xFFFF);
	assert_int_equal(in(bus, 2, 1), 0xFF);
}

static void test_disabled_and_absent(void **state)
{
	struct pci_bus *bus = *state;

	out(bus, ADDR, 4, cfg_addr(0, 0, 0, 0) & ~0x80000000u);
	assert_int_equal(in(bus, DATA, 4), 0xFFFFFFFF);
	assert_int_equal(in(bus, DATA + 2, 2), 0xFFFF);
	out(bus, DATA + 0, 2, 0x0006);			/* ignored */
	assert_int_equal(cfg_read(bus, 0, 0, 0x04, 2), 0);

	assert_int_equal(cfg_read(bus, 1, 0, 0, 4), 0xFFFFFFFF);
	assert_int_equal(cfg_read(bus, 31, 0, 0, 4), 0xFFFFFFFF);
	assert_int_equal(cfg_read(bus, 0, 1, 0, 4), 0xFFFFFFFF);
	assert_int_equal(cfg_read(bus, 0, 7, 0, 1), 0xFF);
	out(bus, ADDR, 4, cfg_addr(1, 0, 0, 0));	/* bus 1 */
	assert_int_equal(in(bus, DATA, 4), 0xFFFFFFFF);
	out(bus, DATA, 4, 0);				/* goes nowhere */

	/* AMD extended register 0x100 does not alias register 0x00. */
	out(bus, ADDR, 4, cfg_addr(0, 0, 0, 0) | 1u << 24);
	assert_int_equal(in(bus, DATA, 4), 0xFFFFFFFF);
	out(bus, DATA, 4, 0);
	assert_int_equal(cfg_read(bus, 0, 0, 0, 2), PCI_HOST_VENDOR);
}

static void test_read_only_fields(void **state)
{
	struct pci_bus *bus = *state;
	uint32_t id = cfg_read(bus, 0, 0, 0x00, 4);
	uint32_t class = cfg_read(bus, 0, 0, 0x08, 4);

	cfg_write(bus, 0, 0, 0x00, 4, 0);
	cfg_write(bus, 0, 0, 0x08, 4, 0xFFFFFFFF);
	cfg_write(bus, 0, 0, 0x0E, 1, 0x80);
	cfg_write(bus, 0, 0, 0x10, 4, 0xFFFFFFFF);
	cfg_write(bus, 0, 0, 0x3C, 1, 0x0B);
	assert_int_equal(cfg_read(bus, 0, 0, 0x00, 4), id);
	assert_int_equal(cfg_read(bus, 0, 0, 0x08, 4), class);
	assert_int_equal(cfg_read(bus, 0, 0, 0x0E, 1), 0);
	assert_int_equal(cfg_read(bus, 0, 0, 0x10, 4), 0);
	assert_int_equal(cfg_read(bus, 0, 0, 0x3C, 1), 0);
	/* The command register takes only its defined bits. */
	cfg_write(bus, 0, 0, 0x04, 2, 0xFFFF);
	assert_int_equal(cfg_read(bus, 0, 0, 0x04, 2), 0x0547);
	assert_int_equal(cfg_read(bus, 0, 0, 0x06, 2), 0);	/* status */
	cfg_write(bus, 0, 0, 0x04, 2, 0x0006);
	assert_int_equal(cfg_read(bus, 0, 0, 0x04, 4), 0x0006);
	/* Cache line size and latency timer are plain registers. */
	cfg_write(bus, 0, 0, 0x0C, 2, 0x4010);
	assert_int_equal(cfg_read(bus, 0, 0, 0x0C, 4), 0x4010);
}

static void test_reset_control(void **state)
{
	struct pci_bus *bus = *state;

	assert_int_equal(in(bus, RCR, 1), 0);
	/* Linux's reboot=pci: request a hard reset, then reset the CPU. */
	out(bus, RCR, 1, 0x02);
	assert_int_equal(resets, 0);
	assert_int_equal(in(bus, RCR, 1), 0x02);
	out(bus, RCR, 1, 0x06);
	assert_int_equal(resets, 1);
	out(bus, RCR, 1, 0x0E);
	assert_int_equal(resets, 2);
	/* The address register is a different register. */
	out(bus, ADDR, 4, 0x80000000);
	out(bus, RCR, 1, 0x00);
	assert_int_equal(in(bus, ADDR, 4), 0x80000000);
	out(bus, ADDR, 4, 0x00000600);			/* bit 10: not a reset */
	assert_int_equal(resets, 2);
}

struct written {
	unsigned int reg;
	int size;
	int calls;
};

static void note_write(struct pci_device *pdev, unsigned int reg, int size)
{
	struct written *w = pdev->priv;

	w->reg = reg;
	w->size = size;
	w->calls++;
}

static void test_registered_device(void **state)
{
	struct pci_bus *bus = *state;
	struct pci_device dev, dev2, fn3;
	struct written w = { 0 };

	pci_device_init(&dev, 0x1AF4, 0x1041, 0x020000, 1);
	assert_int_equal(pci_device_set_bar(&dev, 0, 0x1000, false), 0);
	assert_int_equal(pci_device_set_bar(&dev, 1, 0x20, true), 0);
	assert_int_equal(pci_device_set_bar(&dev, 6, 0x1000, false), -1);
	assert_int_equal(pci_device_set_bar(&dev, 2, 0x1800, false), -1);
	assert_int_equal(pci_device_set_bar(&dev, 2, 8, false), -1);
	assert_non_null(strstr(err_msg(), "power of two"));
	dev.config[PCI_CFG_INT_PIN] = 1;
	dev.config_written = note_write;
	dev.priv = &w;
	assert_int_equal(pci_register_device(bus, &dev), 0);
	assert_int_equal(dev.devfn, PCI_DEVFN(1, 0));

	assert_int_equal(cfg_read(bus, 1, 0, 0, 4), 0x10411AF4);
	assert_int_equal(cfg_read(bus, 1, 0, 0x08, 4), 0x02000001);
	/* BAR sizing as an OS does it. */
	cfg_write(bus, 1, 0, 0x10, 4, 0xFFFFFFFF);
	assert_int_equal(cfg_read(bus, 1, 0, 0x10, 4), 0xFFFFF000);
	assert_int_equal(w.calls, 1);
	assert_int_equal(w.reg, 0x10);
	assert_int_equal(w.size, 4);
	cfg_write(bus, 1, 0, 0x10, 4, 0xC0001234);
	assert_int_equal(cfg_read(bus, 1, 0, 0x10, 4), 0xC0001000);
	cfg_write(bus, 1, 0, 0x14, 4, 0xFFFFFFFF);
	assert_int_equal(cfg_read(bus, 1, 0, 0x14, 4), 0xFFFFFFE1);
	cfg_write(bus, 1, 0, 0x3D, 1, 4);		/* pin is read-only */
	assert_int_equal(w.calls, 4);			/* ...but still reported */
	assert_int_equal(cfg_read(bus, 1, 0, 0x3D, 1), 1);
	cfg_write(bus, 1, 0, 0x3C, 1, 10);
	assert_int_equal(cfg_read(bus, 1, 0, 0x3C, 1), 10);
	assert_int_equal(w.reg, 0x3C);
	assert_int_equal(w.size, 1);

	/* Status bits are cleared by writing 1. */
	dev.config[PCI_CFG_STATUS + 1] = 0xA0;		/* master abort, SERR... */
	dev.config[PCI_CFG_STATUS] = 0x10;		/* capability list: RO */
	cfg_write(bus, 1, 0, 0x06, 2, 0x2010);
	assert_int_equal(cfg_read(bus, 1, 0, 0x06, 2), 0x8010);

	/* Slots: taken, automatic, explicit function. */
	pci_device_init(&dev2, 0x1AF4, 0x1042, 0x010000, 1);
	dev2.devfn = PCI_DEVFN(1, 0);
	assert_int_equal(pci_register_device(bus, &dev2), -1);
	assert_non_null(strstr(err_msg(), "01.0"));
	dev2.devfn = PCI_DEVFN_AUTO;
	assert_int_equal(pci_register_device(bus, &dev2), 0);
	assert_int_equal(dev2.devfn, PCI_DEVFN(2, 0));
	pci_device_init(&fn3, 0x8086, 0x7000, 0x060100, 0);
	fn3.devfn = PCI_DEVFN(1, 3);
	assert_int_equal(pci_register_device(bus, &fn3), 0);
	assert_int_equal(cfg_read(bus, 1, 3, 0, 2), 0x8086);
	assert_int_equal(cfg_read(bus, 1, 2, 0, 2), 0xFFFF);
	fn3.devfn = 256;
	assert_int_equal(pci_register_device(bus, &fn3), -1);
}

static void test_bus_full(void **state)
{
	struct pci_bus *bus = *state;
	static struct pci_device devs[32];

	for (int i = 0; i < 31; i++) {
		pci_device_init(&devs[i], 0x1AF4, 0x1000, 0, 0);
		assert_int_equal(pci_register_device(bus, &devs[i]), 0);
	}
	pci_device_init(&devs[31], 0x1AF4, 0x1000, 0, 0);
	assert_int_equal(pci_register_device(bus, &devs[31]), -1);
	assert_int_equal(devs[31].devfn, PCI_DEVFN_AUTO);	/* unchanged */
	assert_int_equal(cfg_read(bus, 31, 0, 0, 2), 0x1AF4);
}


/* --- memory BARs ------------------------------------------------------- */

#define WIN	PCI_MMIO_START

/* What a device's bar_access hook saw last; reads answer 0xA0 + tag + offset + i. */
struct bar_rec {
	int calls;
	int bar;
	uint64_t offset;
	int size;
	bool is_write;
	uint8_t data[8];
	uint8_t tag;
};

static void rec_bar_access(struct pci_device *pdev, int bar, uint64_t offset, void *data,
			   int size, bool is_write)
{
	struct bar_rec *r = pdev->priv;
	uint8_t *b = data;

	r->calls++;
	r->bar = bar;
	r->offset = offset;
	r->size = size;
	r->is_write = is_write;
	assert_true(size >= 1 && size <= 8);
	if (is_write) {
		memcpy(r->data, data, size);
		return;
	}
	for (int i = 0; i < size; i++)
		b[i] = (uint8_t)(0xA0 + r->tag + offset + i);
}

static void mem_dev(struct pci_device *pdev, struct bar_rec *r, uint8_t tag)
{
	pci_device_init(pdev, 0x1AF4, 0x1040 + tag, 0xFF0000, 1);
	memset(r, 0, sizeof(*r));
	r->tag = tag;
	pdev->priv = r;
	pdev->bar_access = rec_bar_access;
}

static uint32_t bar_reg(int bar)
{
	return PCI_CFG_BAR0 + 4 * bar;
}

static void test_bar_placement(void **state)
{
	struct pci_bus *bus = *state;
	struct pci_device a, b, c, d, noio;
	struct bar_rec ra, rb, rc, rd, rn;

	pci_set_mmio_window(bus, WIN, WIN + 0x40000);
	mem_dev(&a, &ra, 0);
	assert_int_equal(pci_device_set_bar(&a, 0, 0x1000, false), 0);
	assert_int_equal(pci_device_set_bar(&a, 1, 0x20, true), 0);
	assert_int_equal(pci_device_set_bar(&a, 2, 0x10000, false), 0);
	assert_int_equal(a.bar_size[0], 0x1000);
	assert_int_equal(a.bar_size[1], 0);		/* I/O: not a memory BAR */
	assert_int_equal(pci_register_device(bus, &a), 0);
	/* each BAR at the next address aligned to its own size */
	assert_int_equal(cfg_read(bus, 1, 0, bar_reg(0), 4), WIN);
	assert_int_equal(cfg_read(bus, 1, 0, bar_reg(1), 4), PCI_BAR_IO);	/* unplaced */
	assert_int_equal(cfg_read(bus, 1, 0, bar_reg(2), 4), WIN + 0x10000);
	/* memory decoding on, as firmware leaves it */
	assert_int_equal(cfg_read(bus, 1, 0, PCI_CFG_COMMAND, 2) & PCI_CMD_MEM, PCI_CMD_MEM);
	assert_int_equal(pci_device_bar_addr(&a, 0), WIN);
	assert_int_equal(pci_device_bar_addr(&a, 2), WIN + 0x10000);
	assert_int_equal(pci_device_bar_addr(&a, 1), 0);

	/* the next device carries on after the first */
	mem_dev(&b, &rb, 1);
	assert_int_equal(pci_device_set_bar(&b, 0, 0x8000, false), 0);
	assert_int_equal(pci_register_device(bus, &b), 0);
	assert_int_equal(pci_device_bar_addr(&b, 0), WIN + 0x20000);

	/* 128K aligned would be at +0x40000: past the window's end */
	mem_dev(&c, &rc, 2);
	assert_int_equal(pci_device_set_bar(&c, 0, 0x20000, false), 0);
	assert_int_equal(pci_register_device(bus, &c), -1);
	assert_non_null(strstr(err_msg(), "window"));
	assert_int_equal(c.devfn, PCI_DEVFN_AUTO);
	assert_int_equal(cfg_read(bus, 3, 0, 0, 2), 0xFFFF);	/* not on the bus */
	assert_int_equal(pci_device_bar_addr(&c, 0), 0);

	/* the refused device took no space: 64K still fits, exactly to the end */
	mem_dev(&d, &rd, 3);
	assert_int_equal(pci_device_set_bar(&d, 0, 0x10000, false), 0);
	assert_int_equal(pci_register_device(bus, &d), 0);
	assert_int_equal(d.devfn, PCI_DEVFN(3, 0));
	assert_int_equal(pci_device_bar_addr(&d, 0), WIN + 0x30000);

	/* a device without memory BARs still fits in a full window, decoding off */
	mem_dev(&noio, &rn, 4);
	assert_int_equal(pci_register_device(bus, &noio), 0);
	assert_int_equal(cfg_read(bus, 4, 0, PCI_CFG_COMMAND, 2) & PCI_CMD_MEM, 0);

	/* ... but nothing with a memory BAR does any more */
	mem_dev(&c, &rc, 2);
	assert_int_equal(pci_device_set_bar(&c, 0, 0x10, false), 0);
	assert_int_equal(pci_register_device(bus, &c), -1);
}

static void test_bar_unaligned_window(void **state)
{
	struct pci_bus *bus = *state;
	struct pci_device a, b;
	struct bar_rec ra, rb;

	/* a window that does not start aligned to the BAR's size */
	pci_set_mmio_window(bus, WIN + 0x1000, WIN + 0x400000);
	mem_dev(&a, &ra, 0);
	assert_int_equal(pci_device_set_bar(&a, 0, 0x10, false), 0);
	assert_int_equal(pci_register_device(bus, &a), 0);
	assert_int_equal(pci_device_bar_addr(&a, 0), WIN + 0x1000);
	mem_dev(&b, &rb, 1);
	assert_int_equal(pci_device_set_bar(&b, 3, 0x100000, false), 0);
	assert_int_equal(pci_register_device(bus, &b), 0);
	assert_int_equal(pci_device_bar_addr(&b, 3), WIN + 0x100000);
	assert_int_equal(pci_device_bar_addr(&b, 3) % 0x100000, 0);
}

/* pci.h: "Without a window BARs start at 0 (unplaced)" (test_registered_device relies on it). */
static void test_bar_without_window_unplaced(void **state)
{
	struct pci_bus *bus = *state;
	struct pci_device a;
	struct bar_rec ra;

	mem_dev(&a, &ra, 0);
	assert_int_equal(pci_device_set_bar(&a, 0, 0x1000, false), 0);
	assert_int_equal(pci_register_device(bus, &a), 0);
	assert_int_equal(cfg_read(bus, 1, 0, bar_reg(0), 4), 0);
	assert_int_equal(pci_device_bar_addr(&a, 0), 0);
}

static void test_bar_sizing(void **state)
{
	struct pci_bus *bus = *state;
	struct pci_device a;
	struct bar_rec ra;
	uint32_t orig, cmd;

	pci_set_mmio_window(bus, WIN, PCI_MMIO_END);
	mem_dev(&a, &ra, 0);
	assert_int_equal(pci_device_set_bar(&a, 0, 0x8000, false), 0);
	assert_int_equal(pci_device_set_bar(&a, 5, 0x10, false), 0);
	assert_int_equal(pci_register_device(bus, &a), 0);
	orig = cfg_read(bus, 1, 0, bar_reg(0), 4);
	assert_int_equal(orig, WIN);
	assert_int_equal(pci_device_bar_addr(&a, 0), WIN);

	/* Linux's __pci_read_base(): decoding off, all ones, read, restore */
	cmd = cfg_read(bus, 1, 0, PCI_CFG_COMMAND, 2);
	cfg_write(bus, 1, 0, PCI_CFG_COMMAND, 2, cmd & ~PCI_CMD_MEM);
	assert_int_equal(pci_device_bar_addr(&a, 0), 0);	/* decoding off */
	assert_int_equal(pci_device_bar_addr(&a, 5), 0);
	cfg_write(bus, 1, 0, bar_reg(0), 4, 0xFFFFFFFF);
	/* ~(size - 1) | flags: 32-bit, non-prefetchable memory */
	assert_int_equal(cfg_read(bus, 1, 0, bar_reg(0), 4), 0xFFFF8000);
	assert_int_equal(pci_device_bar_addr(&a, 0), 0);
	cfg_write(bus, 1, 0, bar_reg(0), 4, orig);
	assert_int_equal(cfg_read(bus, 1, 0, bar_reg(0), 4), orig);
	assert_int_equal(pci_device_bar_addr(&a, 0), 0);	/* still off */
	cfg_write(bus, 1, 0, PCI_CFG_COMMAND, 2, cmd);
	assert_int_equal(pci_device_bar_addr(&a, 0), WIN);

	/* an OS that sizes with decoding left on: no address meanwhile */
	cfg_write(bus, 1, 0, bar_reg(0), 4, 0xFFFFFFFF);
	assert_int_equal(cfg_read(bus, 1, 0, bar_reg(0), 4), 0xFFFF8000);
	assert_int_equal(pci_device_bar_addr(&a, 0), 0);
	cfg_write(bus, 1, 0, bar_reg(0), 4, orig);
	assert_int_equal(pci_device_bar_addr(&a, 0), WIN);

	/* the smallest BAR: 16 bytes, all address bits above 3 writable */
	orig = cfg_read(bus, 1, 0, bar_reg(5), 4);
	cfg_write(bus, 1, 0, bar_reg(5), 4, 0xFFFFFFFF);
	assert_int_equal(cfg_read(bus, 1, 0, bar_reg(5), 4), 0xFFFFFFF0);
	assert_int_equal(pci_device_bar_addr(&a, 5), 0);
	cfg_write(bus, 1, 0, bar_reg(5), 4, orig);
	assert_int_equal(pci_device_bar_addr(&a, 5), orig);

	/* the low flag bits are read-only */
	cfg_write(bus, 1, 0, bar_reg(0), 4, orig | 0xF);
	assert_int_equal(cfg_read(bus, 1, 0, bar_reg(0), 4), orig);
	/* an unaligned address is truncated to the BAR's size */
	cfg_write(bus, 1, 0, bar_reg(0), 4, WIN + 0x12345);
	assert_int_equal(cfg_read(bus, 1, 0, bar_reg(0), 4), WIN + 0x10000);

	/* out-of-range BAR numbers are never reachable */
	assert_int_equal(pci_device_bar_addr(&a, -1), 0);
	assert_int_equal(pci_device_bar_addr(&a, PCI_BARS), 0);
}

static void test_mmio_dispatch(void **state)
{
	struct pci_bus *bus = *state;
	struct pci_device a, b, plain;
	struct bar_rec ra, rb, rp;
	uint8_t buf[8];
	uint64_t a0, a2, b0;

	pci_set_mmio_window(bus, WIN, PCI_MMIO_END);
	mem_dev(&a, &ra, 0);
	assert_int_equal(pci_device_set_bar(&a, 0, 0x1000, false), 0);
	assert_int_equal(pci_device_set_bar(&a, 2, 0x100, false), 0);
	assert_int_equal(pci_register_device(bus, &a), 0);
	mem_dev(&b, &rb, 0x10);
	assert_int_equal(pci_device_set_bar(&b, 0, 0x1000, false), 0);
	assert_int_equal(pci_register_device(bus, &b), 0);
	a0 = pci_device_bar_addr(&a, 0);
	a2 = pci_device_bar_addr(&a, 2);
	b0 = pci_device_bar_addr(&b, 0);
	assert_true(a0 && a2 && b0);

	/* a write reaches the right device, BAR and offset */
	memcpy(buf, "\x11\x22\x33\x44", 4);
	assert_true(pci_mmio(bus, a0 + 0x10, buf, 4, true));
	assert_int_equal(ra.calls, 1);
	assert_int_equal(rb.calls, 0);
	assert_int_equal(ra.bar, 0);
	assert_int_equal(ra.offset, 0x10);
	assert_int_equal(ra.size, 4);
	assert_true(ra.is_write);
	assert_memory_equal(ra.data, "\x11\x22\x33\x44", 4);

	assert_true(pci_mmio(bus, a2 + 0x20, buf, 2, false));
	assert_int_equal(ra.bar, 2);
	assert_int_equal(ra.offset, 0x20);
	assert_false(ra.is_write);
	assert_int_equal(buf[0], 0xA0 + 0x20);
	assert_int_equal(buf[1], 0xA0 + 0x21);

	assert_true(pci_mmio(bus, b0, buf, 8, false));
	assert_int_equal(rb.calls, 1);
	assert_int_equal(rb.offset, 0);
	assert_int_equal(rb.size, 8);
	assert_int_equal(buf[7], 0xA0 + 0x10 + 7);

	/* the last bytes of a BAR are in it; a straddling access is not */
	ra.calls = 0;
	assert_true(pci_mmio(bus, a0 + 0xFF8, buf, 8, false));
	assert_int_equal(ra.offset, 0xFF8);
	assert_true(pci_mmio(bus, a0 + 0xFFF, buf, 1, true));
	assert_int_equal(ra.calls, 2);
	memset(buf, 0, sizeof(buf));
	assert_false(pci_mmio(bus, a0 + 0xFFE, buf, 4, false));
	assert_memory_equal(buf, "\xFF\xFF\xFF\xFF", 4);
	assert_false(pci_mmio(bus, a0 + 0xFFC, buf, 8, true));
	assert_false(pci_mmio(bus, a2 + 0xFE, buf, 4, true));
	assert_false(pci_mmio(bus, a2 - 2, buf, 4, true));	/* starts before it */
	assert_int_equal(ra.calls, 2);
	assert_int_equal(rb.calls, 1);

	/* nothing there: all ones */
	memset(buf, 0, sizeof(buf));
	assert_false(pci_mmio(bus, PCI_MMIO_END - 0x1000, buf, 4, false));
	assert_memory_equal(buf, "\xFF\xFF\xFF\xFF", 4);

	/* decoding off: the BAR is not reached */
	cfg_write(bus, 1, 0, PCI_CFG_COMMAND, 2, 0);
	assert_false(pci_mmio(bus, a0, buf, 4, true));
	assert_false(pci_mmio(bus, a2, buf, 4, false));
	assert_int_equal(ra.calls, 2);
	cfg_write(bus, 1, 0, PCI_CFG_COMMAND, 2, PCI_CMD_MEM);
	assert_true(pci_mmio(bus, a0, buf, 4, false));
	assert_int_equal(ra.calls, 3);

	/* the guest moves BAR 0: the old address is dead, the new one live */
	cfg_write(bus, 1, 0, bar_reg(0), 4, WIN + 0x100000);
	assert_int_equal(pci_device_bar_addr(&a, 0), WIN + 0x100000);
	assert_false(pci_mmio(bus, a0 + 4, buf, 4, true));
	assert_int_equal(ra.calls, 3);
	assert_true(pci_mmio(bus, WIN + 0x100000 + 4, buf, 4, true));
	assert_int_equal(ra.calls, 4);
	assert_int_equal(ra.bar, 0);
	assert_int_equal(ra.offset, 4);

	/* ... and while it is being sized, neither is */
	cfg_write(bus, 1, 0, bar_reg(0), 4, 0xFFFFFFFF);
	assert_false(pci_mmio(bus, WIN + 0x100000, buf, 4, true));
	assert_false(pci_mmio(bus, 0xFFFFF000, buf, 4, true));
	assert_int_equal(ra.calls, 4);

	/* a BAR without a bar_access hook reads all ones but is claimed */
	mem_dev(&plain, &rp, 0x20);
	plain.bar_access = NULL;
	assert_int_equal(pci_device_set_bar(&plain, 0, 0x1000, false), 0);
	assert_int_equal(pci_register_device(bus, &plain), 0);
	memset(buf, 0, sizeof(buf));
	assert_true(pci_mmio(bus, pci_device_bar_addr(&plain, 0) + 8, buf, 4, false));
	assert_memory_equal(buf, "\xFF\xFF\xFF\xFF", 4);
	assert_true(pci_mmio(bus, pci_device_bar_addr(&plain, 0) + 8, buf, 4, true));
	assert_int_equal(rp.calls, 0);
}

/* A BAR the guest moves outside the bus's window (here below it) is unreachable. */
static void test_bar_outside_bus_window(void **state)
{
	struct pci_bus *bus = *state;
	struct pci_device a;
	struct bar_rec ra;
	uint8_t buf[4] = { 0 };

	pci_set_mmio_window(bus, WIN + 0x10000000, WIN + 0x20000000);
	mem_dev(&a, &ra, 0);
	assert_int_equal(pci_device_set_bar(&a, 0, 0x1000, false), 0);
	assert_int_equal(pci_register_device(bus, &a), 0);
	assert_int_equal(pci_device_bar_addr(&a, 0), WIN + 0x10000000);
	cfg_write(bus, 1, 0, bar_reg(0), 4, WIN);
	assert_int_equal(pci_device_bar_addr(&a, 0), 0);
	assert_false(pci_mmio(bus, WIN, buf, 4, true));
}

/* BARs are 32-bit: a window reaching past 4G is refused; one ending at 4G fits. */
static void test_bar_window_past_4g(void **state)
{
	struct pci_bus *bus = *state;
	struct pci_device a, b;
	struct bar_rec ra, rb;

	assert_int_equal(pci_set_mmio_window(bus, 0xFFFF0000ULL, 0x100100000ULL), -1);
	assert_int_equal(pci_set_mmio_window(bus, 0xFFFF0000ULL, 0x100000000ULL), 0);
	mem_dev(&a, &ra, 0);
	assert_int_equal(pci_device_set_bar(&a, 0, 0x10000, false), 0);
	assert_int_equal(pci_register_device(bus, &a), 0);
	assert_int_equal(cfg_read(bus, 1, 0, bar_reg(0), 4), 0xFFFF0000);
	mem_dev(&b, &rb, 1);
	assert_int_equal(pci_device_set_bar(&b, 0, 0x10000, false), 0);
	assert_int_equal(pci_register_device(bus, &b), -1);
}

/* 64-bit BARs: sized across both registers, placed in the 64-bit window. */
static void test_bar64(void **state)
{
	struct pci_bus *bus = *state;
	const uint64_t win64 = 64ULL << 30, big = 4ULL << 30;
	struct pci_device a, b, c;
	struct bar_rec ra, rb, rc;
	uint8_t v[4];
	uint64_t at;

	assert_int_equal(pci_set_mmio_window(bus, WIN, PCI_MMIO_END), 0);
	/* without a 64-bit window: a small one goes below 4 GiB, its upper half 0 */
	mem_dev(&a, &ra, 0);
	assert_int_equal(pci_device_set_bar64(&a, 0, 0x4000, false), 0);
	assert_int_equal(pci_register_device(bus, &a), 0);
	assert_int_equal(cfg_read(bus, 1, 0, bar_reg(0), 4), WIN | 0x4);
	assert_int_equal(cfg_read(bus, 1, 0, bar_reg(1), 4), 0);
	assert_int_equal(pci_device_bar_addr(&a, 0), WIN);
	assert_int_equal(pci_device_bar_addr(&a, 1), 0);

	/* the 64-bit window: refused below 4 GiB */
	assert_int_equal(pci_set_mmio64_window(bus, 0xC0000000ULL, win64), -1);
	assert_int_equal(pci_set_mmio64_window(bus, win64, 2 * win64), 0);
	mem_dev(&b, &rb, 1);
	assert_int_equal(pci_device_set_bar64(&b, 2, big, true), 0);
	assert_int_equal(pci_device_set_bar(&b, 0, 0x1000, false), 0);	/* and a 32-bit one */
	assert_int_equal(pci_register_device(bus, &b), 0);
	at = pci_device_bar_addr(&b, 2);
	assert_int_equal(at, win64);
	assert_int_equal(cfg_read(bus, 2, 0, bar_reg(2), 4), 0x4 | 0x8);
	assert_int_equal(cfg_read(bus, 2, 0, bar_reg(3), 4), (uint32_t)(win64 >> 32));
	assert_true(pci_device_bar_addr(&b, 0) < (1ULL << 32));
	/* an access high up reaches BAR 2 */
	assert_true(pci_mmio(bus, at + big - 4, v, 4, false));
	assert_int_equal(rb.bar, 2);
	assert_int_equal(rb.offset, big - 4);
	/* sizing: all ones in both halves read the mask */
	cfg_write(bus, 2, 0, bar_reg(2), 4, 0xFFFFFFFF);
	cfg_write(bus, 2, 0, bar_reg(3), 4, 0xFFFFFFFF);
	assert_int_equal(cfg_read(bus, 2, 0, bar_reg(2), 4), 0x0000000C);
	assert_int_equal(cfg_read(bus, 2, 0, bar_reg(3), 4), 0xFFFFFFFF & ~(uint32_t)((big - 1) >> 32));
	assert_int_equal(pci_device_bar_addr(&b, 2), 0);	/* no address while sized */
	/* the guest moves it within the window */
	cfg_write(bus, 2, 0, bar_reg(2), 4, 0);
	cfg_write(bus, 2, 0, bar_reg(3), 4, (uint32_t)((win64 + big) >> 32));
	assert_int_equal(pci_device_bar_addr(&b, 2), win64 + big);
	/* the next 64-bit BAR follows it; one that cannot fit is refused */
	mem_dev(&c, &rc, 2);
	assert_int_equal(pci_device_set_bar64(&c, 0, win64, false), 0);
	assert_int_equal(pci_register_device(bus, &c), -1);
	assert_int_equal(pci_device_set_bar64(&c, 0, big, false), 0);
	assert_int_equal(pci_register_device(bus, &c), 0);
	assert_int_equal(pci_device_bar_addr(&c, 0), win64 + big);
	/* no 64-bit BAR in the last register, nor of a bad size */
	assert_int_equal(pci_device_set_bar64(&c, 5, 0x1000, false), -1);
	assert_int_equal(pci_device_set_bar64(&c, 0, 0x3000, false), -1);
}

/* --- capabilities -------------------------------------------------------- */

static void test_capabilities(void **state)
{
	struct pci_bus *bus = *state;
	struct pci_device dev;
	static const uint8_t ids[] = { PCI_CAP_ID_VNDR, 0x05, PCI_CAP_ID_MSIX, 0x01 };
	static const unsigned int lens[] = { 16, 6, 12, 256 - 0x64 };
	static const unsigned int want[] = { 0x40, 0x50, 0x58, 0x64 };
	unsigned int at, n;

	pci_device_init(&dev, 0x1AF4, 0x1044, 0xFF0000, 1);
	assert_int_equal(dev.config[PCI_CFG_CAP_PTR], 0);
	assert_int_equal(dev.config[PCI_CFG_STATUS] & PCI_STATUS_CAP_LIST, 0);
	for (int i = 0; i < 3; i++) {
		int off = pci_device_add_cap(&dev, ids[i], lens[i]);

		assert_int_equal(off, want[i]);
		assert_int_equal(off % 4, 0);
		dev.config[off + 2] = (uint8_t)(0xC0 + i);	/* body, filled by the caller */
	}
	/* one byte too many for what is left */
	assert_int_equal(pci_device_add_cap(&dev, 0x01, lens[3] + 1), -1);
	assert_non_null(strstr(err_msg(), "config space"));
	assert_int_equal(pci_device_add_cap(&dev, 0x01, 1), -1);	/* no room for a header */
	assert_int_equal(dev.config[0x58 + 1], 0);			/* list unchanged */
	/* the rest of config space, exactly */
	assert_int_equal(pci_device_add_cap(&dev, ids[3], lens[3]), want[3]);
	assert_int_equal(pci_device_add_cap(&dev, 0x01, 2), -1);
	assert_int_equal(pci_device_add_cap(&dev, 0x01, 4), -1);
	assert_int_equal(pci_register_device(bus, &dev), 0);

	/* as an OS walks it */
	assert_int_equal(cfg_read(bus, 1, 0, PCI_CFG_STATUS, 2) & PCI_STATUS_CAP_LIST,
			 PCI_STATUS_CAP_LIST);
	at = cfg_read(bus, 1, 0, PCI_CFG_CAP_PTR, 1);
	for (n = 0; at && n < 48; n++) {
		assert_true(at >= PCI_CAP_START);
		assert_int_equal(at & 3, 0);
		assert_int_equal(at, want[n]);
		assert_int_equal(cfg_read(bus, 1, 0, at, 1), ids[n]);
		if (n < 3)
			assert_int_equal(cfg_read(bus, 1, 0, at + 2, 1), 0xC0 + n);
		at = cfg_read(bus, 1, 0, at + 1, 1);
	}
	assert_int_equal(n, 4);

	/* the guest can neither clear the status bit nor relink the list */
	cfg_write(bus, 1, 0, PCI_CFG_STATUS, 2, 0xFFFF);
	assert_int_equal(cfg_read(bus, 1, 0, PCI_CFG_STATUS, 2) & PCI_STATUS_CAP_LIST,
			 PCI_STATUS_CAP_LIST);
	cfg_write(bus, 1, 0, PCI_CFG_CAP_PTR, 1, 0x80);
	cfg_write(bus, 1, 0, 0x41, 1, 0x00);
	assert_int_equal(cfg_read(bus, 1, 0, PCI_CFG_CAP_PTR, 1), 0x40);
	assert_int_equal(cfg_read(bus, 1, 0, 0x41, 1), 0x50);
}

static void test_capability_odd_lengths(void **state)
{
	struct pci_device dev;

	pci_device_init(&dev, 0x1AF4, 0x1044, 0xFF0000, 1);
	/* each capability starts dword aligned whatever the previous length */
	assert_int_equal(pci_device_add_cap(&dev, 0x09, 2), 0x40);
	assert_int_equal(pci_device_add_cap(&dev, 0x09, 3), 0x44);
	assert_int_equal(pci_device_add_cap(&dev, 0x09, 5), 0x48);
	assert_int_equal(pci_device_add_cap(&dev, 0x09, 4), 0x50);
	assert_int_equal(pci_device_add_cap(&dev, 0x09, 7), 0x54);
	assert_int_equal(dev.config[PCI_CFG_CAP_PTR], 0x40);
	assert_int_equal(dev.config[0x41], 0x44);
	assert_int_equal(dev.config[0x45], 0x48);
	assert_int_equal(dev.config[0x49], 0x50);
	assert_int_equal(dev.config[0x51], 0x54);
	assert_int_equal(dev.config[0x55], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_host_bridge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_and_word_accesses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_address_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_and_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_control, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registered_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bus_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_placement, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_unaligned_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_without_window_unplaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio_dispatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_outside_bus_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_window_past_4g, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar64, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capabilities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capability_odd_lengths, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
