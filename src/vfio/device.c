// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "lib/err.h"
#include "lib/le.h"
#include "vfio/device.h"

#define CONFIG		PCI_BARS	/* region_off[] index of config space */
#define BAR_IO		0x01
#define BAR_MEM64	0x04
#define BAR_PREFETCH	0x08

static int hw_rw(void *ctx, int region, uint64_t off, void *data, int size, bool is_write)
{
	struct vfio_device *d = ctx;
	int r = region == VFIO_REGION_CONFIG ? CONFIG : region;
	ssize_t n;

	if (r < 0 || r > CONFIG || off + (uint64_t)size > d->region_size[r])
		return err_set("an access beyond region %d", region);
	if (is_write)
		n = pwrite(d->fd, data, (size_t)size, (off_t)(d->region_off[r] + off));
	else
		n = pread(d->fd, data, (size_t)size, (off_t)(d->region_off[r] + off));
	if (n != size)
		return err_set_errno("%s of region %d at %#llx failed", is_write ? "a write" :
				     "a read", region, (unsigned long long)off);
	return 0;
}

/* MSI or MSI-X (@index): @n vectors each signalling fds[i], or none. */
static int set_vectors(struct vfio_device *d, unsigned int index, const int *fds,
		       unsigned int n)
{
	size_t len = sizeof(struct vfio_irq_set) + n * sizeof(int);
	struct vfio_irq_set *set = calloc(1, len);
	int ret = 0;

	if (!set)
		return err_set("out of memory for %u interrupt vectors", n);
	set->argsz = (uint32_t)len;
	set->index = index;
	set->flags = VFIO_IRQ_SET_ACTION_TRIGGER |
		     (n ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	set->count = n;
	if (n)
		memcpy(set->data, fds, n * sizeof(int));
	if (ioctl(d->fd, VFIO_DEVICE_SET_IRQS, set))
		ret = err_set_errno("VFIO_DEVICE_SET_IRQS (%u %s vectors) failed", n,
				    index == VFIO_PCI_MSIX_IRQ_INDEX ? "MSI-X" : "MSI");
	free(set);
	return ret;
}

static int hw_set_msix(void *ctx, const int *fds, unsigned int n)
{
	return set_vectors(ctx, VFIO_PCI_MSIX_IRQ_INDEX, fds, n);
}

static int hw_set_msi(void *ctx, const int *fds, unsigned int n)
{
	return set_vectors(ctx, VFIO_PCI_MSI_IRQ_INDEX, fds, n);
}

static int hw_set_intx(void *ctx, int fd, int unmask_fd)
{
	struct vfio_device *d = ctx;
	/*
	 * The set and its one eventfd: a union, not a struct with the fd after
	 * the set's flexible data[], which clang (the fuzz build) rejects as a
	 * GNU extension.
	 */
	union {
		struct vfio_irq_set set;
		uint8_t bytes[sizeof(struct vfio_irq_set) + sizeof(int)];
	} req = { .set = { .argsz = sizeof(req), .index = VFIO_PCI_INTX_IRQ_INDEX,
			   .start = 0, .count = 1 } };

	if (fd < 0) {
		req.set.argsz = sizeof(req.set);
		req.set.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
		req.set.count = 0;
		if (ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &req.set))
			return err_set_errno("VFIO_DEVICE_SET_IRQS (INTx off) failed");
		return 0;
	}
	req.set.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	memcpy(req.set.data, &fd, sizeof(fd));
	if (ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &req))
		return err_set_errno("VFIO_DEVICE_SET_IRQS (INTx on) failed");
	/* the guest's EOI, through KVM's resample eventfd, unmasks it */
	req.set.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK;
	memcpy(req.set.data, &unmask_fd, sizeof(unmask_fd));
	if (ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &req))
		return err_set_errno("VFIO_DEVICE_SET_IRQS (INTx unmask eventfd) failed");
	return 0;
}

/* Region @index's info with its capability chain (free it). */
static struct vfio_region_info *region_info(struct vfio_device *d, unsigned int index)
{
	size_t len = sizeof(struct vfio_region_info);
	struct vfio_region_info *ri = calloc(1, len);

	while (ri) {
		ri->argsz = (uint32_t)len;
		ri->index = index;
		if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, ri)) {
			err_set_errno("VFIO_DEVICE_GET_REGION_INFO %u of %s failed", index,
				      d->info.addr);
			free(ri);
			return NULL;
		}
		if (ri->argsz <= len)
			return ri;
		len = ri->argsz;
		free(ri);
		ri = calloc(1, len);
	}
	err_set("out of memory for a region's description");
	return NULL;
}

/* The mmappable areas: the sparse capability's, else the whole region. */
static void mmap_areas(struct vfio_region_info *ri, struct vfio_bar_info *bi)
{
	uint32_t off = (ri->flags & VFIO_REGION_INFO_FLAG_CAPS) ? ri->cap_offset : 0;

	bi->nareas = 0;
	if (!(ri->flags & VFIO_REGION_INFO_FLAG_MMAP))
		return;
	while (off && off + sizeof(struct vfio_info_cap_header) <= ri->argsz) {
		struct vfio_info_cap_header *h = (void *)((char *)ri + off);

		if (h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			struct vfio_region_info_cap_sparse_mmap *sp = (void *)h;

			for (uint32_t i = 0; i < sp->nr_areas && bi->nareas < VFIO_AREAS_MAX; i++) {
				bi->areas[bi->nareas].off = sp->areas[i].offset;
				bi->areas[bi->nareas++].size = sp->areas[i].size;
			}
			return;
		}
		off = h->next;
	}
	bi->areas[0].off = 0;
	bi->areas[0].size = ri->size;
	bi->nareas = 1;
}

static int read_bar(struct vfio_device *d, int b)
{
	struct vfio_bar_info *bi = &d->info.bar[b];
	uint32_t reg = get_le32(d->info.config + 0x10 + 4 * b);
	struct vfio_region_info *ri = region_info(d, VFIO_PCI_BAR0_REGION_INDEX + b);

	if (!ri)
		return -1;
	d->region_off[b] = ri->offset;
	d->region_size[b] = ri->size;
	bi->size = ri->size;
	bi->io = reg & BAR_IO;
	bi->mem64 = !bi->io && (reg & 0x06) == BAR_MEM64;
	bi->prefetch = !bi->io && (reg & BAR_PREFETCH);
	if (bi->size && !bi->io)
		mmap_areas(ri, bi);
	free(ri);
	if (bi->nareas) {
		void *p = mmap(NULL, bi->size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
			       (off_t)d->region_off[b]);

		/* not mappable after all: every access traps, which still works */
		bi->map = p == MAP_FAILED ? NULL : p;
	}
	return 0;
}

static int read_device(struct vfio_device *d)
{
	struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	struct vfio_region_info *ri = region_info(d, VFIO_PCI_CONFIG_REGION_INDEX);

	if (!ri)
		return -1;
	d->region_off[CONFIG] = ri->offset;
	d->region_size[CONFIG] = ri->size;
	free(ri);
	if (hw_rw(d, VFIO_REGION_CONFIG, 0, d->info.config, PCI_CONFIG_SIZE, false))
		return -1;
	for (int b = 0; b < PCI_BARS; b++) {
		if (read_bar(d, b))
			return -1;
		/* the upper half of a 64-bit BAR is no BAR of its own */
		if (d->info.bar[b].mem64 && b + 1 < PCI_BARS) {
			b++;
			d->region_off[b] = 0;
			d->region_size[b] = 0;
		}
	}
	if (ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &irq) == 0)
		d->info.msix_irqs = irq.count;
	irq = (struct vfio_irq_info){ .argsz = sizeof(irq), .index = VFIO_PCI_MSI_IRQ_INDEX };
	if (ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &irq) == 0)
		d->info.msi_irqs = irq.count;
	irq = (struct vfio_irq_info){ .argsz = sizeof(irq), .index = VFIO_PCI_INTX_IRQ_INDEX };
	if (ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &irq) == 0)
		d->info.intx = irq.count >= 1;
	return 0;
}

static void reset(struct vfio_device *d)
{
	if (d->can_reset && ioctl(d->fd, VFIO_DEVICE_RESET) && errno != ENOTTY)
		fprintf(stderr, "slicevm: %s: reset failed: %s\n", d->info.addr, strerror(errno));
}

struct vfio_device *vfio_device_open(struct vfio_container *c, int group, const char *addr)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_device *d = calloc(1, sizeof(*d));
	int gfd;

	if (!d) {
		err_set("out of memory for a VFIO device");
		return NULL;
	}
	d->fd = -1;
	d->group = group;
	snprintf(d->info.addr, sizeof(d->info.addr), "%s", addr);
	d->hw = (struct vfio_hw){ .rw = hw_rw, .set_msix = hw_set_msix, .set_msi = hw_set_msi,
				  .set_intx = hw_set_intx, .ctx = d };
	gfd = vfio_container_group(c, group, addr);
	if (gfd < 0)
		goto fail;
	d->fd = ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, addr);
	if (d->fd < 0) {
		err_set_errno("cannot open %s through VFIO (is another VM using it?)", addr);
		goto fail;
	}
	if (ioctl(d->fd, VFIO_DEVICE_GET_INFO, &info)) {
		err_set_errno("VFIO_DEVICE_GET_INFO of %s failed", addr);
		goto fail;
	}
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI)) {
		err_set("%s is not a PCI device to VFIO", addr);
		goto fail;
	}
	d->can_reset = info.flags & VFIO_DEVICE_FLAGS_RESET;
	reset(d);
	if (read_device(d))
		goto fail;
	return d;
fail:
	vfio_device_close(d);
	return NULL;
}

void vfio_device_close(struct vfio_device *d)
{
	if (!d)
		return;
	for (int b = 0; b < PCI_BARS; b++)
		if (d->info.bar[b].map)
			munmap(d->info.bar[b].map, d->info.bar[b].size);
	if (d->fd >= 0) {
		reset(d);
		close(d->fd);
	}
	free(d);
}
