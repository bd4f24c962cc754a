// SPDX-License-Identifier: GPL-2.0
/*
 * The ACPI tables of a slicevm guest (ACPI 6.3), packed into the BIOS area
 * MEM_BIOS_START..MEM_BIOS_END that the e820 map reserves:
 *
 *   RSDP (revision 2) -> RSDT and XSDT -> FADT -> DSDT (_S5_, PCI0, COM1, RTC,
 *                                                    PWRB, GED0)
 *                                     -> MADT (LAPICs, IOAPIC, overrides)
 *
 * The platform is hardware-reduced: no PM1 blocks, no PM timer, no FACS.
 * Power off and reset go through the FADT's sleep control and reset
 * registers, which are I/O ports the device model implements. The PCI bus
 * is found through the DSDT's host bridge PCI0 (config mechanism #1), with
 * no MCFG and no _OSC; its _PRT puts each slot's INTx pins on IOAPIC pins
 * 16-23 (pci_intx_gsi()), which passed-through functions use until their
 * driver turns MSI-X on (emulated devices interrupt through MSI-X only).
 */
#include <stdlib.h>
#include <string.h>

#include "boot/internal.h"
#include "lib/err.h"
#include "arch/x86/platform.h"

#define ACPI_HDR_SIZE		36
#define ACPI_OEM_ID		"SLICVM"
#define ACPI_OEM_TABLE_ID	"SLICEVM "
#define ACPI_CREATOR_ID		"SLVM"

#define RSDP_SIZE		36
#define RSDP_V1_SIZE		20

#define FADT_SIZE		276	/* ACPI 6.x */
#define FADT_REVISION		6
#define FADT_MINOR		3
#define FADT_DSDT		40
#define FADT_SCI_INT		46
#define FADT_IAPC_BOOT_ARCH	109
#define FADT_FLAGS		112
#define FADT_RESET_REG		116
#define FADT_RESET_VALUE	128
#define FADT_MINOR_VERSION	131
#define FADT_X_DSDT		140
#define FADT_SLEEP_CONTROL	244
#define FADT_SLEEP_STATUS	256
#define FADT_HYPERVISOR_ID	268

#define IAPC_VGA_NOT_PRESENT	(1 << 2)
#define IAPC_MSI_NOT_SUPPORTED	(1 << 3)	/* never set: see write_fadt() */
#define IAPC_PCIE_ASPM_CONTROLS	(1 << 4)	/* never set: see write_fadt() */
#define FADT_F_RESET_REG_SUP	(1 << 10)
#define FADT_F_HW_REDUCED_ACPI	(1 << 20)

#define GAS_SYSTEM_IO		1
#define GAS_ACCESS_BYTE		1

#define MADT_REVISION		5
#define MADT_PCAT_COMPAT	1
#define MADT_LAPIC		0
#define MADT_IOAPIC		1
#define MADT_ISO		2
#define MADT_LAPIC_NMI		4
#define MADT_LAPIC_ENABLED	1
#define MPS_ACTIVE_HIGH		0x1
#define MPS_LEVEL		(0x3 << 2)
#define ACPI_ALL_PROCESSORS	0xFF

/* Where each table goes and how long it is. */
struct acpi_layout {
	uint64_t rsdp, rsdt, xsdt, fadt, dsdt, madt, end;
	uint32_t madt_len;
};

/* AML opcodes and resource descriptors used by the DSDT (ACPI 6.3, 20.2 and 6.4). */
#define AML_ZERO		0x00
#define AML_ONE			0x01
#define AML_NAME		0x08
#define AML_BYTE		0x0A
#define AML_WORD		0x0B
#define AML_DWORD		0x0C
#define AML_QWORD		0x0E
#define AML_SCOPE		0x10
#define AML_BUFFER		0x11
#define AML_STRING		0x0D
#define AML_PACKAGE		0x12
#define AML_METHOD		0x14
#define AML_EXT			0x5B
#define AML_DEVICE		0x82	/* after AML_EXT */
#define AML_ROOT		'\\'
#define AML_ARG0		0x68
#define AML_NOTIFY		0x86
#define AML_LEQUAL		0x93
#define AML_IF			0xA0
#define RES_IO16		0x47	/* small item 0x08, 7 bytes */
#define RES_IRQ			0x22	/* small item 0x04, 2 bytes: edge, active high */
#define RES_EXT_IRQ		0x89	/* large item 0x09: extended interrupt */
#define RES_END			0x79	/* small item 0x0F, 1 byte */
#define RES_DWORD_ADDR		0x87	/* large item 0x07: DWord Address Space, 23 bytes */
#define RES_WORD_ADDR		0x88	/* large item 0x08: Word Address Space, 13 bytes */
#define RES_QWORD_ADDR		0x8A	/* large item 0x0A: QWord Address Space, 43 bytes */
#define RES_IO16_LEN		8
#define RES_WORD_ADDR_LEN	16	/* with its 3-byte header */
#define RES_DWORD_ADDR_LEN	26
#define RES_QWORD_ADDR_LEN	46
#define RES_ADDR_MEM		0	/* address space descriptor: resource type */
#define RES_ADDR_IO		1
#define RES_ADDR_BUS		2
#define RES_ADDR_FIXED		0x0C	/* producer, positive decode, _MIF and _MAF set */
#define RES_IO_ENTIRE_RANGE	0x03	/* I/O type flags: ISA and non-ISA ports */
#define RES_MEM_RW		0x01	/* memory type flags: read-write, non-cacheable */
#define PCI_CONFIG_PORTS	8	/* 0xCF8 address, 0xCFC data */
#define DSDT_AML_MAX		4096
#define PCI_SLOTS		32	/* bus 0; slot 0 is the host bridge */

struct aml {
	uint8_t buf[DSDT_AML_MAX];
	size_t len;
};

static void aml_bytes(struct aml *a, const void *p, size_t n)
{
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

/*
 * Op, PkgLength, body. PkgLength counts its own bytes too: one byte up to
 * 63, else a lead byte (count of extra bytes in bits 7:6, length bits 3:0)
 * and then length bits 11:4.
 */
static void aml_pkg(struct aml *a, const uint8_t *op, size_t oplen, const struct aml *body)
{
	size_t len = body->len + 1;

	aml_bytes(a, op, oplen);
	if (len <= 63) {
		aml_byte(a, (uint8_t)len);
	} else if (len + 1 <= 0xFFF) {
		len++;
		aml_byte(a, (uint8_t)(0x40 | (len & 0xF)));
		aml_byte(a, (uint8_t)(len >> 4));
	} else {
		len += 2;
		aml_byte(a, (uint8_t)(0x80 | (len & 0xF)));
		aml_byte(a, (uint8_t)(len >> 4));
		aml_byte(a, (uint8_t)(len >> 12));
	}
	aml_bytes(a, body->buf, body->len);
}

/* EISA id "PNPxxxx": three 5-bit letters and four hex digits, stored big-endian. */
static void aml_name_eisaid(struct aml *a, const char *name, const char *id)
{
	unsigned int c1 = id[0] - 0x40, c2 = id[1] - 0x40, c3 = id[2] - 0x40;
	unsigned long product = strtoul(id + 3, NULL, 16);
	uint8_t v[4] = {
		(uint8_t)(c1 << 2 | c2 >> 3), (uint8_t)((c2 & 7) << 5 | c3),
		(uint8_t)(product >> 8), (uint8_t)product,
	};

	aml_byte(a, AML_NAME);
	aml_bytes(a, name, 4);
	aml_byte(a, AML_DWORD);
	aml_bytes(a, v, 4);
}

/* An integer in the shortest encoding (Zero, One, Byte ... QWord). */
static void aml_int(struct aml *a, uint64_t v)
{
	uint8_t le[8];

	put_le64(le, v);
	if (v <= 1) {
		aml_byte(a, v ? AML_ONE : AML_ZERO);
	} else if (v <= 0xFF) {
		aml_byte(a, AML_BYTE);
		aml_bytes(a, le, 1);
	} else if (v <= 0xFFFF) {
		aml_byte(a, AML_WORD);
		aml_bytes(a, le, 2);
	} else if (v <= 0xFFFFFFFF) {
		aml_byte(a, AML_DWORD);
		aml_bytes(a, le, 4);
	} else {
		aml_byte(a, AML_QWORD);
		aml_bytes(a, le, 8);
	}
}

/* Name (NAME, v) */
static void aml_name_int(struct aml *a, const char *name, uint64_t v)
{
	aml_byte(a, AML_NAME);
	aml_bytes(a, name, 4);
	aml_int(a, v);
}

/* Name (NAME, Buffer () { @res..., EndTag }) */
static void aml_name_buffer(struct aml *a, const char *name, const uint8_t *res, size_t n)
{
	const uint8_t op = AML_BUFFER;
	struct aml body = { .len = 0 };

	aml_byte(&body, AML_BYTE);
	aml_byte(&body, (uint8_t)(n + 2));
	aml_bytes(&body, res, n);
	aml_byte(&body, RES_END);
	aml_byte(&body, 0x00);		/* checksum 0: "valid" (ACPI 6.3, 6.4.2.9) */
	aml_byte(a, AML_NAME);
	aml_bytes(a, name, 4);
	aml_pkg(a, &op, 1, &body);
}

/*
 * Resource descriptors (ACPI 6.3, 6.4), each written at @r, returning the
 * byte after it.
 */

/* IO (Decode16, port, port, 1, len): I/O port descriptor, 6.4.2.5. */
static uint8_t *res_io16(uint8_t *r, uint16_t port, uint8_t len)
{
	r[0] = RES_IO16;
	r[1] = 0x01;			/* decodes 16 address bits */
	put_le16(r + 2, port);		/* minimum base */
	put_le16(r + 4, port);		/* maximum base */
	r[6] = 0x01;			/* alignment */
	r[7] = len;
	return r + RES_IO16_LEN;
}

/*
 * Word Address Space Descriptor, 6.4.3.5.3: a fixed window [min, max] the
 * bridge produces (_MIF and _MAF set, so granularity 0 and length
 * max - min + 1, which must fit in 16 bits), no translation.
 */
static uint8_t *res_word_addr(uint8_t *r, uint8_t type, uint8_t type_flags,
			      uint16_t min, uint16_t max)
{
	r[0] = RES_WORD_ADDR;
	put_le16(r + 1, RES_WORD_ADDR_LEN - 3);
	r[3] = type;
	r[4] = RES_ADDR_FIXED;
	r[5] = type_flags;
	put_le16(r + 6, 0);		/* granularity */
	put_le16(r + 8, min);
	put_le16(r + 10, max);
	put_le16(r + 12, 0);		/* translation offset */
	put_le16(r + 14, (uint16_t)(max - min + 1));
	return r + RES_WORD_ADDR_LEN;
}

/* DWord Address Space Descriptor, 6.4.3.5.2: the same with 32-bit fields. */
static uint8_t *res_dword_addr(uint8_t *r, uint8_t type, uint8_t type_flags,
			       uint32_t min, uint32_t max)
{
	r[0] = RES_DWORD_ADDR;
	put_le16(r + 1, RES_DWORD_ADDR_LEN - 3);
	r[3] = type;
	r[4] = RES_ADDR_FIXED;
	r[5] = type_flags;
	put_le32(r + 6, 0);		/* granularity */
	put_le32(r + 10, min);
	put_le32(r + 14, max);
	put_le32(r + 18, 0);		/* translation offset */
	put_le32(r + 22, max - min + 1);
	return r + RES_DWORD_ADDR_LEN;
}

static uint8_t *res_qword_addr(uint8_t *r, uint8_t type, uint8_t type_flags,
			       uint64_t min, uint64_t max)
{
	r[0] = RES_QWORD_ADDR;
	put_le16(r + 1, RES_QWORD_ADDR_LEN - 3);
	r[3] = type;
	r[4] = RES_ADDR_FIXED;
	r[5] = type_flags;
	put_le64(r + 6, 0);		/* granularity */
	put_le64(r + 14, min);
	put_le64(r + 22, max);
	put_le64(r + 30, 0);		/* translation offset */
	put_le64(r + 38, max - min + 1);
	return r + RES_QWORD_ADDR_LEN;
}

/* Name (_CRS, ResourceTemplate () { IO (Decode16, port, port, 1, len) IRQNoFlags () {irq} }) */
static void aml_name_crs_io_irq(struct aml *a, uint16_t port, uint8_t len, uint8_t irq)
{
	uint8_t res[RES_IO16_LEN + 3], *r = res_io16(res, port, len);

	r[0] = RES_IRQ;
	put_le16(r + 1, (uint16_t)(1u << irq));
	aml_name_buffer(a, "_CRS", res, sizeof(res));
}

/* Device (NAME) { _HID, optionally _UID, _CRS }: a legacy ISA device and its IRQ. */
static void aml_isa_device(struct aml *a, const char *name, const char *hid, int uid,
			   uint16_t port, uint8_t len, uint8_t irq)
{
	const uint8_t op[] = { AML_EXT, AML_DEVICE };
	struct aml body = { .len = 0 };

	aml_bytes(&body, name, 4);
	aml_name_eisaid(&body, "_HID", hid);
	if (uid >= 0)
		aml_name_int(&body, "_UID", (uint64_t)uid);
	aml_name_crs_io_irq(&body, port, len, irq);
	aml_pkg(a, op, sizeof(op), &body);
}

/*
 * Name (_PRT, Package () { Package () { 0xSSSSFFFF, pin, Zero, gsi }, ... }):
 * every slot's INTA-INTD on the IOAPIC pin pci_intx_gsi() gives, as a
 * global interrupt (no link device), which the guest makes level-triggered
 * and active-low as PCI wants.
 */
static void aml_pci_routing(struct aml *a)
{
	const uint8_t pkg = AML_PACKAGE;
	struct aml list = { .len = 0 };

	aml_byte(&list, (uint8_t)((PCI_SLOTS - 1) * PCI_INTX_PINS));	/* NumElements */
	for (int slot = 1; slot < PCI_SLOTS; slot++) {
		for (int pin = 0; pin < PCI_INTX_PINS; pin++) {
			struct aml e = { .len = 0 };

			aml_byte(&e, 4);
			aml_byte(&e, AML_DWORD);	/* always a DWord, as _ADR is */
			aml_bytes(&e, (uint8_t[]){ 0xFF, 0xFF, (uint8_t)slot, 0 }, 4);
			aml_int(&e, (uint64_t)pin);
			aml_int(&e, 0);
			aml_int(&e, (uint64_t)pci_intx_gsi(slot, pin));
			aml_pkg(&list, &pkg, 1, &e);
		}
	}
	aml_byte(a, AML_NAME);
	aml_bytes(a, "_PRT", 4);
	aml_pkg(a, &pkg, 1, &list);
}

/*
 * Device (PCI0) {
 *     Name (_HID, EisaId ("PNP0A03"))
 *     Name (_UID, 0)  Name (_SEG, 0)  Name (_BBN, 0)  Name (_ADR, 0)
 *     Name (_CRS, ResourceTemplate () {
 *         WordBusNumber (ResourceProducer, ..., 0, 0, 0, 0, 1)      bus 0 only
 *         IO (Decode16, 0x0CF8, 0x0CF8, 1, 8)                       config ports
 *         WordIO (ResourceProducer, ..., 0, 0x0000, 0x0CF7, 0, 0x0CF8)
 *         WordIO (ResourceProducer, ..., 0, 0x0D00, 0xFFFF, 0, 0xF300)
 *         DWordMemory (ResourceProducer, ..., NonCacheable, ReadWrite,
 *                      0, PCI_MMIO_START, PCI_MMIO_END - 1, 0, size)
 *         QWordMemory (ResourceProducer, ..., NonCacheable, ReadWrite,
 *                      0, start, end - 1, 0, PCI_MMIO64_SIZE) })
 * }
 * The conventional PCI host bridge, configuration mechanism #1 at 0xCF8:
 * on ACPI Linux scans PCI only below a root bridge the DSDT declares
 * (pci_acpi_init() succeeding keeps the legacy scan from running). Its
 * windows are all I/O ports but the config ports, the 32-bit MMIO window
 * where the VMM places BARs, and the 64-bit one above RAM
 * (guest_mem_pci64_window()) for 64-bit BARs. _PRT: see aml_pci_routing(). No _OSC: Linux then keeps the PCIe native features
 * (hotplug, AER, PME) to the platform, which a conventional root lacks.
 */
static void aml_pci_root(struct aml *a, const struct guest_mem *mem)
{
	const uint8_t dev[] = { AML_EXT, AML_DEVICE };
	uint8_t res[RES_WORD_ADDR_LEN * 3 + RES_IO16_LEN + RES_DWORD_ADDR_LEN +
		    RES_QWORD_ADDR_LEN], *r = res;
	struct aml body = { .len = 0 };
	uint64_t start64, end64;

	r = res_word_addr(r, RES_ADDR_BUS, 0, 0, 0);
	r = res_io16(r, PORT_PCI_CONFIG_ADDR, PCI_CONFIG_PORTS);
	r = res_word_addr(r, RES_ADDR_IO, RES_IO_ENTIRE_RANGE, 0, PORT_PCI_CONFIG_ADDR - 1);
	r = res_word_addr(r, RES_ADDR_IO, RES_IO_ENTIRE_RANGE,
			  PORT_PCI_CONFIG_ADDR + PCI_CONFIG_PORTS, 0xFFFF);
	r = res_dword_addr(r, RES_ADDR_MEM, RES_MEM_RW,
			   (uint32_t)PCI_MMIO_START, (uint32_t)(PCI_MMIO_END - 1));
	guest_mem_pci64_window(mem, &start64, &end64);
	r = res_qword_addr(r, RES_ADDR_MEM, RES_MEM_RW, start64, end64 - 1);

	aml_bytes(&body, "PCI0", 4);
	aml_name_eisaid(&body, "_HID", "PNP0A03");
	aml_name_int(&body, "_UID", 0);
	aml_name_int(&body, "_SEG", 0);
	aml_name_int(&body, "_BBN", 0);
	aml_name_int(&body, "_ADR", 0);
	aml_name_buffer(&body, "_CRS", res, (size_t)(r - res));
	aml_pci_routing(&body);
	aml_pkg(a, dev, sizeof(dev), &body);
}

/* Device (PWRB) { Name (_HID, EisaId ("PNP0C0C")) }: the power button. */
static void aml_power_button(struct aml *a)
{
	const uint8_t op[] = { AML_EXT, AML_DEVICE };
	struct aml body = { .len = 0 };

	aml_bytes(&body, "PWRB", 4);
	aml_name_eisaid(&body, "_HID", "PNP0C0C");
	aml_pkg(a, op, sizeof(op), &body);
}

/*
 * Device (GED0) {
 *     Name (_HID, "ACPI0013")
 *     Name (_UID, Zero)
 *     Name (_CRS, ResourceTemplate () {
 *         Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) { IRQ_POWER_BUTTON } })
 *     Method (_EVT, 1) { If (LEqual (Arg0, IRQ_POWER_BUTTON)) { Notify (PWRB, 0x80) } }
 * }
 * A hardware-reduced platform has no fixed power button; the Generic Event
 * Device turns an interrupt into the notification Linux's button driver
 * reports as KEY_POWER (systemd-logind or acpid then shut the guest down).
 */
static void aml_ged(struct aml *a)
{
	const uint8_t dev[] = { AML_EXT, AML_DEVICE }, method = AML_METHOD, iff = AML_IF;
	const uint8_t irq[] = {
		RES_EXT_IRQ, 6, 0,	/* length 6 */
		0x03,			/* consumer, edge, active high, exclusive */
		1, IRQ_POWER_BUTTON, 0, 0, 0,
	};
	const uint8_t test[] = { AML_LEQUAL, AML_ARG0, AML_BYTE, IRQ_POWER_BUTTON };
	const uint8_t notify[] = { AML_NOTIFY, 'P', 'W', 'R', 'B', AML_BYTE, 0x80 };
	struct aml body = { .len = 0 }, evt = { .len = 0 }, cond = { .len = 0 };

	aml_bytes(&cond, test, sizeof(test));
	aml_bytes(&cond, notify, sizeof(notify));
	aml_bytes(&evt, "_EVT", 4);
	aml_byte(&evt, 0x01);		/* one argument, not serialized */
	aml_pkg(&evt, &iff, 1, &cond);

	aml_bytes(&body, "GED0", 4);
	aml_byte(&body, AML_NAME);
	aml_bytes(&body, "_HID", 4);
	aml_byte(&body, AML_STRING);
	aml_bytes(&body, "ACPI0013", 9);	/* with its NUL */
	aml_name_int(&body, "_UID", 0);
	aml_name_buffer(&body, "_CRS", irq, sizeof(irq));
	aml_pkg(&body, &method, 1, &evt);
	aml_pkg(a, dev, sizeof(dev), &body);
}

/*
 * The DSDT body:
 *
 *   Name (_S5_, Package () { 5, 0, 0, 0 })
 *   Scope (\_SB_) {
 *       Device (PCI0) { _HID PNP0A03, bus 0, I/O, 32- and 64-bit MMIO windows (see aml_pci_root()) }
 *       Device (COM1) { _HID PNP0501, _UID 1, _CRS { IO 0x3F8/8, IRQ 4 } }
 *       Device (RTC_) { _HID PNP0B00, _CRS { IO 0x70/2, IRQ 8 } }
 *       Device (PWRB) and Device (GED0): the power button (see aml_ged())
 *   }
 *
 * Linux reads SLP_TYPa from _S5_ element 0 and powers off by writing
 * (SLP_TYPa << 2) | SLP_EN (bit 5) to the sleep control register.
 * A hardware-reduced platform has no legacy PIC for Linux, which then maps
 * ISA interrupts only for devices ACPI declares: without COM1 here the
 * serial port would get no interrupt (output works, input does not).
 * Likewise Linux on ACPI finds PCI devices only below PCI0.
 */
static void dsdt_build(struct aml *a, const struct guest_mem *mem)
{
	static const uint8_t s5[] = {
		AML_NAME, '_', 'S', '5', '_',
		AML_PACKAGE, 0x07, 0x04,	/* PkgLength 7, 4 elements */
		AML_BYTE, ACPI_S5_SLP_TYP, AML_ZERO, AML_ZERO, AML_ZERO,
	};
	const uint8_t scope = AML_SCOPE;
	struct aml sb = { .len = 0 };

	a->len = 0;
	aml_bytes(a, s5, sizeof(s5));
	aml_byte(&sb, AML_ROOT);
	aml_bytes(&sb, "_SB_", 4);
	aml_pci_root(&sb, mem);
	aml_isa_device(&sb, "COM1", "PNP0501", 1, PORT_COM1, 8, IRQ_COM1);
	aml_isa_device(&sb, "RTC_", "PNP0B00", -1, PORT_RTC_INDEX, 2, IRQ_RTC);
	aml_power_button(&sb);
	aml_ged(&sb);
	aml_pkg(a, &scope, 1, &sb);
}

static uint64_t align16(uint64_t v)
{
	return (v + 15) & ~15ULL;
}

static uint32_t madt_length(int ncpus)
{
	return ACPI_HDR_SIZE + 8 + 8 * (uint32_t)ncpus + 12 + 2 * 10 + 6;
}

static void acpi_plan(struct acpi_layout *l, int ncpus, size_t dsdt_aml_len)
{
	l->rsdp = ACPI_TABLES_ADDR;
	l->rsdt = align16(l->rsdp + RSDP_SIZE);
	l->xsdt = align16(l->rsdt + ACPI_HDR_SIZE + 2 * 4);
	l->fadt = align16(l->xsdt + ACPI_HDR_SIZE + 2 * 8);
	l->dsdt = align16(l->fadt + FADT_SIZE);
	l->madt = align16(l->dsdt + ACPI_HDR_SIZE + dsdt_aml_len);
	l->madt_len = madt_length(ncpus);
	l->end = l->madt + l->madt_len;
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return (uint8_t)-sum;
}

static uint8_t *table_start(uint8_t *base, uint64_t addr, const char *sig,
			    uint32_t len, uint8_t rev)
{
	uint8_t *t = base + (addr - ACPI_TABLES_ADDR);

	memcpy(t, sig, 4);
	put_le32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
	put_le32(t + 24, 1);
	memcpy(t + 28, ACPI_CREATOR_ID, 4);
	put_le32(t + 32, 1);
	return t;
}

static void table_finish(uint8_t *t)
{
	t[9] = 0;
	t[9] = checksum(t, get_le32(t + 4));
}

/* Generic Address Structure for a one-byte I/O port. */
static void gas_io8(uint8_t *g, uint16_t port)
{
	g[0] = GAS_SYSTEM_IO;
	g[1] = 8;		/* bit width */
	g[2] = 0;		/* bit offset */
	g[3] = GAS_ACCESS_BYTE;
	put_le64(g + 4, port);
}

static void write_fadt(uint8_t *base, const struct acpi_layout *l)
{
	uint8_t *t = table_start(base, l->fadt, "FACP", FADT_SIZE, FADT_REVISION);

	put_le32(t + FADT_DSDT, (uint32_t)l->dsdt);
	put_le16(t + FADT_SCI_INT, ACPI_SCI_IRQ);
	/*
	 * No 8042 flag: the i8042 here only resets the machine (reboot=k
	 * writes its command port without asking ACPI). Declaring it makes
	 * Linux probe it for a keyboard, seconds of timeouts at every boot.
	 */
	/*
	 * Neither IAPC_MSI_NOT_SUPPORTED nor IAPC_PCIE_ASPM_CONTROLS: Linux
	 * reads them in acpi_pci_init() and calls pci_no_msi() (or
	 * pcie_no_aspm()). MSI must stay allowed: the virtio-pci devices
	 * interrupt through MSI-X only (pin 0), so without MSI they
	 * would have no interrupt at all. None of the FADT flags below
	 * concerns MSI or ASPM.
	 */
	put_le16(t + FADT_IAPC_BOOT_ARCH, IAPC_VGA_NOT_PRESENT);
	put_le32(t + FADT_FLAGS, FADT_F_RESET_REG_SUP | FADT_F_HW_REDUCED_ACPI);
	gas_io8(t + FADT_RESET_REG, PORT_ACPI_RESET);
	t[FADT_RESET_VALUE] = ACPI_RESET_VALUE;
	t[FADT_MINOR_VERSION] = FADT_MINOR;
	put_le64(t + FADT_X_DSDT, l->dsdt);
	gas_io8(t + FADT_SLEEP_CONTROL, PORT_ACPI_SLEEP_CONTROL);
	gas_io8(t + FADT_SLEEP_STATUS, PORT_ACPI_SLEEP_STATUS);
	memcpy(t + FADT_HYPERVISOR_ID, "SLICEVM", 8);
	table_finish(t);
}

static void write_dsdt(uint8_t *base, const struct acpi_layout *l, const struct aml *aml)
{
	uint8_t *t = table_start(base, l->dsdt, "DSDT",
				 (uint32_t)(ACPI_HDR_SIZE + aml->len), 2);

	memcpy(t + ACPI_HDR_SIZE, aml->buf, aml->len);
	table_finish(t);
}

static uint8_t *madt_iso(uint8_t *e, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	e[0] = MADT_ISO;
	e[1] = 10;
	e[2] = 0;		/* bus: ISA */
	e[3] = irq;
	put_le32(e + 4, gsi);
	put_le16(e + 8, flags);
	return e + 10;
}

static void write_madt(uint8_t *base, const struct acpi_layout *l, int ncpus)
{
	uint8_t *t = table_start(base, l->madt, "APIC", l->madt_len, MADT_REVISION);
	uint8_t *e = t + ACPI_HDR_SIZE + 8;
	int i;

	put_le32(t + ACPI_HDR_SIZE, (uint32_t)LAPIC_ADDR);
	put_le32(t + ACPI_HDR_SIZE + 4, MADT_PCAT_COMPAT);
	for (i = 0; i < ncpus; i++, e += 8) {
		e[0] = MADT_LAPIC;
		e[1] = 8;
		e[2] = (uint8_t)i;	/* ACPI processor UID */
		e[3] = (uint8_t)i;	/* APIC id */
		put_le32(e + 4, MADT_LAPIC_ENABLED);
	}
	e[0] = MADT_IOAPIC;
	e[1] = 12;
	e[2] = (uint8_t)ncpus;	/* the first id after the CPUs' */
	e[3] = 0;
	put_le32(e + 4, (uint32_t)IOAPIC_ADDR);
	put_le32(e + 8, 0);	/* GSI base */
	e += 12;
	/* The PIT's IRQ 0 is wired to IOAPIC pin 2, as on PCs. */
	e = madt_iso(e, 0, 2, 0);
	e = madt_iso(e, ACPI_SCI_IRQ, ACPI_SCI_IRQ, MPS_ACTIVE_HIGH | MPS_LEVEL);
	e[0] = MADT_LAPIC_NMI;
	e[1] = 6;
	e[2] = ACPI_ALL_PROCESSORS;
	put_le16(e + 3, 0);	/* MPS INTI flags: bus defaults */
	e[5] = 1;		/* LINT1 */
	table_finish(t);
}

static void write_roots(uint8_t *base, const struct acpi_layout *l)
{
	uint8_t *rsdp = base + (l->rsdp - ACPI_TABLES_ADDR);
	uint8_t *rsdt = table_start(base, l->rsdt, "RSDT", ACPI_HDR_SIZE + 2 * 4, 1);
	uint8_t *xsdt = table_start(base, l->xsdt, "XSDT", ACPI_HDR_SIZE + 2 * 8, 1);

	put_le32(rsdt + ACPI_HDR_SIZE, (uint32_t)l->fadt);
	put_le32(rsdt + ACPI_HDR_SIZE + 4, (uint32_t)l->madt);
	table_finish(rsdt);
	put_le64(xsdt + ACPI_HDR_SIZE, l->fadt);
	put_le64(xsdt + ACPI_HDR_SIZE + 8, l->madt);
	table_finish(xsdt);

	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, ACPI_OEM_ID, 6);
	rsdp[15] = 2;		/* revision: has XSDT */
	put_le32(rsdp + 16, (uint32_t)l->rsdt);
	put_le32(rsdp + 20, RSDP_SIZE);
	put_le64(rsdp + 24, l->xsdt);
	rsdp[8] = checksum(rsdp, RSDP_V1_SIZE);
	rsdp[32] = checksum(rsdp, RSDP_SIZE);
}

uint64_t acpi_build(struct guest_mem *mem, int ncpus)
{
	uint64_t len = MEM_BIOS_END - ACPI_TABLES_ADDR;
	struct acpi_layout l;
	struct aml dsdt;
	uint8_t *base;

	if (ncpus < 1 || ncpus > BOOT_MAX_CPUS) {
		err_set("%d CPUs requested; the ACPI tables describe 1 to %d",
			ncpus, BOOT_MAX_CPUS);
		return 0;
	}
	base = guest_ptr(mem, ACPI_TABLES_ADDR, len);
	if (!base) {
		err_set("guest memory ends below 1M, where the ACPI tables go: give --memory 64M or more");
		return 0;
	}
	dsdt_build(&dsdt, mem);
	acpi_plan(&l, ncpus, dsdt.len);
	if (l.end > MEM_BIOS_END) {	/* cannot happen: 254 CPUs need about 3 KiB of 128 */
		err_set("the ACPI tables for %d CPUs do not fit below 1M", ncpus);
		return 0;
	}
	memset(base, 0, len);
	write_fadt(base, &l);
	write_dsdt(base, &l, &dsdt);
	write_madt(base, &l, ncpus);
	write_roots(base, &l);
	return l.rsdp;
}
