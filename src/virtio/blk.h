/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VIRTIO_BLK_H
#define SLICEVM_VIRTIO_BLK_H

#include <stdint.h>

#include "virtio/disk.h"
#include "virtio/virtio.h"
#include "virtio/worker.h"

/*
 * virtio-blk (virtio 1.2, 5.2) over a disk image (disk.h), its I/O done
 * with io_uring on the device's worker thread (worker.h).
 *
 * Life: virtio_blk_create() on the main thread before worker_start() (it
 * sets up the ring, which the I/O thread's sandbox could not);
 * virtio_blk_desc() hands the description to a transport; the transport
 * calls the ops (virtio.h); virtio_blk_destroy() on the main thread after
 * worker_destroy().
 */

/* Feature bits (5.2.3) */
#define VIRTIO_BLK_F_SEG_MAX		2
#define VIRTIO_BLK_F_RO			5
#define VIRTIO_BLK_F_BLK_SIZE		6
#define VIRTIO_BLK_F_FLUSH		9
#define VIRTIO_BLK_F_MQ			12
#define VIRTIO_BLK_F_DISCARD		13
#define VIRTIO_BLK_F_WRITE_ZEROES	14

/* Request types and status values (5.2.6) */
#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13
#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2
#define VIRTIO_BLK_WZ_F_UNMAP		1	/* discard/write zeroes segment flag */

#define VIRTIO_BLK_ID_BYTES	20	/* GET_ID's answer: the serial, zero-padded */
#define VIRTIO_BLK_MAX_QUEUES	32	/* request queues one device serves */

/* What the device tells the driver in its configuration (5.2.4). */
#define VIRTIO_BLK_QUEUE_SIZE	256	/* entries of each queue, at most */
#define VIRTIO_BLK_SEG_MAX	126	/* data buffers in a read or write */
#define VIRTIO_BLK_DWZ_SEG_MAX	32	/* segments in a discard or write zeroes */
#define VIRTIO_BLK_MAX_DISCARD_SECTORS	(1U << 21)	/* 1G per segment */
#define VIRTIO_BLK_MAX_ZEROES_SECTORS	(1U << 16)	/* 32M: zeroing may be done by writing */

struct virtio_blk;

/*
 * A device for @disk, whose ownership it takes (closed by destroy, or here
 * on failure). @serial: up to 20 bytes for GET_ID (NULL: none). @nqueues:
 * 1..VIRTIO_BLK_MAX_QUEUES request queues, all served by worker @w, which
 * must not have started yet. NULL, err_set(): a bad argument, or io_uring
 * cannot be set up (too old a kernel, or disabled by
 * kernel.io_uring_disabled).
 */
struct virtio_blk *virtio_blk_create(struct disk *disk, const char *serial,
				     unsigned int nqueues, struct worker *w);

/* The description for a transport; valid until virtio_blk_destroy(). */
const struct virtio_device_desc *virtio_blk_desc(struct virtio_blk *b);

/* After the worker is destroyed (nothing runs on it). NULL is fine. */
void virtio_blk_destroy(struct virtio_blk *b);

#endif
