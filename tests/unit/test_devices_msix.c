// SPDX-License-Identifier: GPL-2.0
/*
 * MSI-X capability and table emulation (devices/msix.h), on a PCI function
 * registered on a real bus: the guest's config writes go through 0xCF8/0xCFC
 * and its table accesses through pci_mmio(). A fake msi_ops (vqsim.h's,
 * with made-up fds rather than eventfds) records what the routes are told.
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
#include "vqsim.h"

#define NVEC		5
#define BAR		2
#define TABLE_OFF	0x800
#define PBA_OFF		0x1800
#define BAR_SIZE	0x2000

#define SLOT		1

#define CTRL_ENABLE	0x8000
#define CTRL_FMASK	0x4000

struct fix {
	struct pci_bus *bus;
	struct pci_device pdev;
	struct msix m;
	struct vs_msi fm;
	int other;		/* BAR accesses msix_bar_access() did not take */
	uint64_t bar;		/* BAR's address */
};

static void hook_bar(struct pci_device *pdev, int bar, uint64_t offset, void *data, int size,
		     bool is_write)
{
	struct fix *f = pdev->priv;

	if (msix_bar_access(&f->m, bar, offset, data, size, is_write))
		return;
	f->other++;
	if (!is_write)
		memset(data, 0x5A, size);
}

static void hook_config(struct pci_device *pdev, unsigned int reg, int size)
{
	struct fix *f = pdev->priv;

	msix_config_written(&f->m);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	vs_msi_init(&f->fm, false);
	f->bus = pci_create(NULL, NULL);
	if (!f->bus)
		return -1;
	pci_set_mmio_window(f->bus, PCI_MMIO_START, PCI_MMIO_END);
	pci_device_init(&f->pdev, 0x1AF4, 0x1044, 0xFF0000, 1);
	f->pdev.priv = f;
	f->pdev.bar_access = hook_bar;
	f->pdev.config_written = hook_config;
	f->pdev.devfn = PCI_DEVFN(SLOT, 0);
	if (pci_device_set_bar(&f->pdev, BAR, BAR_SIZE, false) ||
	    msix_init(&f->m, &f->pdev, NVEC, BAR, TABLE_OFF, PBA_OFF, &f->fm.ops) ||
	    pci_register_device(f->bus, &f->pdev))
		return -1;
	f->bar = pci_device_bar_addr(&f->pdev, BAR);
	if (!f->bar)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	msix_destroy(&f->m);
	pci_destroy(f->bus);
	free(f);
	return 0;
}

/* --- the guest's accesses ------------------------------------------------ */

static uint32_t cfg_read(struct fix *f, unsigned int reg, int size)
{
	return vs_cfg_read(f->bus, SLOT, reg, size);
}

static void cfg_write(struct fix *f, unsigned int reg, int size, uint32_t v)
{
	vs_cfg_write(f->bus, SLOT, reg, size, v);
}

/* The MSI-X capability, found as an OS finds it. */
static unsigned int find_msix(struct fix *f)
{
	unsigned int at, n;

	assert_true(cfg_read(f, PCI_CFG_STATUS, 2) & PCI_STATUS_CAP_LIST);
	at = cfg_read(f, PCI_CFG_CAP_PTR, 1);
	for (n = 0; at && n < 48; n++) {
		if (cfg_read(f, at, 1) == PCI_CAP_ID_MSIX)
			return at;
		at = cfg_read(f, at + 1, 1);
	}
	fail_msg("no MSI-X capability");
	return 0;
}

static void msg_ctrl(struct fix *f, uint16_t v)
{
	cfg_write(f, find_msix(f) + 2, 2, v);
}

static uint64_t entry_gpa(struct fix *f, unsigned int vec, unsigned int off)
{
	return f->bar + TABLE_OFF + 16ULL * vec + off;
}

static uint32_t entry_read(struct fix *f, unsigned int vec, unsigned int off)
{
	return (uint32_t)vs_mmio_read(f->bus, entry_gpa(f, vec, off), 4);
}

static void entry_write(struct fix *f, unsigned int vec, unsigned int off, uint32_t v)
{
	vs_mmio_write(f->bus, entry_gpa(f, vec, off), 4, v);
}

/* Programs a message, still masked, as Linux does before unmasking. */
static void program(struct fix *f, unsigned int vec, uint64_t addr, uint32_t data)
{
	entry_write(f, vec, 0, (uint32_t)addr);
	entry_write(f, vec, 4, (uint32_t)(addr >> 32));
	entry_write(f, vec, 8, data);
}

static void assert_route(struct fix *f, int vec, uint64_t addr, uint32_t data, bool masked)
{
	const struct vs_route *r = &f->fm.r[vec];

	assert_true(r->sets > 0);
	assert_int_equal(r->masked, masked);
	if (!masked) {
		assert_int_equal(r->addr, addr);
		assert_int_equal(r->data, data);
	}
}

/* --- tests ----------------------------------------------------------------- */

static void test_capability(void **state)
{
	struct fix *f = *state;
	unsigned int cap = find_msix(f);

	assert_int_equal(cap, f->m.cap);
	assert_int_equal(cap % 4, 0);
	assert_int_equal(f->fm.added, NVEC);
	/* table size N-1, enable and function mask clear */
	assert_int_equal(cfg_read(f, cap + 2, 2), NVEC - 1);
	/* table and PBA: offset | BIR */
	assert_int_equal(cfg_read(f, cap + 4, 4), TABLE_OFF | BAR);
	assert_int_equal(cfg_read(f, cap + 8, 4), PBA_OFF | BAR);
	assert_int_equal(cfg_read(f, cap + 1, 1), 0);	/* the last capability */

	/* only enable and function mask are writable */
	msg_ctrl(f, 0xFFFF);
	assert_int_equal(cfg_read(f, cap + 2, 2), CTRL_ENABLE | CTRL_FMASK | (NVEC - 1));
	msg_ctrl(f, 0);
	assert_int_equal(cfg_read(f, cap + 2, 2), NVEC - 1);
	cfg_write(f, cap + 3, 1, 0x80);			/* a byte write to the high half */
	assert_int_equal(cfg_read(f, cap + 2, 2), CTRL_ENABLE | (NVEC - 1));
	cfg_write(f, cap + 4, 4, 0xFFFFFFFF);
	cfg_write(f, cap + 8, 4, 0);
	cfg_write(f, cap, 2, 0);
	assert_int_equal(cfg_read(f, cap + 4, 4), TABLE_OFF | BAR);
	assert_int_equal(cfg_read(f, cap + 8, 4), PBA_OFF | BAR);
	assert_int_equal(cfg_read(f, cap, 1), PCI_CAP_ID_MSIX);
}

static void test_init_limits(void **state)
{
	struct fix *f = *state;
	struct pci_device pdev;
	struct msix m;
	unsigned int cap;

	pci_device_init(&pdev, 0x1AF4, 0x1044, 0, 1);
	assert_int_equal(msix_init(&m, &pdev, 0, 0, 0, 0x800, &f->fm.ops), -1);
	msix_destroy(&m);
	assert_int_equal(msix_init(&m, &pdev, MSIX_MAX_VECTORS + 1, 0, 0, 0x8000, &f->fm.ops), -1);
	msix_destroy(&m);
	assert_int_equal(msix_init(&m, &pdev, 1, 0, 0x804, 0x800, &f->fm.ops), -1);
	msix_destroy(&m);
	assert_int_equal(msix_init(&m, &pdev, 1, 0, 0x800, 0x1004, &f->fm.ops), -1);
	msix_destroy(&m);
	assert_int_equal(pdev.config[PCI_CFG_CAP_PTR], 0);	/* nothing added */

	/* the largest table: size field 0x7FF */
	f->fm.added = 0;
	assert_int_equal(msix_init(&m, &pdev, MSIX_MAX_VECTORS, 0, 0, 0x8000, &f->fm.ops), 0);
	cap = m.cap;
	assert_int_equal(pdev.config[cap], PCI_CAP_ID_MSIX);
	assert_int_equal(pdev.config[cap + 2] | pdev.config[cap + 3] << 8, 0x7FF);
	assert_int_equal(msix_vector_fd(&m, MSIX_MAX_VECTORS - 1),
			 VS_FAKE_FD_BASE + MSIX_MAX_VECTORS - 1);
	msix_destroy(&m);
}

static void test_route_add_fails(void **state)
{
	struct fix *f = *state;
	struct pci_device pdev;
	struct msix m;

	pci_device_init(&pdev, 0x1AF4, 0x1044, 0, 1);
	f->fm.added = 0;
	f->fm.fail_at = 2;
	assert_int_equal(msix_init(&m, &pdev, 4, 0, 0, 0x800, &f->fm.ops), -1);
	msix_destroy(&m);			/* frees what was made (ASan) */
	assert_int_equal(m.nvec, 0);
}

static void test_masked_at_reset(void **state)
{
	struct fix *f = *state;

	for (unsigned int v = 0; v < NVEC; v++) {
		assert_int_equal(entry_read(f, v, 12), 1);
		assert_int_equal(entry_read(f, v, 0), 0);
		assert_int_equal(entry_read(f, v, 8), 0);
	}
	/* enabling MSI-X unmasks nothing */
	msg_ctrl(f, CTRL_ENABLE);
	program(f, 2, 0xFEE00000, 0x4022);
	assert_int_equal(f->fm.unmasked_sets, 0);
	for (unsigned int v = 0; v < NVEC; v++)
		if (f->fm.r[v].sets)
			assert_true(f->fm.r[v].masked);
}

static void test_unmask(void **state)
{
	struct fix *f = *state;

	program(f, 1, 0x00000001FEE01000ULL, 0x4041);
	msg_ctrl(f, CTRL_ENABLE);
	assert_int_equal(f->fm.unmasked_sets, 0);
	entry_write(f, 1, 12, 0);
	assert_int_equal(f->fm.unmasked_sets, 1);
	assert_route(f, 1, 0x00000001FEE01000ULL, 0x4041, false);
	assert_int_equal(entry_read(f, 1, 0), 0xFEE01000);
	assert_int_equal(entry_read(f, 1, 4), 1);
	assert_int_equal(entry_read(f, 1, 8), 0x4041);
	assert_int_equal(entry_read(f, 1, 12), 0);
	/* the others stay masked */
	for (unsigned int v = 0; v < NVEC; v++)
		if (v != 1 && f->fm.r[v].sets)
			assert_true(f->fm.r[v].masked);
	/* unmasked before MSI-X is enabled: takes effect at enable */
	program(f, 3, 0xFEE02000, 0x4043);
	msg_ctrl(f, 0);
	entry_write(f, 3, 12, 0);
	assert_true(f->fm.r[3].sets == 0 || f->fm.r[3].masked);
	msg_ctrl(f, CTRL_ENABLE);
	assert_route(f, 3, 0xFEE02000, 0x4043, false);
	assert_route(f, 1, 0x00000001FEE01000ULL, 0x4041, false);
}

static void test_mask_bit(void **state)
{
	struct fix *f = *state;
	int sets;

	program(f, 0, 0xFEE00000, 0x4030);
	msg_ctrl(f, CTRL_ENABLE);
	entry_write(f, 0, 12, 0);
	assert_route(f, 0, 0xFEE00000, 0x4030, false);
	sets = f->fm.r[0].sets;
	entry_write(f, 0, 12, 1);
	assert_int_equal(f->fm.r[0].sets, sets + 1);
	assert_true(f->fm.r[0].masked);
	assert_int_equal(entry_read(f, 0, 12), 1);
	/* a new message while masked reaches the route at unmask */
	program(f, 0, 0xFEE03000, 0x4031);
	entry_write(f, 0, 12, 0);
	assert_int_equal(f->fm.r[0].sets, sets + 2);
	assert_route(f, 0, 0xFEE03000, 0x4031, false);
}

static void test_function_mask(void **state)
{
	struct fix *f = *state;
	int sets0, sets1, sets4;

	program(f, 0, 0xFEE00000, 0x4030);
	program(f, 4, 0xFEE04000, 0x4034);
	msg_ctrl(f, CTRL_ENABLE);
	entry_write(f, 0, 12, 0);
	entry_write(f, 4, 12, 0);
	sets0 = f->fm.r[0].sets;
	sets1 = f->fm.r[1].sets;
	sets4 = f->fm.r[4].sets;

	msg_ctrl(f, CTRL_ENABLE | CTRL_FMASK);
	assert_true(f->fm.r[0].masked);
	assert_true(f->fm.r[4].masked);
	assert_int_equal(f->fm.r[0].sets, sets0 + 1);
	assert_int_equal(f->fm.r[4].sets, sets4 + 1);
	assert_int_equal(f->fm.r[1].sets, sets1);	/* masked already: not told again */
	/* the entries' own mask bits are unchanged */
	assert_int_equal(entry_read(f, 0, 12), 0);
	/* unmasking an entry under the function mask does not unmask it */
	program(f, 1, 0xFEE01000, 0x4031);
	entry_write(f, 1, 12, 0);
	assert_true(f->fm.r[1].sets == sets1 || f->fm.r[1].masked);

	msg_ctrl(f, CTRL_ENABLE);
	assert_route(f, 0, 0xFEE00000, 0x4030, false);
	assert_route(f, 1, 0xFEE01000, 0x4031, false);
	assert_route(f, 4, 0xFEE04000, 0x4034, false);
	assert_int_equal(f->fm.r[0].sets, sets0 + 2);
}

static void test_disable_masks(void **state)
{
	struct fix *f = *state;
	int sets;

	program(f, 2, 0xFEE00000, 0x4032);
	msg_ctrl(f, CTRL_ENABLE);
	entry_write(f, 2, 12, 0);
	sets = f->fm.r[2].sets;
	msg_ctrl(f, 0);
	assert_int_equal(f->fm.r[2].sets, sets + 1);
	assert_true(f->fm.r[2].masked);
	msg_ctrl(f, CTRL_ENABLE);
	assert_int_equal(f->fm.r[2].sets, sets + 2);
	assert_route(f, 2, 0xFEE00000, 0x4032, false);
}

static void test_no_repeats(void **state)
{
	struct fix *f = *state;
	int total;

	program(f, 1, 0xFEE01000, 0x4041);
	msg_ctrl(f, CTRL_ENABLE);
	entry_write(f, 1, 12, 0);
	total = f->fm.sets;
	/* the same message and mask again: nothing to tell */
	for (int i = 0; i < 3; i++) {
		program(f, 1, 0xFEE01000, 0x4041);
		entry_write(f, 1, 12, 0);
		msg_ctrl(f, CTRL_ENABLE);
		entry_write(f, 2, 12, 1);		/* a masked one, masked again */
		entry_write(f, 2, 8, 0x1234);		/* a masked one's data */
	}
	cfg_write(f, PCI_CFG_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);	/* unrelated */
	cfg_write(f, PCI_CFG_LATENCY, 1, 0x40);
	assert_int_equal(f->fm.sets, total);
	/* a real change while unmasked is passed on, once */
	entry_write(f, 1, 8, 0x4042);
	assert_int_equal(f->fm.sets, total + 1);
	assert_route(f, 1, 0xFEE01000, 0x4042, false);
	entry_write(f, 1, 8, 0x4042);
	assert_int_equal(f->fm.sets, total + 1);
}

static void test_reserved_control_bits(void **state)
{
	struct fix *f = *state;

	entry_write(f, 3, 12, 0xFFFFFFFF);
	assert_int_equal(entry_read(f, 3, 12), 1);
	entry_write(f, 3, 12, 0xFFFFFFFE);
	assert_int_equal(entry_read(f, 3, 12), 0);
	entry_write(f, 3, 12, 0x80000001);
	assert_int_equal(entry_read(f, 3, 12), 1);
}

static void test_qword_access(void **state)
{
	struct fix *f = *state;

	msg_ctrl(f, CTRL_ENABLE);
	vs_mmio_write(f->bus, entry_gpa(f, 2, 0), 8, 0x00000002FEE05000ULL);
	assert_int_equal(entry_read(f, 2, 0), 0xFEE05000);
	assert_int_equal(entry_read(f, 2, 4), 2);
	assert_int_equal(vs_mmio_read(f->bus, entry_gpa(f, 2, 0), 8), 0x00000002FEE05000ULL);
	/* data 0, masked */
	assert_int_equal(vs_mmio_read(f->bus, entry_gpa(f, 2, 8), 8), 1ULL << 32);
	assert_int_equal(f->fm.unmasked_sets, 0);
	/* data and vector control in one qword: unmasked with the new data */
	vs_mmio_write(f->bus, entry_gpa(f, 2, 8), 8, 0x4052);
	assert_route(f, 2, 0x00000002FEE05000ULL, 0x4052, false);
	assert_int_equal(vs_mmio_read(f->bus, entry_gpa(f, 2, 8), 8), 0x4052);
	/* and reserved bits in the qword's upper half are dropped */
	vs_mmio_write(f->bus, entry_gpa(f, 2, 8), 8, 0xFFFFFFFF00004052ULL);
	assert_int_equal(vs_mmio_read(f->bus, entry_gpa(f, 2, 8), 8), 0x0000000100004052ULL);
	assert_true(f->fm.r[2].masked);
}

static void test_bad_accesses(void **state)
{
	struct fix *f = *state;
	uint8_t b[8];

	program(f, 1, 0xFEE01000, 0x4041);
	/* narrow, misaligned and misaligned-qword accesses read all ones ... */
	assert_int_equal(vs_mmio_read(f->bus, entry_gpa(f, 1, 0), 1), 0xFF);
	assert_int_equal(vs_mmio_read(f->bus, entry_gpa(f, 1, 8), 2), 0xFFFF);
	assert_int_equal(vs_mmio_read(f->bus, entry_gpa(f, 1, 2), 4), 0xFFFFFFFF);
	assert_int_equal(vs_mmio_read(f->bus, entry_gpa(f, 1, 4), 8), UINT64_MAX);
	assert_int_equal(vs_mmio_read(f->bus, entry_gpa(f, 1, 1), 2), 0xFFFF);
	/* ... and are dropped when written */
	vs_mmio_write(f->bus, entry_gpa(f, 1, 12), 1, 0);
	vs_mmio_write(f->bus, entry_gpa(f, 1, 12), 2, 0);
	vs_mmio_write(f->bus, entry_gpa(f, 1, 10), 4, 0);
	vs_mmio_write(f->bus, entry_gpa(f, 1, 4), 8, 0);
	vs_mmio_write(f->bus, entry_gpa(f, 1, 0), 2, 0);
	assert_int_equal(entry_read(f, 1, 0), 0xFEE01000);
	assert_int_equal(entry_read(f, 1, 4), 0);
	assert_int_equal(entry_read(f, 1, 8), 0x4041);
	assert_int_equal(entry_read(f, 1, 12), 1);
	/* all taken by the table, none passed on to the device */
	assert_int_equal(f->other, 0);
	memset(b, 0, sizeof(b));
	assert_true(msix_bar_access(&f->m, BAR, TABLE_OFF + 3, b, 1, false));
	assert_int_equal(b[0], 0xFF);
}

static void test_out_of_range(void **state)
{
	struct fix *f = *state;
	uint8_t b[8] = { 0 };

	/* the entry after the last is not the table's */
	assert_false(msix_bar_access(&f->m, BAR, TABLE_OFF + 16 * NVEC, b, 4, false));
	assert_false(msix_bar_access(&f->m, BAR, TABLE_OFF + 16 * NVEC + 12, b, 4, true));
	assert_false(msix_bar_access(&f->m, BAR, TABLE_OFF - 4, b, 4, false));
	assert_false(msix_bar_access(&f->m, BAR, 0, b, 4, false));
	/* nor is another BAR's table offset */
	assert_false(msix_bar_access(&f->m, 0, TABLE_OFF, b, 4, false));
	assert_false(msix_bar_access(&f->m, BAR + 1, TABLE_OFF, b, 4, true));
	/* through the bus: the device's own hook gets them */
	assert_int_equal(vs_mmio_read(f->bus, entry_gpa(f, NVEC, 0), 4), 0x5A5A5A5A);
	vs_mmio_write(f->bus, entry_gpa(f, NVEC, 12), 4, 0);
	assert_int_equal(f->other, 2);
	assert_int_equal(f->fm.sets, 0);
}

static void test_pba(void **state)
{
	struct fix *f = *state;
	uint64_t pba = f->bar + PBA_OFF;
	uint8_t b[8];

	/* pending signals stay in the routes' eventfds: always reads 0 */
	entry_write(f, 0, 12, 1);
	assert_int_equal(vs_mmio_read(f->bus, pba, 8), 0);
	assert_int_equal(vs_mmio_read(f->bus, pba, 4), 0);
	assert_int_equal(vs_mmio_read(f->bus, pba + 4, 4), 0);
	vs_mmio_write(f->bus, pba, 8, UINT64_MAX);
	assert_int_equal(vs_mmio_read(f->bus, pba, 8), 0);
	assert_int_equal(f->other, 0);
	/* 5 vectors: one qword of pending bits, no more */
	assert_false(msix_bar_access(&f->m, BAR, PBA_OFF + 8, b, 4, false));
	assert_true(msix_bar_access(&f->m, BAR, PBA_OFF + 4, b, 4, false));
}

static void test_vector_fd(void **state)
{
	struct fix *f = *state;

	for (unsigned int v = 0; v < NVEC; v++)
		assert_int_equal(msix_vector_fd(&f->m, v), VS_FAKE_FD_BASE + (int)v);
	assert_int_equal(msix_vector_fd(&f->m, NVEC), -1);
	assert_int_equal(msix_vector_fd(&f->m, MSIX_NO_VECTOR), -1);
	assert_int_equal(MSIX_NO_VECTOR, 0xFFFF);
	assert_int_equal(msix_vector_fd(&f->m, 0x7FFF), -1);
	assert_int_equal(msix_vector_fd(&f->m, UINT32_MAX), -1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_capability),
		T(test_init_limits),
		T(test_route_add_fails),
		T(test_masked_at_reset),
		T(test_unmask),
		T(test_mask_bit),
		T(test_function_mask),
		T(test_disable_masks),
		T(test_no_repeats),
		T(test_reserved_control_bits),
		T(test_qword_access),
		T(test_bad_accesses),
		T(test_out_of_range),
		T(test_pba),
		T(test_vector_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
