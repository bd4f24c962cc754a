// SPDX-License-Identifier: GPL-2.0
/*
 * The one place that knows the guest's device list and wires it to KVM.
 *
 * The legacy platform: COM1, the i8042 (for reboot=k), the CMOS RTC, PCI
 * configuration space with a host bridge, and the ACPI power registers.
 * KVM itself emulates the PIC, IOAPIC, LAPICs and PIT.
 *
 * On PCI bus 0: virtio-rng, then one virtio-blk per --disk, in order (so
 * the guest names them vda, vdb, ...), then one virtio-net per --net
 * (eth0, eth1, ...). Each virtio device has an I/O
 * thread of its own (virtio/worker.h), created here on the main thread,
 * which inherits its housekeeping CPUs, and enters the I/O sandbox.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/acpi_pm.h"
#include "devices/i8042.h"
#include "devices/pci.h"
#include "devices/rtc.h"
#include "devices/uart.h"
#include "lib/err.h"
#include "arch/x86/platform.h"
#include "virtio/blk.h"
#include "virtio/net.h"
#include "virtio/pci.h"
#include "virtio/rng.h"
#include "virtio/worker.h"
#include "vfio/device.h"
#include "vfio/passthrough.h"
#include "vmm/irq.h"
#include "vmm/sandbox.h"
#include "vmm/vm.h"
#include "vmm/vm_devices.h"

struct vm_devices {
	struct uart *uart;
	struct i8042 *i8042;
	struct rtc *rtc;
	struct pci_bus *pci;
	struct acpi_pm *acpi_pm;
	struct vm_irq *irq;

	struct worker *rng_worker;
	struct virtio_rng *rng;
	struct virtio_pci *rng_pci;

	int ndisks;
	struct worker *blk_worker[VM_MAX_DISKS];
	struct virtio_blk *blk[VM_MAX_DISKS];
	struct virtio_pci *blk_pci[VM_MAX_DISKS];

	int nnets;
	struct worker *net_worker[VM_MAX_NETS];
	struct virtio_net *net[VM_MAX_NETS];
	struct virtio_pci *net_pci[VM_MAX_NETS];

	int npassthrough;
	struct passthrough *passthrough[VM_MAX_DEVICES];
	struct memslot_ops slots;
};

/* KVM memory slots for passed-through BARs: above guest RAM's (MEM_REGIONS_MAX). */
#define BAR_SLOT_BASE	32

static void guest_event(void *ctx, enum vm_event event)
{
	struct vm *vm = ctx;

	vm_request_exit(vm, event == VM_EVENT_POWEROFF ? VM_EXIT_POWEROFF :
			VM_EXIT_REBOOT, NULL);
}

static int register_ports(struct vm *vm)
{
	struct vm_devices *d = vm->devices;
	struct iobus *bus = &vm->pio;

	return iobus_register(bus, PORT_COM1, UART_PORTS, uart_pio, d->uart, "COM1") ||
	       iobus_register(bus, PORT_I8042_DATA, 1, i8042_data_pio, d->i8042, "i8042 data") ||
	       iobus_register(bus, PORT_I8042_CMD, 1, i8042_cmd_pio, d->i8042, "i8042 command") ||
	       iobus_register(bus, PORT_RTC_INDEX, 2, rtc_pio, d->rtc, "CMOS RTC") ||
	       iobus_register(bus, PORT_PCI_CONFIG_ADDR, PCI_PORTS, pci_pio, d->pci, "PCI config") ||
	       iobus_register(bus, PORT_ACPI_SLEEP_CONTROL, ACPI_PM_PORTS, acpi_pm_pio,
			      d->acpi_pm, "ACPI PM") ? -1 : 0;
}

static void irq_error(void *ctx, const char *msg)
{
	vm_request_exit(ctx, VM_EXIT_ERROR, "%s", msg);
}

/* The first thing an I/O thread does: confine itself. */
static int io_thread_init(void *arg)
{
	return sandbox_enabled() ? sandbox_enter(SANDBOX_IO) : 0;
}

/* A virtio device on bus 0, behind its own virtio-pci function. */
static struct virtio_pci *attach_virtio(struct vm *vm, const struct virtio_device_desc *desc)
{
	struct vm_devices *d = vm->devices;
	struct virtio_pci *vp = virtio_pci_create(desc, &vm->ram.layout, vm_irq_msi(d->irq),
						  vm_irq_doorbells(d->irq));

	if (vp && virtio_pci_attach(vp, d->pci)) {
		virtio_pci_destroy(vp);
		return NULL;
	}
	return vp;
}

/* One queue per vCPU, as many as the device serves. */
static unsigned int blk_queues(const struct vm *vm)
{
	return vm->cfg->cpus < VIRTIO_BLK_MAX_QUEUES ? (unsigned int)vm->cfg->cpus :
						     VIRTIO_BLK_MAX_QUEUES;
}

/* Disk @i: its I/O thread, its device (which takes the opened image), its function. */
static int create_disk(struct vm *vm, int i)
{
	struct vm_devices *d = vm->devices;
	const struct disk_config *dc = &vm->cfg->disks[i];
	char name[24];		/* the thread keeps 15 characters: "virtio-blk29" fits */

	snprintf(name, sizeof(name), "virtio-blk%d", i);
	d->blk_worker[i] = worker_create(name);
	if (!d->blk_worker[i])
		return -1;
	d->ndisks = i + 1;
	d->blk[i] = virtio_blk_create(vm->disks[i], dc->serial, blk_queues(vm), d->blk_worker[i]);
	vm->disks[i] = NULL;	/* the device owns it now, even on failure */
	if (!d->blk[i])
		return -1;
	d->blk_pci[i] = attach_virtio(vm, virtio_blk_desc(d->blk[i]));
	if (!d->blk_pci[i] || worker_start(d->blk_worker[i], io_thread_init, NULL))
		return -1;
	return 0;
}

/*
 * A net's MAC when none is given: locally administered unicast (02:...),
 * the rest a hash of the VM's name and the net's index, so a VM keeps its
 * addresses (and its DHCP leases) across restarts.
 */
static void default_mac(const char *name, int index, uint8_t mac[6])
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (const char *c = name; *c; c++)
		h = (h ^ (uint8_t)*c) * 0x100000001b3ULL;
	h = (h ^ (uint64_t)index) * 0x100000001b3ULL;
	mac[0] = 0x02;
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
}

/* Net @i: its I/O thread, its device (which takes the tap), its function. */
static int create_net(struct vm *vm, int i)
{
	struct vm_devices *d = vm->devices;
	const struct net_config *nc = &vm->cfg->nets[i];
	uint8_t mac[6];
	char name[24];

	if (nc->mac_set)
		memcpy(mac, nc->mac, sizeof(mac));
	else
		default_mac(vm->cfg->name, i, mac);
	snprintf(name, sizeof(name), "virtio-net%d", i);
	d->net_worker[i] = worker_create(name);
	if (!d->net_worker[i])
		return -1;
	d->nnets = i + 1;
	d->net[i] = virtio_net_create(vm->taps[i], mac, nc->vhost, d->net_worker[i]);
	vm->taps[i] = NULL;	/* the device owns it now, even on failure */
	if (!d->net[i])
		return -1;
	d->net_pci[i] = attach_virtio(vm, virtio_net_desc(d->net[i]));
	if (!d->net_pci[i] || worker_start(d->net_worker[i], io_thread_init, NULL))
		return -1;
	return 0;
}

/* A passed-through BAR's piece as a KVM memory slot (@size 0 removes it). */
static int set_bar_slot(void *ctx, int slot, uint64_t gpa, uint64_t size, void *host)
{
	return vm_set_memory_slot(ctx, (uint32_t)slot, gpa, host, size);
}

/* The slice's PCI functions, after the virtio devices. */
static int create_passthrough(struct vm *vm)
{
	struct vm_devices *d = vm->devices;

	d->slots = (struct memslot_ops){ .set = set_bar_slot, .ctx = vm };
	for (int i = 0; i < vm->npassthrough; i++) {
		struct vfio_device *vd = vm->vfio_devs[i];

		d->passthrough[i] = passthrough_create(&vd->info, &vd->hw, vm_irq_msi(d->irq),
						       vm_irq_intx(d->irq), &d->slots,
						       BAR_SLOT_BASE + i * PT_SLOTS_PER_DEVICE,
						       irq_error, vm);
		if (!d->passthrough[i])
			return -1;
		d->npassthrough = i + 1;
		if (passthrough_attach(d->passthrough[i], d->pci))
			return -1;
	}
	return 0;
}

static int create_virtio(struct vm *vm)
{
	struct vm_devices *d = vm->devices;

	uint64_t start64, end64;

	/* the windows the DSDT's PCI0 describes (boot/acpi.c) */
	guest_mem_pci64_window(&vm->ram.layout, &start64, &end64);
	if (pci_set_mmio_window(d->pci, PCI_MMIO_START, PCI_MMIO_END) ||
	    pci_set_mmio64_window(d->pci, start64, end64))
		return -1;
	d->rng_worker = worker_create("virtio-rng");
	if (!d->rng_worker)
		return -1;
	d->rng = virtio_rng_create(d->rng_worker);
	if (!d->rng)
		return -1;
	d->rng_pci = attach_virtio(vm, virtio_rng_desc(d->rng));
	if (!d->rng_pci || worker_start(d->rng_worker, io_thread_init, NULL))
		return -1;
	for (int i = 0; i < vm->cfg->ndisks; i++)
		if (create_disk(vm, i))
			return -1;
	for (int i = 0; i < vm->cfg->nnets; i++)
		if (create_net(vm, i))
			return -1;
	return 0;
}

int vm_devices_create(struct vm *vm)
{
	struct vm_devices *d = calloc(1, sizeof(*d));

	if (!d)
		return err_set("out of memory for devices");
	vm->devices = d;
	/* every interrupt, ISA line or MSI, goes through the VM's irq object */
	d->irq = vm_irq_create(vm->fd, irq_error, vm);
	if (!d->irq)
		return -1;
	d->uart = uart_create(vm->console_write_fd, IRQ_COM1, vm_irq_line, d->irq);
	d->i8042 = i8042_create(guest_event, vm);
	d->rtc = rtc_create(NULL, NULL);
	d->pci = pci_create(guest_event, vm);
	d->acpi_pm = acpi_pm_create(guest_event, vm);
	if (!d->uart || !d->i8042 || !d->rtc || !d->pci || !d->acpi_pm)
		return -1;
	return register_ports(vm) || create_virtio(vm) || create_passthrough(vm) ? -1 : 0;
}

static json_object *device_json_at(const struct pci_device *pdev, const char *type)
{
	json_object *o = json_object_new_object();
	int devfn = pdev->devfn;
	char pci[16];

	snprintf(pci, sizeof(pci), "00:%02x.%x", (devfn >> 3) & 0x1F, devfn & 7);
	json_object_object_add(o, "pci", json_object_new_string(pci));
	json_object_object_add(o, "type", json_object_new_string(type));
	return o;
}

static json_object *device_json(struct virtio_pci *vp, const char *type)
{
	return device_json_at(virtio_pci_device(vp), type);
}

/* Its BARs as the guest has them: number, size, address (0: none now), 32 or 64 bits. */
static json_object *bars_json(struct pci_bus *bus, const struct pci_device *pdev)
{
	json_object *bars = json_object_new_array();

	for (int b = 0; b < PCI_BARS; b++) {
		json_object *bo;

		if (!pdev->bar_size[b])
			continue;
		bo = json_object_new_object();
		json_object_object_add(bo, "bar", json_object_new_int(b));
		json_object_object_add(bo, "size", json_object_new_int64((int64_t)pdev->bar_size[b]));
		json_object_object_add(bo, "address",
				       json_object_new_int64((int64_t)pci_bus_bar_addr(bus, pdev, b)));
		json_object_object_add(bo, "bits", json_object_new_int(pdev->bar64[b] ? 64 : 32));
		json_object_array_add(bars, bo);
	}
	return bars;
}

/* A passed-through function: where it is on the host, what maps its BARs and DMA. */
static json_object *passthrough_json(const struct vm *vm, int i)
{
	struct passthrough *pt = vm->devices->passthrough[i];
	json_object *o = device_json_at(passthrough_pci(pt), "vfio-pci");

	json_object_object_add(o, "host", json_object_new_string(vm->passthrough[i]));
	json_object_object_add(o, "iommu_group", json_object_new_int(vm->vfio_devs[i]->group));
	json_object_object_add(o, "bars", bars_json(vm->devices->pci, passthrough_pci(pt)));
	json_object_object_add(o, "bar_bytes_mapped",
			       json_object_new_int64((int64_t)passthrough_mapped_bytes(pt)));
	json_object_object_add(o, "dma_maps", json_object_new_int(vm->vfio->nmaps));
	json_object_object_add(o, "dma_bytes", json_object_new_int64((int64_t)vm->vfio->mapped));
	json_object_object_add(o, "dma_max_page", json_object_new_int64((int64_t)vm->vfio->max_page));
	return o;
}

static json_object *disk_json(const struct vm *vm, int i)
{
	const struct disk_config *dc = &vm->cfg->disks[i];
	json_object *o = device_json(vm->devices->blk_pci[i], "virtio-blk");

	json_object_object_add(o, "path", json_object_new_string(dc->path));
	json_object_object_add(o, "readonly", json_object_new_boolean(dc->readonly));
	json_object_object_add(o, "serial", dc->serial ? json_object_new_string(dc->serial) : NULL);
	return o;
}

static json_object *net_json(const struct vm *vm, int i)
{
	struct vm_devices *d = vm->devices;
	json_object *o = device_json(d->net_pci[i], "virtio-net");
	const uint8_t *m = virtio_net_mac(d->net[i]);
	char mac[18];

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
		 m[4], m[5]);
	json_object_object_add(o, "tap", json_object_new_string(vm->cfg->nets[i].tap));
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "vhost", json_object_new_boolean(virtio_net_uses_vhost(d->net[i])));
	return o;
}

json_object *vm_devices_json(struct vm *vm)
{
	struct vm_devices *d = vm->devices;
	json_object *a = json_object_new_array();

	if (!d || !d->rng_pci)
		return a;
	json_object_array_add(a, device_json(d->rng_pci, "virtio-rng"));
	for (int i = 0; i < d->ndisks && d->blk_pci[i]; i++)
		json_object_array_add(a, disk_json(vm, i));
	for (int i = 0; i < d->nnets && d->net_pci[i]; i++)
		json_object_array_add(a, net_json(vm, i));
	for (int i = 0; i < d->npassthrough && d->passthrough[i]; i++)
		json_object_array_add(a, passthrough_json(vm, i));
	return a;
}

bool vm_devices_mmio(struct vm *vm, uint64_t gpa, void *data, int size, bool is_write)
{
	return pci_mmio(vm->devices->pci, gpa, data, size, is_write);
}

/*
 * The power button: an edge on its interrupt line, which the guest's ACPI
 * Generic Event Device (boot/acpi.c) turns into Notify(PWRB, 0x80).
 */
void vm_devices_power_button(struct vm *vm)
{
	vm_irq_line(vm->devices->irq, IRQ_POWER_BUTTON, 1);
	vm_irq_line(vm->devices->irq, IRQ_POWER_BUTTON, 0);
}

void vm_devices_stop(struct vm *vm)
{
	uart_stop(vm->devices->uart);
}

void vm_devices_destroy(struct vm *vm)
{
	struct vm_devices *d = vm->devices;

	if (!d)
		return;
	/* passed-through functions: vectors off, BAR slots gone (vm_vfio_close() resets them) */
	for (int i = 0; i < d->npassthrough; i++)
		passthrough_destroy(d->passthrough[i]);
	/* transports first (a driver-started device is reset), then threads, then devices */
	for (int i = 0; i < d->nnets; i++) {
		virtio_pci_destroy(d->net_pci[i]);
		worker_destroy(d->net_worker[i]);
		virtio_net_destroy(d->net[i]);
	}
	for (int i = 0; i < d->ndisks; i++) {
		virtio_pci_destroy(d->blk_pci[i]);
		worker_destroy(d->blk_worker[i]);
		virtio_blk_destroy(d->blk[i]);
	}
	virtio_pci_destroy(d->rng_pci);
	worker_destroy(d->rng_worker);
	if (d->rng)
		virtio_rng_destroy(d->rng);
	if (d->uart)
		uart_destroy(d->uart);
	if (d->i8042)
		i8042_destroy(d->i8042);
	if (d->rtc)
		rtc_destroy(d->rtc);
	if (d->pci)
		pci_destroy(d->pci);
	if (d->acpi_pm)
		acpi_pm_destroy(d->acpi_pm);
	vm_irq_destroy(d->irq);	/* last: every device above drove its interrupts through it */
	free(d);
	vm->devices = NULL;
}

size_t vm_devices_console_input(struct vm *vm, const uint8_t *buf, size_t len)
{
	return uart_receive(vm->devices->uart, buf, len);
}

size_t vm_devices_console_space(struct vm *vm)
{
	return uart_rx_space(vm->devices->uart);
}

int vm_devices_console_wait_fd(struct vm *vm)
{
	return uart_rx_wait_fd(vm->devices->uart);
}
