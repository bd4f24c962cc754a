/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_TESTS_VQSIM_H
#define SLICEVM_TESTS_VQSIM_H

/*
 * A driver's side of split virtqueues in fake guest memory, shared by the
 * tests that drive a virtio device or its transport as a guest would;
 * include after <cmocka.h>.
 *
 * Guest RAM (struct vs_ram) is one malloc'd region at guest-physical 0,
 * with a bump allocator for rings, buffers and indirect tables. A queue
 * (struct vs_queue) has its three areas there and the driver's indices:
 * a chain of readable then writable buffers (direct, or through one
 * indirect table) is written into the next free descriptors, made
 * available and kicked through the kick eventfd; the driver then waits for
 * the used ring, with a timeout so that a bug fails the test rather than
 * hangs it, counting the interrupts of the call eventfd meanwhile.
 * Descriptors are taken in turn around the table: a test keeps no more of
 * them in flight than the table holds.
 *
 * The transport's part, for the tests of a device that play it: struct
 * vs_transport holds the struct virtio_queue array a device's start()
 * gets, each set up at DRIVER_OK on its queue's areas (vq_setup()) with
 * the queue's kick and call eventfds, and a struct vs_link that records
 * the device's needs_reset(). For the tests of PCI functions: config-space
 * and BAR accesses as the guest makes them, and a fake msi_ops that
 * records what each route is told.
 */

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "devices/iodev.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "mem/region.h"
#include "virtio/virtio.h"

#define VS_TIMEOUT_MS	10000	/* a wait this long fails the test */
#define VS_PAGE		4096

/* A wait starts at vs_now() and fails the test once vs_late(). */
static inline struct timespec vs_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

/* Has a wait that began at @t0 run over VS_TIMEOUT_MS? */
static inline bool vs_late(const struct timespec *t0)
{
	struct timespec t = vs_now();

	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000 >
	       VS_TIMEOUT_MS;
}

/* An eventfd's counter, read and cleared; 0 when nothing was written. */
static inline uint64_t vs_efd_take(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n)) {
		assert_int_equal(errno, EAGAIN);
		return 0;
	}
	return n;
}

/* ---- Guest RAM ----------------------------------------------------------- */

struct vs_ram {
	uint8_t *host;
	uint64_t size;
	uint64_t brk;		/* vs_alloc() takes from here up */
	struct guest_mem gm;	/* what the device and vq_setup() are given */
};

/*
 * @size bytes of zeroed RAM at guest-physical 0, vs_alloc() starting at
 * @brk. 0, or -1 (for a cmocka setup to return); vs_ram_free() either way.
 */
static inline int vs_ram_init(struct vs_ram *r, uint64_t size, uint64_t brk)
{
	memset(r, 0, sizeof(*r));
	r->host = aligned_alloc(VS_PAGE, size);
	if (!r->host)
		return -1;
	memset(r->host, 0, size);
	r->size = size;
	r->brk = brk;
	return guest_mem_add(&r->gm, 0, size, r->host, MEM_HPA_UNKNOWN, MEM_KIND_RAM) ? -1 : 0;
}

static inline void vs_ram_free(struct vs_ram *r)
{
	free(r->host);
	r->host = NULL;
}

static inline uint8_t *vs_gp(const struct vs_ram *r, uint64_t gpa)
{
	return r->host + gpa;
}

static inline uint64_t vs_alloc(struct vs_ram *r, uint64_t size, uint64_t align)
{
	uint64_t gpa = (r->brk + align - 1) & ~(align - 1);

	r->brk = gpa + size;
	assert_true(r->brk <= r->size);
	return gpa;
}

/* @bytes from @r on pages of their own (nothing else allocated shares them). */
static inline uint64_t vs_alloc_pages(struct vs_ram *r, uint64_t bytes)
{
	return vs_alloc(r, (bytes + VS_PAGE - 1) & ~(uint64_t)(VS_PAGE - 1), VS_PAGE);
}

/* ---- A queue: its areas and the driver's indices ------------------------- */

struct vs_queue {
	struct vs_ram *ram;
	unsigned int index;		/* the queue's number, for the device and messages */
	unsigned int size;		/* entries, a power of two */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t avail_idx;		/* the driver's next available entry */
	uint16_t next_desc;		/* the next descriptor it takes */
	uint16_t used_seen;		/* used entries it has consumed */
	uint64_t irqs;			/* interrupts counted while waiting, not yet taken */
	int kick_fd, call_fd;		/* eventfds, from the first vs_queue_setup() */
};

/* The areas' sizes with their event words (virtio 1.2, 2.7.6, 2.7.8). */
static inline uint64_t vs_avail_bytes(unsigned int size)
{
	return 4 + 2ULL * size + 2;
}

static inline uint64_t vs_used_bytes(unsigned int size)
{
	return 4 + 8ULL * size + 2;
}

/* Queue @index of @size entries, its three areas from @r, each on pages of its own. */
static inline void vs_queue_init(struct vs_queue *q, struct vs_ram *r, unsigned int index,
				 unsigned int size)
{
	memset(q, 0, sizeof(*q));
	q->ram = r;
	q->index = index;
	q->size = size;
	q->desc_gpa = vs_alloc_pages(r, sizeof(struct virtq_desc) * size);
	q->avail_gpa = vs_alloc_pages(r, vs_avail_bytes(size));
	q->used_gpa = vs_alloc_pages(r, vs_used_bytes(size));
	q->kick_fd = q->call_fd = -1;
}

static inline void vs_queue_close(struct vs_queue *q)
{
	if (q->kick_fd >= 0)
		close(q->kick_fd);
	if (q->call_fd >= 0)
		close(q->call_fd);
	q->kick_fd = q->call_fd = -1;
}

/* A new driver's rings: all three areas zeroed, its indices back to 0. */
static inline void vs_queue_reset(struct vs_queue *q)
{
	memset(vs_gp(q->ram, q->desc_gpa), 0, sizeof(struct virtq_desc) * q->size);
	memset(vs_gp(q->ram, q->avail_gpa), 0, vs_avail_bytes(q->size));
	memset(vs_gp(q->ram, q->used_gpa), 0, vs_used_bytes(q->size));
	q->avail_idx = q->next_desc = q->used_seen = 0;
}

/*
 * The transport's part at DRIVER_OK: @tq (what the device's start() gets)
 * set up on the queue's areas with @features, and given its eventfds.
 */
static inline void vs_queue_setup(struct vs_queue *q, struct virtio_queue *tq, uint64_t features)
{
	assert_int_equal(vq_setup(&tq->vq, &q->ram->gm, q->size, q->desc_gpa, q->avail_gpa,
				  q->used_gpa, features), 0);
	tq->index = q->index;
	if (q->kick_fd < 0)
		q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->call_fd < 0)
		q->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(q->kick_fd >= 0 && q->call_fd >= 0);
	tq->kick_fd = q->kick_fd;
	tq->call_fd = q->call_fd;
}

/* Fresh rings, then set up: what a driver and its transport do at each start. */
static inline void vs_queue_start(struct vs_queue *q, struct virtio_queue *tq, uint64_t features)
{
	vs_queue_reset(q);
	vs_queue_setup(q, tq, features);
}

static inline uint8_t *vs_desc_table(const struct vs_queue *q)
{
	return vs_gp(q->ram, q->desc_gpa);
}

static inline struct virtq_avail *vs_avail(const struct vs_queue *q)
{
	return (struct virtq_avail *)vs_gp(q->ram, q->avail_gpa);
}

static inline struct virtq_used *vs_used(const struct vs_queue *q)
{
	return (struct virtq_used *)vs_gp(q->ram, q->used_gpa);
}

/* ---- The driver: chains in, used entries out ----------------------------- */

/* One buffer of a chain. */
struct vs_buf {
	uint64_t gpa;
	uint32_t len;
	bool write;		/* device-writable */
};

static inline void vs_put_desc(uint8_t *table, unsigned int i, uint64_t addr, uint32_t len,
			       uint16_t flags, uint16_t next)
{
	struct virtq_desc d = {
		.addr = htole64(addr), .len = htole32(len), .flags = htole16(flags),
		.next = htole16(next),
	};

	memcpy(table + i * sizeof(d), &d, sizeof(d));
}

/* Makes the chain at @head available (the index published after the entry). */
static inline void vs_publish(struct vs_queue *q, uint16_t head)
{
	struct virtq_avail *a = vs_avail(q);

	a->ring[q->avail_idx % q->size] = htole16(head);
	q->avail_idx++;
	__atomic_store_n(&a->idx, htole16(q->avail_idx), __ATOMIC_RELEASE);
}

/*
 * Makes a chain of @bufs available: in the next @n descriptors, or through
 * one descriptor naming an indirect table of @n (allocated in guest RAM).
 * Returns its head.
 */
static inline uint16_t vs_add_chain(struct vs_queue *q, const struct vs_buf *bufs, unsigned int n,
				    bool indirect)
{
	uint8_t *table = vs_desc_table(q);
	uint16_t head = q->next_desc % q->size;
	unsigned int base = head;
	unsigned int size = q->size;

	if (indirect) {
		uint32_t len = n * sizeof(struct virtq_desc);
		uint64_t t = vs_alloc(q->ram, len, 16);

		vs_put_desc(table, head, t, len, VIRTQ_DESC_F_INDIRECT, 0);
		q->next_desc++;
		table = vs_gp(q->ram, t);
		base = 0;
		size = n;
	} else {
		q->next_desc += n;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint16_t flags = (bufs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);

		vs_put_desc(table, (base + i) % size, bufs[i].gpa, bufs[i].len, flags,
			    (uint16_t)((base + i + 1) % size));
	}
	vs_publish(q, head);
	return head;
}

static inline void vs_kick(const struct vs_queue *q)
{
	uint64_t one = 1;

	assert_int_equal(write(q->kick_fd, &one, sizeof(one)), sizeof(one));
}

static inline uint16_t vs_used_idx(const struct vs_queue *q)
{
	return le16toh(__atomic_load_n(&vs_used(q)->idx, __ATOMIC_ACQUIRE));
}

/* The device's avail_event, after the used ring. */
static inline uint16_t vs_avail_event(const struct vs_queue *q)
{
	uint16_t v;

	memcpy(&v, vs_gp(q->ram, q->used_gpa + 4 + 8ULL * q->size), sizeof(v));
	return le16toh(v);
}

/* The driver's used_event, after the available ring. */
static inline void vs_set_used_event(struct vs_queue *q, uint16_t idx)
{
	vs_avail(q)->ring[q->size] = htole16(idx);
}

/* The used element @k entries back from what was consumed (1: the last one). */
static inline struct virtq_used_elem vs_used_elem(const struct vs_queue *q, unsigned int k)
{
	struct virtq_used_elem e = vs_used(q)->ring[(uint16_t)(q->used_seen - k) % q->size];

	e.id = le32toh(e.id);
	e.len = le32toh(e.len);
	return e;
}

/* Counts the interrupts signalled on the queue, waiting up to @ms for one. */
static inline void vs_poll_irq(struct vs_queue *q, int ms)
{
	struct pollfd p = { .fd = q->call_fd, .events = POLLIN };

	if (poll(&p, 1, ms) == 1)
		q->irqs += vs_efd_take(q->call_fd);
}

/* The interrupts since the last call, after waiting up to @ms for one more. */
static inline uint64_t vs_take_irqs(struct vs_queue *q, int ms)
{
	uint64_t n;

	vs_poll_irq(q, ms);
	n = q->irqs;
	q->irqs = 0;
	return n;
}

/* Waits until the used ring holds @n entries more than consumed, and consumes them. */
static inline void vs_wait_used_keep_event(struct vs_queue *q, unsigned int n)
{
	uint16_t target = (uint16_t)(q->used_seen + n);

	/* woken by the interrupt, if one comes, rather than racing it */
	for (struct timespec t0 = vs_now(); vs_used_idx(q) != target; vs_poll_irq(q, 20)) {
		if (vs_late(&t0))
			fail_msg("queue %u: used index %u, waited for %u", q->index,
				 vs_used_idx(q), target);
	}
	q->used_seen = target;
}

/* Waits as above, then asks for an interrupt at the next entry (event index's used_event). */
static inline void vs_wait_used(struct vs_queue *q, unsigned int n)
{
	vs_wait_used_keep_event(q, n);
	vs_set_used_event(q, q->used_seen);
}

/* Asserts that the used index stays at what was consumed for @ms. */
static inline void vs_assert_used_stays(const struct vs_queue *q, int ms)
{
	usleep((useconds_t)ms * 1000);
	assert_int_equal(vs_used_idx(q), q->used_seen);
}

/* Waits until the device's avail_event is @want. */
static inline void vs_wait_avail_event(const struct vs_queue *q, uint16_t want)
{
	for (struct timespec t0 = vs_now(); vs_avail_event(q) != want; usleep(100)) {
		if (vs_late(&t0))
			fail_msg("queue %u: avail_event %u, waited for %u", q->index,
				 vs_avail_event(q), want);
	}
}

/* ---- The transport's link: what the device reports ----------------------- */

struct vs_link {
	struct virtio_link link;	/* first: what the device is given */
	int efd;			/* written at each needs_reset(), as an interrupt */
	int count;			/* needs_reset() calls */
};

/* From the device's thread. */
static inline void vs_link_needs_reset(struct virtio_link *link)
{
	struct vs_link *l = (struct vs_link *)link;
	uint64_t one = 1;

	__atomic_add_fetch(&l->count, 1, __ATOMIC_SEQ_CST);
	assert_int_equal(write(l->efd, &one, sizeof(one)), sizeof(one));
}

/* 0, or -1 (for a cmocka setup to return). */
static inline int vs_link_init(struct vs_link *l)
{
	l->link.needs_reset = vs_link_needs_reset;
	l->count = 0;
	l->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return l->efd < 0 ? -1 : 0;
}

static inline void vs_link_close(struct vs_link *l)
{
	if (l->efd >= 0)
		close(l->efd);
	l->efd = -1;
}

static inline int vs_link_count(struct vs_link *l)
{
	return __atomic_load_n(&l->count, __ATOMIC_SEQ_CST);
}

/* Waits until needs_reset() was called @count times in all. */
static inline void vs_link_wait(struct vs_link *l, int count)
{
	struct pollfd p = { .fd = l->efd, .events = POLLIN };

	for (struct timespec t0 = vs_now(); vs_link_count(l) < count; ) {
		if (vs_late(&t0))
			fail_msg("needs_reset was called %d times, waited for %d",
				 vs_link_count(l), count);
		if (poll(&p, 1, 20) == 1)
			vs_efd_take(l->efd);
	}
}

/* ---- The transport: a device's queues, started and reset ----------------- */

struct vs_transport {
	const struct virtio_device_desc *desc;	/* the device's; the test sets it */
	unsigned int nq_max;			/* queues with areas (vs_transport_init()) */
	unsigned int nq;			/* queues handed to start(); the test sets it */
	unsigned int disabled;			/* mask of queues the driver leaves disabled */
	uint64_t features;			/* accepted at the last start */
	bool started;
	struct virtio_queue q[VIRTIO_MAX_QUEUES];	/* what start() gets */
	struct vs_queue drv[VIRTIO_MAX_QUEUES];		/* the driver's side of each */
	struct vs_link link;
};

/*
 * @nq_max queues of @size entries, their areas in @r; nq starts at @nq_max.
 * 0, or -1 (for a cmocka setup to return); vs_transport_close() either way.
 */
static inline int vs_transport_init(struct vs_transport *t, struct vs_ram *r,
				    unsigned int nq_max, unsigned int size)
{
	memset(t, 0, sizeof(*t));
	t->nq_max = t->nq = nq_max;
	for (unsigned int i = 0; i < nq_max; i++) {
		vs_queue_init(&t->drv[i], r, i, size);
		t->q[i].kick_fd = t->q[i].call_fd = -1;
	}
	return vs_link_init(&t->link);
}

/*
 * What the driver and transport do at DRIVER_OK, but start(): @features
 * (and VERSION_1) accepted, fresh rings for each enabled queue, size 0 for
 * a disabled one (which gets no eventfds either).
 */
static inline void vs_transport_setup(struct vs_transport *t, uint64_t features)
{
	t->features = features | (1ULL << VIRTIO_F_VERSION_1);
	for (unsigned int i = 0; i < t->nq; i++) {
		if (t->disabled & (1U << i))
			memset(&t->q[i].vq, 0, sizeof(t->q[i].vq));
		else
			vs_queue_start(&t->drv[i], &t->q[i], t->features);
	}
}

/* The device's start(), which must succeed. */
static inline void vs_transport_start_device(struct vs_transport *t)
{
	assert_int_equal(t->desc->ops->start(t->desc->dev, t->q, t->nq, t->features,
					     &t->link.link), 0);
	t->started = true;
}

static inline void vs_transport_start(struct vs_transport *t, uint64_t features)
{
	vs_transport_setup(t, features);
	vs_transport_start_device(t);
}

static inline void vs_transport_reset(struct vs_transport *t)
{
	t->desc->ops->reset(t->desc->dev);
	t->started = false;
}

/* At teardown, before the device goes: reset it if it runs. */
static inline void vs_transport_stop(struct vs_transport *t)
{
	if (t->started)
		vs_transport_reset(t);
}

/* Closes the eventfds, once the device is gone. */
static inline void vs_transport_close(struct vs_transport *t)
{
	for (unsigned int i = 0; i < t->nq_max; i++)
		vs_queue_close(&t->drv[i]);
	vs_link_close(&t->link);
}

/* ---- A PCI function, as the guest reaches it ----------------------------- */

#define VS_PCI_ADDR_PORT	0	/* 0xCF8, as an offset into the PCI ports */
#define VS_PCI_DATA_PORT	4	/* 0xCFC */

/* Config register @reg of function 0 in @slot, through 0xCF8/0xCFC. */
static inline uint32_t vs_cfg_read(struct pci_bus *bus, unsigned int slot, unsigned int reg,
				   int size)
{
	uint8_t a[4] = { reg & 0xFC, (uint8_t)(slot << 3), 0, 0x80 };
	uint8_t b[4] = { 0x5A, 0x5A, 0x5A, 0x5A };

	pci_pio(bus, VS_PCI_ADDR_PORT, a, 4, true);
	pci_pio(bus, VS_PCI_DATA_PORT + (reg & 3), b, size, false);
	if (size == 1)
		return b[0];
	if (size == 2)
		return b[0] | b[1] << 8;
	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline void vs_cfg_write(struct pci_bus *bus, unsigned int slot, unsigned int reg,
				int size, uint32_t v)
{
	uint8_t a[4] = { reg & 0xFC, (uint8_t)(slot << 3), 0, 0x80 };
	uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };

	pci_pio(bus, VS_PCI_ADDR_PORT, a, 4, true);
	pci_pio(bus, VS_PCI_DATA_PORT + (reg & 3), b, size, true);
}

/* A BAR access through the bus, which must take it. */
static inline uint64_t vs_mmio_read(struct pci_bus *bus, uint64_t gpa, int size)
{
	uint8_t b[8];
	uint64_t v = 0;

	memset(b, 0x33, sizeof(b));
	assert_true(pci_mmio(bus, gpa, b, size, false));
	for (int i = 0; i < size; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static inline void vs_mmio_write(struct pci_bus *bus, uint64_t gpa, int size, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < size; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	assert_true(pci_mmio(bus, gpa, b, size, true));
}

/* ---- A fake msi_ops: what the routes are told ---------------------------- */

#define VS_ROUTES_MAX	MSIX_MAX_VECTORS
#define VS_FAKE_FD_BASE	1000	/* route n's fd, without real eventfds */

struct vs_route {
	int fd;
	int sets;		/* route_set calls */
	uint64_t addr;		/* what the last one said */
	uint32_t data;
	bool masked;
};

struct vs_msi {
	struct msi_ops ops;	/* what the device is given */
	bool eventfds;		/* each route a real eventfd; else fd VS_FAKE_FD_BASE + n */
	int added;		/* routes made */
	int fail_at;		/* the route_add (by number) that fails; -1 none */
	int sets;		/* route_set calls, all routes */
	int unmasked_sets;
	struct vs_route r[VS_ROUTES_MAX];
};

static inline int vs_msi_route_add(void *ctx, int *fd)
{
	struct vs_msi *m = ctx;
	int n = m->added;

	if (n == m->fail_at || n >= VS_ROUTES_MAX)
		return -1;
	m->r[n].fd = m->eventfds ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : VS_FAKE_FD_BASE + n;
	if (m->r[n].fd < 0)
		return -1;
	*fd = m->r[n].fd;
	return m->added++;
}

static inline int vs_msi_route_set(void *ctx, int handle, uint64_t addr, uint32_t data,
				   bool masked)
{
	struct vs_msi *m = ctx;
	struct vs_route *r;

	assert_true(handle >= 0 && handle < m->added);
	r = &m->r[handle];
	m->sets++;
	if (!masked)
		m->unmasked_sets++;
	r->sets++;
	r->addr = addr;
	r->data = data;
	r->masked = masked;
	return 0;
}

static inline void vs_msi_init(struct vs_msi *m, bool eventfds)
{
	memset(m, 0, sizeof(*m));
	m->ops = (struct msi_ops){
		.route_add = vs_msi_route_add, .route_set = vs_msi_route_set, .ctx = m,
	};
	m->eventfds = eventfds;
	m->fail_at = -1;
}

/* Closes the routes' eventfds, if real. */
static inline void vs_msi_close(struct vs_msi *m)
{
	for (int i = 0; m->eventfds && i < m->added; i++)
		close(m->r[i].fd);
	m->added = 0;
}

#endif
