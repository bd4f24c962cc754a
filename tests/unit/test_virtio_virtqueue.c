// SPDX-License-Identifier: GPL-2.0
/*
 * The split virtqueue's device side (virtio/virtqueue.h), driven by a small
 * driver written here over fake guest memory: two 64K regions with a 64K
 * gap between them, both inside one malloc'd buffer so that ASan sees any
 * access outside it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/err.h"
#include "mem/region.h"
#include "virtio/virtqueue.h"

#define KiB		1024ULL
#define REGION		(64 * KiB)
#define HIGH_GPA	(128 * KiB)	/* the second region; 64K-128K is a gap */
#define DESC_GPA	0x1000ULL
#define AVAIL_GPA	0x2000ULL
#define USED_GPA	0x3000ULL
#define DATA_GPA	0x8000ULL	/* buffers and indirect tables from here */
#define QSIZE		8

#define F_INDIRECT	(1ULL << VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT_IDX	(1ULL << VIRTIO_RING_F_EVENT_IDX)

struct drv {
	uint8_t *host;
	struct guest_mem mem;
	struct virtqueue vq;
	uint16_t avail_idx;
	struct vq_chain chain;
};

static uint8_t *gp(struct drv *d, uint64_t gpa)
{
	return gpa >= HIGH_GPA ? d->host + REGION + (gpa - HIGH_GPA) : d->host + gpa;
}

static int drv_init(struct drv *d, unsigned int size, uint64_t features)
{
	memset(d->host, 0, 2 * REGION);
	memset(&d->mem, 0, sizeof(d->mem));
	d->avail_idx = 0;
	assert_int_equal(guest_mem_add(&d->mem, 0, REGION, d->host, MEM_HPA_UNKNOWN,
				       MEM_KIND_RAM), 0);
	assert_int_equal(guest_mem_add(&d->mem, HIGH_GPA, REGION, d->host + REGION,
				       MEM_HPA_UNKNOWN, MEM_KIND_RAM), 0);
	return vq_setup(&d->vq, &d->mem, size, DESC_GPA, AVAIL_GPA, USED_GPA, features);
}

static int setup(void **state)
{
	struct drv *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	d->host = aligned_alloc(4096, 2 * REGION);
	if (!d->host)
		return -1;
	if (drv_init(d, QSIZE, 0))
		return -1;
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct drv *d = *state;

	free(d->host);
	free(d);
	return 0;
}

static void put_desc(uint8_t *table, unsigned int i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct virtq_desc desc = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy(table + i * sizeof(desc), &desc, sizeof(desc));
}

static void desc(struct drv *d, unsigned int i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	put_desc(gp(d, DESC_GPA), i, addr, len, flags, next);
}

static struct virtq_avail *avail(struct drv *d)
{
	return (struct virtq_avail *)gp(d, AVAIL_GPA);
}

static struct virtq_used *used(struct drv *d)
{
	return (struct virtq_used *)gp(d, USED_GPA);
}

static void publish(struct drv *d, uint16_t head)
{
	avail(d)->ring[d->avail_idx % d->vq.size] = head;
	d->avail_idx++;
	__atomic_store_n(&avail(d)->idx, d->avail_idx, __ATOMIC_RELEASE);
}

static void set_used_event(struct drv *d, uint16_t event)
{
	avail(d)->ring[d->vq.size] = event;
}

static void assert_broken(struct drv *d)
{
	assert_int_equal(vq_pop(&d->vq, &d->chain), -1);
	assert_true(d->vq.broken);
	/* and it stays so */
	assert_int_equal(vq_pop(&d->vq, &d->chain), -1);
	assert_int_equal(vq_push(&d->vq, 0, 0), -1);
}

static void test_simple_chain(void **state)
{
	struct drv *d = *state;
	char buf[16];

	assert_int_equal(vq_pop(&d->vq, &d->chain), 0);
	memcpy(gp(d, DATA_GPA), "hello", 5);
	memcpy(gp(d, HIGH_GPA), " world", 6);
	desc(d, 3, DATA_GPA, 5, VIRTQ_DESC_F_NEXT, 5);
	desc(d, 5, HIGH_GPA, 6, 0, 0);
	publish(d, 3);
	assert_int_equal(vq_pop(&d->vq, &d->chain), 1);
	assert_int_equal(d->chain.head, 3);
	assert_int_equal(d->chain.nseg, 2);
	assert_int_equal(d->chain.nread, 11);
	assert_int_equal(d->chain.nwrite, 0);
	assert_ptr_equal(d->chain.seg[0].addr, gp(d, DATA_GPA));
	assert_ptr_equal(d->chain.seg[1].addr, gp(d, HIGH_GPA));
	assert_false(d->chain.seg[1].write);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(vq_chain_read(&d->chain, 0, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "hello world");
	assert_int_equal(vq_chain_read(&d->chain, 3, buf, 4), 4);
	assert_memory_equal(buf, "lo w", 4);
	assert_int_equal(vq_chain_read(&d->chain, 11, buf, 4), 0);
	assert_int_equal(vq_chain_write(&d->chain, 0, buf, 4), 0);
	assert_int_equal(vq_pop(&d->vq, &d->chain), 0);
	assert_int_equal(d->vq.last_avail_idx, 1);
}

static void test_read_write_split(void **state)
{
	struct drv *d = *state;
	uint8_t *out = gp(d, DATA_GPA + 0x100);

	desc(d, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(d, 1, DATA_GPA + 0x100, 3, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	desc(d, 2, DATA_GPA + 0x200, 0, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 4);
	desc(d, 4, HIGH_GPA + 0x10, 5, VIRTQ_DESC_F_WRITE, 0);
	publish(d, 0);
	assert_int_equal(vq_pop(&d->vq, &d->chain), 1);
	/* the empty descriptor gives no segment */
	assert_int_equal(d->chain.nseg, 3);
	assert_int_equal(d->chain.nread, 16);
	assert_int_equal(d->chain.nwrite, 8);
	assert_true(d->chain.seg[1].write && d->chain.seg[2].write);
	assert_int_equal(vq_chain_write(&d->chain, 1, "abcdefghij", 10), 7);
	assert_memory_equal(out, "\0ab", 3);
	assert_memory_equal(gp(d, HIGH_GPA + 0x10), "cdefg", 5);
	assert_int_equal(*gp(d, HIGH_GPA + 0x15), 0);
}

static void test_used_ring(void **state)
{
	struct drv *d = *state;

	desc(d, 6, DATA_GPA, 4, VIRTQ_DESC_F_WRITE, 0);
	desc(d, 7, DATA_GPA + 4, 4, VIRTQ_DESC_F_WRITE, 0);
	publish(d, 6);
	publish(d, 7);
	assert_int_equal(vq_pop(&d->vq, &d->chain), 1);
	assert_int_equal(vq_pop(&d->vq, &d->chain), 1);
	assert_int_equal(d->chain.head, 7);
	assert_int_equal(vq_push(&d->vq, 7, 4), 0);
	assert_int_equal(vq_push(&d->vq, 6, 2), 0);
	assert_int_equal(used(d)->idx, 2);
	assert_int_equal(used(d)->ring[0].id, 7);
	assert_int_equal(used(d)->ring[0].len, 4);
	assert_int_equal(used(d)->ring[1].id, 6);
	assert_int_equal(used(d)->ring[1].len, 2);
	assert_int_equal(vq_push(&d->vq, QSIZE, 0), -1);
	assert_int_equal(used(d)->idx, 2);
	assert_false(d->vq.broken);
}

static void test_index_wrap(void **state)
{
	struct drv *d = *state;

	/* both sides start just below the 16-bit wrap */
	d->vq.last_avail_idx = d->avail_idx = 0xFFFE;
	d->vq.used_idx = d->vq.signalled_used = 0xFFFE;
	avail(d)->idx = 0xFFFE;
	for (unsigned int i = 0; i < 4; i++) {
		desc(d, i, DATA_GPA + i, 1, 0, 0);
		publish(d, (uint16_t)i);
	}
	assert_int_equal(avail(d)->idx, 2);
	for (unsigned int i = 0; i < 4; i++) {
		assert_int_equal(vq_pop(&d->vq, &d->chain), 1);
		assert_int_equal(d->chain.head, i);
		assert_int_equal(vq_push(&d->vq, d->chain.head, 0), 0);
	}
	assert_int_equal(vq_pop(&d->vq, &d->chain), 0);
	assert_int_equal(used(d)->idx, 2);
	/* ring slots follow the index modulo the size */
	assert_int_equal(used(d)->ring[6].id, 0);
	assert_int_equal(used(d)->ring[1].id, 3);
}

static void test_event_idx(void **state)
{
	struct drv *d = *state;

	assert_int_equal(drv_init(d, QSIZE, F_EVENT_IDX), 0);
	assert_true(d->vq.event_idx);
	assert_false(vq_needs_notify(&d->vq));	/* nothing pushed */
	/* used_event 0: wants to hear when entry 0 is used */
	set_used_event(d, 0);
	vq_push(&d->vq, 0, 0);
	assert_true(vq_needs_notify(&d->vq));
	/* used_event 2: not at entry 1 ... */
	set_used_event(d, 2);
	vq_push(&d->vq, 0, 0);
	assert_false(vq_needs_notify(&d->vq));
	/* ... but when entries 2 and 3 go together, 2 was passed */
	vq_push(&d->vq, 0, 0);
	vq_push(&d->vq, 0, 0);
	assert_true(vq_needs_notify(&d->vq));
	/* NO_INTERRUPT means nothing with event index */
	avail(d)->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	set_used_event(d, 4);
	vq_push(&d->vq, 0, 0);
	assert_true(vq_needs_notify(&d->vq));
}

static void test_event_idx_wrap(void **state)
{
	struct drv *d = *state;

	assert_int_equal(drv_init(d, QSIZE, F_EVENT_IDX), 0);
	d->vq.used_idx = d->vq.signalled_used = 0xFFFF;
	set_used_event(d, 0xFFFF);
	vq_push(&d->vq, 0, 0);			/* 0xFFFF -> 0 */
	assert_true(vq_needs_notify(&d->vq));
	set_used_event(d, 1);
	vq_push(&d->vq, 0, 0);			/* 0 -> 1: entry 1 not yet used */
	assert_false(vq_needs_notify(&d->vq));

	d->vq.used_idx = d->vq.signalled_used = 0xFFFE;
	for (int i = 0; i < 3; i++)
		vq_push(&d->vq, 0, 0);		/* 0xFFFE -> 1: entries FFFE, FFFF, 0 */
	set_used_event(d, 0);
	assert_true(vq_needs_notify(&d->vq));
	d->vq.signalled_used = 0xFFFE;
	set_used_event(d, 1);
	assert_false(vq_needs_notify(&d->vq));
	d->vq.signalled_used = 0xFFFE;
	set_used_event(d, 0xFFFD);		/* behind: already told */
	assert_false(vq_needs_notify(&d->vq));
}

static void test_no_interrupt(void **state)
{
	struct drv *d = *state;

	assert_false(d->vq.event_idx);
	vq_push(&d->vq, 0, 0);
	assert_true(vq_needs_notify(&d->vq));
	avail(d)->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	set_used_event(d, 0);	/* ignored without event index */
	vq_push(&d->vq, 0, 0);
	assert_false(vq_needs_notify(&d->vq));
	avail(d)->flags = 0;
	assert_false(vq_needs_notify(&d->vq));	/* nothing new */
	vq_push(&d->vq, 0, 0);
	assert_true(vq_needs_notify(&d->vq));
}

static void test_avail_event(void **state)
{
	struct drv *d = *state;
	uint16_t *avail_event;

	avail_event = (uint16_t *)&used(d)->ring[QSIZE];
	*avail_event = 0x5555;
	vq_set_avail_event(&d->vq);		/* not negotiated: untouched */
	assert_int_equal(*avail_event, 0x5555);
	assert_int_equal(drv_init(d, QSIZE, F_EVENT_IDX), 0);
	desc(d, 0, DATA_GPA, 1, 0, 0);
	publish(d, 0);
	publish(d, 0);
	assert_int_equal(vq_pop(&d->vq, &d->chain), 1);
	assert_int_equal(vq_pop(&d->vq, &d->chain), 1);
	vq_set_avail_event(&d->vq);
	avail_event = (uint16_t *)&used(d)->ring[QSIZE];
	assert_int_equal(*avail_event, 2);
}

static void test_indirect(void **state)
{
	struct drv *d = *state;
	uint8_t *table = gp(d, HIGH_GPA + 0x1000);

	assert_int_equal(drv_init(d, QSIZE, F_INDIRECT), 0);
	put_desc(table, 0, DATA_GPA, 10, VIRTQ_DESC_F_NEXT, 2);
	put_desc(table, 2, DATA_GPA + 0x10, 20, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	put_desc(table, 1, HIGH_GPA, 30, VIRTQ_DESC_F_WRITE, 0);
	/* WRITE on the indirect descriptor itself is ignored */
	desc(d, 5, HIGH_GPA + 0x1000, 3 * 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	publish(d, 5);
	assert_int_equal(vq_pop(&d->vq, &d->chain), 1);
	assert_int_equal(d->chain.head, 5);
	assert_int_equal(d->chain.nseg, 3);
	assert_int_equal(d->chain.nread, 10);
	assert_int_equal(d->chain.nwrite, 50);

	/* an indirect table at the end of a direct chain */
	desc(d, 0, DATA_GPA, 1, VIRTQ_DESC_F_NEXT, 1);
	desc(d, 1, HIGH_GPA + 0x1000, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	publish(d, 0);
	assert_int_equal(vq_pop(&d->vq, &d->chain), 1);
	assert_int_equal(d->chain.nseg, 4);
	assert_int_equal(d->chain.nread, 11);
}

/* Hostile chains: each must break the queue. */

static void test_loop(void **state)
{
	struct drv *d = *state;

	desc(d, 0, DATA_GPA, 1, VIRTQ_DESC_F_NEXT, 1);
	desc(d, 1, DATA_GPA, 1, VIRTQ_DESC_F_NEXT, 0);
	publish(d, 0);
	assert_broken(d);
}

static void test_self_loop_zero_length(void **state)
{
	struct drv *d = *state;

	/* empty descriptors still count against the limit */
	desc(d, 2, 0, 0, VIRTQ_DESC_F_NEXT, 2);
	publish(d, 2);
	assert_broken(d);
}

static void test_longer_than_queue(void **state)
{
	struct drv *d = *state;

	/* every entry once, then back to the first: size + 1 descriptors */
	for (unsigned int i = 0; i < QSIZE; i++)
		desc(d, i, DATA_GPA, 1, VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % QSIZE));
	publish(d, 0);
	assert_broken(d);
}

static void test_all_of_queue(void **state)
{
	struct drv *d = *state;

	/* exactly size descriptors is allowed */
	for (unsigned int i = 0; i < QSIZE; i++)
		desc(d, i, DATA_GPA, 1, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
	desc(d, QSIZE - 1, DATA_GPA, 1, 0, 0);
	publish(d, 0);
	assert_int_equal(vq_pop(&d->vq, &d->chain), 1);
	assert_int_equal(d->chain.nseg, QSIZE);
}

static void test_next_out_of_range(void **state)
{
	struct drv *d = *state;

	desc(d, 0, DATA_GPA, 1, VIRTQ_DESC_F_NEXT, QSIZE);
	publish(d, 0);
	assert_broken(d);
}

static void test_head_out_of_range(void **state)
{
	struct drv *d = *state;

	publish(d, 0xFFFF);
	assert_broken(d);
}

static void test_outside_ram(void **state)
{
	struct drv *d = *state;

	desc(d, 0, HIGH_GPA + REGION, 1, 0, 0);
	publish(d, 0);
	assert_broken(d);
}

static void test_in_gap(void **state)
{
	struct drv *d = *state;

	desc(d, 0, REGION + 0x100, 1, VIRTQ_DESC_F_WRITE, 0);
	publish(d, 0);
	assert_broken(d);
}

static void test_across_gap(void **state)
{
	struct drv *d = *state;

	/* the host buffer is contiguous here; guest RAM is not */
	desc(d, 0, REGION - 8, 16, 0, 0);
	publish(d, 0);
	assert_broken(d);
}

static void test_last_byte(void **state)
{
	struct drv *d = *state;

	desc(d, 0, HIGH_GPA + REGION - 8, 8, VIRTQ_DESC_F_WRITE, 0);
	publish(d, 0);
	assert_int_equal(vq_pop(&d->vq, &d->chain), 1);
	assert_int_equal(vq_chain_write(&d->chain, 0, "12345678", 8), 8);
}

static void test_address_overflow(void **state)
{
	struct drv *d = *state;

	desc(d, 0, UINT64_MAX - 4, 0x100, 0, 0);
	publish(d, 0);
	assert_broken(d);
}

static void test_huge_length(void **state)
{
	struct drv *d = *state;

	desc(d, 0, 0, UINT32_MAX, 0, 0);
	publish(d, 0);
	assert_broken(d);
}

static void test_chain_bytes_cap(void **state)
{
	struct drv *d = *state;

	d->vq.max_chain_bytes = 100;
	desc(d, 0, DATA_GPA, 60, VIRTQ_DESC_F_NEXT, 1);
	desc(d, 1, DATA_GPA, 40, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	desc(d, 2, DATA_GPA, 0, VIRTQ_DESC_F_WRITE, 0);
	publish(d, 0);
	assert_int_equal(vq_pop(&d->vq, &d->chain), 1);	/* exactly 100 */
	desc(d, 2, DATA_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
	publish(d, 0);
	assert_broken(d);
}

static void test_zero_length_anywhere(void **state)
{
	struct drv *d = *state;

	/* an empty descriptor's address is never looked at */
	desc(d, 0, UINT64_MAX, 0, 0, 0);
	publish(d, 0);
	assert_int_equal(vq_pop(&d->vq, &d->chain), 1);
	assert_int_equal(d->chain.nseg, 0);
	assert_int_equal(d->chain.nread + d->chain.nwrite, 0);
}

static void test_read_after_write(void **state)
{
	struct drv *d = *state;

	desc(d, 0, DATA_GPA, 4, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	desc(d, 1, DATA_GPA + 4, 4, 0, 0);
	publish(d, 0);
	assert_broken(d);
}

static void test_avail_jump(void **state)
{
	struct drv *d = *state;

	desc(d, 0, DATA_GPA, 1, 0, 0);
	avail(d)->idx = QSIZE;		/* a full ring is fine */
	for (int i = 0; i < QSIZE; i++)
		assert_int_equal(vq_pop(&d->vq, &d->chain), 1);
	avail(d)->idx = 2 * QSIZE + 1;	/* size + 1 ahead */
	assert_broken(d);
}

static void test_indirect_not_negotiated(void **state)
{
	struct drv *d = *state;

	put_desc(gp(d, DATA_GPA), 0, DATA_GPA + 0x100, 1, 0, 0);
	desc(d, 0, DATA_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	publish(d, 0);
	assert_broken(d);
}

static void indirect_case(struct drv *d, uint64_t addr, uint32_t len, uint16_t flags)
{
	assert_int_equal(drv_init(d, QSIZE, F_INDIRECT), 0);
	put_desc(gp(d, DATA_GPA), 0, DATA_GPA + 0x100, 1, 0, 0);
	put_desc(gp(d, DATA_GPA), 1, DATA_GPA + 0x100, 1, 0, 0);
	desc(d, 0, addr, len, VIRTQ_DESC_F_INDIRECT | flags, 1);
	desc(d, 1, DATA_GPA, 1, 0, 0);
	publish(d, 0);
	assert_broken(d);
}

static void test_indirect_bad_tables(void **state)
{
	struct drv *d = *state;

	indirect_case(d, DATA_GPA, 0, 0);
	indirect_case(d, DATA_GPA, 24, 0);
	indirect_case(d, DATA_GPA, 17, 0);
	indirect_case(d, REGION, 32, 0);			/* in the gap */
	indirect_case(d, REGION - 16, 32, 0);			/* across it */
	indirect_case(d, UINT64_MAX - 15, 32, 0);		/* wraps */
	indirect_case(d, DATA_GPA, 16 * 32769, 0);		/* too many entries */
	indirect_case(d, DATA_GPA, 32, VIRTQ_DESC_F_NEXT);	/* INDIRECT with NEXT */
}

static void test_indirect_nested(void **state)
{
	struct drv *d = *state;
	uint8_t *table = gp(d, DATA_GPA);

	assert_int_equal(drv_init(d, QSIZE, F_INDIRECT), 0);
	put_desc(table, 0, DATA_GPA + 0x100, 1, VIRTQ_DESC_F_NEXT, 1);
	put_desc(table, 1, DATA_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	desc(d, 0, DATA_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	publish(d, 0);
	assert_broken(d);
}

static void test_indirect_loop(void **state)
{
	struct drv *d = *state;
	uint8_t *table = gp(d, DATA_GPA);

	assert_int_equal(drv_init(d, QSIZE, F_INDIRECT), 0);
	put_desc(table, 0, DATA_GPA + 0x100, 1, VIRTQ_DESC_F_NEXT, 1);
	put_desc(table, 1, DATA_GPA + 0x100, 1, VIRTQ_DESC_F_NEXT, 0);
	desc(d, 0, DATA_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	publish(d, 0);
	assert_broken(d);

	/* NEXT indexes the table: 2 is past a 2-entry table */
	assert_int_equal(drv_init(d, QSIZE, F_INDIRECT), 0);
	put_desc(table, 0, DATA_GPA + 0x100, 1, VIRTQ_DESC_F_NEXT, 2);
	desc(d, 0, DATA_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	desc(d, 2, DATA_GPA, 1, 0, 0);
	publish(d, 0);
	assert_broken(d);
}

static void test_too_many_segments(void **state)
{
	struct drv *d = *state;
	uint8_t *table = gp(d, HIGH_GPA);
	unsigned int n = VQ_MAX_SEGS + 1;

	/* a table longer than the queue is fine (Linux makes them) ... */
	assert_int_equal(drv_init(d, QSIZE, F_INDIRECT), 0);
	for (unsigned int i = 0; i < VQ_MAX_SEGS; i++)
		put_desc(table, i, DATA_GPA + i, 1, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
	put_desc(table, VQ_MAX_SEGS - 1, DATA_GPA, 1, 0, 0);
	desc(d, 0, HIGH_GPA, VQ_MAX_SEGS * 16, VIRTQ_DESC_F_INDIRECT, 0);
	publish(d, 0);
	assert_int_equal(vq_pop(&d->vq, &d->chain), 1);
	assert_int_equal(d->chain.nseg, VQ_MAX_SEGS);

	/* ... but not more segments than VQ_MAX_SEGS */
	put_desc(table, VQ_MAX_SEGS - 1, DATA_GPA, 1, VIRTQ_DESC_F_NEXT, VQ_MAX_SEGS);
	put_desc(table, VQ_MAX_SEGS, DATA_GPA, 1, 0, 0);
	desc(d, 1, HIGH_GPA, n * 16, VIRTQ_DESC_F_INDIRECT, 0);
	publish(d, 1);
	assert_broken(d);
}

static void test_setup_refused(void **state)
{
	struct drv *d = *state;
	struct virtqueue *vq = &d->vq;
	const struct guest_mem *m = &d->mem;

	assert_int_equal(vq_setup(vq, m, 0, DESC_GPA, AVAIL_GPA, USED_GPA, 0), -1);
	assert_non_null(strstr(err_msg(), "power of two"));
	assert_int_equal(vq_setup(vq, m, 6, DESC_GPA, AVAIL_GPA, USED_GPA, 0), -1);
	assert_int_equal(vq_setup(vq, m, 65536, DESC_GPA, AVAIL_GPA, USED_GPA, 0), -1);
	assert_true(vq->broken);
	assert_int_equal(vq_pop(vq, &d->chain), -1);

	assert_int_equal(vq_setup(vq, m, 8, DESC_GPA + 8, AVAIL_GPA, USED_GPA, 0), -1);
	assert_non_null(strstr(err_msg(), "16-byte aligned"));
	assert_int_equal(vq_setup(vq, m, 8, DESC_GPA, AVAIL_GPA + 1, USED_GPA, 0), -1);
	assert_int_equal(vq_setup(vq, m, 8, DESC_GPA, AVAIL_GPA, USED_GPA + 2, 0), -1);

	assert_int_equal(vq_setup(vq, m, 8, REGION, AVAIL_GPA, USED_GPA, 0), -1);
	assert_non_null(strstr(err_msg(), "not in guest RAM"));
	assert_int_equal(vq_setup(vq, m, 8, REGION - 64, AVAIL_GPA, USED_GPA, 0), -1);
	assert_int_equal(vq_setup(vq, m, 8, DESC_GPA, REGION - 20, USED_GPA, 0), -1);
	/* the used ring's avail_event is part of it */
	assert_int_equal(vq_setup(vq, m, 8, DESC_GPA, AVAIL_GPA, REGION - 68, 0), -1);
	assert_int_equal(vq_setup(vq, m, 8, DESC_GPA, AVAIL_GPA, REGION - 72, 0), 0);
	assert_int_equal(vq_setup(vq, m, 8, DESC_GPA, AVAIL_GPA, UINT64_MAX - 3, 0), -1);
	/* 4096 entries: a 64K table fills the high region exactly */
	assert_int_equal(vq_setup(vq, m, 4096, HIGH_GPA, AVAIL_GPA, 0x4000, 0), 0);
	assert_int_equal(vq_setup(vq, m, 8192, HIGH_GPA, AVAIL_GPA, 0x4000, 0), -1);
	assert_false(drv_init(d, 32768, 0) == 0);	/* 512K of descriptors: no */
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_simple_chain),
		T(test_read_write_split),
		T(test_used_ring),
		T(test_index_wrap),
		T(test_event_idx),
		T(test_event_idx_wrap),
		T(test_no_interrupt),
		T(test_avail_event),
		T(test_indirect),
		T(test_loop),
		T(test_self_loop_zero_length),
		T(test_longer_than_queue),
		T(test_all_of_queue),
		T(test_next_out_of_range),
		T(test_head_out_of_range),
		T(test_outside_ram),
		T(test_in_gap),
		T(test_across_gap),
		T(test_last_byte),
		T(test_address_overflow),
		T(test_huge_length),
		T(test_chain_bytes_cap),
		T(test_zero_length_anywhere),
		T(test_read_after_write),
		T(test_avail_jump),
		T(test_indirect_not_negotiated),
		T(test_indirect_bad_tables),
		T(test_indirect_nested),
		T(test_indirect_loop),
		T(test_too_many_segments),
		T(test_setup_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
