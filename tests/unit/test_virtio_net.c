// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net (virtio/net.h), user-space data path, driven the way a
 * transport and a driver would: fake guest memory and the driver's side of
 * both queues from vqsim.h (set up with vq_setup(), eventfds for kicks and
 * interrupts), a real worker thread, and for the tap one end of a
 * SOCK_SEQPACKET socketpair (tap_from_fd()): each frame the device writes
 * is one datagram at the other end (the "host"), and each datagram the
 * host sends is one frame to receive. No tap device is created. Waits have
 * a timeout, so a bug fails rather than hangs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <endian.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "vqsim.h"
#include "lib/err.h"
#include "virtio/net.h"

#define MEM_SIZE	(16ULL << 20)
#define QSIZE		VIRTIO_NET_QUEUE_SIZE
#define NQ		2
#define RXQ		VIRTIO_NET_RXQ
#define TXQ		VIRTIO_NET_TXQ
#define RING_GPA	0x10000ULL	/* the queues' areas, then buffers */
#define HDR		VIRTIO_NET_HDR_LEN
#define TIMEOUT_MS	VS_TIMEOUT_MS
#define POISON		0xEE
#define MAX_FRAME	(HDR + 65550)

struct fx {
	struct vs_ram ram;
	int host;		/* the host's end of the "tap" */
	int dev_fd;		/* the device's end */
	struct tap *tap;	/* until virtio_net_create() takes it */
	struct worker *w;
	struct virtio_net *n;
	struct vs_transport t;	/* its queues, the driver's side of them */
	uint8_t buf[MAX_FRAME];
};

static const uint8_t test_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static uint8_t pat(uint32_t seed, uint64_t off)
{
	return (uint8_t)(seed * 131 + off * 7 + (off >> 8));
}

/* A frame as the tap carries it: a header, then @len bytes of pat(@seed). */
static size_t make_frame(uint8_t *out, uint32_t seed, size_t len)
{
	/* flags NEEDS_CSUM, gso none, hdr_len, gso_size, csum_start 34, csum_offset 16 */
	static const uint8_t hdr[HDR] = { 1, 0, 54, 0, 0, 0, 34, 0, 16, 0, 0, 0 };

	memcpy(out, hdr, HDR);
	out[3] = (uint8_t)seed;	/* tells frames apart */
	for (size_t i = 0; i < len; i++)
		out[HDR + i] = pat(seed, i);
	return HDR + len;
}

/* Guest memory */

static uint8_t *gp(struct fx *f, uint64_t gpa)
{
	return vs_gp(&f->ram, gpa);
}

static uint64_t galloc(struct fx *f, uint64_t size, uint64_t align)
{
	return vs_alloc(&f->ram, size, align);
}

/* The driver's side of the two queues */

static struct vs_queue *rxq(struct fx *f)
{
	return &f->t.drv[RXQ];
}

static struct vs_queue *txq(struct fx *f)
{
	return &f->t.drv[TXQ];
}

/* The transport's side */

static int resets(struct fx *f)
{
	return vs_link_count(&f->t.link);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];

	if (!f)
		return -1;
	if (vs_ram_init(&f->ram, MEM_SIZE, RING_GPA) ||
	    vs_transport_init(&f->t, &f->ram, NQ, QSIZE))
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -1;
	f->host = sv[1];
	f->dev_fd = sv[0];
	f->tap = tap_from_fd(sv[0], "test0");
	if (!f->tap)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vs_transport_stop(&f->t);
	worker_destroy(f->w);
	virtio_net_destroy(f->n);
	tap_close(f->tap);
	vs_transport_close(&f->t);
	if (f->host >= 0)
		close(f->host);
	vs_ram_free(&f->ram);
	free(f);
	return 0;
}

/* Creates the device (taking f->tap) and its worker. */
static void create(struct fx *f)
{
	f->w = worker_create("net-test");
	assert_non_null(f->w);
	f->n = virtio_net_create(f->tap, test_mac, VIRTIO_NET_VHOST_OFF, f->w);
	f->tap = NULL;
	if (!f->n)
		fail_msg("%s", err_msg());
	f->t.desc = virtio_net_desc(f->n);
	assert_int_equal(worker_start(f->w, NULL, NULL), 0);
}

static void up(struct fx *f)
{
	create(f);
	vs_transport_start(&f->t, f->t.desc->features);
}

/* The host's side of the tap */

/* The next frame the device wrote, or -1 if none comes within @ms. */
static ssize_t host_recv(struct fx *f, void *buf, size_t cap, int ms)
{
	struct pollfd p = { .fd = f->host, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return -1;
	return recv(f->host, buf, cap, MSG_DONTWAIT);
}

static void host_send(struct fx *f, const void *buf, size_t len)
{
	assert_int_equal(send(f->host, buf, len, 0), (ssize_t)len);
}

static void assert_nothing_sent(struct fx *f, int ms)
{
	ssize_t r = host_recv(f, f->buf, sizeof(f->buf), ms);

	if (r >= 0)
		fail_msg("the device wrote a frame of %zd bytes", r);
}

/* Transmit: a chain of a frame laid out over @nseg segments (the header split too). */
static void post_tx(struct fx *f, const uint8_t *frame, size_t len, unsigned int nseg,
		    bool indirect)
{
	struct vs_buf s[8];
	size_t off = 0;

	assert_true(nseg >= 1 && nseg <= 8);
	for (unsigned int i = 0; i < nseg; i++) {
		/* uneven pieces: the first ones short, so the header straddles */
		size_t piece = i + 1 == nseg ? len - off : (i == 0 ? 5 : (len - off) / 2);
		uint64_t g = galloc(f, piece, 1 + (i & 1) * 7);

		memcpy(gp(f, g), frame + off, piece);
		s[i] = (struct vs_buf){ g, (uint32_t)piece, false };
		off += piece;
	}
	vs_add_chain(txq(f), s, nseg, indirect);
}

/* Receive: a buffer of @nseg writable segments of @seglen bytes; returns the first's address. */
static uint64_t post_rx(struct fx *f, unsigned int nseg, uint32_t seglen, bool indirect,
			uint64_t *gpas)
{
	struct vs_buf s[24];

	assert_true(nseg >= 1 && nseg <= 24);
	for (unsigned int i = 0; i < nseg; i++) {
		s[i] = (struct vs_buf){ galloc(f, seglen, 8), seglen, true };
		memset(gp(f, s[i].gpa), POISON, seglen);
		if (gpas)
			gpas[i] = s[i].gpa;
	}
	vs_add_chain(rxq(f), s, nseg, indirect);
	return s[0].gpa;
}

static void assert_rx_frame(struct fx *f, uint64_t gpa, const uint8_t *frame, size_t len)
{
	uint8_t want[HDR];

	/* the header as sent, with num_buffers 1 */
	memcpy(want, frame, HDR);
	want[10] = 1;
	want[11] = 0;
	assert_memory_equal(gp(f, gpa), want, HDR);
	assert_memory_equal(gp(f, gpa + HDR), frame + HDR, len - HDR);
}

/* Tests: description and configuration */

static void test_desc_and_features(void **state)
{
	struct fx *f = *state;

	create(f);
	assert_string_equal(f->t.desc->name, "virtio-net");
	assert_int_equal(f->t.desc->device_id, VIRTIO_ID_NET);
	assert_int_equal(f->t.desc->pci_class, 0x020000);
	assert_int_equal(f->t.desc->nqueues, 2);
	assert_int_equal(f->t.desc->queue_size, 256);
	assert_false(virtio_net_uses_vhost(f->n));
	for (int bit = 0; bit < 64; bit++) {
		bool want = bit == VIRTIO_NET_F_CSUM || bit == VIRTIO_NET_F_GUEST_CSUM ||
			    bit == VIRTIO_NET_F_GUEST_TSO4 || bit == VIRTIO_NET_F_GUEST_TSO6 ||
			    bit == VIRTIO_NET_F_GUEST_ECN || bit == VIRTIO_NET_F_HOST_TSO4 ||
			    bit == VIRTIO_NET_F_HOST_TSO6 || bit == VIRTIO_NET_F_HOST_ECN ||
			    bit == VIRTIO_NET_F_MAC || bit == VIRTIO_NET_F_STATUS ||
			    bit == VIRTIO_RING_F_INDIRECT_DESC || bit == VIRTIO_RING_F_EVENT_IDX;

		if (!!(f->t.desc->features & (1ULL << bit)) != want)
			fail_msg("feature bit %d is %s", bit, want ? "missing" : "offered");
	}
	/* in particular: no merged buffers, control queue, multiqueue or MTU in user space */
	assert_false(f->t.desc->features & (1ULL << VIRTIO_NET_F_MRG_RXBUF));
	assert_false(f->t.desc->features & (1ULL << VIRTIO_NET_F_CTRL_VQ));
	assert_false(f->t.desc->features & (1ULL << VIRTIO_NET_F_MQ));
	assert_false(f->t.desc->features & (1ULL << VIRTIO_NET_F_MTU));
}

static void test_config(void **state)
{
	struct fx *f = *state;
	const struct virtio_dev_ops *ops;
	uint8_t mac[6], b;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	create(f);
	ops = f->t.desc->ops;
	assert_true(f->t.desc->config_size >= 10);
	for (unsigned int i = 0; i < 6; i++)
		ops->config_read(f->t.desc->dev, i, &mac[i], 1);
	assert_memory_equal(mac, test_mac, 6);
	ops->config_read(f->t.desc->dev, 6, &v16, 2);
	assert_int_equal(le16toh(v16), VIRTIO_NET_S_LINK_UP);
	ops->config_read(f->t.desc->dev, 8, &v16, 2);
	assert_int_equal(le16toh(v16), 1);		/* max_virtqueue_pairs */
	ops->config_read(f->t.desc->dev, 4, &v32, 4);	/* mac[4..5] and status */
	assert_int_equal(le32toh(v32), 0x56u << 8 | 0x34u | (uint32_t)VIRTIO_NET_S_LINK_UP << 16);
	ops->config_read(f->t.desc->dev, 0, &v64, 8);
	assert_int_equal(le64toh(v64), 0x0001563412005452ULL);
	/* past the end */
	v64 = ~0ULL;
	ops->config_read(f->t.desc->dev, 4096, &v64, 8);
	assert_int_equal(v64, 0);
	v64 = ~0ULL;
	ops->config_read(f->t.desc->dev, UINT32_MAX - 2, &v64, 8);
	assert_int_equal(v64, 0);
	b = 0xFF;
	ops->config_read(f->t.desc->dev, f->t.desc->config_size, &b, 1);
	assert_int_equal(b, 0);
	assert_null(ops->config_write);
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void test_create_refused(void **state)
{
	struct fx *f = *state;
	struct worker *w = worker_create("net-test");
	static const uint8_t multicast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	static const uint8_t zero[6];
	int fd = tap_fd(f->tap), sv[2];
	struct tap *t;

	assert_non_null(w);
	/* refused, and the tap closed */
	assert_null(virtio_net_create(f->tap, multicast, VIRTIO_NET_VHOST_OFF, w));
	f->tap = NULL;
	assert_non_null(strstr(err_msg(), "multicast"));
	assert_false(fd_open(fd));

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	t = tap_from_fd(sv[0], "test1");
	assert_non_null(t);
	assert_null(virtio_net_create(t, zero, VIRTIO_NET_VHOST_OFF, w));
	assert_non_null(strstr(err_msg(), "zero"));
	assert_false(fd_open(sv[0]));

	/* vhost required: a socketpair is no tap for vhost-net */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	t = tap_from_fd(sv[0], "test2");
	assert_non_null(t);
	assert_null(virtio_net_create(t, test_mac, VIRTIO_NET_VHOST_ON, w));
	assert_non_null(strstr(err_msg(), "vhost"));
	assert_non_null(strstr(err_msg(), "vhost=off"));
	assert_false(fd_open(sv[0]));
	worker_destroy(w);
}

/* Automatic vhost on a tap vhost cannot use: the user-space path. */
static void test_vhost_auto_falls_back(void **state)
{
	struct fx *f = *state;

	f->w = worker_create("net-test");
	assert_non_null(f->w);
	f->n = virtio_net_create(f->tap, test_mac, VIRTIO_NET_VHOST_AUTO, f->w);
	f->tap = NULL;
	assert_non_null(f->n);
	assert_false(virtio_net_uses_vhost(f->n));
	f->t.desc = virtio_net_desc(f->n);
	assert_false(f->t.desc->features & (1ULL << VIRTIO_NET_F_MRG_RXBUF));
	assert_int_equal(worker_start(f->w, NULL, NULL), 0);
	vs_transport_start(&f->t, f->t.desc->features);
}

/* Tests: transmit */

static void test_tx(void **state)
{
	struct fx *f = *state;
	uint8_t frame[HDR + 1500];
	size_t len = make_frame(frame, 1, 1500);
	struct virtio_net_stats st;
	ssize_t r;

	up(f);
	post_tx(f, frame, len, 1, false);
	vs_kick(txq(f));
	r = host_recv(f, f->buf, sizeof(f->buf), TIMEOUT_MS);
	assert_int_equal(r, (ssize_t)len);
	assert_memory_equal(f->buf, frame, len);
	vs_wait_used(txq(f), 1);
	assert_int_equal(vs_used_elem(txq(f), 1).len, 0);
	assert_int_equal(vs_used_elem(txq(f), 1).id, 0);
	assert_true(vs_take_irqs(txq(f), 0) >= 1);
	assert_nothing_sent(f, 50);
	virtio_net_get_stats(f->n, &st);
	assert_int_equal(st.tx_frames, 1);
	assert_int_equal(st.tx_bytes, 1500);
	assert_int_equal(resets(f), 0);
}

static void test_tx_segments(void **state)
{
	struct fx *f = *state;
	uint8_t frame[HDR + 9000];
	const struct {
		size_t len;
		unsigned int nseg;
		bool indirect;
	} cases[] = {
		{ 60, 2, false }, { 1514, 3, false }, { 9000, 5, true }, { 64, 8, true },
		{ 14, 2, false },
	};

	up(f);
	for (unsigned int c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t len = make_frame(frame, 10 + c, cases[c].len);
		ssize_t r;

		post_tx(f, frame, len, cases[c].nseg, cases[c].indirect);
		vs_kick(txq(f));
		r = host_recv(f, f->buf, sizeof(f->buf), TIMEOUT_MS);
		if (r != (ssize_t)len)
			fail_msg("case %u: the host got %zd bytes, not %zu", c, r, len);
		assert_memory_equal(f->buf, frame, len);
		vs_wait_used(txq(f), 1);
	}
}

/*
 * Many chains, one kick: all written in order, one interrupt for the batch
 * (without event index, which would hide extra ones).
 */
static void test_tx_batch(void **state)
{
	struct fx *f = *state;
	uint8_t frame[HDR + 200];
	const unsigned int n = 32;

	create(f);
	vs_transport_start(&f->t, f->t.desc->features & ~(1ULL << VIRTIO_RING_F_EVENT_IDX));
	for (unsigned int i = 0; i < n; i++) {
		size_t len = make_frame(frame, i, 100 + i);

		post_tx(f, frame, len, 1 + i % 3, i & 1);
	}
	vs_kick(txq(f));
	for (unsigned int i = 0; i < n; i++) {
		size_t len = make_frame(frame, i, 100 + i);
		ssize_t r = host_recv(f, f->buf, sizeof(f->buf), TIMEOUT_MS);

		assert_int_equal(r, (ssize_t)len);
		assert_memory_equal(f->buf, frame, len);
	}
	vs_wait_used(txq(f), n);
	usleep(50 * 1000);
	assert_int_equal(vs_take_irqs(txq(f), 0), 1);
}

/*
 * The host does not read: the socket fills, the device keeps its chain and
 * waits for room, then everything arrives in order.
 */
static void test_tx_backpressure(void **state)
{
	struct fx *f = *state;
	const unsigned int n = 24;
	const size_t flen = 30000;
	uint8_t *frame = malloc(HDR + flen);
	int sndbuf = 65536;

	assert_non_null(frame);
	up(f);
	assert_int_equal(setsockopt(f->dev_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
				    sizeof(sndbuf)), 0);
	for (unsigned int i = 0; i < n; i++)
		post_tx(f, frame, make_frame(frame, i, flen), 2, false);
	vs_kick(txq(f));
	/* some go, then the socket is full */
	usleep(200 * 1000);
	assert_true(vs_used_idx(txq(f)) < n);
	for (unsigned int i = 0; i < n; i++) {
		size_t len = make_frame(frame, i, flen);
		ssize_t r = host_recv(f, f->buf, sizeof(f->buf), TIMEOUT_MS);

		if (r != (ssize_t)len)
			fail_msg("frame %u: the host got %zd bytes, not %zu", i, r, len);
		assert_memory_equal(f->buf, frame, len);
	}
	vs_wait_used(txq(f), n);
	assert_nothing_sent(f, 50);
	free(frame);
}

/* 2.7.10: did the index move from @old to @new past @event? */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* A driver that kicks only when the device asked (event index). */
static void test_tx_event_idx_kicks(void **state)
{
	struct fx *f = *state;
	struct vs_queue *q = txq(f);
	uint8_t frame[HDR + 64];
	const unsigned int batch[] = { 1, 7, 200, 3, 255, 1, 64 };
	unsigned int kicks = 0;

	up(f);
	assert_true(f->t.features & (1ULL << VIRTIO_RING_F_EVENT_IDX));
	for (unsigned int r = 0; r < sizeof(batch) / sizeof(batch[0]); r++) {
		uint16_t old = q->avail_idx;

		for (unsigned int i = 0; i < batch[r]; i++)
			post_tx(f, frame, make_frame(frame, r * 7 + i, 60), 1, false);
		if (need_event(vs_avail_event(q), q->avail_idx, old)) {
			vs_kick(q);
			kicks++;
		}
		for (unsigned int i = 0; i < batch[r]; i++) {
			size_t len = make_frame(frame, r * 7 + i, 60);
			ssize_t got = host_recv(f, f->buf, sizeof(f->buf), TIMEOUT_MS);

			if (got != (ssize_t)len)
				fail_msg("round %u frame %u: the host got %zd bytes", r, i, got);
			assert_memory_equal(f->buf, frame, len);
		}
		vs_wait_used(q, batch[r]);
		/* the device asks for the next kick once the queue is empty */
		vs_wait_avail_event(q, q->avail_idx);
	}
	assert_int_equal(kicks, sizeof(batch) / sizeof(batch[0]));
}

/* A chain too short for the header: given back empty, nothing sent, the queue goes on. */
static void test_tx_short_chain(void **state)
{
	struct fx *f = *state;
	uint8_t frame[HDR + 100];
	size_t len = make_frame(frame, 3, 100);
	struct virtio_net_stats st;

	up(f);
	post_tx(f, frame, HDR - 1, 2, false);
	vs_kick(txq(f));
	vs_wait_used(txq(f), 1);
	assert_int_equal(vs_used_elem(txq(f), 1).len, 0);
	assert_nothing_sent(f, 50);
	post_tx(f, frame, len, 1, false);
	vs_kick(txq(f));
	assert_int_equal(host_recv(f, f->buf, sizeof(f->buf), TIMEOUT_MS), (ssize_t)len);
	assert_memory_equal(f->buf, frame, len);
	vs_wait_used(txq(f), 1);
	virtio_net_get_stats(f->n, &st);
	assert_int_equal(st.bad_chains, 1);
	assert_int_equal(st.tx_frames, 1);
	assert_int_equal(resets(f), 0);
}

/* Writable descriptors only: no header to send either. */
static void test_tx_write_only_chain(void **state)
{
	struct fx *f = *state;
	struct vs_buf s = { galloc(f, 100, 8), 100, true };

	up(f);
	vs_add_chain(txq(f), &s, 1, false);
	vs_kick(txq(f));
	vs_wait_used(txq(f), 1);
	assert_int_equal(vs_used_elem(txq(f), 1).len, 0);
	assert_nothing_sent(f, 50);
	assert_int_equal(resets(f), 0);
}

/* Tests: receive */

static void test_rx(void **state)
{
	struct fx *f = *state;
	uint8_t frame[HDR + 1000];
	size_t len = make_frame(frame, 7, 1000);
	struct virtio_net_stats st;
	uint64_t gpa;

	up(f);
	gpa = post_rx(f, 1, HDR + 1518, false, NULL);
	vs_kick(rxq(f));
	host_send(f, frame, len);
	vs_wait_used(rxq(f), 1);
	assert_int_equal(vs_used_elem(rxq(f), 1).len, len);
	assert_int_equal(vs_used_elem(rxq(f), 1).id, 0);
	assert_rx_frame(f, gpa, frame, len);
	assert_int_equal(*gp(f, gpa + len), POISON);
	assert_true(vs_take_irqs(rxq(f), 0) >= 1);
	virtio_net_get_stats(f->n, &st);
	assert_int_equal(st.rx_frames, 1);
	assert_int_equal(st.rx_bytes, 1000);
}

/*
 * Several frames, several buffers: each in its own buffer, in order
 * (indirect or not), one interrupt for the batch (without event index,
 * which would hide extra ones).
 */
static void test_rx_many(void **state)
{
	struct fx *f = *state;
	uint8_t frame[HDR + 1514];
	uint64_t gpa[16];
	const unsigned int n = 16;

	create(f);
	vs_transport_start(&f->t, f->t.desc->features & ~(1ULL << VIRTIO_RING_F_EVENT_IDX));
	/* the frames wait in the tap, then one kick brings buffers for all */
	for (unsigned int i = 0; i < n; i++)
		host_send(f, frame, make_frame(frame, 20 + i, 60 + i * 90));
	vs_assert_used_stays(rxq(f), 50);
	for (unsigned int i = 0; i < n; i++)
		gpa[i] = post_rx(f, 1, HDR + 1514, i & 1, NULL);
	vs_kick(rxq(f));
	vs_wait_used(rxq(f), n);
	/* read in one batch: one interrupt */
	usleep(50 * 1000);
	assert_int_equal(vs_take_irqs(rxq(f), 0), 1);
	for (unsigned int i = 0; i < n; i++) {
		size_t len = make_frame(frame, 20 + i, 60 + i * 90);
		struct virtq_used_elem e = vs_used_elem(rxq(f), n - i);

		assert_int_equal(e.len, len);
		assert_rx_frame(f, gpa[i], frame, len);
	}
}

/* A "big packet" buffer as Linux posts them: the header, then pages. */
static void test_rx_big_segmented(void **state)
{
	struct fx *f = *state;
	const size_t flen = 60000;
	uint8_t *frame = malloc(HDR + flen), *got = malloc(HDR + 19 * 4096);
	uint64_t gpas[19];
	struct vs_buf s[19];
	size_t len = make_frame(frame, 5, flen), off = 0;

	assert_true(frame && got);
	up(f);
	s[0] = (struct vs_buf){ galloc(f, HDR, 8), HDR, true };
	gpas[0] = s[0].gpa;
	for (unsigned int i = 1; i < 19; i++) {
		s[i] = (struct vs_buf){ galloc(f, 4096, 4096), 4096, true };
		gpas[i] = s[i].gpa;
	}
	vs_add_chain(rxq(f), s, 19, true);
	vs_kick(rxq(f));
	host_send(f, frame, len);
	vs_wait_used(rxq(f), 1);
	assert_int_equal(vs_used_elem(rxq(f), 1).len, len);
	for (unsigned int i = 0; i < 19 && off < len; i++) {
		size_t take = len - off < s[i].len ? len - off : s[i].len;

		memcpy(got + off, gp(f, gpas[i]), take);
		off += take;
	}
	assert_int_equal(got[10], 1);	/* num_buffers */
	assert_memory_equal(got + HDR, frame + HDR, flen);
	assert_memory_equal(got, frame, 10);
	free(frame);
	free(got);
}

/*
 * No receive buffer: frames wait in the tap (the device stops reading);
 * buffers and a kick bring them in, in order, none lost.
 */
static void test_rx_no_buffers_then_kick(void **state)
{
	struct fx *f = *state;
	uint8_t frame[HDR + 500];
	uint64_t gpa[3];
	struct virtio_net_stats st;

	up(f);
	for (unsigned int i = 0; i < 3; i++)
		host_send(f, frame, make_frame(frame, 40 + i, 100 + i));
	vs_assert_used_stays(rxq(f), 100);
	/* the device asked for a kick when the queue has a buffer again */
	assert_int_equal(vs_avail_event(rxq(f)), 0);
	for (unsigned int i = 0; i < 3; i++)
		gpa[i] = post_rx(f, 1, HDR + 1514, false, NULL);
	vs_kick(rxq(f));
	vs_wait_used(rxq(f), 3);
	vs_wait_avail_event(rxq(f), 3);
	for (unsigned int i = 0; i < 3; i++) {
		size_t len = make_frame(frame, 40 + i, 100 + i);

		assert_int_equal(vs_used_elem(rxq(f), 3 - i).len, len);
		assert_rx_frame(f, gpa[i], frame, len);
	}
	/* out of buffers again, a fourth frame waits for the next one */
	host_send(f, frame, make_frame(frame, 50, 70));
	vs_assert_used_stays(rxq(f), 100);
	gpa[0] = post_rx(f, 1, HDR + 1514, false, NULL);
	vs_kick(rxq(f));
	vs_wait_used(rxq(f), 1);
	assert_rx_frame(f, gpa[0], frame, HDR + 70);
	virtio_net_get_stats(f->n, &st);
	assert_int_equal(st.rx_frames, 4);
	assert_int_equal(st.rx_dropped, 0);
}

/* Without event index too: the driver kicks after adding buffers. */
static void test_rx_no_event_idx(void **state)
{
	struct fx *f = *state;
	uint8_t frame[HDR + 100];
	size_t len = make_frame(frame, 60, 100);
	uint64_t gpa;

	create(f);
	vs_transport_start(&f->t, f->t.desc->features & ~(1ULL << VIRTIO_RING_F_EVENT_IDX));
	host_send(f, frame, len);
	vs_assert_used_stays(rxq(f), 100);
	gpa = post_rx(f, 1, HDR + 1514, false, NULL);
	vs_kick(rxq(f));
	vs_wait_used(rxq(f), 1);
	assert_rx_frame(f, gpa, frame, len);
}

/* A receive chain too short for the header: given back empty, the frame goes to the next. */
static void test_rx_short_chain(void **state)
{
	struct fx *f = *state;
	uint8_t frame[HDR + 300];
	size_t len = make_frame(frame, 9, 300);
	struct virtio_net_stats st;
	uint64_t gpa;
	struct vs_buf s = { galloc(f, HDR - 2, 8), HDR - 2, true };

	up(f);
	memset(gp(f, s.gpa), POISON, s.len);
	vs_add_chain(rxq(f), &s, 1, false);
	gpa = post_rx(f, 1, HDR + 1514, false, NULL);
	vs_kick(rxq(f));
	host_send(f, frame, len);
	vs_wait_used(rxq(f), 2);
	assert_int_equal(vs_used_elem(rxq(f), 2).len, 0);
	assert_int_equal(vs_used_elem(rxq(f), 1).len, len);
	assert_rx_frame(f, gpa, frame, len);
	for (unsigned int i = 0; i < s.len; i++)
		assert_int_equal(*gp(f, s.gpa + i), POISON);
	virtio_net_get_stats(f->n, &st);
	assert_int_equal(st.bad_chains, 1);
	assert_int_equal(resets(f), 0);
}

/* Readable descriptors only: no room for the header either. */
static void test_rx_read_only_chain(void **state)
{
	struct fx *f = *state;
	struct vs_buf s = { galloc(f, 2000, 8), 2000, false };
	uint8_t frame[HDR + 100];

	up(f);
	vs_add_chain(rxq(f), &s, 1, false);
	vs_kick(rxq(f));
	host_send(f, frame, make_frame(frame, 1, 100));
	vs_wait_used(rxq(f), 1);
	assert_int_equal(vs_used_elem(rxq(f), 1).len, 0);
	assert_int_equal(resets(f), 0);
}

/* Tests: broken queues, reset */

static void test_broken_tx_queue(void **state)
{
	struct fx *f = *state;
	uint8_t frame[HDR + 100];
	size_t len = make_frame(frame, 2, 100);

	up(f);
	post_tx(f, frame, len, 1, false);
	vs_kick(txq(f));
	assert_int_equal(host_recv(f, f->buf, sizeof(f->buf), TIMEOUT_MS), (ssize_t)len);
	vs_wait_used(txq(f), 1);
	vs_publish(txq(f), QSIZE + 7);	/* a head outside the table */
	vs_kick(txq(f));
	vs_link_wait(&f->t.link, 1);
	/* it stays broken, and is not reported again */
	post_tx(f, frame, len, 1, false);
	vs_kick(txq(f));
	usleep(100 * 1000);
	assert_int_equal(resets(f), 1);
	assert_int_equal(vs_used_idx(txq(f)), 1);
	assert_nothing_sent(f, 10);
	/* the driver resets the device and starts over */
	vs_transport_reset(&f->t);
	vs_transport_start(&f->t, f->t.desc->features);
	post_tx(f, frame, len, 1, false);
	vs_kick(txq(f));
	assert_int_equal(host_recv(f, f->buf, sizeof(f->buf), TIMEOUT_MS), (ssize_t)len);
	assert_memory_equal(f->buf, frame, len);
	vs_wait_used(txq(f), 1);
}

static void test_broken_rx_queue(void **state)
{
	struct fx *f = *state;
	struct vs_queue *q = rxq(f);
	uint8_t frame[HDR + 100];
	size_t len = make_frame(frame, 4, 100);
	uint64_t gpa;
	struct vs_buf s[2];

	up(f);
	/* a chain that loops on itself */
	s[0] = (struct vs_buf){ galloc(f, 64, 8), 64, true };
	vs_put_desc(vs_desc_table(q), 0, s[0].gpa, 64, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	q->next_desc++;
	vs_publish(q, 0);
	vs_kick(q);
	host_send(f, frame, len);
	vs_link_wait(&f->t.link, 1);
	usleep(50 * 1000);
	assert_int_equal(resets(f), 1);
	assert_int_equal(vs_used_idx(q), 0);
	/* transmit still works */
	post_tx(f, frame, len, 1, false);
	vs_kick(txq(f));
	assert_int_equal(host_recv(f, f->buf, sizeof(f->buf), TIMEOUT_MS), (ssize_t)len);
	/* after a reset the frame that waited is received */
	vs_transport_reset(&f->t);
	vs_transport_start(&f->t, f->t.desc->features);
	gpa = post_rx(f, 1, HDR + 1514, false, NULL);
	vs_kick(q);
	vs_wait_used(q, 1);
	assert_rx_frame(f, gpa, frame, len);
}

/*
 * Reset with work pending both ways: a transmit chain the full socket
 * could not take and frames waiting for receive buffers. After reset()
 * nothing is pushed or written to guest memory; a restart works, and the
 * frames still in the tap are received then.
 */
static void test_reset_with_pending(void **state)
{
	struct fx *f = *state;
	const size_t flen = 30000;
	uint8_t *frame = malloc(HDR + flen);
	uint8_t small[HDR + 80], used_snap[NQ][0x1000];
	int sndbuf = 65536;
	uint16_t tx_at_reset;
	uint64_t rx_gpa, gpa[4];
	unsigned int got = 0;

	assert_non_null(frame);
	up(f);
	assert_int_equal(setsockopt(f->dev_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	for (unsigned int i = 0; i < 16; i++)
		post_tx(f, frame, make_frame(frame, i, flen), 1, false);
	vs_kick(txq(f));
	for (unsigned int i = 0; i < 4; i++)
		host_send(f, small, make_frame(small, 90 + i, 80));
	usleep(200 * 1000);
	tx_at_reset = vs_used_idx(txq(f));
	assert_true(tx_at_reset < 16);
	assert_int_equal(vs_used_idx(rxq(f)), 0);

	vs_transport_reset(&f->t);
	for (unsigned int q = 0; q < NQ; q++)
		memcpy(used_snap[q], vs_used(&f->t.drv[q]), 0x1000);
	/* the host drains what was sent before: room again, which the device must not use */
	while (host_recv(f, f->buf, sizeof(f->buf), 100) > 0)
		got++;
	assert_int_equal(got, tx_at_reset);
	/* a buffer in the old ring, and kicks: nobody takes them */
	rx_gpa = post_rx(f, 1, HDR + 1514, false, NULL);
	vs_kick(rxq(f));
	vs_kick(txq(f));
	usleep(100 * 1000);
	for (unsigned int q = 0; q < NQ; q++)
		assert_memory_equal(used_snap[q], vs_used(&f->t.drv[q]), 0x1000);
	for (unsigned int i = 0; i < HDR + 1514; i++)
		assert_int_equal(*gp(f, rx_gpa + i), POISON);
	assert_nothing_sent(f, 10);

	/* a new driver, fresh rings: the frames that waited in the tap come in */
	vs_transport_start(&f->t, f->t.desc->features);
	for (unsigned int i = 0; i < 4; i++)
		gpa[i] = post_rx(f, 1, HDR + 1514, false, NULL);
	vs_kick(rxq(f));
	vs_wait_used(rxq(f), 4);
	for (unsigned int i = 0; i < 4; i++) {
		make_frame(small, 90 + i, 80);
		assert_int_equal(vs_used_elem(rxq(f), 4 - i).len, HDR + 80);
		assert_rx_frame(f, gpa[i], small, HDR + 80);
	}
	post_tx(f, small, make_frame(small, 99, 80), 1, false);
	vs_kick(txq(f));
	assert_int_equal(host_recv(f, f->buf, sizeof(f->buf), TIMEOUT_MS), HDR + 80);
	assert_memory_equal(f->buf, small, HDR + 80);
	vs_wait_used(txq(f), 1);
	assert_nothing_sent(f, 50);
	free(frame);
}

/* Chains made available before DRIVER_OK are sent at start, without a kick. */
static void test_tx_before_start(void **state)
{
	struct fx *f = *state;
	uint8_t frame[HDR + 100];
	size_t len = make_frame(frame, 8, 100);

	create(f);
	vs_transport_setup(&f->t, f->t.desc->features);
	post_tx(f, frame, len, 2, false);
	vs_transport_start_device(&f->t);
	assert_int_equal(host_recv(f, f->buf, sizeof(f->buf), TIMEOUT_MS), (ssize_t)len);
	assert_memory_equal(f->buf, frame, len);
	vs_wait_used(txq(f), 1);
}

/* A driver that enables only the transmit queue. */
static void test_tx_only(void **state)
{
	struct fx *f = *state;
	uint8_t frame[HDR + 100];
	size_t len = make_frame(frame, 8, 100);

	create(f);
	vs_transport_setup(&f->t, f->t.desc->features);
	memset(&f->t.q[RXQ].vq, 0, sizeof(f->t.q[RXQ].vq));
	vs_transport_start_device(&f->t);
	host_send(f, frame, len);	/* nobody reads it: no buffers can come */
	post_tx(f, frame, len, 1, false);
	vs_kick(txq(f));
	assert_int_equal(host_recv(f, f->buf, sizeof(f->buf), TIMEOUT_MS), (ssize_t)len);
	vs_wait_used(txq(f), 1);
}

/* Both disabled: start and reset do nothing, and a later start works. */
static void test_no_queues(void **state)
{
	struct fx *f = *state;

	create(f);
	vs_transport_setup(&f->t, f->t.desc->features);
	memset(&f->t.q[RXQ].vq, 0, sizeof(f->t.q[RXQ].vq));
	memset(&f->t.q[TXQ].vq, 0, sizeof(f->t.q[TXQ].vq));
	vs_transport_start_device(&f->t);
	vs_transport_reset(&f->t);
	vs_transport_start(&f->t, f->t.desc->features);
}

/* The tap's peer goes away: transmit frames are dropped, the queue does not stall. */
static void test_tap_gone(void **state)
{
	struct fx *f = *state;
	uint8_t frame[HDR + 100];
	size_t len = make_frame(frame, 8, 100);
	struct virtio_net_stats st;

	up(f);
	post_rx(f, 1, HDR + 1514, false, NULL);
	vs_kick(rxq(f));
	close(f->host);
	f->host = -1;
	usleep(100 * 1000);
	post_tx(f, frame, len, 1, false);
	vs_kick(txq(f));
	vs_wait_used(txq(f), 1);
	assert_int_equal(vs_used_idx(rxq(f)), 0);
	virtio_net_get_stats(f->n, &st);
	assert_int_equal(st.tx_dropped, 1);
	assert_int_equal(st.tx_frames, 0);
	assert_int_equal(resets(f), 0);
}

/* The offloads follow what the driver accepted; a socketpair takes none (no-op). */
static void test_offloads_noop(void **state)
{
	struct fx *f = *state;

	assert_false(tap_is_tun(f->tap));
	assert_int_equal(tap_set_offloads(f->tap, TAP_F_CSUM | TAP_F_TSO4), 0);
	up(f);
	vs_transport_reset(&f->t);
	vs_transport_start(&f->t, 0);
	vs_transport_reset(&f->t);
	vs_transport_start(&f->t, f->t.desc->features);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_desc_and_features),
		T(test_config),
		T(test_create_refused),
		T(test_vhost_auto_falls_back),
		T(test_tx),
		T(test_tx_segments),
		T(test_tx_batch),
		T(test_tx_backpressure),
		T(test_tx_event_idx_kicks),
		T(test_tx_short_chain),
		T(test_tx_write_only_chain),
		T(test_rx),
		T(test_rx_many),
		T(test_rx_big_segmented),
		T(test_rx_no_buffers_then_kick),
		T(test_rx_no_event_idx),
		T(test_rx_short_chain),
		T(test_rx_read_only_chain),
		T(test_broken_tx_queue),
		T(test_broken_rx_queue),
		T(test_reset_with_pending),
		T(test_tx_before_start),
		T(test_tx_only),
		T(test_no_queues),
		T(test_tap_gone),
		T(test_offloads_noop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
