// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net on a tap device (see net.h).
 *
 * Where each part runs, and why.
 *
 * virtio_net_create() and virtio_net_destroy() run on the main thread.
 * With vhost-net, create opens /dev/vhost-net and makes this process its
 * owner (VHOST_SET_OWNER) there, because that is when the kernel starts
 * the device's vhost worker, as a child of the calling thread.
 *
 * The ops run on a vCPU thread, whose sandbox allows KVM's ioctls only:
 * start() and reset() hand all their work to the device's I/O thread with
 * worker_call(), whose sandbox allows any ioctl, so every vhost-net and
 * tun ioctl after create is made there. The I/O thread cannot create fds,
 * so create makes the eventfds it will need.
 *
 * vhost-net data path. start() gives vhost the guest memory table, the
 * rings' host addresses, each queue's kick eventfd (a KVM ioeventfd: the
 * guest's notification write goes from KVM to vhost) and call eventfd (a
 * KVM irqfd: vhost's interrupt goes to KVM), then the tap. Frames move
 * between guest memory and the tap inside the kernel: no exit to user
 * space and no VMM thread per frame. The I/O thread does not poll the
 * kicks; it only watches vhost's per-queue error eventfds, a malformed
 * ring, which it reports as DEVICE_NEEDS_RESET. reset() takes the tap back
 * from vhost (VHOST_NET_SET_BACKEND -1, which returns once vhost no longer
 * touches the rings) and reads the ring bases, so the next start begins
 * afresh.
 *
 * User-space data path, on the I/O thread, whose loop watches both kick
 * eventfds and the tap. Transmit: each kick pops chains and writes each one
 * (12-byte header, then the frame) to the tap with one writev() straight
 * from guest memory; a full tap keeps the chain and waits for EPOLLOUT.
 * Receive: while the tap is readable, a chain is popped and one readv()
 * puts the next frame (header included) into it. With no receive buffer
 * the tap is not watched for input until the receive queue's kick: frames
 * wait in the tap, whose queue the host drops from once it is full. Each
 * event handles at most NET_BUDGET chains per queue before going back to
 * the loop (a transmit batch that ran out of budget reschedules itself),
 * so a guest that never stops sending cannot keep worker_call() or the
 * VMM's teardown waiting. Each queue is interrupted once per batch.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/err.h"
#include "virtio/net.h"

#define NET_PCI_CLASS		0x020000	/* network controller, Ethernet */
#define NET_NQUEUES		2
#define NET_BUDGET		256		/* chains per queue per event */
#define NUM_BUFFERS_OFF		10		/* in the header */
#define VHOST_NET_DEVICE	"/dev/vhost-net"

#define BIT(n)			(1ULL << (n))

/* Offered on both data paths: the tap takes and gives these offloads. */
#define NET_FEATURES_BASE						\
	(BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) |	\
	 BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) |	\
	 BIT(VIRTIO_NET_F_GUEST_ECN) | BIT(VIRTIO_NET_F_HOST_TSO4) |	\
	 BIT(VIRTIO_NET_F_HOST_TSO6) | BIT(VIRTIO_NET_F_HOST_ECN) |	\
	 BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS))

/* The ring features virtqueue.c implements, for the user-space path. */
#define NET_FEATURES_RING	(BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_RING_F_EVENT_IDX))

/* What vhost-net is told of (VHOST_SET_FEATURES), when it has them. */
#define NET_FEATURES_VHOST	(BIT(VIRTIO_NET_F_MRG_RXBUF) | NET_FEATURES_RING | \
				 BIT(VIRTIO_F_VERSION_1))

struct virtio_net {
	struct virtio_device_desc desc;
	struct tap *tap;
	struct worker *w;
	uint8_t config[VIRTIO_NET_CONFIG_SIZE];

	/* vhost-net, decided at create */
	int vhost_fd;			/* -1: the user-space data path */
	uint64_t vhost_features;	/* VHOST_GET_FEATURES */
	int err_fd[NET_NQUEUES];	/* eventfds vhost signals a ring error on */
	int resched_fd;			/* eventfd: a transmit batch ran out of budget */

	/* the worker thread's, between start and reset */
	bool running;
	struct virtio_link *link;
	struct virtio_queue *rxq, *txq;	/* NULL: the driver left it disabled */
	unsigned int vhost_queues;	/* bit per queue set up in vhost */
	bool tap_watched;		/* the tap fd is in the worker's loop */
	bool tap_dead;			/* the tap failed for good (detached, closed) */
	bool rx_wait;			/* no receive buffer: input not watched until a kick */
	bool rx_held, tx_held;		/* rx_chain / tx_chain popped, not yet pushed */
	bool rx_pushed, tx_pushed;	/* used buffers since the last notify */
	unsigned int rx_niov, tx_niov;
	struct vq_chain rx_chain, tx_chain;
	struct iovec rx_iov[VQ_MAX_SEGS], tx_iov[VQ_MAX_SEGS];

	struct virtio_net_stats stats;	/* written by the worker, read anywhere: atomics */
};

static void stat_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static const char *net_name(const struct virtio_net *n)
{
	return tap_name(n->tap);
}

/* What the tap may give the guest: what its driver accepted (5.1.6.4). */
static unsigned int tun_offloads(uint64_t f)
{
	unsigned int t;

	if (!(f & BIT(VIRTIO_NET_F_GUEST_CSUM)))
		return 0;
	t = TAP_F_CSUM;
	if (f & BIT(VIRTIO_NET_F_GUEST_TSO4))
		t |= TAP_F_TSO4;
	if (f & BIT(VIRTIO_NET_F_GUEST_TSO6))
		t |= TAP_F_TSO6;
	if ((f & BIT(VIRTIO_NET_F_GUEST_ECN)) && (t & (TAP_F_TSO4 | TAP_F_TSO6)))
		t |= TAP_F_TSO_ECN;
	return t;
}

static unsigned int chain_iov(const struct vq_chain *c, bool write, struct iovec *iov)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < c->nseg; i++) {
		if (c->seg[i].write != write)
			continue;
		iov[n].iov_base = c->seg[i].addr;
		iov[n++].iov_len = c->seg[i].len;
	}
	return n;
}

/* Pops a chain, asking for a kick (event index) when the queue looks empty. */
static int pop(struct virtio_queue *q, struct vq_chain *c)
{
	int got = vq_pop(&q->vq, c);

	if (!got && q->vq.event_idx) {
		vq_set_avail_event(&q->vq);
		got = vq_pop(&q->vq, c);
	}
	return got;
}

/* --- the user-space data path (the worker) ------------------------------ */

static bool rx_active(const struct virtio_net *n)
{
	return n->rxq && !n->rxq->vq.broken && !n->rx_wait && !n->tap_dead;
}

/* Watches the tap for what is wanted now. */
static void tap_watch(struct virtio_net *n)
{
	uint32_t ev = 0;

	if (!n->tap_watched)
		return;
	if (rx_active(n))
		ev |= EPOLLIN;
	if (n->tx_held)
		ev |= EPOLLOUT;
	/* fails only without memory: the tap is then watched as before */
	evloop_mod(worker_loop(n->w), tap_fd(n->tap), ev);
}

/* The tap will never work again (detached, or its peer closed). */
static void tap_gone(struct virtio_net *n, int err)
{
	fprintf(stderr, "slicevm: virtio-net %s: the tap device %s: the VM's network is cut off\n",
		net_name(n), err ? strerror(err) : "was closed");
	evloop_del(worker_loop(n->w), tap_fd(n->tap));
	n->tap_watched = false;
	n->tap_dead = true;
}

static void notify_batches(struct virtio_net *n)
{
	if (n->rx_pushed) {
		n->rx_pushed = false;
		virtio_queue_notify(n->rxq);
	}
	if (n->tx_pushed) {
		n->tx_pushed = false;
		virtio_queue_notify(n->txq);
	}
}

/* 1: a buffer is held; 0: none (or the queue broke); 2: a bad one was given back. */
static int rx_take_chain(struct virtio_net *n)
{
	struct virtqueue *vq = &n->rxq->vq;
	int got = pop(n->rxq, &n->rx_chain);

	if (got < 0) {
		n->link->needs_reset(n->link);
		return 0;
	}
	if (!got) {
		n->rx_wait = true;	/* until the driver kicks the queue */
		return 0;
	}
	if (n->rx_chain.nwrite < VIRTIO_NET_HDR_LEN) {
		/* a device error for this chain only (5.1.6.3.1: room for the header) */
		vq_push(vq, n->rx_chain.head, 0);
		n->rx_pushed = true;
		stat_add(&n->stats.bad_chains, 1);
		return 2;
	}
	n->rx_niov = chain_iov(&n->rx_chain, true, n->rx_iov);
	n->rx_held = true;
	return 1;
}

static void rx_deliver(struct virtio_net *n, size_t len)
{
	/* one buffer per frame without VIRTIO_NET_F_MRG_RXBUF (5.1.6.4) */
	uint16_t one = htole16(1);

	vq_chain_write(&n->rx_chain, NUM_BUFFERS_OFF, &one, sizeof(one));
	vq_push(&n->rxq->vq, n->rx_chain.head, (uint32_t)len);
	n->rx_held = false;
	n->rx_pushed = true;
	stat_add(&n->stats.rx_frames, 1);
	stat_add(&n->stats.rx_bytes, len - VIRTIO_NET_HDR_LEN);
}

/* Frames from the tap into receive buffers, while both last. */
static void rx_process(struct virtio_net *n)
{
	for (unsigned int i = 0; i < NET_BUDGET && rx_active(n); i++) {
		ssize_t got;

		if (!n->rx_held) {
			int r = rx_take_chain(n);

			if (r == 2)
				continue;
			if (!r)
				break;
		}
		got = readv(tap_fd(n->tap), n->rx_iov, (int)n->rx_niov);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;	/* the buffer stays held for the next frame */
		if (got <= 0) {
			tap_gone(n, got ? errno : 0);
			break;
		}
		/*
		 * A frame shorter than a header, or one the tap says was
		 * longer than the buffer (cut to fit), is dropped and the
		 * buffer kept for the next. Buffers are as large as the
		 * offloads the driver accepted allow frames to be.
		 */
		if ((size_t)got < VIRTIO_NET_HDR_LEN || (uint64_t)got > n->rx_chain.nwrite) {
			stat_add(&n->stats.rx_dropped, 1);
			continue;
		}
		rx_deliver(n, (size_t)got);
	}
	notify_batches(n);
	tap_watch(n);
}

/* 1: a chain is held; 0: none (or the queue broke); 2: a bad one was given back. */
static int tx_take_chain(struct virtio_net *n)
{
	struct virtqueue *vq = &n->txq->vq;
	int got = pop(n->txq, &n->tx_chain);

	if (got < 0)
		n->link->needs_reset(n->link);
	if (got <= 0)
		return 0;
	if (n->tx_chain.nread < VIRTIO_NET_HDR_LEN) {
		vq_push(vq, n->tx_chain.head, 0);
		n->tx_pushed = true;
		stat_add(&n->stats.bad_chains, 1);
		return 2;
	}
	n->tx_niov = chain_iov(&n->tx_chain, false, n->tx_iov);
	n->tx_held = true;
	return 1;
}

/* Writes the held chain: false if the tap is full (try again on EPOLLOUT). */
static bool tx_send(struct virtio_net *n)
{
	ssize_t r;

	if (n->tap_dead) {
		stat_add(&n->stats.tx_dropped, 1);
		return true;
	}
	do {
		r = writev(tap_fd(n->tap), n->tx_iov, (int)n->tx_niov);
	} while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return false;
	if (r < 0) {
		/* the host refused this frame (a bad header, too long): dropped */
		stat_add(&n->stats.tx_dropped, 1);
		return true;
	}
	stat_add(&n->stats.tx_frames, 1);
	stat_add(&n->stats.tx_bytes, n->tx_chain.nread - VIRTIO_NET_HDR_LEN);
	return true;
}

static void tx_process(struct virtio_net *n)
{
	unsigned int i;

	for (i = 0; i < NET_BUDGET && !n->txq->vq.broken; i++) {
		if (!n->tx_held) {
			int r = tx_take_chain(n);

			if (r == 2)
				continue;
			if (!r)
				break;
		}
		if (!tx_send(n))
			break;
		vq_push(&n->txq->vq, n->tx_chain.head, 0);
		n->tx_held = false;
		n->tx_pushed = true;
	}
	if (i == NET_BUDGET) {
		uint64_t one = 1;

		/* more may be waiting, with no kick to come: back after the loop's other events */
		if (write(n->resched_fd, &one, sizeof(one)) < 0) {
			/* cannot overflow */
		}
	}
	notify_batches(n);
	tap_watch(n);
}

static void on_tx_kick(struct evloop *loop, int fd, uint32_t events, void *arg)
{
	struct virtio_net *n = arg;

	virtio_queue_take_kick(n->txq);
	tx_process(n);
}

static void on_resched(struct evloop *loop, int fd, uint32_t events, void *arg)
{
	struct virtio_net *n = arg;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: already taken */
	}
	if (n->txq)
		tx_process(n);
}

static void on_rx_kick(struct evloop *loop, int fd, uint32_t events, void *arg)
{
	struct virtio_net *n = arg;

	virtio_queue_take_kick(n->rxq);
	/* new buffers: watch the tap's input again, the loop reads when a frame is there */
	n->rx_wait = false;
	tap_watch(n);
}

static void on_tap(struct evloop *loop, int fd, uint32_t events, void *arg)
{
	struct virtio_net *n = arg;

	if ((events & EPOLLOUT) && n->tx_held && n->txq)
		tx_process(n);
	if ((events & EPOLLIN) && n->tap_watched)
		rx_process(n);
	/* reported whatever is watched: a detached tun, a closed peer */
	if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN) && n->tap_watched)
		tap_gone(n, (events & EPOLLERR) ? EBADFD : 0);
}

static void user_stop(struct virtio_net *n)
{
	struct evloop *loop = worker_loop(n->w);
	uint64_t v;

	if (n->rxq)
		evloop_del(loop, n->rxq->kick_fd);
	if (n->txq)
		evloop_del(loop, n->txq->kick_fd);
	evloop_del(loop, n->resched_fd);
	if (n->tap_watched)
		evloop_del(loop, tap_fd(n->tap));
	n->tap_watched = false;
	if (read(n->resched_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: clear */
	}
	/* held chains are dropped: the next driver sets up new rings */
	n->rx_held = n->tx_held = false;
	n->rx_pushed = n->tx_pushed = false;
	n->rx_wait = false;
}

static int user_start(struct virtio_net *n)
{
	struct evloop *loop = worker_loop(n->w);

	if ((n->rxq && evloop_add(loop, n->rxq->kick_fd, EPOLLIN, on_rx_kick, n)) ||
	    (n->txq && evloop_add(loop, n->txq->kick_fd, EPOLLIN, on_tx_kick, n)) ||
	    evloop_add(loop, n->resched_fd, EPOLLIN, on_resched, n))
		return -1;
	if (!n->tap_dead) {
		if (evloop_add(loop, tap_fd(n->tap), 0, on_tap, n))
			return -1;
		n->tap_watched = true;
	}
	/* chains the driver made available before DRIVER_OK */
	if (n->txq)
		tx_process(n);
	tap_watch(n);
	return 0;
}

/* --- the vhost-net data path (set-up on the worker) ---------------------- */

static int vhost_ioctl(struct virtio_net *n, unsigned long req, const char *what, int q,
		       void *arg)
{
	if (!ioctl(n->vhost_fd, req, arg))
		return 0;
	if (q < 0)
		return err_set_errno("virtio-net %s: vhost-net refused %s", net_name(n), what);
	return err_set_errno("virtio-net %s: vhost-net refused %s for queue %d", net_name(n),
			     what, q);
}

#define VHOST(n, req, q, arg)	vhost_ioctl((n), (req), #req, (q), (arg))

static struct virtio_queue *queue_of(struct virtio_net *n, unsigned int i)
{
	return i == VIRTIO_NET_RXQ ? n->rxq : n->txq;
}

static int vhost_set_mem(struct virtio_net *n, const struct guest_mem *mem)
{
	struct vhost_memory *m = calloc(1, sizeof(*m) + mem->nr * sizeof(m->regions[0]));
	int ret;

	if (!m)
		return err_set("out of memory for virtio-net %s", net_name(n));
	m->nregions = (uint32_t)mem->nr;
	for (int i = 0; i < mem->nr; i++) {
		m->regions[i].guest_phys_addr = mem->r[i].gpa;
		m->regions[i].memory_size = mem->r[i].size;
		m->regions[i].userspace_addr = (uintptr_t)mem->r[i].host;
	}
	ret = VHOST(n, VHOST_SET_MEM_TABLE, -1, m);
	free(m);
	return ret;
}

static int vhost_setup_queue(struct virtio_net *n, unsigned int i)
{
	struct virtio_queue *q = queue_of(n, i);
	struct vhost_vring_state num = { .index = i, .num = q->vq.size };
	struct vhost_vring_state base = { .index = i, .num = q->vq.last_avail_idx };
	struct vhost_vring_addr addr = {
		.index = i,
		.desc_user_addr = (uintptr_t)q->vq.desc,
		.avail_user_addr = (uintptr_t)q->vq.avail,
		.used_user_addr = (uintptr_t)q->vq.used,
	};
	struct vhost_vring_file kick = { .index = i, .fd = q->kick_fd };
	/*
	 * A queue without an MSI-X vector (call_fd -1) belongs to a driver
	 * that polls it: vhost then interrupts nobody (VHOST_FILE_UNBIND).
	 */
	struct vhost_vring_file call = { .index = i, .fd = q->call_fd < 0 ? VHOST_FILE_UNBIND :
								      q->call_fd };
	struct vhost_vring_file err = { .index = i, .fd = n->err_fd[i] };

	n->vhost_queues |= 1U << i;
	if (VHOST(n, VHOST_SET_VRING_NUM, (int)i, &num) ||
	    VHOST(n, VHOST_SET_VRING_BASE, (int)i, &base) ||
	    VHOST(n, VHOST_SET_VRING_ADDR, (int)i, &addr) ||
	    VHOST(n, VHOST_SET_VRING_KICK, (int)i, &kick) ||
	    VHOST(n, VHOST_SET_VRING_CALL, (int)i, &call) ||
	    VHOST(n, VHOST_SET_VRING_ERR, (int)i, &err))
		return -1;
	return 0;
}

/* vhost found a ring it cannot use: the driver broke it */
static void on_vhost_err(struct evloop *loop, int fd, uint32_t events, void *arg)
{
	struct virtio_net *n = arg;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		n->link->needs_reset(n->link);
}

/* Takes everything back from vhost; it touches no ring once this returns. */
static void vhost_stop(struct virtio_net *n)
{
	struct evloop *loop = worker_loop(n->w);

	for (unsigned int i = 0; i < NET_NQUEUES; i++) {
		struct vhost_vring_file unbind = { .index = i, .fd = VHOST_FILE_UNBIND };
		struct vhost_vring_state base = { .index = i };
		uint64_t v;

		if (!(n->vhost_queues & (1U << i)))
			continue;
		/* waits for vhost's worker to finish with the queue */
		if (ioctl(n->vhost_fd, VHOST_NET_SET_BACKEND, &unbind))
			fprintf(stderr, "slicevm: virtio-net %s: vhost-net cannot stop queue %u: %s\n",
				net_name(n), i, strerror(errno));
		if (ioctl(n->vhost_fd, VHOST_GET_VRING_BASE, &base)) {
			/* nothing to undo: the next start sets the base again */
		}
		/* let go of the transport's eventfds until the next start */
		ioctl(n->vhost_fd, VHOST_SET_VRING_KICK, &unbind);
		ioctl(n->vhost_fd, VHOST_SET_VRING_CALL, &unbind);
		ioctl(n->vhost_fd, VHOST_SET_VRING_ERR, &unbind);
		evloop_del(loop, n->err_fd[i]);
		if (read(n->err_fd[i], &v, sizeof(v)) < 0) {
			/* EAGAIN: clear */
		}
	}
	n->vhost_queues = 0;
}

static int vhost_start(struct virtio_net *n, uint64_t features)
{
	uint64_t f = features & n->vhost_features & NET_FEATURES_VHOST;
	const struct guest_mem *mem = (n->rxq ? n->rxq : n->txq)->vq.mem;

	if (tap_set_offloads(n->tap, tun_offloads(features)) ||
	    VHOST(n, VHOST_SET_FEATURES, -1, &f) || vhost_set_mem(n, mem))
		return -1;
	for (unsigned int i = 0; i < NET_NQUEUES; i++) {
		if (!queue_of(n, i))
			continue;
		if (vhost_setup_queue(n, i) ||
		    evloop_add(worker_loop(n->w), n->err_fd[i], EPOLLIN, on_vhost_err, n))
			return -1;
	}
	for (unsigned int i = 0; i < NET_NQUEUES; i++) {
		struct vhost_vring_file backend = { .index = i, .fd = tap_fd(n->tap) };

		if (queue_of(n, i) && VHOST(n, VHOST_NET_SET_BACKEND, (int)i, &backend))
			return -1;
	}
	/* chains the driver made available before DRIVER_OK: vhost looks on a kick */
	for (unsigned int i = 0; i < NET_NQUEUES; i++) {
		uint64_t one = 1;

		if (queue_of(n, i) && write(queue_of(n, i)->kick_fd, &one, sizeof(one)) < 0) {
			/* cannot overflow */
		}
	}
	return 0;
}

/* --- start and reset, run on the worker --------------------------------- */

static int stop_on_worker(void *arg)
{
	struct virtio_net *n = arg;

	if (!n->running)
		return 0;
	if (n->vhost_fd >= 0)
		vhost_stop(n);
	else
		user_stop(n);
	n->running = false;
	n->rxq = n->txq = NULL;
	n->link = NULL;
	return 0;
}

static int start_on_worker(void *arg)
{
	const struct virtio_start_args *a = arg;
	struct virtio_net *n = a->dev;
	int ret;

	for (unsigned int i = 0; i < a->nqueues && i < NET_NQUEUES; i++) {
		struct virtio_queue *q = a->queues[i].vq.size ? &a->queues[i] : NULL;

		if (i == VIRTIO_NET_RXQ)
			n->rxq = q;
		else
			n->txq = q;
	}
	if (!n->rxq && !n->txq)
		return 0;	/* the driver left both queues disabled: nothing to serve */
	n->link = a->link;
	n->running = true;
	if (n->vhost_fd >= 0)
		ret = vhost_start(n, a->features);
	else
		ret = tap_set_offloads(n->tap, tun_offloads(a->features)) || user_start(n);
	if (ret) {
		/* stopping must not replace the message the caller gets */
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", err_msg());
		stop_on_worker(n);
		return err_set("%s", msg);
	}
	return 0;
}

static int net_start(void *dev, struct virtio_queue *queues, unsigned int nqueues,
		     uint64_t features, struct virtio_link *link)
{
	struct virtio_net *n = dev;
	struct virtio_start_args a = {
		.dev = n, .queues = queues, .nqueues = nqueues, .features = features,
		.link = link,
	};

	return worker_call(n->w, start_on_worker, &a);
}

static void net_reset(void *dev)
{
	struct virtio_net *n = dev;

	/*
	 * Fails only if the worker thread ended; then nothing of ours runs
	 * there, and closing vhost-net at destroy stops its worker.
	 */
	worker_call(n->w, stop_on_worker, n);
}

static void net_config_read(void *dev, unsigned int offset, void *data, int size)
{
	struct virtio_net *n = dev;

	virtio_config_read(n->config, VIRTIO_NET_CONFIG_SIZE, offset, data, size);
}

static const struct virtio_dev_ops net_ops = {
	.start = net_start,
	.reset = net_reset,
	.config_read = net_config_read,
	/* the MAC is the device's: VIRTIO_NET_F_CTRL_MAC_ADDR is not offered */
};

/* --- creation, on the main thread --------------------------------------- */

/*
 * Opens vhost-net and becomes its owner. When it cannot be used, -1
 * (err_set()) if it is @required, else 0 with n->vhost_fd left at -1 (the
 * user-space data path).
 */
static int vhost_open(struct virtio_net *n, bool required)
{
	uint64_t f = 0;
	int fd = -1;

	if (!tap_is_tun(n->tap)) {
		err_set("virtio-net %s: vhost-net needs a tap device: use vhost=off", net_name(n));
		goto unusable;
	}
	fd = open(VHOST_NET_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err_set("virtio-net %s: cannot open " VHOST_NET_DEVICE
			": %s: load the module (modprobe vhost_net) or use vhost=off", net_name(n),
			strerror(errno));
		goto unusable;
	}
	/*
	 * VHOST_SET_OWNER binds the device to this process's memory and
	 * starts vhost's worker thread for it (vhost-PID), now and as a child
	 * of the calling thread - the main thread, before the vCPUs run. So
	 * the worker inherits the VMM's housekeeping CPUs and cgroup: in a
	 * slice, the per-frame work of the network stays off the slice's
	 * CPUs, as the VMM's own threads do. (Before Linux 6.4 it was a
	 * kernel thread attached to the owner's cgroups only.)
	 */
	if (ioctl(fd, VHOST_SET_OWNER, NULL) || ioctl(fd, VHOST_GET_FEATURES, &f)) {
		err_set("virtio-net %s: vhost-net cannot be set up: %s: use vhost=off",
			net_name(n), strerror(errno));
		goto unusable;
	}
	if (!(f & BIT(VIRTIO_F_VERSION_1))) {
		err_set("virtio-net %s: this kernel's vhost-net has no virtio 1.0: use vhost=off",
			net_name(n));
		goto unusable;
	}
	for (int i = 0; i < NET_NQUEUES; i++) {
		n->err_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (n->err_fd[i] < 0) {
			close(fd);
			return err_set_errno("virtio-net %s: cannot make an eventfd", net_name(n));
		}
	}
	n->vhost_fd = fd;
	n->vhost_features = f;
	return 0;
unusable:
	if (fd >= 0)
		close(fd);
	if (!required)
		err_clear();
	return required ? -1 : 0;
}

static int check_mac(const struct tap *tap, const uint8_t mac[6])
{
	static const uint8_t zero[6];

	if ((mac[0] & 1) || !memcmp(mac, zero, sizeof(zero)))
		return err_set("virtio-net %s: MAC %02x:%02x:%02x:%02x:%02x:%02x is %s: give a unicast address (first byte even), e.g. 52:54:00:12:34:56",
			       tap_name(tap), mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
			       (mac[0] & 1) ? "a multicast address" : "all zeroes");
	return 0;
}

static void build(struct virtio_net *n, const uint8_t mac[6])
{
	uint64_t features = NET_FEATURES_BASE;

	if (n->vhost_fd >= 0)
		features |= n->vhost_features & (BIT(VIRTIO_NET_F_MRG_RXBUF) | NET_FEATURES_RING);
	else
		features |= NET_FEATURES_RING;
	memcpy(n->config + VIRTIO_NET_CFG_MAC, mac, 6);
	n->config[VIRTIO_NET_CFG_STATUS] = VIRTIO_NET_S_LINK_UP;	/* little-endian 16 bits */
	n->config[VIRTIO_NET_CFG_MAX_VQ_PAIRS] = 1;
	n->desc = (struct virtio_device_desc){
		.name = "virtio-net",
		.device_id = VIRTIO_ID_NET,
		.pci_class = NET_PCI_CLASS,
		.features = features,
		.nqueues = NET_NQUEUES,
		.queue_size = VIRTIO_NET_QUEUE_SIZE,
		.config_size = VIRTIO_NET_CONFIG_SIZE,
		.ops = &net_ops,
		.dev = n,
	};
}

struct virtio_net *virtio_net_create(struct tap *tap, const uint8_t mac[6], int vhost,
				     struct worker *w)
{
	struct virtio_net *n;

	if (check_mac(tap, mac)) {
		tap_close(tap);
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		err_set("out of memory for virtio-net %s", tap_name(tap));
		tap_close(tap);
		return NULL;
	}
	n->tap = tap;
	n->w = w;
	n->vhost_fd = n->resched_fd = -1;
	for (int i = 0; i < NET_NQUEUES; i++)
		n->err_fd[i] = -1;
	if (vhost != VIRTIO_NET_VHOST_OFF &&
	    vhost_open(n, vhost == VIRTIO_NET_VHOST_ON))
		goto fail;
	if (n->vhost_fd < 0) {
		n->resched_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (n->resched_fd < 0) {
			err_set_errno("virtio-net %s: cannot make an eventfd", tap_name(tap));
			goto fail;
		}
	}
	build(n, mac);
	return n;
fail:
	virtio_net_destroy(n);
	return NULL;
}

const struct virtio_device_desc *virtio_net_desc(struct virtio_net *n)
{
	return &n->desc;
}

const uint8_t *virtio_net_mac(const struct virtio_net *n)
{
	return n->config + VIRTIO_NET_CFG_MAC;
}

bool virtio_net_uses_vhost(const struct virtio_net *n)
{
	return n->vhost_fd >= 0;
}

void virtio_net_get_stats(const struct virtio_net *n, struct virtio_net_stats *out)
{
	const struct virtio_net_stats *s = &n->stats;

	out->rx_frames = __atomic_load_n(&s->rx_frames, __ATOMIC_RELAXED);
	out->rx_bytes = __atomic_load_n(&s->rx_bytes, __ATOMIC_RELAXED);
	out->tx_frames = __atomic_load_n(&s->tx_frames, __ATOMIC_RELAXED);
	out->tx_bytes = __atomic_load_n(&s->tx_bytes, __ATOMIC_RELAXED);
	out->rx_dropped = __atomic_load_n(&s->rx_dropped, __ATOMIC_RELAXED);
	out->tx_dropped = __atomic_load_n(&s->tx_dropped, __ATOMIC_RELAXED);
	out->bad_chains = __atomic_load_n(&s->bad_chains, __ATOMIC_RELAXED);
}

void virtio_net_destroy(struct virtio_net *n)
{
	if (!n)
		return;
	/* first: vhost lets go of the tap and guest memory, and its worker ends */
	if (n->vhost_fd >= 0)
		close(n->vhost_fd);
	for (int i = 0; i < NET_NQUEUES; i++)
		if (n->err_fd[i] >= 0)
			close(n->err_fd[i]);
	if (n->resched_fd >= 0)
		close(n->resched_fd);
	tap_close(n->tap);
	free(n);
}
