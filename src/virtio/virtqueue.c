// SPDX-License-Identifier: GPL-2.0
/* The device side of a split virtqueue (see virtqueue.h). */
#include <endian.h>
#include <string.h>

#include "lib/err.h"
#include "virtio/virtqueue.h"

#define DESC_SIZE		sizeof(struct virtq_desc)
#define MAX_INDIRECT_ENTRIES	32768	/* 2.7.5.3.1: a table holds at most this */

/*
 * Offsets of the two event words: the driver's used_event after the
 * available ring, the device's avail_event after the used ring.
 */
static uint64_t avail_bytes(unsigned int size)
{
	return 4 + 2ULL * size + 2;
}

static uint64_t used_bytes(unsigned int size)
{
	return 4 + 8ULL * size + 2;
}

static void *area(const struct guest_mem *mem, const char *what, uint64_t gpa,
		  uint64_t len, uint64_t align)
{
	void *p;

	if (gpa & (align - 1)) {
		err_set("virtqueue %s at %#llx is not %llu-byte aligned", what,
			(unsigned long long)gpa, (unsigned long long)align);
		return NULL;
	}
	p = guest_ptr(mem, gpa, len);
	if (!p)
		err_set("virtqueue %s at %#llx+%#llx is not in guest RAM", what,
			(unsigned long long)gpa, (unsigned long long)len);
	return p;
}

int vq_setup(struct virtqueue *vq, const struct guest_mem *mem, unsigned int size,
	     uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa, uint64_t features)
{
	memset(vq, 0, sizeof(*vq));
	vq->broken = true;	/* until every check passed */
	if (!size || size > VQ_MAX_SIZE || (size & (size - 1)))
		return err_set("virtqueue size %u is not a power of two up to %u", size,
			       VQ_MAX_SIZE);
	vq->desc = area(mem, "descriptor table", desc_gpa, DESC_SIZE * size, 16);
	vq->avail = area(mem, "driver area", avail_gpa, avail_bytes(size), 2);
	vq->used = area(mem, "device area", used_gpa, used_bytes(size), 4);
	if (!vq->desc || !vq->avail || !vq->used)
		return -1;
	vq->mem = mem;
	vq->size = (uint16_t)size;	/* 32768 fits */
	vq->desc_gpa = desc_gpa;
	vq->avail_gpa = avail_gpa;
	vq->used_gpa = used_gpa;
	vq->max_chain_bytes = VQ_MAX_CHAIN_BYTES;
	vq->event_idx = features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	vq->broken = false;
	return 0;
}

static int vq_break(struct virtqueue *vq)
{
	vq->broken = true;
	return -1;
}

/*
 * One descriptor, read once: the copy goes through memcpy (the table may
 * be unaligned when indirect) and the barrier keeps the compiler from
 * reading guest memory again in place of the copy.
 */
static void read_desc(const struct virtq_desc *src, struct virtq_desc *d)
{
	memcpy(d, src, sizeof(*d));
	__asm__ __volatile__("" ::: "memory");
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

static uint16_t load16(const uint16_t *p, int order)
{
	return le16toh(__atomic_load_n(p, order));
}

/* Where the walk is: the table it reads, its length and its budget. */
struct walk {
	const struct virtq_desc *table;
	uint32_t entries;
	uint32_t budget;	/* descriptors left before it must be a loop */
	bool in_indirect;
	bool seen_write;
};

static bool enter_indirect(const struct virtqueue *vq, struct walk *w,
			   const struct virtq_desc *d)
{
	if (!vq->indirect || w->in_indirect || (d->flags & VIRTQ_DESC_F_NEXT))
		return false;
	if (!d->len || d->len % DESC_SIZE || d->len / DESC_SIZE > MAX_INDIRECT_ENTRIES)
		return false;
	w->table = guest_ptr(vq->mem, d->addr, d->len);
	if (!w->table)
		return false;
	w->entries = d->len / DESC_SIZE;
	w->budget = w->entries;
	w->in_indirect = true;
	return true;
}

static bool add_buffer(const struct virtqueue *vq, struct walk *w,
		       const struct virtq_desc *d, struct vq_chain *out)
{
	bool write = d->flags & VIRTQ_DESC_F_WRITE;
	struct vq_seg *s;
	uint8_t *p;

	if (!write && w->seen_write)
		return false;
	w->seen_write |= write;
	if (!d->len)
		return true;	/* nothing to touch: its address is never used */
	p = guest_ptr(vq->mem, d->addr, d->len);
	if (!p || out->nseg == VQ_MAX_SEGS ||
	    d->len > vq->max_chain_bytes - out->nread - out->nwrite)
		return false;
	s = &out->seg[out->nseg++];
	s->addr = p;
	s->len = d->len;
	s->write = write;
	if (write)
		out->nwrite += d->len;
	else
		out->nread += d->len;
	return true;
}

/*
 * Walks the chain from @head. Termination does not rely on the next
 * indices: each table allows as many descriptors as it has entries.
 */
static bool walk_chain(const struct virtqueue *vq, uint16_t head, struct vq_chain *out)
{
	struct walk w = { .table = vq->desc, .entries = vq->size, .budget = vq->size };
	struct virtq_desc d;
	uint32_t idx = head;

	out->head = head;
	out->nseg = 0;
	out->nread = out->nwrite = 0;
	for (;;) {
		if (idx >= w.entries || !w.budget--)
			return false;
		read_desc(&w.table[idx], &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (!enter_indirect(vq, &w, &d))
				return false;
			idx = 0;
			continue;
		}
		if (!add_buffer(vq, &w, &d, out))
			return false;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return true;
		idx = d.next;
	}
}

int vq_pop(struct virtqueue *vq, struct vq_chain *out)
{
	uint16_t avail_idx, pending, head;

	if (vq->broken)
		return -1;
	/* acquire: the entries and descriptors were written before the index */
	avail_idx = load16(&vq->avail->idx, __ATOMIC_ACQUIRE);
	pending = (uint16_t)(avail_idx - vq->last_avail_idx);
	if (!pending)
		return 0;
	if (pending > vq->size)
		return vq_break(vq);
	head = load16(&vq->avail->ring[vq->last_avail_idx & (vq->size - 1)],
		      __ATOMIC_RELAXED);
	if (!walk_chain(vq, head, out))
		return vq_break(vq);
	vq->last_avail_idx++;
	return 1;
}

int vq_push(struct virtqueue *vq, uint16_t head, uint32_t written)
{
	struct virtq_used_elem *e;

	if (vq->broken || head >= vq->size)
		return -1;
	e = &vq->used->ring[vq->used_idx & (vq->size - 1)];
	__atomic_store_n(&e->id, htole32(head), __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, htole32(written), __ATOMIC_RELAXED);
	vq->used_idx++;
	/* release: the driver that sees the index sees the element */
	__atomic_store_n(&vq->used->idx, htole16(vq->used_idx), __ATOMIC_RELEASE);
	return 0;
}

/* 2.7.10: did the index move from @old to @new past the driver's @event? */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

bool vq_needs_notify(struct virtqueue *vq)
{
	uint16_t old = vq->signalled_used, new_idx = vq->used_idx;

	if (vq->broken || old == new_idx)
		return false;
	vq->signalled_used = new_idx;
	/*
	 * Full barrier: the used index we stored must be visible before we
	 * read the driver's suppression word, or both sides could miss each
	 * other (the driver re-checks the used index after writing it).
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx)
		return need_event(load16(&vq->avail->ring[vq->size], __ATOMIC_RELAXED),
				  new_idx, old);
	return !(load16(&vq->avail->flags, __ATOMIC_RELAXED) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

void vq_set_avail_event(struct virtqueue *vq)
{
	uint16_t *avail_event = (uint16_t *)&vq->used->ring[vq->size];

	if (vq->broken || !vq->event_idx)
		return;
	__atomic_store_n(avail_event, htole16(vq->last_avail_idx), __ATOMIC_RELAXED);
	/* the caller's next read of the available index must come after this */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Copies between @buf and the chain's segments of one direction. */
static size_t chain_copy(const struct vq_chain *chain, bool write, uint64_t offset,
			 uint8_t *buf, size_t len, bool to_guest)
{
	size_t done = 0;

	for (unsigned int i = 0; i < chain->nseg && i < VQ_MAX_SEGS && done < len; i++) {
		const struct vq_seg *s = &chain->seg[i];
		size_t n;

		if (s->write != write)
			continue;
		if (offset >= s->len) {
			offset -= s->len;
			continue;
		}
		n = s->len - offset;
		if (n > len - done)
			n = len - done;
		if (to_guest)
			memcpy(s->addr + offset, buf + done, n);
		else
			memcpy(buf + done, s->addr + offset, n);
		done += n;
		offset = 0;
	}
	return done;
}

size_t vq_chain_read(const struct vq_chain *chain, uint64_t offset, void *buf, size_t len)
{
	return chain_copy(chain, false, offset, buf, len, false);
}

size_t vq_chain_write(const struct vq_chain *chain, uint64_t offset, const void *buf,
		      size_t len)
{
	return chain_copy(chain, true, offset, (uint8_t *)buf, len, true);
}
