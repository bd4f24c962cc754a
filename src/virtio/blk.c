// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk (see blk.h).
 *
 * Threads and ownership. virtio_blk_create() and virtio_blk_destroy() run
 * on the main thread; the ops on a vCPU thread, where start and reset only
 * hand their work to the worker (worker_call()) and config_read only reads
 * what create wrote. Everything between start and reset - popping chains,
 * submitting to io_uring, reaping completions, pushing used buffers - runs
 * on the worker thread, so the request state needs no lock. The device
 * owns the disk, the ring and its eventfd; the transport owns the queues
 * and their kick and call eventfds.
 *
 * Data path. A kick pops chains; each takes a request from a fixed pool,
 * whose size is the in-flight limit (a queue without a free request stalls
 * until completions return some). A read or write becomes one READV or
 * WRITEV whose iovecs point straight into guest memory, a flush one
 * FSYNC; they are submitted in one batch per event. Discard and write
 * zeroes run at once on the worker (fallocate, or the block device's
 * ioctls), as do GET_ID and every malformed request, which never reaches
 * the disk. The ring signals completions on an eventfd in the worker's
 * loop: each writes the status byte and pushes its chain, and each queue
 * is notified once per batch.
 *
 * The ring is set up here, on the main thread: the I/O thread's sandbox
 * allows io_uring_enter() only. Seccomp does not see what a ring does, so
 * it is restricted (IORING_REGISTER_RESTRICTIONS) to the three operations
 * used, on the disk's registered files only.
 */
#include <endian.h>
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/err.h"
#include "virtio/blk.h"

#define BLK_PCI_CLASS		0x010000	/* mass storage, SCSI: what virtio-blk uses */
#define BLK_CONFIG_SIZE		60		/* up to write_zeroes_may_unmap and its padding */
#define BLK_MAX_INFLIGHT	256		/* requests at the disk, all queues together */
#define BLK_RING_ENTRIES	BLK_MAX_INFLIGHT	/* one SQE per request: the SQ never fills */
#define BLK_MAX_IOV		(VIRTIO_BLK_SEG_MAX + 2)	/* room for odd header/data splits */
#define BLK_MAX_DATA		(1U << 30)	/* far above what drivers send; below a short I/O */
#define BLK_HDR_BYTES		16
#define BLK_QUEUED		0xFF		/* not a status: the request went to the ring */
#define SECTOR_SHIFT		9

/* Registered files (IOSQE_FIXED_FILE indexes) */
#define FILE_BUFFERED		0
#define FILE_DIRECT		1

/* Config space offsets (5.2.4) */
#define CFG_CAPACITY		0
#define CFG_SEG_MAX		12
#define CFG_BLK_SIZE		20
#define CFG_NUM_QUEUES		34
#define CFG_MAX_DISCARD_SECTORS	36
#define CFG_MAX_DISCARD_SEG	40
#define CFG_DISCARD_ALIGN	44
#define CFG_MAX_ZEROES_SECTORS	48
#define CFG_MAX_ZEROES_SEG	52
#define CFG_ZEROES_MAY_UNMAP	56

struct blk_hdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

struct blk_dwz_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

struct blk_queue;

struct blk_req {
	struct blk_queue *q;
	struct blk_req *next;	/* on the free list */
	uint8_t *status;	/* the chain's last writable byte, in guest memory */
	uint32_t used_len;	/* for vq_push: every writable byte, the status being the last */
	uint32_t len;		/* bytes the I/O must move */
	uint16_t head;
	uint8_t op;		/* IORING_OP_READV, _WRITEV, _FSYNC */
	bool direct;		/* on the O_DIRECT file */
	uint64_t offset;
	unsigned int niov;
	struct iovec iov[BLK_MAX_IOV];
};

struct blk_queue {
	struct virtio_blk *b;
	struct virtio_queue *vq;	/* the transport's, between start and reset; NULL: disabled */
	bool stalled;		/* stopped popping for want of a free request */
	bool pushed;		/* used buffers since the last notify */
};

struct virtio_blk {
	struct virtio_device_desc desc;
	struct disk *disk;
	struct worker *w;
	struct io_uring ring;
	bool ring_up;
	int done_fd;		/* eventfd the ring signals completions on */
	uint64_t capacity;	/* 512-byte sectors */
	char id[VIRTIO_BLK_ID_BYTES];
	uint8_t config[BLK_CONFIG_SIZE];

	/* the worker thread's, between start and reset */
	bool running;
	bool writethrough;	/* FLUSH not negotiated: each write reaches stable storage */
	bool no_direct;		/* O_DIRECT failed where it should not: buffered from now on */
	struct virtio_link *link;
	unsigned int inflight;	/* SQEs not yet completed */
	unsigned int resume_at;	/* the stalled queue to resume first */
	struct blk_req *free;
	struct blk_req *reqs;
	struct blk_queue q[VIRTIO_BLK_MAX_QUEUES];
	struct vq_chain chain;	/* the chain being parsed */
};

/* Requests */

static struct blk_req *req_get(struct virtio_blk *b)
{
	struct blk_req *r = b->free;

	b->free = r->next;
	return r;
}

static void req_put(struct virtio_blk *b, struct blk_req *r)
{
	r->next = b->free;
	b->free = r;
}

/* Writes the status and gives the chain back; the queue is notified at the batch's end. */
static void req_complete(struct blk_req *r, uint8_t status)
{
	struct blk_queue *q = r->q;

	if (r->status)
		*r->status = status;
	vq_push(&q->vq->vq, r->head, r->status ? r->used_len : 0);
	q->pushed = true;
	req_put(q->b, r);
}

static uint8_t req_issue(struct blk_req *r)
{
	struct virtio_blk *b = r->q->b;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);
	int file = r->direct ? FILE_DIRECT : FILE_BUFFERED;

	if (!sqe)
		return VIRTIO_BLK_S_IOERR;	/* cannot happen: no more requests than SQEs */
	if (r->op == IORING_OP_READV) {
		io_uring_prep_readv(sqe, file, r->iov, r->niov, r->offset);
	} else if (r->op == IORING_OP_WRITEV) {
		io_uring_prep_writev(sqe, file, r->iov, r->niov, r->offset);
		if (b->writethrough)
			sqe->rw_flags = RWF_DSYNC;
	} else {
		io_uring_prep_fsync(sqe, file, IORING_FSYNC_DATASYNC);
	}
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, r);
	b->inflight++;
	return BLK_QUEUED;
}

/* Parsing */

/* The chain's last writable byte, where the status goes; NULL if none. */
static uint8_t *status_byte(const struct vq_chain *c)
{
	const struct vq_seg *s;

	if (!c->nseg)
		return NULL;
	s = &c->seg[c->nseg - 1];	/* writable segments come last */
	return s->write ? s->addr + s->len - 1 : NULL;
}

/*
 * iovecs for @len bytes of the chain's readable (or writable) bytes after
 * the first @skip. -1 if they need more than BLK_MAX_IOV.
 */
static int gather(const struct vq_chain *c, bool write, uint64_t skip, uint64_t len,
		  struct iovec *iov)
{
	int n = 0;

	for (unsigned int i = 0; i < c->nseg && len; i++) {
		const struct vq_seg *s = &c->seg[i];
		uint64_t take;

		if (s->write != write)
			continue;
		if (skip >= s->len) {
			skip -= s->len;
			continue;
		}
		if (n == BLK_MAX_IOV)
			return -1;
		take = s->len - skip < len ? s->len - skip : len;
		iov[n].iov_base = s->addr + skip;
		iov[n++].iov_len = take;
		len -= take;
		skip = 0;
	}
	return len ? -1 : n;
}

static bool in_disk(const struct virtio_blk *b, uint64_t sector, uint64_t sectors)
{
	return sector <= b->capacity && sectors <= b->capacity - sector;
}

static uint8_t blk_rw(struct blk_req *r, const struct vq_chain *c, bool write,
		      uint64_t sector)
{
	struct virtio_blk *b = r->q->b;
	/* data: after the header when writing, before the status when reading */
	uint64_t len = write ? c->nread - BLK_HDR_BYTES : c->nwrite - 1;
	int n;

	if (write && b->disk->readonly)
		return VIRTIO_BLK_S_IOERR;
	if (len % DISK_SECTOR || len > BLK_MAX_DATA || !in_disk(b, sector, len >> SECTOR_SHIFT))
		return VIRTIO_BLK_S_IOERR;
	if (!len)
		return VIRTIO_BLK_S_OK;
	n = gather(c, !write, write ? BLK_HDR_BYTES : 0, len, r->iov);
	if (n < 0)
		return VIRTIO_BLK_S_IOERR;
	r->niov = (unsigned int)n;
	r->len = (uint32_t)len;
	r->offset = sector << SECTOR_SHIFT;
	r->op = write ? IORING_OP_WRITEV : IORING_OP_READV;
	r->direct = !b->no_direct && disk_can_direct(b->disk, r->iov, r->niov, r->offset);
	return req_issue(r);
}

static uint8_t blk_flush(struct blk_req *r)
{
	if (r->q->b->disk->readonly)
		return VIRTIO_BLK_S_OK;		/* nothing was written */
	r->op = IORING_OP_FSYNC;
	r->len = 0;
	r->direct = false;
	return req_issue(r);
}

static uint8_t blk_get_id(struct virtio_blk *b, const struct vq_chain *c)
{
	uint64_t room = c->nwrite - 1;

	vq_chain_write(c, 0, b->id, room < sizeof(b->id) ? (size_t)room : sizeof(b->id));
	return VIRTIO_BLK_S_OK;
}

/* Checks one discard or write zeroes segment (5.2.6.2). */
static uint8_t dwz_check(const struct virtio_blk *b, bool discard, const struct blk_dwz_seg *s)
{
	uint32_t max = discard ? VIRTIO_BLK_MAX_DISCARD_SECTORS : VIRTIO_BLK_MAX_ZEROES_SECTORS;
	uint32_t flags = le32toh(s->flags), n = le32toh(s->num_sectors);

	if ((flags & ~(uint32_t)VIRTIO_BLK_WZ_F_UNMAP) || (discard && flags))
		return VIRTIO_BLK_S_UNSUPP;
	if (n > max || !in_disk(b, le64toh(s->sector), n))
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

/* Discard and write zeroes, done here and now: every segment checked first. */
static uint8_t blk_dwz(struct virtio_blk *b, const struct vq_chain *c, bool discard)
{
	struct blk_dwz_seg seg[VIRTIO_BLK_DWZ_SEG_MAX];
	uint64_t bytes = c->nread - BLK_HDR_BYTES;
	unsigned int n = (unsigned int)(bytes / sizeof(seg[0]));
	uint8_t st = VIRTIO_BLK_S_OK;

	if (b->disk->readonly || !bytes || bytes % sizeof(seg[0]) || n > VIRTIO_BLK_DWZ_SEG_MAX)
		return VIRTIO_BLK_S_IOERR;
	vq_chain_read(c, BLK_HDR_BYTES, seg, (size_t)bytes);
	for (unsigned int i = 0; i < n && st == VIRTIO_BLK_S_OK; i++)
		st = dwz_check(b, discard, &seg[i]);
	for (unsigned int i = 0; i < n && st == VIRTIO_BLK_S_OK; i++) {
		uint64_t off = le64toh(seg[i].sector) << SECTOR_SHIFT;
		uint64_t len = (uint64_t)le32toh(seg[i].num_sectors) << SECTOR_SHIFT;
		bool unmap = le32toh(seg[i].flags) & VIRTIO_BLK_WZ_F_UNMAP;
		int ret = 0;

		if (len)
			ret = discard ? disk_discard(b->disk, off, len) :
					disk_write_zeroes(b->disk, off, len, unmap);
		if (ret)
			st = VIRTIO_BLK_S_IOERR;
	}
	return st;
}

static uint8_t blk_dispatch(struct blk_req *r, const struct vq_chain *c)
{
	struct virtio_blk *b = r->q->b;
	struct blk_hdr h;

	if (c->nread < BLK_HDR_BYTES)
		return VIRTIO_BLK_S_IOERR;
	vq_chain_read(c, 0, &h, sizeof(h));
	switch (le32toh(h.type)) {
	case VIRTIO_BLK_T_IN:
		return blk_rw(r, c, false, le64toh(h.sector));
	case VIRTIO_BLK_T_OUT:
		return blk_rw(r, c, true, le64toh(h.sector));
	case VIRTIO_BLK_T_FLUSH:
		return blk_flush(r);
	case VIRTIO_BLK_T_GET_ID:
		return blk_get_id(b, c);
	case VIRTIO_BLK_T_DISCARD:
		return blk_dwz(b, c, true);
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return blk_dwz(b, c, false);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static void blk_request(struct blk_queue *q, const struct vq_chain *c)
{
	struct blk_req *r = req_get(q->b);
	uint8_t st;

	r->q = q;
	r->head = c->head;
	r->used_len = (uint32_t)c->nwrite;	/* the chain's length fits 32 bits */
	r->status = status_byte(c);
	st = r->status ? blk_dispatch(r, c) : VIRTIO_BLK_S_IOERR;
	if (st != BLK_QUEUED)
		req_complete(r, st);
}

/* Queues */

static void blk_process(struct blk_queue *q)
{
	struct virtio_blk *b = q->b;
	struct virtqueue *vq = &q->vq->vq;
	int got;

	if (vq->broken)
		return;
	q->stalled = false;
	while (b->free) {
		got = vq_pop(vq, &b->chain);
		if (!got && vq->event_idx) {
			/* ask for a kick for the next chain, then look once more */
			vq_set_avail_event(vq);
			got = vq_pop(vq, &b->chain);
		}
		if (got < 0)
			b->link->needs_reset(b->link);
		if (got <= 0)
			return;
		blk_request(q, &b->chain);
	}
	q->stalled = true;
}

/*
 * Submits what the batch queued. With IORING_SETUP_SUBMIT_ALL a bad SQE
 * fails in its own completion, so only a ring without memory (EAGAIN) or
 * interrupted leaves SQEs behind: tried again now and on the next event.
 */
static void blk_submit(struct virtio_blk *b)
{
	for (int tries = 0; tries < 4 && io_uring_sq_ready(&b->ring); tries++) {
		int ret = io_uring_submit(&b->ring);

		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			b->link->needs_reset(b->link);
			return;
		}
	}
}

static void blk_end_batch(struct virtio_blk *b)
{
	blk_submit(b);
	for (unsigned int i = 0; i < b->desc.nqueues; i++) {
		struct blk_queue *q = &b->q[i];

		if (q->vq && q->pushed) {
			q->pushed = false;
			virtio_queue_notify(q->vq);
		}
	}
}

/* A request back from the ring (the worker, while running). */
static void blk_io_done(struct virtio_blk *b, struct blk_req *r, int res)
{
	/*
	 * O_DIRECT refused what it was predicted to take (EINVAL: alignment)
	 * or guest memory it cannot pin (EFAULT: a /dev/mem mapping): the
	 * page cache can, for this request and from now on.
	 */
	if (r->direct && (res == -EINVAL || res == -EFAULT)) {
		b->no_direct = true;
		r->direct = false;
		if (req_issue(r) == BLK_QUEUED)
			return;
	}
	/* a short transfer, even at the end of the file, is an error */
	req_complete(r, res >= 0 && (uint32_t)res == r->len ? VIRTIO_BLK_S_OK :
							       VIRTIO_BLK_S_IOERR);
}

/* Takes every completion; after reset they are only given back to the pool. */
static void blk_reap(struct virtio_blk *b)
{
	struct io_uring_cqe *cqe;

	while (!io_uring_peek_cqe(&b->ring, &cqe)) {
		struct blk_req *r = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&b->ring, cqe);
		b->inflight--;
		if (b->running)
			blk_io_done(b, r, res);
		else
			req_put(b, r);
	}
}

/* Waits for every request at the disk and drops them. */
static void blk_drain(struct virtio_blk *b)
{
	while (b->inflight) {
		int ret = io_uring_submit_and_wait(&b->ring, 1);

		if (ret < 0 && ret != -EINTR && ret != -EAGAIN) {
			/* the ring failed: closing it (destroy) ends what it still holds */
			fprintf(stderr, "slicevm: virtio-blk %s: cannot wait for requests: %s\n",
				b->disk->path, strerror(-ret));
			return;
		}
		blk_reap(b);
	}
}

/* Stalled queues take the freed requests in turn, starting after the last served. */
static void blk_resume(struct virtio_blk *b)
{
	unsigned int n = b->desc.nqueues, first = b->resume_at;

	for (unsigned int k = 0; k < n && b->free; k++) {
		unsigned int i = (first + k) % n;

		if (b->q[i].vq && b->q[i].stalled) {
			blk_process(&b->q[i]);
			b->resume_at = (i + 1) % n;
		}
	}
}

static void on_done(struct evloop *loop, int fd, uint32_t events, void *arg)
{
	struct virtio_blk *b = arg;
	uint64_t n;

	/* cleared before reaping: a completion posted meanwhile fires again */
	if (read(fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: an earlier round took the count */
	}
	blk_reap(b);
	blk_resume(b);
	blk_end_batch(b);
}

static void on_kick(struct evloop *loop, int fd, uint32_t events, void *arg)
{
	struct blk_queue *q = arg;

	virtio_queue_take_kick(q->vq);
	blk_process(q);
	blk_end_batch(q->b);
}

/* Start and reset, run on the worker */

static void unwatch(struct virtio_blk *b)
{
	struct evloop *loop = worker_loop(b->w);

	for (unsigned int i = 0; i < b->desc.nqueues; i++) {
		if (b->q[i].vq)
			evloop_del(loop, b->q[i].vq->kick_fd);
		b->q[i] = (struct blk_queue){ .b = b };
	}
	evloop_del(loop, b->done_fd);
}

static int watch(struct virtio_blk *b, const struct virtio_start_args *a)
{
	struct evloop *loop = worker_loop(b->w);

	if (evloop_add(loop, b->done_fd, EPOLLIN, on_done, b))
		return -1;
	for (unsigned int i = 0; i < a->nqueues && i < b->desc.nqueues; i++) {
		struct virtio_queue *vq = &a->queues[i];

		if (!vq->vq.size)
			continue;	/* the driver left it disabled */
		if (evloop_add(loop, vq->kick_fd, EPOLLIN, on_kick, &b->q[i]))
			return -1;
		b->q[i].vq = vq;
	}
	return 0;
}

static int start_on_worker(void *arg)
{
	const struct virtio_start_args *a = arg;
	struct virtio_blk *b = a->dev;

	b->link = a->link;
	b->writethrough = !(a->features & (1ULL << VIRTIO_BLK_F_FLUSH));
	if (watch(b, a)) {
		err_set("virtio-blk %s: %s", b->disk->path, err_msg());
		unwatch(b);
		return -1;
	}
	b->running = true;
	/* chains the driver made available before DRIVER_OK */
	for (unsigned int i = 0; i < b->desc.nqueues; i++)
		if (b->q[i].vq)
			blk_process(&b->q[i]);
	blk_end_batch(b);
	return 0;
}

static int blk_start(void *dev, struct virtio_queue *queues, unsigned int nqueues,
		     uint64_t features, struct virtio_link *link)
{
	struct virtio_blk *b = dev;
	struct virtio_start_args a = {
		.dev = b, .queues = queues, .nqueues = nqueues, .features = features,
		.link = link,
	};

	return worker_call(b->w, start_on_worker, &a);
}

static int reset_on_worker(void *arg)
{
	struct virtio_blk *b = arg;
	uint64_t n;

	b->running = false;
	blk_drain(b);
	unwatch(b);
	if (read(b->done_fd, &n, sizeof(n)) < 0) {
		/* already clear */
	}
	return 0;
}

static void blk_reset(void *dev)
{
	struct virtio_blk *b = dev;

	/*
	 * Fails only if the worker thread ended, and then nothing of ours
	 * runs there any more; requests it left at the disk are drained by
	 * virtio_blk_destroy().
	 */
	worker_call(b->w, reset_on_worker, b);
}

static void blk_config_read(void *dev, unsigned int offset, void *data, int size)
{
	struct virtio_blk *b = dev;

	virtio_config_read(b->config, BLK_CONFIG_SIZE, offset, data, size);
}

static const struct virtio_dev_ops blk_ops = {
	.start = blk_start,
	.reset = blk_reset,
	.config_read = blk_config_read,
};

/* Creation, on the main thread */

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void build_config(struct virtio_blk *b, unsigned int nqueues)
{
	const struct disk *d = b->disk;
	uint8_t *c = b->config;

	put_le(c + CFG_CAPACITY, b->capacity, 8);
	put_le(c + CFG_SEG_MAX, VIRTIO_BLK_SEG_MAX, 4);
	put_le(c + CFG_BLK_SIZE, d->block_size, 4);
	put_le(c + CFG_NUM_QUEUES, nqueues, 2);
	put_le(c + CFG_MAX_DISCARD_SECTORS, VIRTIO_BLK_MAX_DISCARD_SECTORS, 4);
	put_le(c + CFG_MAX_DISCARD_SEG, VIRTIO_BLK_DWZ_SEG_MAX, 4);
	put_le(c + CFG_DISCARD_ALIGN, d->discard_align >> SECTOR_SHIFT, 4);
	put_le(c + CFG_MAX_ZEROES_SECTORS, VIRTIO_BLK_MAX_ZEROES_SECTORS, 4);
	put_le(c + CFG_MAX_ZEROES_SEG, VIRTIO_BLK_DWZ_SEG_MAX, 4);
	c[CFG_ZEROES_MAY_UNMAP] = disk_zeroes_may_unmap(d);
}

static uint64_t offered_features(const struct disk *d, unsigned int nqueues)
{
	uint64_t f = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
		     (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
		     (1ULL << VIRTIO_RING_F_EVENT_IDX);

	if (nqueues > 1)
		f |= 1ULL << VIRTIO_BLK_F_MQ;
	if (d->readonly)
		f |= 1ULL << VIRTIO_BLK_F_RO;
	else
		f |= (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	return f;
}

static int ring_error(const struct virtio_blk *b, int ret)
{
	if (ret == -EPERM)
		return err_set("virtio-blk %s: io_uring is disabled on this host: set sysctl kernel.io_uring_disabled=0",
			       b->disk->path);
	if (ret == -ENOSYS || ret == -EINVAL)
		return err_set("virtio-blk %s: this kernel's io_uring is too old: Linux 5.10 or later is needed",
			       b->disk->path);
	return err_set("virtio-blk %s: cannot set up io_uring: %s", b->disk->path,
		       strerror(-ret));
}

/* Only the operations and files the data path uses, for good. */
static int restrict_ring(struct virtio_blk *b)
{
	struct io_uring_restriction res[4];
	static const uint8_t ops[] = { IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_FSYNC };
	int ret;

	memset(res, 0, sizeof(res));
	for (unsigned int i = 0; i < sizeof(ops); i++) {
		res[i].opcode = IORING_RESTRICTION_SQE_OP;
		res[i].sqe_op = ops[i];
	}
	res[3].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	res[3].sqe_flags = IOSQE_FIXED_FILE;
	/* liburing 2.3 exports no wrappers for these two: the raw call */
	ret = io_uring_register(b->ring.ring_fd, IORING_REGISTER_RESTRICTIONS, res, 4);
	if (!ret)
		ret = io_uring_register(b->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	return ret;
}

static int setup_ring(struct virtio_blk *b)
{
	struct io_uring_params p = { .flags = IORING_SETUP_R_DISABLED | IORING_SETUP_SUBMIT_ALL };
	int files[2] = { b->disk->fd, b->disk->dfd };
	int ret = io_uring_queue_init_params(BLK_RING_ENTRIES, &b->ring, &p);

	if (ret == -EINVAL) {	/* before Linux 5.18: no SUBMIT_ALL */
		p = (struct io_uring_params){ .flags = IORING_SETUP_R_DISABLED };
		ret = io_uring_queue_init_params(BLK_RING_ENTRIES, &b->ring, &p);
	}
	if (ret)
		return ring_error(b, ret);
	b->ring_up = true;
	b->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->done_fd < 0)
		return err_set_errno("virtio-blk %s: cannot make an eventfd", b->disk->path);
	ret = io_uring_register_files(&b->ring, files, b->disk->dfd >= 0 ? 2 : 1);
	if (!ret)
		ret = io_uring_register_eventfd(&b->ring, b->done_fd);
	if (!ret)
		ret = restrict_ring(b);
	return ret ? ring_error(b, ret) : 0;
}

static int check_args(const struct disk *disk, const char *serial, unsigned int nqueues)
{
	if (!nqueues || nqueues > VIRTIO_BLK_MAX_QUEUES)
		return err_set("virtio-blk %s: %u queues asked, 1 to %d possible", disk->path,
			       nqueues, VIRTIO_BLK_MAX_QUEUES);
	if (serial && strlen(serial) > VIRTIO_BLK_ID_BYTES)
		return err_set("virtio-blk %s: serial '%s' is longer than %d bytes: shorten it",
			       disk->path, serial, VIRTIO_BLK_ID_BYTES);
	return 0;
}

static void fill_desc(struct virtio_blk *b, unsigned int nqueues)
{
	b->desc = (struct virtio_device_desc){
		.name = "virtio-blk",
		.device_id = VIRTIO_ID_BLOCK,
		.pci_class = BLK_PCI_CLASS,
		.features = offered_features(b->disk, nqueues),
		.nqueues = nqueues,
		.queue_size = VIRTIO_BLK_QUEUE_SIZE,
		.config_size = BLK_CONFIG_SIZE,
		.ops = &blk_ops,
		.dev = b,
	};
}

struct virtio_blk *virtio_blk_create(struct disk *disk, const char *serial,
				     unsigned int nqueues, struct worker *w)
{
	struct virtio_blk *b;

	if (check_args(disk, serial, nqueues)) {
		disk_close(disk);
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b || !(b->reqs = calloc(BLK_MAX_INFLIGHT, sizeof(*b->reqs)))) {
		free(b);
		disk_close(disk);
		err_set("out of memory for virtio-blk");
		return NULL;
	}
	b->disk = disk;
	b->w = w;
	b->done_fd = -1;
	b->capacity = disk->size >> SECTOR_SHIFT;
	if (serial)
		memcpy(b->id, serial, strlen(serial));
	for (unsigned int i = 0; i < BLK_MAX_INFLIGHT; i++)
		req_put(b, &b->reqs[i]);
	for (unsigned int i = 0; i < VIRTIO_BLK_MAX_QUEUES; i++)
		b->q[i].b = b;
	fill_desc(b, nqueues);
	build_config(b, nqueues);
	if (setup_ring(b)) {
		virtio_blk_destroy(b);
		return NULL;
	}
	return b;
}

const struct virtio_device_desc *virtio_blk_desc(struct virtio_blk *b)
{
	return &b->desc;
}

void virtio_blk_destroy(struct virtio_blk *b)
{
	if (!b)
		return;
	if (b->ring_up) {
		/* the worker is gone: requests a reset did not drain end here */
		b->running = false;
		blk_drain(b);
		io_uring_queue_exit(&b->ring);
	}
	if (b->done_fd >= 0)
		close(b->done_fd);
	disk_close(b->disk);
	free(b->reqs);
	free(b);
}
