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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
