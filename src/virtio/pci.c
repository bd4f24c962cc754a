// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-pci, modern interface (see pci.h). The driver's register
 * accesses arrive on vCPU threads, one at a time (the PCI bus lock); the
 * device's own thread only reads its queues and calls needs_reset(), so
 * the status and ISR bytes it may touch are atomics and nothing here is
 * held while the device's ops run.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/msix.h"
#include "lib/err.h"
#include "lib/le.h"
#include "virtio/pci.h"

#define VIRTIO_PCI_VENDOR	0x1AF4
#define VIRTIO_PCI_DEVICE_BASE	0x1040	/* + device id: modern only */
#define VIRTIO_PCI_REVISION	1
#define VIRTIO_PCI_SUBSYS_ID	0x40	/* 4.1.2.1: 0x40 or higher for modern-only devices */

#define BAR_SIZE		0x8000
#define COMMON_OFF		0x0000
#define COMMON_SIZE		0x38
#define ISR_OFF			0x1000
#define ISR_SIZE		4
#define DEVICE_OFF		0x2000
#define DEVICE_MAX		0x1000
#define NOTIFY_OFF		0x3000
#define NOTIFY_MULTIPLIER	4
#define MSIX_TABLE_OFF		0x4000
#define MSIX_PBA_OFF		0x6000

/* virtio_pci_cap cfg_type (4.1.4) */
#define CAP_COMMON		1
#define CAP_NOTIFY		2
#define CAP_ISR			3
#define CAP_DEVICE		4
#define CAP_PCI_CFG		5
#define CAP_LEN			16
#define CAP_NOTIFY_LEN		20
#define CAP_PCI_CFG_LEN		20
#define CAP_BAR			4	/* offsets inside a virtio_pci_cap */
#define CAP_OFFSET		8
#define CAP_LENGTH		12
#define CAP_PCI_CFG_DATA	16

/* common configuration registers (4.1.4.3) */
#define REG_DFSELECT		0x00
#define REG_DF			0x04
#define REG_GFSELECT		0x08
#define REG_GF			0x0C
#define REG_MSIX_CONFIG		0x10
#define REG_NUM_QUEUES		0x12
#define REG_STATUS		0x14
#define REG_CONFIG_GEN		0x15
#define REG_Q_SELECT		0x16
#define REG_Q_SIZE		0x18
#define REG_Q_MSIX		0x1A
#define REG_Q_ENABLE		0x1C
#define REG_Q_NOTIFY_OFF	0x1E
#define REG_Q_DESC		0x20
#define REG_Q_DRIVER		0x28
#define REG_Q_DEVICE		0x30

#define ISR_QUEUE		1
#define ISR_CONFIG		2

struct queue_cfg {
	uint16_t size;
	uint16_t vector;
	bool enabled;
	uint64_t desc, driver, device;
};

struct virtio_pci {
	struct pci_device pdev;
	struct msix msix;
	bool msix_ready;
	const struct virtio_device_desc *desc;
	const struct guest_mem *mem;
	const struct doorbell_ops *doorbells;
	uint64_t doorbell_base;		/* where the doorbells are armed; 0: not */

	/* the driver's view, changed only under the bus lock */
	uint32_t dfselect, gfselect;
	uint64_t driver_features;
	atomic_uint_least16_t config_vector;	/* the device's thread reads it too */
	uint16_t queue_select;
	unsigned int pci_cfg;		/* the PCI_CFG capability's offset */
	struct queue_cfg qcfg[VIRTIO_MAX_QUEUES];
	bool started;			/* ops->start() succeeded, reset() owed */

	/* also touched by the device's thread */
	atomic_uint_fast8_t status;
	atomic_uint_fast8_t isr;

	int kick_fd[VIRTIO_MAX_QUEUES];
	struct virtio_queue queues[VIRTIO_MAX_QUEUES];
	struct virtio_link link;
};

static struct virtio_pci *to_vp(struct pci_device *pdev)
{
	return pdev->priv;
}

static uint64_t offered_features(const struct virtio_pci *vp)
{
	return vp->desc->features | 1ULL << VIRTIO_F_VERSION_1;
}

/* Interrupts the driver for a configuration change (or NEEDS_RESET). */
static void config_interrupt(struct virtio_pci *vp)
{
	int fd = msix_vector_fd(&vp->msix, atomic_load(&vp->config_vector));
	uint64_t one = 1;

	atomic_fetch_or(&vp->isr, ISR_CONFIG);
	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
		/* an eventfd write fails only on overflow, not reachable */
	}
}

static void needs_reset(struct virtio_link *link)
{
	struct virtio_pci *vp = (struct virtio_pci *)((char *)link -
						      offsetof(struct virtio_pci, link));

	if (atomic_fetch_or(&vp->status, VIRTIO_STATUS_NEEDS_RESET) &
	    VIRTIO_STATUS_NEEDS_RESET)
		return;
	config_interrupt(vp);
}

/* --- doorbells ---------------------------------------------------------- */

static void arm_doorbells(struct virtio_pci *vp, uint64_t base)
{
	const struct doorbell_ops *db = vp->doorbells;

	if (base == vp->doorbell_base || !db)
		return;
	for (unsigned int q = 0; q < vp->desc->nqueues && vp->doorbell_base; q++)
		db->set(db->ctx, vp->doorbell_base + NOTIFY_OFF + NOTIFY_MULTIPLIER * q, 0,
			vp->kick_fd[q], false);
	vp->doorbell_base = 0;
	if (!base)
		return;
	for (unsigned int q = 0; q < vp->desc->nqueues; q++) {
		if (db->set(db->ctx, base + NOTIFY_OFF + NOTIFY_MULTIPLIER * q, 0,
			    vp->kick_fd[q], true)) {
			/* notifications still work, through the exit path */
			while (q--)
				db->set(db->ctx, base + NOTIFY_OFF + NOTIFY_MULTIPLIER * q, 0,
					vp->kick_fd[q], false);
			return;
		}
	}
	vp->doorbell_base = base;
}

static void kick(struct virtio_pci *vp, unsigned int q)
{
	uint64_t one = 1;

	if (q < vp->desc->nqueues && write(vp->kick_fd[q], &one, sizeof(one)) < 0) {
		/* cannot overflow */
	}
}

/* --- reset and start ---------------------------------------------------- */

static void device_reset(struct virtio_pci *vp)
{
	if (vp->started)
		vp->desc->ops->reset(vp->desc->dev);
	vp->started = false;
	vp->dfselect = vp->gfselect = 0;
	vp->driver_features = 0;
	atomic_store(&vp->config_vector, MSIX_NO_VECTOR);
	vp->queue_select = 0;
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		vp->qcfg[q] = (struct queue_cfg){
			.size = q < vp->desc->nqueues ? vp->desc->queue_size : 0,
			.vector = MSIX_NO_VECTOR,
		};
	}
	for (unsigned int q = 0; q < vp->desc->nqueues; q++) {
		uint64_t n;

		/* a kick left from before the reset must not wake the new driver's queue */
		if (read(vp->kick_fd[q], &n, sizeof(n)) < 0) {
			/* EAGAIN: none pending */
		}
	}
	atomic_store(&vp->isr, 0);
	atomic_store(&vp->status, 0);
}

static bool features_acceptable(const struct virtio_pci *vp)
{
	return !(vp->driver_features & ~offered_features(vp)) &&
	       (vp->driver_features & 1ULL << VIRTIO_F_VERSION_1);
}

static int setup_queues(struct virtio_pci *vp)
{
	for (unsigned int q = 0; q < vp->desc->nqueues; q++) {
		const struct queue_cfg *c = &vp->qcfg[q];
		struct virtio_queue *vq = &vp->queues[q];

		memset(&vq->vq, 0, sizeof(vq->vq));
		vq->index = q;
		vq->kick_fd = vp->kick_fd[q];
		vq->call_fd = msix_vector_fd(&vp->msix, c->vector);
		if (!c->enabled)
			continue;
		if (vq_setup(&vq->vq, vp->mem, c->size, c->desc, c->driver, c->device,
			     vp->driver_features))
			return -1;
	}
	return 0;
}

static void driver_ok(struct virtio_pci *vp)
{
	if (!(atomic_load(&vp->status) & VIRTIO_STATUS_FEATURES_OK) || setup_queues(vp) ||
	    vp->desc->ops->start(vp->desc->dev, vp->queues, vp->desc->nqueues,
				 vp->driver_features, &vp->link)) {
		needs_reset(&vp->link);
		return;
	}
	vp->started = true;
}

static void write_status(struct virtio_pci *vp, uint8_t val)
{
	uint8_t old = atomic_load(&vp->status);

	if (!val) {
		device_reset(vp);
		return;
	}
	/* bits are only ever added until a reset (2.1.1) */
	if ((val & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    !features_acceptable(vp))
		val &= ~VIRTIO_STATUS_FEATURES_OK;
	val &= ~VIRTIO_STATUS_NEEDS_RESET;	/* the device's bit, not the driver's */
	atomic_fetch_or(&vp->status, val);
	if ((val & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK) &&
	    !(old & VIRTIO_STATUS_FAILED))
		driver_ok(vp);
}

/* --- common configuration ----------------------------------------------- */

static struct queue_cfg *selected_queue(struct virtio_pci *vp)
{
	return vp->queue_select < vp->desc->nqueues ? &vp->qcfg[vp->queue_select] : NULL;
}

/* The registers as the driver reads them, laid out as in 4.1.4.3. */
static void common_snapshot(struct virtio_pci *vp, uint8_t *r)
{
	const struct queue_cfg *c = selected_queue(vp);
	uint64_t df = offered_features(vp);

	memset(r, 0, COMMON_SIZE);
	put_le32(r + REG_DFSELECT, vp->dfselect);
	put_le32(r + REG_DF, vp->dfselect < 2 ? (uint32_t)(df >> (32 * vp->dfselect)) : 0);
	put_le32(r + REG_GFSELECT, vp->gfselect);
	put_le32(r + REG_GF, vp->gfselect < 2 ?
		 (uint32_t)(vp->driver_features >> (32 * vp->gfselect)) : 0);
	put_le16(r + REG_MSIX_CONFIG, atomic_load(&vp->config_vector));
	put_le16(r + REG_NUM_QUEUES, (uint16_t)vp->desc->nqueues);
	r[REG_STATUS] = atomic_load(&vp->status);
	r[REG_CONFIG_GEN] = 0;		/* device configuration never changes under a read */
	put_le16(r + REG_Q_SELECT, vp->queue_select);
	if (!c)
		return;			/* a queue that does not exist: size 0 */
	put_le16(r + REG_Q_SIZE, c->size);
	put_le16(r + REG_Q_MSIX, c->vector);
	put_le16(r + REG_Q_ENABLE, c->enabled);
	put_le16(r + REG_Q_NOTIFY_OFF, vp->queue_select);
	put_le64(r + REG_Q_DESC, c->desc);
	put_le64(r + REG_Q_DRIVER, c->driver);
	put_le64(r + REG_Q_DEVICE, c->device);
}

/* A vector the driver asks for: kept if it exists, else NO_VECTOR (4.1.5.1.2). */
static uint16_t vector(const struct virtio_pci *vp, uint16_t v)
{
	return v < vp->msix.nvec ? v : MSIX_NO_VECTOR;
}

/*
 * A 64-bit queue address, written whole or as two dwords (4.1.3.1 lets
 * the driver split it); other widths break the natural-width rule and are
 * dropped.
 */
static void write_addr(uint64_t *addr, unsigned int off, uint64_t val, int size)
{
	if (size == 8 && off % 8 == 0)
		*addr = val;
	else if (size == 4 && off % 8 == 0)
		*addr = (*addr & 0xFFFFFFFF00000000ULL) | (uint32_t)val;
	else if (size == 4 && off % 8 == 4)
		*addr = (*addr & 0xFFFFFFFFULL) | (uint64_t)(uint32_t)val << 32;
}

static void write_queue_reg(struct virtio_pci *vp, unsigned int off, uint64_t val, int size)
{
	struct queue_cfg *c = selected_queue(vp);

	/* a queue's set-up is fixed once it is enabled or the device runs */
	if (!c || (off != REG_Q_MSIX && (c->enabled ||
	    (atomic_load(&vp->status) & VIRTIO_STATUS_DRIVER_OK))))
		return;
	switch (off & ~7u) {
	case REG_Q_DESC:
		write_addr(&c->desc, off, val, size);
		return;
	case REG_Q_DRIVER:
		write_addr(&c->driver, off, val, size);
		return;
	case REG_Q_DEVICE:
		write_addr(&c->device, off, val, size);
		return;
	}
	/* the driver may only lower the size (4.1.4.3); a power of two is checked at start */
	if (off == REG_Q_SIZE && size == 2 && val && val <= vp->desc->queue_size)
		c->size = (uint16_t)val;
	else if (off == REG_Q_MSIX && size == 2)
		c->vector = vector(vp, (uint16_t)val);
	else if (off == REG_Q_ENABLE && size == 2 && val == 1)
		c->enabled = true;
}

static void common_write(struct virtio_pci *vp, unsigned int off, uint64_t val, int size)
{
	switch (off) {
	case REG_DFSELECT:
		if (size == 4)
			vp->dfselect = (uint32_t)val;
		return;
	case REG_GFSELECT:
		if (size == 4)
			vp->gfselect = (uint32_t)val;
		return;
	case REG_GF:
		if (size != 4 || vp->gfselect >= 2 ||
		    (atomic_load(&vp->status) & VIRTIO_STATUS_FEATURES_OK))
			return;
		vp->driver_features &= ~(0xFFFFFFFFULL << (32 * vp->gfselect));
		vp->driver_features |= (uint64_t)(uint32_t)val << (32 * vp->gfselect);
		return;
	case REG_MSIX_CONFIG:
		if (size == 2)
			atomic_store(&vp->config_vector, vector(vp, (uint16_t)val));
		return;
	case REG_STATUS:
		if (size == 1)
			write_status(vp, (uint8_t)val);
		return;
	case REG_Q_SELECT:
		if (size == 2)
			vp->queue_select = (uint16_t)val;
		return;
	}
	if (off >= REG_Q_SIZE)
		write_queue_reg(vp, off, val, size);
}

static void common_access(struct virtio_pci *vp, unsigned int off, uint8_t *data, int size,
			  bool is_write)
{
	uint8_t regs[COMMON_SIZE];
	uint64_t val = 0;

	if (off + size > COMMON_SIZE) {
		if (!is_write)
			memset(data, 0, size);
		return;
	}
	if (!is_write) {
		common_snapshot(vp, regs);
		memcpy(data, regs + off, size);
		return;
	}
	for (int i = 0; i < size; i++)
		val |= (uint64_t)data[i] << (8 * i);
	common_write(vp, off, val, size);
}

/* --- the BAR ------------------------------------------------------------ */

static void device_config(struct virtio_pci *vp, unsigned int off, uint8_t *data, int size,
			  bool is_write)
{
	const struct virtio_dev_ops *ops = vp->desc->ops;

	if (off + size > vp->desc->config_size) {
		if (!is_write)
			memset(data, 0, size);
		return;
	}
	if (!is_write)
		ops->config_read(vp->desc->dev, off, data, size);
	else if (ops->config_write)
		ops->config_write(vp->desc->dev, off, data, size);
}

static void bar_access(struct pci_device *pdev, int bar, uint64_t offset, void *data,
		       int size, bool is_write)
{
	struct virtio_pci *vp = to_vp(pdev);
	uint8_t *bytes = data;

	if (msix_bar_access(&vp->msix, bar, offset, data, size, is_write))
		return;
	if (offset < COMMON_OFF + COMMON_SIZE) {
		common_access(vp, (unsigned int)offset, bytes, size, is_write);
	} else if (offset >= ISR_OFF && offset < ISR_OFF + ISR_SIZE) {
		/* reading the ISR clears it (4.1.4.5) */
		if (!is_write) {
			memset(data, 0, size);
			if (offset == ISR_OFF)
				bytes[0] = atomic_exchange(&vp->isr, 0);
		}
	} else if (offset >= DEVICE_OFF && offset < DEVICE_OFF + DEVICE_MAX) {
		device_config(vp, (unsigned int)(offset - DEVICE_OFF), bytes, size, is_write);
	} else if (offset >= NOTIFY_OFF && offset < MSIX_TABLE_OFF) {
		if (is_write)
			kick(vp, (unsigned int)(offset - NOTIFY_OFF) / NOTIFY_MULTIPLIER);
		else
			memset(data, 0, size);
	} else if (!is_write) {
		memset(data, 0, size);
	}
}

/* Whether config bytes [reg, reg + size) touch the PCI_CFG capability's data. */
static bool touches_pci_cfg_data(const struct virtio_pci *vp, unsigned int reg, int size)
{
	unsigned int data = vp->pci_cfg + CAP_PCI_CFG_DATA;

	return vp->pci_cfg && reg < data + 4 && data < reg + (unsigned int)size;
}

/*
 * The PCI_CFG window (4.1.4.9): an access to pci_cfg_data is an access of
 * cap.length bytes at cap.offset in BAR cap.bar. One the BAR cannot take
 * (another BAR, a length other than 1, 2 or 4, misaligned, past the end)
 * does nothing.
 */
static void pci_cfg_access(struct virtio_pci *vp, bool is_write)
{
	uint8_t *cap = vp->pdev.config + vp->pci_cfg;
	uint32_t off = get_le32(cap + CAP_OFFSET), len = get_le32(cap + CAP_LENGTH);

	if (cap[CAP_BAR] != 0 || (len != 1 && len != 2 && len != 4) || off % len ||
	    off + len > BAR_SIZE)
		return;
	bar_access(&vp->pdev, 0, off, cap + CAP_PCI_CFG_DATA, (int)len, is_write);
}

static void config_read(struct pci_device *pdev, unsigned int reg, int size)
{
	struct virtio_pci *vp = to_vp(pdev);

	if (touches_pci_cfg_data(vp, reg, size))
		pci_cfg_access(vp, false);
}

static void config_written(struct pci_device *pdev, unsigned int reg, int size)
{
	struct virtio_pci *vp = to_vp(pdev);

	if (touches_pci_cfg_data(vp, reg, size))
		pci_cfg_access(vp, true);
	msix_config_written(&vp->msix);
	arm_doorbells(vp, pci_device_bar_addr(pdev, 0));
}

/* --- capabilities and creation ----------------------------------------- */

static int add_virtio_cap(struct pci_device *pdev, uint8_t type, uint32_t off, uint32_t len,
			  uint32_t multiplier)
{
	unsigned int cap_len = type == CAP_NOTIFY ? CAP_NOTIFY_LEN :
			       type == CAP_PCI_CFG ? CAP_PCI_CFG_LEN : CAP_LEN;
	int at = pci_device_add_cap(pdev, PCI_CAP_ID_VNDR, cap_len);

	if (at < 0)
		return -1;
	pdev->config[at + 2] = (uint8_t)cap_len;
	pdev->config[at + 3] = type;
	pdev->config[at + 4] = 0;	/* BAR 0 */
	put_le32(pdev->config + at + 8, off);
	put_le32(pdev->config + at + 12, len);
	if (type == CAP_NOTIFY)
		put_le32(pdev->config + at + 16, multiplier);
	if (type == CAP_PCI_CFG) {
		/* the driver picks the BAR, offset and length, then reads or writes the data */
		pdev->wmask[at + CAP_BAR] = 0xFF;
		put_le32(pdev->wmask + at + CAP_OFFSET, 0xFFFFFFFF);
		put_le32(pdev->wmask + at + CAP_LENGTH, 0xFFFFFFFF);
		put_le32(pdev->wmask + at + CAP_PCI_CFG_DATA, 0xFFFFFFFF);
		put_le32(pdev->config + at + CAP_LENGTH, 0);
	}
	return at;
}

static int build_function(struct virtio_pci *vp, const struct msi_ops *msi)
{
	const struct virtio_device_desc *d = vp->desc;
	struct pci_device *pdev = &vp->pdev;
	int at;

	pci_device_init(pdev, VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_BASE + d->device_id,
			d->pci_class, VIRTIO_PCI_REVISION);
	put_le16(pdev->config + PCI_CFG_SUBSYS_VENDOR, VIRTIO_PCI_VENDOR);
	put_le16(pdev->config + PCI_CFG_SUBSYS_ID, VIRTIO_PCI_SUBSYS_ID);
	pdev->wmask[PCI_CFG_INT_LINE] = 0;	/* no INTx pin */
	pdev->priv = vp;
	pdev->bar_access = bar_access;
	pdev->config_written = config_written;
	pdev->config_read = config_read;
	if (pci_device_set_bar(pdev, 0, BAR_SIZE, false) ||
	    add_virtio_cap(pdev, CAP_COMMON, COMMON_OFF, COMMON_SIZE, 0) < 0 ||
	    add_virtio_cap(pdev, CAP_ISR, ISR_OFF, ISR_SIZE, 0) < 0 ||
	    add_virtio_cap(pdev, CAP_NOTIFY, NOTIFY_OFF, NOTIFY_MULTIPLIER * d->nqueues,
			   NOTIFY_MULTIPLIER) < 0)
		return -1;
	/* only a device with configuration has the capability (Linux refuses an empty one) */
	if (d->config_size &&
	    add_virtio_cap(pdev, CAP_DEVICE, DEVICE_OFF, d->config_size, 0) < 0)
		return -1;
	at = add_virtio_cap(pdev, CAP_PCI_CFG, 0, 0, 0);
	if (at < 0)
		return -1;
	vp->pci_cfg = (unsigned int)at;
	/* msix_destroy() undoes a partial msix_init() too */
	vp->msix_ready = true;
	return msix_init(&vp->msix, pdev, d->nqueues + 1, 0, MSIX_TABLE_OFF, MSIX_PBA_OFF, msi);
}

struct virtio_pci *virtio_pci_create(const struct virtio_device_desc *desc,
				     const struct guest_mem *mem, const struct msi_ops *msi,
				     const struct doorbell_ops *doorbells)
{
	struct virtio_pci *vp;

	if (!desc->nqueues || desc->nqueues > VIRTIO_MAX_QUEUES || !desc->queue_size ||
	    (desc->queue_size & (desc->queue_size - 1)) || desc->config_size > DEVICE_MAX) {
		err_set("%s: %u queues of %u, %u config bytes: not a device virtio-pci can carry",
			desc->name, desc->nqueues, desc->queue_size, desc->config_size);
		return NULL;
	}
	vp = calloc(1, sizeof(*vp));
	if (!vp) {
		err_set("out of memory for %s", desc->name);
		return NULL;
	}
	vp->desc = desc;
	vp->mem = mem;
	vp->doorbells = doorbells;
	vp->link.needs_reset = needs_reset;
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++)
		vp->kick_fd[q] = -1;
	for (unsigned int q = 0; q < desc->nqueues; q++) {
		vp->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vp->kick_fd[q] < 0) {
			err_set_errno("cannot make the notification eventfd of %s", desc->name);
			virtio_pci_destroy(vp);
			return NULL;
		}
	}
	if (build_function(vp, msi)) {
		virtio_pci_destroy(vp);
		return NULL;
	}
	device_reset(vp);
	return vp;
}

int virtio_pci_attach(struct virtio_pci *vp, struct pci_bus *bus)
{
	if (pci_register_device(bus, &vp->pdev))
		return -1;
	/* before the vCPUs run: nothing races the bus here */
	arm_doorbells(vp, pci_device_bar_addr(&vp->pdev, 0));
	return 0;
}

struct pci_device *virtio_pci_device(struct virtio_pci *vp)
{
	return &vp->pdev;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (!vp)
		return;
	if (vp->started)
		vp->desc->ops->reset(vp->desc->dev);
	vp->started = false;
	arm_doorbells(vp, 0);
	if (vp->msix_ready)
		msix_destroy(&vp->msix);
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++)
		if (vp->kick_fd[q] >= 0)
			close(vp->kick_fd[q]);
	free(vp);
}
