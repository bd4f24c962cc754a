/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_DEVICES_PCI_H
#define SLICEVM_DEVICES_PCI_H

#include <stdint.h>

#include "devices/iodev.h"

/*
 * PCI bus 0 behind configuration mechanism #1, with a host bridge at
 * 00:00.0, plus the reset control register at 0xCF9 that shares the ports.
 *
 * Wiring, for the VMM: register pci_pio for PCI_PORTS ports at
 * PORT_PCI_CONFIG_ADDR (0xCF8-0xCFF):
 *   offset 0, dword     the configuration address register;
 *   offset 1, byte      the reset control register (0xCF9): writing a value
 *                       with bit 2 (reset CPU) set, e.g. 0x06 or 0x0E as
 *                       Linux's "reboot=pci" does, reports VM_EVENT_RESET;
 *   offsets 4-7         the configuration data window, byte, word or dword
 *                       accesses at any offset.
 * Other accesses to offsets 0-3 read all ones and are ignored when written
 * (a byte write to 0xCFB is part of Linux's mechanism #1 probe).
 *
 * Devices: a later device fills a struct pci_device (pci_device_init(), then
 * its own registers, capabilities and BARs) and hands it to
 * pci_register_device(). The bus then serves the guest's config accesses
 * from config[]: a written bit changes only where wmask has it set, and a
 * 1 written to a bit set in w1cmask clears it (status bits). After each
 * guest write, config_written() (optional) is told which bytes changed, e.g.
 * to move a BAR or follow the command register; it runs with the bus lock
 * held and must not call pci_* functions. Once registered, config[] is
 * only changed by the guest or from config_written(), under that lock. The
 * device stays owned by its caller and must outlive the bus.
 *
 * Config space is 256 bytes: registers above 255 (AMD's extended-register
 * bits 27-24 of the address, used by Linux on AMD family 10h+ CPUs) read all
 * ones. Only bus 0 exists.
 */

#define PCI_PORTS		8
#define PCI_CONFIG_SIZE		256
#define PCI_DEVFN(slot, fn)	(((slot) << 3) | (fn))
#define PCI_DEVFN_AUTO		(-1)	/* first free slot, function 0 */

/* Standard configuration header offsets used by the helpers. */
#define PCI_CFG_VENDOR_ID	0x00
#define PCI_CFG_DEVICE_ID	0x02
#define PCI_CFG_COMMAND		0x04
#define PCI_CFG_STATUS		0x06
#define PCI_CFG_REVISION	0x08
#define PCI_CFG_CLASS		0x09	/* 3 bytes: prog-if, subclass, class */
#define PCI_CFG_CACHE_LINE	0x0C
#define PCI_CFG_LATENCY		0x0D
#define PCI_CFG_HEADER_TYPE	0x0E
#define PCI_CFG_BAR0		0x10
#define PCI_CFG_INT_LINE	0x3C
#define PCI_CFG_INT_PIN		0x3D

#define PCI_BARS		6
#define PCI_BAR_IO		0x01

/* The host bridge at 00:00.0 (Intel 440FX host bridge ids). */
#define PCI_HOST_VENDOR		0x8086
#define PCI_HOST_DEVICE		0x1237
#define PCI_HOST_CLASS		0x060000

struct pci_device {
	uint8_t config[PCI_CONFIG_SIZE];
	uint8_t wmask[PCI_CONFIG_SIZE];
	uint8_t w1cmask[PCI_CONFIG_SIZE];
	void (*config_written)(struct pci_device *pdev, unsigned int reg, int size);
	void *priv;
	int devfn;		/* PCI_DEVFN(slot, fn) or PCI_DEVFN_AUTO */
};

struct pci_bus;

/* Returns NULL (with err_set()) when out of memory. */
struct pci_bus *pci_create(vm_event_fn event, void *event_ctx);
void pci_destroy(struct pci_bus *bus);

void pci_pio(void *dev, uint16_t offset, void *data, int size, bool is_write);

/*
 * Clears @pdev and fills a type 0 header: ids, class, revision, and the
 * usual guest-writable bits (command, cache line size, latency timer,
 * interrupt line) and write-1-to-clear status bits.
 */
void pci_device_init(struct pci_device *pdev, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision);

/*
 * Makes BAR @bar a 32-bit I/O or memory BAR of @size bytes (a power of two,
 * at least 4 for I/O and 16 for memory), so that the guest can size it.
 */
int pci_device_set_bar(struct pci_device *pdev, int bar, uint32_t size, bool io);

/* Puts @pdev at pdev->devfn (filled in when PCI_DEVFN_AUTO) on bus 0. */
int pci_register_device(struct pci_bus *bus, struct pci_device *pdev);

#endif
