/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VIRTIO_VIRTQUEUE_H
#define SLICEVM_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem/region.h"

/*
 * The device side of a split virtqueue (virtio 1.2, 2.7). The three areas
 * live in guest RAM, which the guest may rewrite at any moment: every value
 * read from them is read once into a local copy, checked, then used. The
 * queue knows nothing of transports or interrupts; a device (or its
 * transport) owns it and calls these functions from one thread.
 *
 * Anything malformed the driver did (a bad chain, the available index
 * running ahead by more than the queue size) marks the queue broken: it
 * stays so, every later call fails, and the owner must set the device's
 * DEVICE_NEEDS_RESET status bit (2.1.2) and tell the driver.
 */

#define VQ_MAX_SIZE		32768	/* the spec's largest split queue */

/*
 * Segments a chain may have. 1024 is what one preadv()/pwritev() takes
 * (UIO_MAXIOV), so a chain always goes to a backend in one call; Linux's
 * drivers use far fewer (a block request is seg_max + 2, a packet 19).
 */
#define VQ_MAX_SEGS		1024

/* A chain's total length: what the used ring's 32-bit length can report. */
#define VQ_MAX_CHAIN_BYTES	0xFFFFFFFFULL

/* Feature bits the queue itself understands (2.7.5.3, 2.7.7, 2.7.10). */
#define VIRTIO_RING_F_INDIRECT_DESC	28
#define VIRTIO_RING_F_EVENT_IDX		29

#define VIRTQ_DESC_F_NEXT		1
#define VIRTQ_DESC_F_WRITE		2
#define VIRTQ_DESC_F_INDIRECT		4
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1
#define VIRTQ_USED_F_NO_NOTIFY		1

/* The ring layouts, little-endian in guest memory (2.7.5, 2.7.6, 2.7.8). */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];	/* then used_event, after ring[size] */
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];	/* then avail_event, after ring[size] */
};

struct virtqueue {
	const struct guest_mem *mem;
	uint16_t size;			/* a power of two, 1..VQ_MAX_SIZE */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct virtq_desc *desc;	/* host views of the three areas */
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t last_avail_idx;	/* the next available entry to take */
	uint16_t used_idx;		/* the next used entry to fill */
	uint16_t signalled_used;	/* used_idx at the last vq_needs_notify() */
	uint64_t max_chain_bytes;	/* VQ_MAX_CHAIN_BYTES unless the device wants less */
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;			/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool broken;			/* the driver broke the rules; sticky */
};

struct vq_seg {
	uint8_t *addr;			/* host pointer to the buffer */
	uint32_t len;			/* never 0 */
	bool write;			/* device-writable */
};

/*
 * One chain taken from the queue. Readable segments come first, then the
 * writable ones. Zero-length descriptors count against the limits but give
 * no segment. About 16K: keep it off small stacks.
 */
struct vq_chain {
	uint16_t head;			/* give it back to vq_push() */
	unsigned int nseg;
	uint64_t nread, nwrite;		/* bytes in readable, writable segments */
	struct vq_seg seg[VQ_MAX_SEGS];
};

/*
 * Sets @vq up for a queue of @size entries whose areas the driver placed at
 * the given guest-physical addresses, with the negotiated @features (the
 * VIRTIO_RING_F_* bits are used, the rest ignored). Refused (-1, err_msg()
 * set): a size that is not a power of two up to 32768, a misaligned area
 * (descriptors 16, driver area 2, device area 4) or one not wholly inside
 * one region of guest RAM.
 */
int vq_setup(struct virtqueue *vq, const struct guest_mem *mem, unsigned int size,
	     uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa, uint64_t features);

/*
 * Takes the next chain the driver made available into @out: 1 taken,
 * 0 nothing new, -1 the queue is broken (now or before; vq->broken set).
 *
 * A chain is broken when: a next index or head is out of its table; it has
 * more descriptors than its table (a loop); a buffer is not wholly inside
 * one region of guest RAM; a readable descriptor follows a writable one
 * (2.7.4.2: we choose to refuse it rather than reorder); it has more than
 * VQ_MAX_SEGS non-empty buffers or more than max_chain_bytes in all; an
 * indirect descriptor appears without the feature, with NEXT, inside an
 * indirect table, or names a table that is empty, not a multiple of 16
 * bytes, longer than 32768 entries or not in guest RAM.
 */
int vq_pop(struct virtqueue *vq, struct vq_chain *out);

/*
 * Returns chain @head to the driver with @written bytes written into it;
 * the used index is published with release semantics, after the element.
 * -1 if the queue is broken or @head is not a descriptor index.
 */
int vq_push(struct virtqueue *vq, uint16_t head, uint32_t written);

/*
 * Whether the driver wants an interrupt for what was pushed since the last
 * call (2.7.7, 2.7.10): with event index, whether the used index passed the
 * driver's used_event; without, unless it set VIRTQ_AVAIL_F_NO_INTERRUPT.
 * False when nothing was pushed.
 */
bool vq_needs_notify(struct virtqueue *vq);

/*
 * With event index: asks the driver to notify once it makes entry
 * last_avail_idx available (writes avail_event). Call it when the queue
 * looks empty, then vq_pop() once more: a buffer made available before the
 * driver saw avail_event would otherwise wait for the next kick.
 */
void vq_set_avail_event(struct virtqueue *vq);

/*
 * Copy out of the chain's readable bytes / into its writable bytes,
 * starting @offset bytes into them. Return the bytes copied: fewer than
 * @len when the chain ends first.
 */
size_t vq_chain_read(const struct vq_chain *chain, uint64_t offset, void *buf, size_t len);
size_t vq_chain_write(const struct vq_chain *chain, uint64_t offset, const void *buf,
		      size_t len);

#endif
