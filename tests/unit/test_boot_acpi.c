// SPDX-License-Identifier: GPL-2.0
/*
 * acpi_build(): the tables are found the way Linux finds them (RSDP in the
 * BIOS area -> XSDT -> FADT/MADT, FADT -> DSDT), every checksum is right, no
 * two tables overlap and the contents describe the slicevm platform,
 * including the PCI host bridge PCI0 and its resource windows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/boot.h"
#include "lib/err.h"
#include "arch/x86/platform.h"
#include "test_boot_images.h"

#define LOW_SIZE	(2 * TB_MiB)

struct tables {
	struct guest_mem mem;
	uint8_t *low;
	const uint8_t *rsdp, *rsdt, *xsdt, *fadt, *dsdt, *madt;
};

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* A table at @addr: inside the BIOS area, the signature expected, checksum 0. */
static const uint8_t *table(struct tables *t, uint64_t addr, const char *sig)
{
	const uint8_t *p;
	uint32_t len;

	assert_true(addr >= MEM_BIOS_START && addr + 36 <= MEM_BIOS_END);
	p = guest_ptr(&t->mem, addr, 36);
	assert_non_null(p);
	assert_memory_equal(p, sig, 4);
	len = get_le32(p + 4);
	assert_true(len >= 36 && addr + len <= MEM_BIOS_END);
	if (sum(p, len) != 0)
		fail_msg("%s checksum wrong", sig);
	return p;
}

/* The RSDP and the five tables lie in the BIOS area without overlapping. */
static void assert_no_overlap(const struct tables *t)
{
	const uint8_t *p[] = { t->rsdt, t->xsdt, t->fadt, t->dsdt, t->madt };
	uint64_t start[6], end[6];
	int i, j;

	start[0] = (uint64_t)(t->rsdp - t->low);
	end[0] = start[0] + 36;
	for (i = 0; i < 5; i++) {
		start[i + 1] = (uint64_t)(p[i] - t->low);
		end[i + 1] = start[i + 1] + get_le32(p[i] + 4);
	}
	for (i = 0; i < 6; i++)
		for (j = i + 1; j < 6; j++)
			if (start[i] < end[j] && start[j] < end[i])
				fail_msg("ACPI tables %d [%#llx, %#llx) and %d [%#llx, %#llx) overlap",
					 i, (unsigned long long)start[i], (unsigned long long)end[i],
					 j, (unsigned long long)start[j], (unsigned long long)end[j]);
}

static void build(struct tables *t, int ncpus)
{
	uint64_t rsdp;
	uint32_t n, i;

	memset(t, 0, sizeof(*t));
	t->low = calloc(1, LOW_SIZE);
	assert_int_equal(mem_layout_split(&t->mem, t->low, LOW_SIZE, MEM_HPA_UNKNOWN), 0);
	rsdp = acpi_build(&t->mem, ncpus);
	if (!rsdp)
		fail_msg("acpi_build(%d): %s", ncpus, err_msg());
	assert_int_equal(rsdp, ACPI_TABLES_ADDR);
	t->rsdp = t->low + rsdp;
	assert_memory_equal(t->rsdp, "RSD PTR ", 8);
	assert_int_equal(sum(t->rsdp, 20), 0);
	assert_int_equal(t->rsdp[15], 2);
	assert_int_equal(get_le32(t->rsdp + 20), 36);
	assert_int_equal(sum(t->rsdp, 36), 0);
	t->xsdt = table(t, get_le64(t->rsdp + 24), "XSDT");
	t->rsdt = table(t, get_le32(t->rsdp + 16), "RSDT");

	n = (get_le32(t->xsdt + 4) - 36) / 8;
	assert_int_equal(n, 2);
	assert_int_equal((get_le32(t->rsdt + 4) - 36) / 4, n);
	for (i = 0; i < n; i++) {
		uint64_t a = get_le64(t->xsdt + 36 + 8 * i);

		assert_int_equal(get_le32(t->rsdt + 36 + 4 * i), a);
		if (!memcmp(t->low + a, "FACP", 4))
			t->fadt = table(t, a, "FACP");
		else
			t->madt = table(t, a, "APIC");
	}
	assert_non_null(t->fadt);
	assert_non_null(t->madt);
	t->dsdt = table(t, get_le64(t->fadt + 140), "DSDT");
	assert_no_overlap(t);
}

static void release(struct tables *t)
{
	free(t->low);
}

/* A one-byte System I/O Generic Address Structure at @port. */
static void assert_gas_io8(const uint8_t *g, uint16_t port)
{
	assert_int_equal(g[0], 1);
	assert_int_equal(g[1], 8);
	assert_int_equal(g[2], 0);
	assert_int_equal(g[3], 1);
	assert_int_equal(get_le64(g + 4), port);
}

static void test_fadt(void **state)
{
	struct tables t;
	uint32_t flags;

	build(&t, 2);
	assert_int_equal(get_le32(t.fadt + 4), 276);
	assert_int_equal(t.fadt[8], 6);
	assert_int_equal(get_le32(t.fadt + 40), t.dsdt - t.low);	/* DSDT */
	assert_int_equal(get_le64(t.fadt + 140), t.dsdt - t.low);	/* X_DSDT */
	assert_int_equal(get_le16(t.fadt + 46), ACPI_SCI_IRQ);
	assert_int_equal(get_le16(t.fadt + 109), 0x4);	/* no VGA, no 8042 probe */
	/* Linux calls pci_no_msi() / pcie_no_aspm() on these; virtio-pci needs MSI-X. */
	if (get_le16(t.fadt + 109) & (1 << 3))
		fail_msg("FADT IAPC_BOOT_ARCH says MSI not supported");
	if (get_le16(t.fadt + 109) & (1 << 4))
		fail_msg("FADT IAPC_BOOT_ARCH forbids PCIe ASPM");
	flags = get_le32(t.fadt + 112);
	assert_true(flags & (1 << 20));			/* HW_REDUCED_ACPI */
	assert_true(flags & (1 << 10));			/* RESET_REG_SUP */
	assert_gas_io8(t.fadt + 116, PORT_ACPI_RESET);
	assert_int_equal(t.fadt[128], ACPI_RESET_VALUE);
	assert_gas_io8(t.fadt + 244, PORT_ACPI_SLEEP_CONTROL);
	assert_gas_io8(t.fadt + 256, PORT_ACPI_SLEEP_STATUS);
	/* No PM1 blocks, no FACS: hardware-reduced. */
	assert_int_equal(get_le32(t.fadt + 36), 0);
	assert_int_equal(get_le32(t.fadt + 56), 0);
	assert_int_equal(get_le32(t.fadt + 64), 0);
	release(&t);
}

/*
 * A small AML reader, just enough for the DSDT slicevm writes: Name, Scope
 * and Device, with byte/dword/zero/one/package/buffer values. Every
 * PkgLength must end exactly where its contents end, and the top level must
 * end exactly at the table's end. Names are recorded as "\_SB_.COM1._HID".
 */
struct aml_name {
	char path[64];
	const uint8_t *value;		/* the data object after the name */
};

struct aml_names {
	struct aml_name n[32];
	int count;
};

static uint32_t pkg_length(const uint8_t *p, const uint8_t *end, int *bytes)
{
	int extra = p[0] >> 6, i;
	uint32_t v;

	if (!extra) {
		*bytes = 1;
		return p[0] & 0x3F;
	}
	assert_true(p + extra < end);
	assert_int_equal(p[0] & 0x30, 0);
	v = p[0] & 0xF;
	for (i = 1; i <= extra; i++)
		v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	*bytes = extra + 1;
	return v;
}

static size_t data_object_len(const uint8_t *p, const uint8_t *end)
{
	int n;

	switch (p[0]) {
	case 0x00: case 0x01:
		return 1;
	case 0x0A:
		return 2;
	case 0x0B:
		return 3;
	case 0x0C:
		return 5;
	case 0x0E:
		return 9;
	case 0x0D:					/* String: up to its NUL */
		return 2 + strnlen((const char *)p + 1, (size_t)(end - p - 1));
	case 0x11: case 0x12:
		return 1 + pkg_length(p + 1, end, &n);
	default:
		fail_msg("unexpected AML data object 0x%02x", p[0]);
	}
	return 0;
}

static void aml_walk(const uint8_t *p, const uint8_t *end, const char *scope,
		     struct aml_names *names)
{
	char path[64];
	uint32_t len;
	int n;

	while (p < end) {
		assert_true(names->count < (int)(sizeof(names->n) / sizeof(names->n[0])));
		if (p[0] == 0x08) {			/* Name */
			struct aml_name *e = &names->n[names->count++];

			snprintf(e->path, sizeof(e->path), "%s%s%.4s", scope,
				 *scope ? "." : "", (const char *)p + 1);
			e->value = p + 5;
			p += 5 + data_object_len(p + 5, end);
		} else if (p[0] == 0x14) {		/* Method: its name, body skipped */
			struct aml_name *e = &names->n[names->count++];

			len = pkg_length(p + 1, end, &n);
			assert_true(p + 1 + len <= end);
			snprintf(e->path, sizeof(e->path), "%s.%.4s()", scope,
				 (const char *)p + 1 + n);
			e->value = p + 1 + n + 4;	/* the flags, then the body */
			p += 1 + len;
		} else if (p[0] == 0x10 || (p[0] == 0x5B && p[1] == 0x82)) {
			const uint8_t *start = p + (p[0] == 0x10 ? 1 : 2);
			const uint8_t *name, *body_end;

			len = pkg_length(start, end, &n);
			body_end = start + len;
			assert_true(body_end <= end);
			name = start + n;
			if (name[0] == '\\')
				snprintf(path, sizeof(path), "\\%.4s", (const char *)name + 1);
			else
				snprintf(path, sizeof(path), "%s.%.4s", scope,
					 (const char *)name);
			aml_walk(name + (name[0] == '\\' ? 5 : 4), body_end, path, names);
			p = body_end;
		} else {
			fail_msg("unexpected AML opcode 0x%02x", p[0]);
		}
	}
	assert_ptr_equal(p, end);
}

static const uint8_t *aml_find(const struct aml_names *names, const char *path)
{
	int i;

	for (i = 0; i < names->count; i++)
		if (!strcmp(names->n[i].path, path))
			return names->n[i].value;
	fail_msg("AML name %s missing", path);
	return NULL;
}

/* _CRS of a legacy device: one 16-bit I/O range and one IRQ, then the end tag. */
static void assert_crs(const uint8_t *v, uint16_t port, uint8_t len, int irq)
{
	int n;
	uint32_t pkg;

	assert_int_equal(v[0], 0x11);				/* Buffer */
	pkg = pkg_length(v + 1, v + 64, &n);
	v += 1 + n;
	assert_int_equal(v[0], 0x0A);				/* BufferSize */
	assert_int_equal(v[1] + 2 + n, pkg);
	v += 2;
	assert_int_equal(v[0], 0x47);				/* I/O port, 16-bit */
	assert_int_equal(v[1], 1);
	assert_int_equal(get_le16(v + 2), port);
	assert_int_equal(get_le16(v + 4), port);
	assert_int_equal(v[7], len);
	assert_int_equal(v[8], 0x22);				/* IRQ, no flags */
	assert_int_equal(get_le16(v + 9), 1u << irq);
	assert_int_equal(v[11], 0x79);				/* end tag */
}

static void test_dsdt(void **state)
{
	struct aml_names names = { .count = 0 };
	const uint8_t *v;
	struct tables t;

	build(&t, 1);
	aml_walk(t.dsdt + 36, t.dsdt + get_le32(t.dsdt + 4), "", &names);

	/* Name (_S5_, Package () { 5, ... }): SLP_TYPa = 5 for power off. */
	v = aml_find(&names, "_S5_");
	assert_int_equal(v[0], 0x12);
	assert_int_equal(v[1], 7);
	assert_true(v[2] >= 1);
	assert_int_equal(v[3], 0x0A);
	assert_int_equal(v[4], ACPI_S5_SLP_TYP);

	/* COM1: EisaId ("PNP0501") = 0x0105D041, IRQ 4. */
	v = aml_find(&names, "\\_SB_.COM1._HID");
	assert_int_equal(v[0], 0x0C);
	assert_int_equal(get_le32(v + 1), 0x0105D041);
	assert_crs(aml_find(&names, "\\_SB_.COM1._CRS"), PORT_COM1, 8, IRQ_COM1);
	v = aml_find(&names, "\\_SB_.RTC_._HID");
	assert_int_equal(get_le32(v + 1), 0x000BD041);		/* PNP0B00 */
	assert_crs(aml_find(&names, "\\_SB_.RTC_._CRS"), PORT_RTC_INDEX, 2, IRQ_RTC);

	/* The power button: PNP0C0C, notified by the Generic Event Device on its IRQ. */
	v = aml_find(&names, "\\_SB_.PWRB._HID");
	assert_int_equal(get_le32(v + 1), 0x0C0CD041);
	v = aml_find(&names, "\\_SB_.GED0._HID");
	assert_int_equal(v[0], 0x0D);
	assert_string_equal((const char *)v + 1, "ACPI0013");
	v = aml_find(&names, "\\_SB_.GED0._CRS");
	assert_int_equal(v[0], 0x11);
	assert_int_equal(v[3], 11);				/* 9 + end tag */
	assert_int_equal(v[4], 0x89);				/* extended interrupt */
	assert_int_equal(get_le16(v + 5), 6);
	assert_int_equal(v[7], 0x03);				/* consumer, edge, high */
	assert_int_equal(v[8], 1);
	assert_int_equal(get_le32(v + 9), IRQ_POWER_BUTTON);
	assert_int_equal(v[13], 0x79);
	v = aml_find(&names, "\\_SB_.GED0._EVT()");
	assert_int_equal(v[0], 0x01);				/* one argument */
	{
		/* If (LEqual (Arg0, IRQ)) { Notify (PWRB, 0x80) } */
		static const uint8_t body[] = { 0xA0, 12, 0x93, 0x68, 0x0A, IRQ_POWER_BUTTON,
						0x86, 'P', 'W', 'R', 'B', 0x0A, 0x80 };

		assert_memory_equal(v + 1, body, sizeof(body));
	}
	release(&t);
}

/* The value of an integer data object (Zero, One, Byte, Word, DWord, QWord). */
static uint64_t aml_int(const uint8_t *v)
{
	switch (v[0]) {
	case 0x00: return 0;
	case 0x01: return 1;
	case 0x0A: return v[1];
	case 0x0B: return get_le16(v + 1);
	case 0x0C: return get_le32(v + 1);
	case 0x0E: return get_le64(v + 1);
	default:
		fail_msg("AML object 0x%02x is not an integer", v[0]);
	}
	return 0;
}

/*
 * A resource template as the guest's ACPICA reads it (ACPI 6.3, 6.4): a
 * Buffer whose size matches its PkgLength, then descriptors each of a length
 * valid for its type, ending with an End Tag exactly at the buffer's end
 * (checksum 0 or right). Address space descriptors (Word/DWord) are
 * recorded for the caller, and so are 16-bit I/O port descriptors.
 */
struct res_addr {
	uint8_t type, flags, type_flags;
	uint64_t gran, min, max, offset, len;
};

struct res_list {
	struct res_addr addr[8];
	int naddr;
	uint16_t io_min[8], io_max[8];
	uint8_t io_len[8];
	int nio;
	int ndesc;
};

static void parse_resources(const uint8_t *v, struct res_list *rl)
{
	const uint8_t *p, *end, *buf;
	uint32_t pkg;
	int n;

	memset(rl, 0, sizeof(*rl));
	assert_int_equal(v[0], 0x11);				/* Buffer */
	pkg = pkg_length(v + 1, v + 1 + 4, &n);
	p = v + 1 + n;						/* BufferSize */
	switch (p[0]) {
	case 0x0A:
		assert_int_equal(n + 2 + p[1], pkg);
		end = p + 2 + p[1];
		p += 2;
		break;
	case 0x0B:
		assert_int_equal(n + 3 + get_le16(p + 1), pkg);
		end = p + 3 + get_le16(p + 1);
		p += 3;
		break;
	default:
		fail_msg("BufferSize opcode 0x%02x", p[0]);
		return;
	}
	buf = p;
	for (;;) {
		size_t len;

		assert_true(p < end);
		rl->ndesc++;
		if (!(p[0] & 0x80)) {				/* small item */
			uint8_t type = (p[0] >> 3) & 0xF;

			len = 1 + (p[0] & 7);
			assert_true(p + len <= end);
			switch (type) {
			case 0x04:				/* IRQ */
				assert_true(len == 3 || len == 4);
				break;
			case 0x08:				/* I/O port */
				assert_int_equal(len, 8);
				assert_true(rl->nio < 8);
				rl->io_min[rl->nio] = get_le16(p + 2);
				rl->io_max[rl->nio] = get_le16(p + 4);
				rl->io_len[rl->nio] = p[7];
				assert_true(rl->io_min[rl->nio] <= rl->io_max[rl->nio]);
				rl->nio++;
				break;
			case 0x0F:				/* End Tag */
				assert_int_equal(len, 2);
				assert_ptr_equal(p + 2, end);
				if (p[1] != 0 && sum(buf, (size_t)(end - buf)) != 0)
					fail_msg("resource template checksum wrong");
				return;
			default:
				fail_msg("unexpected small resource type 0x%x", type);
			}
		} else {					/* large item */
			struct res_addr *a;

			assert_true(p + 3 <= end);
			len = 3 + get_le16(p + 1);
			assert_true(p + len <= end);
			switch (p[0]) {
			case 0x89:				/* extended interrupt */
				assert_true(len >= 3 + 6);
				break;
			case 0x88:				/* Word Address Space */
			case 0x87:				/* DWord Address Space */
			case 0x8A:				/* QWord Address Space */
				assert_true(rl->naddr < 8);
				a = &rl->addr[rl->naddr++];
				a->type = p[3];
				a->flags = p[4];
				a->type_flags = p[5];
				if (p[0] == 0x88) {
					assert_true(len >= 3 + 13);
					a->gran = get_le16(p + 6);
					a->min = get_le16(p + 8);
					a->max = get_le16(p + 10);
					a->offset = get_le16(p + 12);
					a->len = get_le16(p + 14);
				} else if (p[0] == 0x8A) {
					assert_true(len >= 3 + 43);
					a->gran = get_le64(p + 6);
					a->min = get_le64(p + 14);
					a->max = get_le64(p + 22);
					a->offset = get_le64(p + 30);
					a->len = get_le64(p + 38);
				} else {
					assert_true(len >= 3 + 23);
					a->gran = get_le32(p + 6);
					a->min = get_le32(p + 10);
					a->max = get_le32(p + 14);
					a->offset = get_le32(p + 18);
					a->len = get_le32(p + 22);
				}
				/* _MIF and _MAF both set: a fixed window, _GRA 0, _LEN = _MAX - _MIN + 1 (6.4.3.5). */
				assert_int_equal(a->flags & 0x0C, 0x0C);
				assert_int_equal(a->gran, 0);
				assert_true(a->min <= a->max);
				assert_int_equal(a->len, a->max - a->min + 1);
				break;
			default:
				fail_msg("unexpected large resource 0x%02x", p[0]);
			}
		}
		p += len;
	}
}

/* The @nth address space window of resource @type in @rl. */
static const struct res_addr *res_window(const struct res_list *rl, uint8_t type, int nth)
{
	int i, seen = 0;

	for (i = 0; i < rl->naddr; i++) {
		if (rl->addr[i].type != type)
			continue;
		if (seen++ == nth)
			return &rl->addr[i];
	}
	fail_msg("resource window %d of type %d missing", nth, type);
	return NULL;
}

static void test_dsdt_pci_root(void **state)
{
	struct aml_names names = { .count = 0 };
	const struct res_addr *bus, *mem, *io;
	struct res_list rl;
	uint32_t ports = 0, i;
	struct tables t;
	const uint8_t *v;

	build(&t, 2);
	aml_walk(t.dsdt + 36, t.dsdt + get_le32(t.dsdt + 4), "", &names);

	/* EisaId ("PNP0A03"): "PNP" in 5-bit letters 0x41D0, then 0x0A03, stored big-endian. */
	v = aml_find(&names, "\\_SB_.PCI0._HID");
	assert_int_equal(v[0], 0x0C);
	assert_int_equal(get_le32(v + 1), 0x030AD041);
	assert_int_equal(aml_int(aml_find(&names, "\\_SB_.PCI0._UID")), 0);
	assert_int_equal(aml_int(aml_find(&names, "\\_SB_.PCI0._SEG")), 0);
	assert_int_equal(aml_int(aml_find(&names, "\\_SB_.PCI0._BBN")), 0);
	assert_int_equal(aml_int(aml_find(&names, "\\_SB_.PCI0._ADR")), 0);

	parse_resources(aml_find(&names, "\\_SB_.PCI0._CRS"), &rl);
	assert_int_equal(rl.ndesc, 7);				/* 6 and the End Tag */
	assert_int_equal(rl.naddr, 5);
	for (i = 0; i < (uint32_t)rl.naddr; i++) {
		assert_int_equal(rl.addr[i].flags & 0x03, 0);	/* producer, positive decode */
		assert_int_equal(rl.addr[i].offset, 0);		/* no translation */
	}

	/* Bus 0 only. */
	bus = res_window(&rl, 2, 0);
	assert_int_equal(bus->min, 0);
	assert_int_equal(bus->max, 0);
	assert_int_equal(bus->len, 1);

	/* The config ports are consumed; the I/O windows are every other port. */
	assert_int_equal(rl.nio, 1);
	assert_int_equal(rl.io_min[0], PORT_PCI_CONFIG_ADDR);
	assert_int_equal(rl.io_max[0], PORT_PCI_CONFIG_ADDR);
	assert_int_equal(rl.io_len[0], 8);
	for (i = 0; i < 2; i++) {
		io = res_window(&rl, 1, (int)i);
		assert_int_equal(io->type_flags & 0x03, 0x03);	/* EntireRange */
		if (io->max >= PORT_PCI_CONFIG_ADDR && io->min < PORT_PCI_CONFIG_ADDR + 8u)
			fail_msg("I/O window [%#llx, %#llx] covers the config ports",
				 (unsigned long long)io->min, (unsigned long long)io->max);
		ports += (uint32_t)io->len;
	}
	assert_int_equal(res_window(&rl, 1, 0)->min, 0);
	assert_int_equal(res_window(&rl, 1, 0)->max, PORT_PCI_CONFIG_ADDR - 1);
	assert_int_equal(res_window(&rl, 1, 1)->min, 0xD00);
	assert_int_equal(res_window(&rl, 1, 1)->max, 0xFFFF);
	assert_int_equal(ports, 0x10000 - 8);

	/* The 32-bit MMIO window: exactly [PCI_MMIO_START, PCI_MMIO_END), read-write, not cacheable. */
	mem = res_window(&rl, 0, 0);
	assert_int_equal(mem->min, PCI_MMIO_START);
	assert_int_equal(mem->max + 1, PCI_MMIO_END);
	assert_int_equal(mem->len, PCI_MMIO_END - PCI_MMIO_START);
	assert_int_equal(mem->type_flags & 0x1F, 0x01);	/* _RW, _MEM NonCacheable, _MTP memory */
	assert_true(mem->max < IOAPIC_ADDR);

	/* The 64-bit one: PCI_MMIO64_SIZE, aligned to it, above 4 GiB and RAM. */
	mem = res_window(&rl, 0, 1);
	assert_int_equal(mem->min, PCI_MMIO64_SIZE);	/* RAM here ends below 4 GiB */
	assert_int_equal(mem->len, PCI_MMIO64_SIZE);
	assert_int_equal(mem->type_flags & 0x1F, 0x01);
	assert_int_equal(mem->offset, 0);
	release(&t);
}

/* Every _CRS in the DSDT is a valid resource template. */
static void test_dsdt_resources(void **state)
{
	static const char *const crs[] = {
		"\\_SB_.PCI0._CRS", "\\_SB_.COM1._CRS", "\\_SB_.RTC_._CRS", "\\_SB_.GED0._CRS",
	};
	struct aml_names names = { .count = 0 };
	struct res_list rl;
	struct tables t;
	size_t i;

	build(&t, 1);
	aml_walk(t.dsdt + 36, t.dsdt + get_le32(t.dsdt + 4), "", &names);
	for (i = 0; i < sizeof(crs) / sizeof(crs[0]); i++)
		parse_resources(aml_find(&names, crs[i]), &rl);
	release(&t);
}

static void check_madt(int ncpus)
{
	struct tables t;
	const uint8_t *e, *end;
	int lapics = 0, ioapics = 0, nmis = 0;
	bool irq0 = false, sci = false;

	build(&t, ncpus);
	assert_int_equal(get_le32(t.madt + 36), LAPIC_ADDR);
	assert_int_equal(get_le32(t.madt + 40) & 1, 1);	/* PCAT_COMPAT */
	e = t.madt + 44;
	end = t.madt + get_le32(t.madt + 4);
	while (e < end) {
		assert_true(e[1] >= 2 && e + e[1] <= end);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[3], lapics);		/* APIC id = index */
			assert_int_equal(get_le32(e + 4) & 1, 1);	/* enabled */
			lapics++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], ncpus);
			assert_int_equal(get_le32(e + 4), IOAPIC_ADDR);
			assert_int_equal(get_le32(e + 8), 0);
			ioapics++;
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0);
			if (e[3] == 0) {
				assert_int_equal(get_le32(e + 4), 2);
				irq0 = true;
			} else {
				assert_int_equal(e[3], ACPI_SCI_IRQ);
				assert_int_equal(get_le32(e + 4), ACPI_SCI_IRQ);
				assert_int_equal(get_le16(e + 8), 0xD);	/* level, high */
				sci = true;
			}
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xFF);
			assert_int_equal(e[5], 1);		/* LINT1 */
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %d", e[0]);
		}
		e += e[1];
	}
	assert_int_equal(lapics, ncpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(nmis, 1);
	assert_true(irq0 && sci);
	release(&t);
}

/*
 * _PRT: a Package of 124 Packages (slots 1-31, pins INTA-INTD), each
 * { 0xSSSSFFFF, pin, 0, gsi } with gsi = 16 + (slot + pin) % 8, as the VMM
 * wires a passed-through function's INTx (pci_intx_gsi()).
 */
static void test_dsdt_pci_routing(void **state)
{
	struct aml_names names = { .count = 0 };
	bool seen[32][4] = { { false } };
	const uint8_t *v, *end;
	struct tables t;
	int n, count;

	build(&t, 2);
	aml_walk(t.dsdt + 36, t.dsdt + get_le32(t.dsdt + 4), "", &names);
	v = aml_find(&names, "\\_SB_.PCI0._PRT");
	assert_int_equal(v[0], 0x12);				/* Package */
	end = v + 1 + pkg_length(v + 1, t.dsdt + get_le32(t.dsdt + 4), &n);
	v += 1 + n;
	count = v[0];
	assert_int_equal(count, 31 * 4);
	v++;
	for (int i = 0; i < count; i++) {
		const uint8_t *e, *e_end;
		uint32_t addr;
		int slot, pin;

		assert_int_equal(v[0], 0x12);
		e_end = v + 1 + pkg_length(v + 1, end, &n);
		e = v + 1 + n;
		assert_int_equal(e[0], 4);			/* four elements */
		e++;
		assert_int_equal(e[0], 0x0C);			/* the address, a DWord */
		addr = get_le32(e + 1);
		assert_int_equal(addr & 0xFFFF, 0xFFFF);	/* any function */
		slot = (int)(addr >> 16);
		e += data_object_len(e, e_end);
		pin = (int)aml_int(e);
		e += data_object_len(e, e_end);
		assert_int_equal(aml_int(e), 0);		/* no link device: a GSI */
		e += data_object_len(e, e_end);
		assert_true(slot >= 1 && slot <= 31 && pin >= 0 && pin <= 3);
		assert_false(seen[slot][pin]);
		seen[slot][pin] = true;
		assert_int_equal(aml_int(e), 16 + (slot + pin) % 8);
		assert_int_equal(aml_int(e), pci_intx_gsi(slot, pin));
		e += data_object_len(e, e_end);
		assert_ptr_equal(e, e_end);
		v = e_end;
	}
	assert_ptr_equal(v, end);
	release(&t);
}

static void test_madt(void **state)
{
	check_madt(1);
	check_madt(4);
	check_madt(64);
	check_madt(BOOT_MAX_CPUS);
}

static void test_refused(void **state)
{
	struct guest_mem mem = { 0 };
	uint8_t *low = calloc(1, LOW_SIZE);

	assert_int_equal(mem_layout_split(&mem, low, LOW_SIZE, MEM_HPA_UNKNOWN), 0);
	assert_int_equal(acpi_build(&mem, 0), 0);
	assert_non_null(strstr(err_msg(), "CPUs"));
	assert_int_equal(acpi_build(&mem, BOOT_MAX_CPUS + 1), 0);
	assert_non_null(strstr(err_msg(), "1 to 254"));
	mem.r[0].size = 0x80000;
	assert_int_equal(acpi_build(&mem, 1), 0);
	assert_non_null(strstr(err_msg(), "below 1M"));
	/* Nothing was written by the refused calls. */
	assert_int_equal(memcmp(low, low + 1, LOW_SIZE - 1), 0);
	assert_int_equal(low[0], 0);
	free(low);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fadt),
		cmocka_unit_test(test_dsdt),
		cmocka_unit_test(test_dsdt_pci_root),
		cmocka_unit_test(test_dsdt_resources),
		cmocka_unit_test(test_dsdt_pci_routing),
		cmocka_unit_test(test_madt),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
