/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_ARCH_X86_PLATFORM_H
#define SLICEVM_ARCH_X86_PLATFORM_H

/*
 * The machine a slicevm guest sees: fixed guest-physical addresses, I/O ports
 * and interrupt lines. The boot code (which describes the machine in e820 and
 * ACPI) and the devices (which implement it) both build on these numbers.
 */

/* Guest physical memory: RAM from 0 up to the 32-bit hole, the rest above 4 GiB. */
#define MEM_32BIT_GAP_START	0xC0000000ULL	/* PCI MMIO, IOAPIC, LAPIC above */
#define MEM_HIGH_START		0x100000000ULL
#define MEM_EBDA_START		0x9FC00ULL	/* top 1 KiB of base memory: reserved */
#define MEM_BIOS_START		0xE0000ULL	/* ACPI tables live here, reserved */
#define MEM_BIOS_END		0x100000ULL

/* Boot structures in low memory, all below the kernel at 1 MiB. */
#define BOOT_GDT_ADDR		0x500ULL
#define BOOT_ZERO_PAGE_ADDR	0x7000ULL	/* struct boot_params */
#define BOOT_STACK_ADDR		0x8FF0ULL
#define BOOT_PML4_ADDR		0x9000ULL	/* then PDPT at 0xA000, PDs at 0xB000.. */
#define BOOT_PVH_INFO_ADDR	0x6000ULL	/* hvm_start_info and its tables */
#define BOOT_CMDLINE_ADDR	0x20000ULL
#define BOOT_CMDLINE_MAX	0x10000ULL
#define KERNEL_LOAD_ADDR	0x100000ULL	/* bzImage protected-mode code */

#define ACPI_TABLES_ADDR	MEM_BIOS_START	/* RSDP first, then the tables */

/*
 * The PCI host bridge's 32-bit memory window, where the VMM places BARs
 * (as firmware would) and the DSDT's PCI0 _CRS tells the guest to look:
 * from the hole's start up to the IOAPIC.
 */
#define PCI_MMIO_START		MEM_32BIT_GAP_START
#define PCI_MMIO_END		0xFEC00000ULL	/* exclusive */
/*
 * The 64-bit PCI window, for 64-bit BARs (a passed-through function's,
 * which may be larger than the whole 32-bit window): PCI_MMIO64_SIZE
 * bytes, aligned to its size, above 4 GiB and above guest RAM
 * (guest_mem_pci64_window()). 64 GiB takes a 32 GiB BAR after smaller
 * ones and stays below 2^40, the fewest physical address bits an x86-64
 * CPU with NPT or EPT has, for a VM of up to 960 GiB.
 */
#define PCI_MMIO64_SIZE		(64ULL << 30)

/* Interrupt controllers (KVM's in-kernel IOAPIC and local APICs). */
#define IOAPIC_ADDR		0xFEC00000ULL
#define LAPIC_ADDR		0xFEE00000ULL
#define IOAPIC_PINS		24

/* Addresses KVM needs for its own use on Intel: three pages for the TSS, one for the EPT identity map. */
#define KVM_IDENTITY_MAP_ADDR	0xFFFBC000ULL
#define KVM_TSS_ADDR		0xFFFBD000ULL

/* Legacy I/O ports and their ISA interrupt lines. */
#define PORT_COM1		0x3F8
#define IRQ_COM1		4
#define PORT_I8042_DATA		0x60
#define PORT_I8042_CMD		0x64
#define PORT_RTC_INDEX		0x70
#define PORT_RTC_DATA		0x71
#define IRQ_RTC			8
#define PORT_POST		0x80	/* I/O delay port: writes ignored */
#define PORT_PCI_CONFIG_ADDR	0xCF8
#define PORT_PCI_CONFIG_DATA	0xCFC

/*
 * ACPI hardware-reduced power management (FADT sleep control/status and
 * reset registers), one byte each. The guest powers off by writing
 * SLP_EN | SLP_TYP(5) to the sleep control port and resets by writing
 * ACPI_RESET_VALUE to the reset port.
 */
#define PORT_ACPI_SLEEP_CONTROL	0x600
#define PORT_ACPI_SLEEP_STATUS	0x601
#define PORT_ACPI_RESET		0x602
#define ACPI_RESET_VALUE	0x01
#define ACPI_S5_SLP_TYP		5
#define ACPI_SCI_IRQ		9
/* The ACPI Generic Event Device's line: an edge means the power button (GED _EVT). */
#define IRQ_POWER_BUTTON	10

/*
 * PCI INTx: slot @slot's pin @pin (0 INTA .. 3 INTD) is level-triggered
 * on IOAPIC pin 16-23, swizzled so neighbouring slots share as little as
 * they can. The DSDT's _PRT says so to the guest; the VMM wires the same
 * GSIs (a passed-through function's INTx).
 */
#define IRQ_PCI_INTX_FIRST	16
#define IRQ_PCI_INTX_LINES	8
#define PCI_INTX_PINS		4
static inline int pci_intx_gsi(int slot, int pin)
{
	return IRQ_PCI_INTX_FIRST + (slot + pin) % IRQ_PCI_INTX_LINES;
}

#endif
