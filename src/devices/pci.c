// SPDX-License-Identifier: GPL-2.0
/*
 * PCI configuration mechanism #1 and bus 0. Configuration cycles are rare
 * (boot-time enumeration, BAR sizing), so one lock covers the address
 * register and every device's configuration space.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci.h"
#include "lib/err.h"
#include "lib/le.h"

#define PORT_ADDR	0	/* 0xCF8, dword */
#define PORT_RESET	1	/* 0xCF9, byte */
#define PORT_DATA	4	/* 0xCFC-0xCFF */

#define ADDR_ENABLE	0x80000000u
#define ADDR_BUS(a)	(((a) >> 16) & 0xFF)
#define ADDR_DEVFN(a)	(((a) >> 8) & 0xFF)
#define ADDR_REG(a)	((a) & 0xFC)
/*
 * AMD's extension for registers 256-4095 (bits 27-24 = register bits 11-8),
 * which Linux uses on AMD family 10h+ CPUs. Our devices have 256 bytes of
 * config space: those registers must read all ones, not alias 0-255.
 */
#define ADDR_EXT_REG	0x0F000000u

#define RCR_SYS_RST	0x02	/* hard reset when RST_CPU is set */
#define RCR_RST_CPU	0x04
#define RCR_FULL_RST	0x08
#define RCR_STORED	(RCR_SYS_RST | RCR_FULL_RST)

#define MAX_DEVFN	256
#define SLOTS		32
#define FUNCS		8

#define CMD_WRITABLE	0x0547	/* I/O, memory, bus master, parity, SERR, INTx off */
#define STATUS_W1C	0xF900	/* error bits 8 and 11-15 */
#define HOST_REVISION	0x02

struct pci_bus {
	pthread_mutex_t lock;
	uint32_t addr;
	uint8_t rcr;
	struct pci_device *devs[MAX_DEVFN];
	struct pci_device host;
	uint64_t mmio_start, mmio_end;	/* the window; end 0: none */
	uint64_t mmio_next;		/* where the next memory BAR goes */
	uint64_t mmio64_start, mmio64_end, mmio64_next;	/* the 64-bit window */
	vm_event_fn event;
	void *event_ctx;
};

void pci_device_init(struct pci_device *pdev, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision)
{
	memset(pdev, 0, sizeof(*pdev));
	put_le16(pdev->config + PCI_CFG_VENDOR_ID, vendor);
	put_le16(pdev->config + PCI_CFG_DEVICE_ID, device);
	pdev->config[PCI_CFG_REVISION] = revision;
	pdev->config[PCI_CFG_CLASS] = class_code;
	pdev->config[PCI_CFG_CLASS + 1] = class_code >> 8;
	pdev->config[PCI_CFG_CLASS + 2] = class_code >> 16;
	put_le16(pdev->wmask + PCI_CFG_COMMAND, CMD_WRITABLE);
	put_le16(pdev->w1cmask + PCI_CFG_STATUS, STATUS_W1C);
	pdev->wmask[PCI_CFG_CACHE_LINE] = 0xFF;
	pdev->wmask[PCI_CFG_LATENCY] = 0xFF;
	pdev->wmask[PCI_CFG_INT_LINE] = 0xFF;
	pdev->devfn = PCI_DEVFN_AUTO;
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int pci_device_set_bar(struct pci_device *pdev, int bar, uint32_t size, bool io)
{
	unsigned int reg = PCI_CFG_BAR0 + 4 * bar;
	uint32_t min = io ? 4 : 16;
	uint32_t flags = io ? PCI_BAR_IO : 0;

	if (bar < 0 || bar >= PCI_BARS)
		return err_set("PCI BAR %d does not exist: use BAR 0 to %d",
			       bar, PCI_BARS - 1);
	if (!is_pow2(size) || size < min)
		return err_set("PCI BAR size %u is invalid: use a power of two of at least %u",
			       size, min);
	put_le32(pdev->config + reg, flags);
	put_le32(pdev->wmask + reg, ~(size - 1));	/* size >= min keeps the flag bits */
	pdev->bar_size[bar] = io ? 0 : size;
	pdev->bar64[bar] = false;
	return 0;
}

#define PCI_BAR_MEM_64		0x04
#define PCI_BAR_PREFETCH	0x08

int pci_device_set_bar64(struct pci_device *pdev, int bar, uint64_t size, bool prefetch)
{
	unsigned int reg = PCI_CFG_BAR0 + 4 * bar;
	uint64_t mask = ~(size - 1);

	if (bar < 0 || bar >= PCI_BARS - 1)
		return err_set("PCI BAR %d cannot be 64-bit: use BAR 0 to %d", bar, PCI_BARS - 2);
	if (!size || (size & (size - 1)) || size < 16)
		return err_set("PCI BAR size %#llx is invalid: use a power of two of at least 16",
			       (unsigned long long)size);
	put_le32(pdev->config + reg, PCI_BAR_MEM_64 | (prefetch ? PCI_BAR_PREFETCH : 0));
	put_le32(pdev->config + reg + 4, 0);
	put_le32(pdev->wmask + reg, (uint32_t)mask);
	put_le32(pdev->wmask + reg + 4, (uint32_t)(mask >> 32));
	pdev->bar_size[bar] = size;
	pdev->bar64[bar] = true;
	pdev->bar_size[bar + 1] = 0;
	pdev->bar64[bar + 1] = false;
	return 0;
}

int pci_device_add_cap(struct pci_device *pdev, uint8_t id, unsigned int len)
{
	unsigned int at = pdev->cap_end ? pdev->cap_end : PCI_CAP_START;
	uint8_t *link = pdev->config + PCI_CFG_CAP_PTR;

	if (len < 2 || at + len > PCI_CONFIG_SIZE)
		return err_set("PCI capability %#x of %u bytes does not fit in config space",
			       id, len);
	/* the last capability's next pointer (or the header's) gets the new one */
	while (*link)
		link = pdev->config + *link + 1;
	*link = (uint8_t)at;
	pdev->config[at] = id;
	pdev->config[at + 1] = 0;
	pdev->config[PCI_CFG_STATUS] |= PCI_STATUS_CAP_LIST;
	pdev->cap_end = (uint16_t)((at + len + 3) & ~3u);
	return (int)at;
}

static uint64_t bar_value(const struct pci_device *pdev, int bar)
{
	const uint8_t *reg = pdev->config + PCI_CFG_BAR0 + 4 * bar;
	uint64_t v = get_le32(reg) & PCI_BAR_MEM_MASK;

	return pdev->bar64[bar] ? v | (uint64_t)get_le32(reg + 4) << 32 : v;
}

static bool inside(uint64_t addr, uint64_t size, uint64_t start, uint64_t end)
{
	return end && addr >= start && addr + size <= end && addr + size > addr;
}

uint64_t pci_device_bar_addr(const struct pci_device *pdev, int bar)
{
	uint64_t addr;

	if (bar < 0 || bar >= PCI_BARS || !pdev->bar_size[bar] ||
	    !(get_le16(pdev->config + PCI_CFG_COMMAND) & PCI_CMD_MEM))
		return 0;
	addr = bar_value(pdev, bar);
	/* a BAR being sized reads ~(size - 1): not an address the guest uses */
	if (inside(addr, pdev->bar_size[bar], pdev->win_start, pdev->win_end) ||
	    (pdev->bar64[bar] &&
	     inside(addr, pdev->bar_size[bar], pdev->win64_start, pdev->win64_end)))
		return addr;
	return 0;
}

uint64_t pci_bus_bar_addr(struct pci_bus *bus, const struct pci_device *pdev, int bar)
{
	uint64_t addr;

	pthread_mutex_lock(&bus->lock);
	addr = pci_device_bar_addr(pdev, bar);
	pthread_mutex_unlock(&bus->lock);
	return addr;
}

int pci_set_mmio_window(struct pci_bus *bus, uint64_t start, uint64_t end)
{
	if (start >= end || end > (1ULL << 32))
		return err_set("PCI window %#llx-%#llx is not below 4 GiB: 32-bit BARs cannot reach it",
			       (unsigned long long)start, (unsigned long long)end);
	pthread_mutex_lock(&bus->lock);
	bus->mmio_next = start;
	bus->mmio_start = start;
	bus->mmio_end = end;
	pthread_mutex_unlock(&bus->lock);
	return 0;
}

int pci_set_mmio64_window(struct pci_bus *bus, uint64_t start, uint64_t end)
{
	if (start >= end || start < (1ULL << 32))
		return err_set("PCI window %#llx-%#llx is not above 4 GiB: give a 64-bit window",
			       (unsigned long long)start, (unsigned long long)end);
	pthread_mutex_lock(&bus->lock);
	bus->mmio64_next = start;
	bus->mmio64_start = start;
	bus->mmio64_end = end;
	pthread_mutex_unlock(&bus->lock);
	return 0;
}

/* BAR @bar at the next address of [*next, end) aligned to its size; -1 when full. */
static int place_one(const struct pci_device *pdev, int bar, uint64_t *next, uint64_t end,
		     uint64_t *at)
{
	uint64_t size = pdev->bar_size[bar];

	*at = (*next + size - 1) & ~(size - 1);
	if (*at < *next || *at + size > end)
		return err_set("the PCI memory window is full: give the VM fewer devices");
	*next = *at + size;
	return 0;
}

/*
 * As firmware does: each memory BAR at the next address aligned to its
 * size, a 64-bit one in the 64-bit window when the bus has one. Computed
 * first and written only when all fit.
 */
static int place_bars(struct pci_bus *bus, struct pci_device *pdev)
{
	uint64_t at[PCI_BARS] = { 0 }, next = bus->mmio_next, next64 = bus->mmio64_next;
	bool any = false;

	if (!bus->mmio_end)
		return 0;	/* no window: BARs stay at 0, unreachable */
	for (int bar = 0; bar < PCI_BARS; bar++) {
		if (!pdev->bar_size[bar])
			continue;
		if (pdev->bar64[bar] && bus->mmio64_end ?
		    place_one(pdev, bar, &next64, bus->mmio64_end, &at[bar]) :
		    place_one(pdev, bar, &next, bus->mmio_end, &at[bar]))
			return -1;
		any = true;
	}
	for (int bar = 0; bar < PCI_BARS; bar++) {
		uint8_t *reg = pdev->config + PCI_CFG_BAR0 + 4 * bar;

		if (!pdev->bar_size[bar])
			continue;
		put_le32(reg, (uint32_t)at[bar] | (get_le32(reg) & ~PCI_BAR_MEM_MASK));
		if (pdev->bar64[bar])
			put_le32(reg + 4, (uint32_t)(at[bar] >> 32));
	}
	pdev->win_start = bus->mmio_start;
	pdev->win_end = bus->mmio_end;
	pdev->win64_start = bus->mmio64_start;
	pdev->win64_end = bus->mmio64_end;
	if (any) {
		pdev->config[PCI_CFG_COMMAND] |= PCI_CMD_MEM;
		bus->mmio_next = next;
		bus->mmio64_next = next64;
	}
	return 0;
}

int pci_register_device(struct pci_bus *bus, struct pci_device *pdev)
{
	int devfn = pdev->devfn;

	pthread_mutex_lock(&bus->lock);
	if (devfn == PCI_DEVFN_AUTO) {
		for (int slot = 1; slot < SLOTS; slot++) {
			if (!bus->devs[PCI_DEVFN(slot, 0)]) {
				devfn = PCI_DEVFN(slot, 0);
				break;
			}
		}
		if (devfn == PCI_DEVFN_AUTO) {
			pthread_mutex_unlock(&bus->lock);
			return err_set("PCI bus 0 has no free slot: remove a PCI device");
		}
	} else if (devfn < 0 || devfn >= MAX_DEVFN || bus->devs[devfn]) {
		pthread_mutex_unlock(&bus->lock);
		return err_set("PCI slot %02x.%x is taken or invalid: "
			       "pick a free one or PCI_DEVFN_AUTO",
			       (devfn >> 3) & 0x1F, devfn & 7);
	}
	if (place_bars(bus, pdev)) {
		pthread_mutex_unlock(&bus->lock);
		return -1;
	}
	pdev->devfn = devfn;
	bus->devs[devfn] = pdev;
	pthread_mutex_unlock(&bus->lock);
	return 0;
}

/* The device the address register selects, or NULL (reads all ones). */
static struct pci_device *selected(struct pci_bus *bus)
{
	if (!(bus->addr & ADDR_ENABLE) || ADDR_BUS(bus->addr) != 0 ||
	    (bus->addr & ADDR_EXT_REG))
		return NULL;
	return bus->devs[ADDR_DEVFN(bus->addr)];
}

static void config_write_byte(struct pci_device *pdev, unsigned int reg, uint8_t val)
{
	uint8_t old = pdev->config[reg];
	uint8_t mask = pdev->wmask[reg];

	pdev->config[reg] = ((old & ~mask) | (val & mask)) & ~(val & pdev->w1cmask[reg]);
}

/* An access to the data window, bytes [offset, offset + size) of 0xCF8. */
static void data_access(struct pci_bus *bus, unsigned int offset, uint8_t *bytes,
			int size, bool is_write)
{
	struct pci_device *pdev = selected(bus);
	unsigned int first = ADDR_REG(bus->addr) + offset - PORT_DATA;
	int inside_bytes = (int)(PCI_PORTS - offset) < size ? (int)(PCI_PORTS - offset) : size;
	int n = 0;

	if (!is_write && pdev && pdev->config_read)
		pdev->config_read(pdev, first, inside_bytes);
	for (int i = 0; i < size; i++) {
		bool inside = offset + i < PCI_PORTS;

		if (!is_write) {
			bytes[i] = pdev && inside ? pdev->config[first + i] : 0xFF;
		} else if (pdev && inside) {
			config_write_byte(pdev, first + i, bytes[i]);
			n++;
		}
	}
	if (n && pdev->config_written)
		pdev->config_written(pdev, first, n);
}

/* Returns true when the guest asked for a reset. */
static bool reset_control(struct pci_bus *bus, uint8_t *val, bool is_write)
{
	if (!is_write) {
		*val = bus->rcr;
		return false;
	}
	bus->rcr = *val & RCR_STORED;
	return *val & RCR_RST_CPU;
}

void pci_pio(void *dev, uint16_t offset, void *data, int size, bool is_write)
{
	struct pci_bus *bus = dev;
	uint8_t *bytes = data;
	bool reset = false;

	pthread_mutex_lock(&bus->lock);
	if (offset == PORT_ADDR && size == 4) {
		if (is_write)
			bus->addr = get_le32(bytes);
		else
			put_le32(bytes, bus->addr);
	} else if (offset == PORT_RESET && size == 1) {
		reset = reset_control(bus, bytes, is_write);
	} else if (offset >= PORT_DATA && offset < PCI_PORTS) {
		data_access(bus, offset, bytes, size, is_write);
	} else if (!is_write) {
		memset(bytes, 0xFF, size);
	}
	pthread_mutex_unlock(&bus->lock);
	if (reset && bus->event)
		bus->event(bus->event_ctx, VM_EVENT_RESET);
}

bool pci_mmio(struct pci_bus *bus, uint64_t gpa, void *data, int size, bool is_write)
{
	pthread_mutex_lock(&bus->lock);
	for (int devfn = 0; devfn < MAX_DEVFN; devfn++) {
		struct pci_device *pdev = bus->devs[devfn];

		for (int bar = 0; pdev && bar < PCI_BARS; bar++) {
			uint64_t addr = pci_device_bar_addr(pdev, bar);

			if (!addr || gpa < addr || gpa + size > addr + pdev->bar_size[bar])
				continue;
			if (pdev->bar_access)
				pdev->bar_access(pdev, bar, gpa - addr, data, size, is_write);
			else if (!is_write)
				memset(data, 0xFF, size);
			pthread_mutex_unlock(&bus->lock);
			return true;
		}
	}
	pthread_mutex_unlock(&bus->lock);
	if (!is_write)
		memset(data, 0xFF, size);
	return false;
}

struct pci_bus *pci_create(vm_event_fn event, void *event_ctx)
{
	struct pci_bus *bus = calloc(1, sizeof(*bus));

	if (!bus) {
		err_set("out of memory for the PCI bus: free some host memory");
		return NULL;
	}
	pthread_mutex_init(&bus->lock, NULL);
	bus->event = event;
	bus->event_ctx = event_ctx;
	pci_device_init(&bus->host, PCI_HOST_VENDOR, PCI_HOST_DEVICE,
			PCI_HOST_CLASS, HOST_REVISION);
	/* A host bridge has no interrupt: keep its interrupt line read-only. */
	bus->host.wmask[PCI_CFG_INT_LINE] = 0;
	bus->host.devfn = PCI_DEVFN(0, 0);
	bus->devs[0] = &bus->host;
	return bus;
}

void pci_destroy(struct pci_bus *bus)
{
	if (!bus)
		return;
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}
