// SPDX-License-Identifier: GPL-2.0
/*
 * The device side of a split virtqueue (virtio/virtqueue.h) over guest
 * memory the input fills: two 64K regions of RAM, at 0 and at 128K, with a
 * gap between them that is no RAM (the host buffer behind them is
 * contiguous, so a check that lets a buffer run across the gap shows).
 *
 * The input: a 16-byte header, then the guest memory image (low region,
 * then high region; the rest zero).
 *   byte 0      log2 of the queue size (low 4 bits)
 *   byte 1      bit 0 indirect descriptors, bit 1 event index negotiated,
 *               bit 2 chains capped at 4096 bytes
 *   bytes 2-13  descriptor table, driver area, device area: guest-physical
 *               addresses, 32-bit little-endian
 *   bytes 14-15 where both indices start (to cross the 16-bit wrap)
 *
 * Chains are popped and pushed back until the queue is empty or broken.
 * Every segment must lie inside one region, chains must respect the
 * limits, and a broken queue must stay broken.
 */
#include "fuzz.h"
#include "mem/region.h"
#include "virtio/virtqueue.h"

#define REGION		0x10000ULL
#define HIGH_GPA	0x20000ULL
#define HEADER		16
#define SMALL_CAP	4096

static uint8_t *host;
static struct vq_chain chain;
static uint8_t scratch[SMALL_CAP];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	host = aligned_alloc(4096, 2 * REGION);
	if (!host)
		fuzz_fail("out of memory");
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static bool inside(const uint8_t *base, const struct vq_seg *s)
{
	return s->addr >= base && s->addr <= base + REGION &&
	       s->len <= (uint64_t)(base + REGION - s->addr);
}

static void check_chain(const struct virtqueue *vq)
{
	uint64_t nread = 0, nwrite = 0;
	bool seen_write = false;

	if (chain.head >= vq->size)
		fuzz_fail("head %u of a %u-entry queue", chain.head, vq->size);
	if (chain.nseg > VQ_MAX_SEGS)
		fuzz_fail("%u segments", chain.nseg);
	for (unsigned int i = 0; i < chain.nseg; i++) {
		const struct vq_seg *s = &chain.seg[i];

		if (!s->len)
			fuzz_fail("segment %u is empty", i);
		if (!inside(host, s) && !inside(host + REGION, s))
			fuzz_fail("segment %u (%p+%u) is outside guest RAM", i,
				  (void *)s->addr, s->len);
		if (!s->write && seen_write)
			fuzz_fail("readable segment %u after a writable one", i);
		seen_write |= s->write;
		*(s->write ? &nwrite : &nread) += s->len;
	}
	if (nread != chain.nread || nwrite != chain.nwrite)
		fuzz_fail("byte counts %llu/%llu, segments say %llu/%llu",
			  (unsigned long long)chain.nread, (unsigned long long)chain.nwrite,
			  (unsigned long long)nread, (unsigned long long)nwrite);
	if (nread + nwrite > vq->max_chain_bytes)
		fuzz_fail("chain of %llu bytes", (unsigned long long)(nread + nwrite));
}

/* Reads what it can and writes a pattern: every byte of every segment. */
static uint32_t serve(void)
{
	size_t want = chain.nread < sizeof(scratch) ? chain.nread : sizeof(scratch);
	size_t n;

	if (vq_chain_read(&chain, 0, scratch, sizeof(scratch)) != want)
		fuzz_fail("read %zu of the chain's %llu readable bytes", want,
			  (unsigned long long)chain.nread);
	want = chain.nwrite < sizeof(scratch) ? chain.nwrite : sizeof(scratch);
	memset(scratch, 0x5A, sizeof(scratch));
	n = vq_chain_write(&chain, chain.nwrite > 1 ? 1 : 0, scratch, sizeof(scratch));
	if (n > want)
		fuzz_fail("wrote %zu bytes into %llu", n, (unsigned long long)chain.nwrite);
	return (uint32_t)n;
}

static void run(struct virtqueue *vq)
{
	unsigned int popped = 0;
	int r;

	while ((r = vq_pop(vq, &chain)) == 1) {
		check_chain(vq);
		if (++popped > vq->size)
			fuzz_fail("more than %u chains from one available index", vq->size);
		if (vq_push(vq, chain.head, serve()))
			fuzz_fail("push of a popped head refused");
		vq_needs_notify(vq);
		vq_set_avail_event(vq);
	}
	if (r == -1 && (!vq->broken || vq_pop(vq, &chain) != -1 ||
			vq_push(vq, 0, 0) != -1))
		fuzz_fail("a broken queue came back");
	if (r == 0 && vq->broken)
		fuzz_fail("broken, yet vq_pop() said empty");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_mem mem = { 0 };
	struct virtqueue vq;
	uint64_t features = 0;
	size_t image;

	if (size < HEADER)
		return 0;
	image = size - HEADER < 2 * REGION ? size - HEADER : 2 * REGION;
	memset(host, 0, 2 * REGION);
	memcpy(host, data + HEADER, image);
	if (guest_mem_add(&mem, 0, REGION, host, MEM_HPA_UNKNOWN, MEM_KIND_RAM) ||
	    guest_mem_add(&mem, HIGH_GPA, REGION, host + REGION, MEM_HPA_UNKNOWN,
			  MEM_KIND_RAM))
		fuzz_fail("cannot lay out guest memory");
	if (data[1] & 1)
		features |= 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	if (data[1] & 2)
		features |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	if (vq_setup(&vq, &mem, 1U << (data[0] & 15), le32(data + 2), le32(data + 6),
		     le32(data + 10), features)) {
		if (!vq.broken || vq_pop(&vq, &chain) != -1)
			fuzz_fail("a queue refused at setup pops");
		return 0;
	}
	if (data[1] & 4)
		vq.max_chain_bytes = SMALL_CAP;
	vq.last_avail_idx = vq.used_idx = vq.signalled_used =
		(uint16_t)(data[14] | data[15] << 8);
	run(&vq);
	return 0;
}
