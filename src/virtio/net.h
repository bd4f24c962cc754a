/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VIRTIO_NET_H
#define SLICEVM_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/tap.h"
#include "virtio/virtio.h"
#include "virtio/worker.h"

/*
 * virtio-net (virtio 1.2, 5.1) on a tap device (tap.h): one receive queue
 * (0) and one transmit queue (1), no control queue, no multiqueue.
 *
 * The data path runs in the kernel's vhost-net when it can (no exit to
 * user space per frame: KVM's ioeventfd kicks vhost, vhost's irqfd
 * interrupts the guest), else on the device's I/O thread (worker.h),
 * which reads and writes the tap with iovecs into guest memory.
 *
 * Life: virtio_net_create() on the main thread before worker_start()
 * (vhost-net is opened and owned there); virtio_net_desc() hands the
 * description to a transport, which calls the ops (virtio.h);
 * virtio_net_destroy() on the main thread after worker_destroy().
 */

/* Feature bits (5.1.3) */
#define VIRTIO_NET_F_CSUM		0
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_MTU		3
#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_GUEST_TSO4		7
#define VIRTIO_NET_F_GUEST_TSO6		8
#define VIRTIO_NET_F_GUEST_ECN		9
#define VIRTIO_NET_F_GUEST_UFO		10
#define VIRTIO_NET_F_HOST_TSO4		11
#define VIRTIO_NET_F_HOST_TSO6		12
#define VIRTIO_NET_F_HOST_ECN		13
#define VIRTIO_NET_F_HOST_UFO		14
#define VIRTIO_NET_F_MRG_RXBUF		15
#define VIRTIO_NET_F_STATUS		16
#define VIRTIO_NET_F_CTRL_VQ		17
#define VIRTIO_NET_F_MQ			22

/* Configuration (5.1.4): mac[6], status, max_virtqueue_pairs, mtu (not offered) */
#define VIRTIO_NET_CFG_MAC		0
#define VIRTIO_NET_CFG_STATUS		6
#define VIRTIO_NET_CFG_MAX_VQ_PAIRS	8
#define VIRTIO_NET_CONFIG_SIZE		12
#define VIRTIO_NET_S_LINK_UP		1

#define VIRTIO_NET_RXQ			0
#define VIRTIO_NET_TXQ			1
#define VIRTIO_NET_QUEUE_SIZE		256
#define VIRTIO_NET_HDR_LEN		TAP_VNET_HDR_LEN	/* virtio 1.x: with num_buffers */

/* vhost argument of virtio_net_create() */
#define VIRTIO_NET_VHOST_OFF		0
#define VIRTIO_NET_VHOST_ON		1	/* required: fail without it */
#define VIRTIO_NET_VHOST_AUTO		(-1)	/* when /dev/vhost-net opens */

struct virtio_net;

/*
 * A device on @tap, whose ownership it takes (closed by destroy, or here on
 * failure), with the MAC address @mac (unicast, not all zero). @vhost: one
 * of VIRTIO_NET_VHOST_*. The queues are served by worker @w (not started
 * yet): the whole data path without vhost, only set-up and error reports
 * with it. NULL, err_set(): a bad MAC; vhost required but /dev/vhost-net
 * cannot be opened or used (modprobe vhost_net, or vhost=off), or @tap is
 * not a tun device.
 */
struct virtio_net *virtio_net_create(struct tap *tap, const uint8_t mac[6], int vhost,
				     struct worker *w);

/* The description for a transport; valid until virtio_net_destroy(). */
const struct virtio_device_desc *virtio_net_desc(struct virtio_net *n);

/* The device's MAC address (6 bytes), as the guest reads it. */
const uint8_t *virtio_net_mac(const struct virtio_net *n);

/* Whether the data path is in vhost-net (decided at create). */
bool virtio_net_uses_vhost(const struct virtio_net *n);

/*
 * What the user-space data path did, since create; any thread. With vhost
 * the tap's own counters tell (ip -s link show NAME). Frames the tap
 * holds while the guest gives no receive buffers are dropped by the host
 * once its queue is full, and counted in the tap's TX dropped.
 */
struct virtio_net_stats {
	uint64_t rx_frames, rx_bytes;	/* to the guest (bytes without the header) */
	uint64_t tx_frames, tx_bytes;	/* from the guest, written to the tap */
	uint64_t rx_dropped;	/* read from the tap, but larger than the guest's buffer */
	uint64_t tx_dropped;	/* refused by the tap, or after the tap went away */
	uint64_t bad_chains;	/* too short for the header: given back unused */
};

void virtio_net_get_stats(const struct virtio_net *n, struct virtio_net_stats *out);

/* After the worker is destroyed (nothing runs on it). NULL is fine. */
void virtio_net_destroy(struct virtio_net *n);

#endif
