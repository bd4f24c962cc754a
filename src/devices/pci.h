/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_DEVICES_PCI_H
#define SLICEVM_DEVICES_PCI_H

#include <stdbool.h>
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
#define PCI_CFG_SUBSYS_VENDOR	0x2C
#define PCI_CFG_SUBSYS_ID	0x2E
#define PCI_CFG_CAP_PTR		0x34
#define PCI_CFG_INT_LINE	0x3C
#define PCI_CFG_INT_PIN		0x3D

#define PCI_BARS		6
#define PCI_BAR_IO		0x01
#define PCI_BAR_MEM_MASK	0xFFFFFFF0u

#define PCI_CMD_IO		0x0001
#define PCI_CMD_MEM		0x0002
#define PCI_CMD_MASTER		0x0004
#define PCI_STATUS_CAP_LIST	0x0010

/* Capability ids (PCI 3.0 appendix H) */
#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_MSIX		0x11
#define PCI_CAP_START		0x40	/* capabilities go after the type 0 header */

/* The host bridge at 00:00.0 (Intel 440FX host bridge ids). */
#define PCI_HOST_VENDOR		0x8086
#define PCI_HOST_DEVICE		0x1237
#define PCI_HOST_CLASS		0x060000

struct pci_device;

/*
 * An access to a memory BAR: @offset from the BAR's start, @size 1, 2, 4
 * or 8, never crossing the BAR's end. Called on vCPU threads with the bus
 * lock held (so never concurrently for one bus); it must not call pci_*
 * functions but may block briefly (a device reset).
 */
typedef void (*pci_bar_fn)(struct pci_device *pdev, int bar, uint64_t offset,
			   void *data, int size, bool is_write);

struct pci_device {
	uint8_t config[PCI_CONFIG_SIZE];
	uint8_t wmask[PCI_CONFIG_SIZE];
	uint8_t w1cmask[PCI_CONFIG_SIZE];
	void (*config_written)(struct pci_device *pdev, unsigned int reg, int size);
	/*
	 * Optional: the guest is about to read config[reg, reg + size): a
	 * register whose value lives elsewhere (virtio's PCI_CFG window) is
	 * filled in now. Same rules as config_written().
	 */
	void (*config_read)(struct pci_device *pdev, unsigned int reg, int size);
	pci_bar_fn bar_access;		/* memory BARs' accesses; NULL: all ones */
	uint64_t win_start, win_end;	/* the bus's window, set at registration */
	uint64_t win64_start, win64_end; /* and its 64-bit window (end 0: none) */
	uint64_t bar_size[PCI_BARS];	/* memory BARs: bytes; 0 none or I/O */
	bool bar64[PCI_BARS];		/* a 64-bit BAR: this register and the next */
	uint16_t cap_end;		/* where the next capability goes; 0: none yet */
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

/*
 * Makes BAR @bar (0-4) and the next one a 64-bit memory BAR of @size bytes
 * (a power of two, at least 16), prefetchable when @prefetch. Registered
 * on a bus with a 64-bit window, it is placed there; else in the 32-bit
 * window, when it fits below 4 GiB.
 */
int pci_device_set_bar64(struct pci_device *pdev, int bar, uint64_t size, bool prefetch);

/*
 * Appends a capability of @len bytes (header included) with id @id to the
 * capability list, 4-byte aligned. Returns its offset in config space, or
 * -1 (err_set()) when config space is full. The caller fills the body.
 */
int pci_device_add_cap(struct pci_device *pdev, uint8_t id, unsigned int len);

/*
 * Where memory BAR @bar is now: its address while the guest lets the
 * device decode memory and the BAR lies inside a window of the bus it is
 * registered on (a 64-bit BAR: either), else 0 (not reachable: no window, decoding off, or in
 * the middle of sizing).
 */
uint64_t pci_device_bar_addr(const struct pci_device *pdev, int bar);

/*
 * The window memory BARs are placed in, [@start, @end), below 4 GiB (the
 * BARs are 32-bit), as firmware would: pci_register_device() gives each
 * memory BAR the next naturally aligned address in it. Without a window
 * BARs stay at 0, unplaced and unreachable. Set it before registering.
 */
int pci_set_mmio_window(struct pci_bus *bus, uint64_t start, uint64_t end);

/* pci_device_bar_addr() of a device on @bus, from any thread (takes the bus lock). */
uint64_t pci_bus_bar_addr(struct pci_bus *bus, const struct pci_device *pdev, int bar);

/*
 * The 64-bit window [@start, @end), above 4 GiB, for 64-bit BARs. Set it
 * before registering. Without one, 64-bit BARs go in the 32-bit window.
 */
int pci_set_mmio64_window(struct pci_bus *bus, uint64_t start, uint64_t end);

/*
 * Puts @pdev at pdev->devfn (filled in when PCI_DEVFN_AUTO) on bus 0, and
 * places its memory BARs in the window (memory decoding on, as firmware
 * leaves it). Refused, with @pdev unchanged, when no slot is free or the
 * window is full.
 */
int pci_register_device(struct pci_bus *bus, struct pci_device *pdev);

/*
 * A guest access to physical address @gpa: the memory BAR that holds it
 * (see pci_device_bar_addr()) gets it. False, with a read answered by all
 * ones, when no BAR does.
 */
bool pci_mmio(struct pci_bus *bus, uint64_t gpa, void *data, int size, bool is_write);

#endif
