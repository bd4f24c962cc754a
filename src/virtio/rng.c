// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-rng: the driver offers writable buffers, the device fills them.
 * Everything but start/reset runs on the worker thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/random.h>

#include "lib/err.h"
#include "virtio/rng.h"

#define RNG_QUEUE_SIZE		64
#define RNG_PCI_CLASS		0x00FF00	/* unclassified device */
/* Per buffer: enough for a guest's entropy pool; the rest of a large buffer stays unused. */
#define RNG_CHUNK		4096

struct virtio_rng {
	struct virtio_device_desc desc;
	struct worker *w;
	struct virtio_queue *q;		/* while started */
	struct virtio_link *link;
	struct vq_chain chain;
};

/*
 * Fills one chain; false if the host had no bytes. Never blocks: a host
 * whose pool is not ready yet must not stall the I/O thread (and a vCPU
 * waiting on it in worker_call()); the guest gets an empty buffer and
 * asks again.
 */
static bool fill(struct virtio_rng *r, struct vq_chain *c, uint32_t *written)
{
	uint8_t buf[RNG_CHUNK];
	size_t want = c->nwrite < sizeof(buf) ? c->nwrite : sizeof(buf);
	ssize_t n = want ? getrandom(buf, want, GRND_NONBLOCK) : 0;

	if (n < 0)
		return false;
	*written = (uint32_t)vq_chain_write(c, 0, buf, (size_t)n);
	return true;
}

static void process(struct virtio_rng *r)
{
	struct virtqueue *vq = &r->q->vq;
	uint32_t written;
	int got;

	for (;;) {
		got = vq_pop(vq, &r->chain);
		if (got == 0 && vq->event_idx) {
			/* ask for a kick for the next buffer, then look once more */
			vq_set_avail_event(vq);
			got = vq_pop(vq, &r->chain);
		}
		if (got <= 0)
			break;
		if (!fill(r, &r->chain, &written))
			written = 0;
		vq_push(vq, r->chain.head, written);
	}
	if (got < 0)
		r->link->needs_reset(r->link);
	virtio_queue_notify(r->q);
}

static void on_kick(struct evloop *loop, int fd, uint32_t events, void *arg)
{
	struct virtio_rng *r = arg;

	virtio_queue_take_kick(r->q);
	if (!r->q->vq.broken)
		process(r);
}

static int start_on_worker(void *arg)
{
	struct virtio_rng *r = arg;

	if (evloop_add(worker_loop(r->w), r->q->kick_fd, EPOLLIN, on_kick, r))
		return -1;
	process(r);	/* buffers made available before DRIVER_OK */
	return 0;
}

static int rng_start(void *dev, struct virtio_queue *queues, unsigned int nqueues,
		     uint64_t features, struct virtio_link *link)
{
	struct virtio_rng *r = dev;

	if (!queues[0].vq.size)
		return 0;	/* the driver left its queue disabled: nothing to serve */
	r->q = &queues[0];
	r->link = link;
	if (worker_call(r->w, start_on_worker, r)) {
		r->q = NULL;
		return -1;
	}
	return 0;
}

static int reset_on_worker(void *arg)
{
	struct virtio_rng *r = arg;

	evloop_del(worker_loop(r->w), r->q->kick_fd);
	return 0;
}

static void rng_reset(void *dev)
{
	struct virtio_rng *r = dev;

	if (r->q)
		worker_call(r->w, reset_on_worker, r);
	r->q = NULL;
}

static void rng_config_read(void *dev, unsigned int offset, void *data, int size)
{
	virtio_config_read(NULL, 0, offset, data, size);	/* it has none */
}

static const struct virtio_dev_ops rng_ops = {
	.start = rng_start,
	.reset = rng_reset,
	.config_read = rng_config_read,
};

struct virtio_rng *virtio_rng_create(struct worker *w)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));

	if (!r) {
		err_set("out of memory for virtio-rng");
		return NULL;
	}
	r->w = w;
	r->desc = (struct virtio_device_desc){
		.name = "virtio-rng",
		.device_id = VIRTIO_ID_RNG,
		.pci_class = RNG_PCI_CLASS,
		.features = 1ULL << VIRTIO_RING_F_INDIRECT_DESC |
			    1ULL << VIRTIO_RING_F_EVENT_IDX,
		.nqueues = 1,
		.queue_size = RNG_QUEUE_SIZE,
		.config_size = 0,
		.ops = &rng_ops,
		.dev = r,
	};
	return r;
}

const struct virtio_device_desc *virtio_rng_desc(struct virtio_rng *r)
{
	return &r->desc;
}

void virtio_rng_destroy(struct virtio_rng *r)
{
	free(r);
}
