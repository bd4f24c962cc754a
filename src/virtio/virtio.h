/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VIRTIO_VIRTIO_H
#define SLICEVM_VIRTIO_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/virtqueue.h"

/*
 * The contract between a virtio device (blk.c, rng.c, ...) and its
 * transport (pci.c). A device knows nothing of PCI, KVM or struct vm: it
 * describes itself in a struct virtio_device_desc, and the transport calls
 * its ops when the driver starts or resets it. Guest memory reaches the
 * device only through the set-up virtqueues (virtqueue.h), which check
 * every address.
 *
 * Threads: ops run on a vCPU thread (the driver's register access), one at
 * a time per device (the transport serialises them). A device does its
 * queue work on a thread of its own (worker.h), which it created on the
 * main thread before the vCPUs ran. start() hands the queues to that
 * thread; reset() takes them back and returns only once that thread no
 * longer touches them or guest memory for them (in-flight requests done).
 */

/* Device types (virtio 1.2, 5) */
#define VIRTIO_ID_NET		1
#define VIRTIO_ID_BLOCK		2
#define VIRTIO_ID_RNG		4

/* Transport-level feature bits (virtio 1.2, 6) */
#define VIRTIO_F_VERSION_1	32

/* device_status bits (2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	64
#define VIRTIO_STATUS_FAILED		128

#define VIRTIO_MAX_QUEUES	64

/* One queue, as the transport hands it to the device at start(). */
struct virtio_queue {
	struct virtqueue vq;	/* set up (vq_setup) by the transport */
	unsigned int index;
	int kick_fd;		/* eventfd, readable once the driver notified: read it to clear */
	int call_fd;		/* eventfd to interrupt the driver; -1: no vector (polling driver) */
};

/* What the device may tell its transport, from its own thread. */
struct virtio_link {
	/*
	 * A queue broke (vq->broken) or the device can no longer work: sets
	 * DEVICE_NEEDS_RESET and interrupts the driver (config change).
	 */
	void (*needs_reset)(struct virtio_link *link);
};

struct virtio_dev_ops {
	/*
	 * DRIVER_OK: @features were accepted (a subset of what was offered,
	 * VIRTIO_F_VERSION_1 among them); @queues[0..nqueues) are the
	 * device's queues, enabled or not (vq.size 0: the driver left it
	 * disabled). The array stays valid and untouched by the transport
	 * until reset() returns. Returns 0, or -1 (err_set()) to fail the
	 * device (the transport sets NEEDS_RESET).
	 */
	int (*start)(void *dev, struct virtio_queue *queues, unsigned int nqueues,
		     uint64_t features, struct virtio_link *link);
	/* Stop using the queues (see above). Called only after a start() that returned 0. */
	void (*reset)(void *dev);
	/* The device-specific configuration (virtio 1.2, 5.x.4), @size 1, 2, 4 or 8. */
	void (*config_read)(void *dev, unsigned int offset, void *data, int size);
	/* Optional: writes to it; NULL ignores them. */
	void (*config_write)(void *dev, unsigned int offset, const void *data, int size);
};

struct virtio_device_desc {
	const char *name;		/* for messages: "virtio-blk", ... */
	uint16_t device_id;		/* VIRTIO_ID_* */
	uint32_t pci_class;		/* class code for the PCI function */
	uint64_t features;		/* offered: device bits and VIRTIO_RING_F_*; the transport adds VERSION_1 */
	unsigned int nqueues;		/* 1..VIRTIO_MAX_QUEUES */
	uint16_t queue_size;		/* the largest size of each queue, a power of two */
	unsigned int config_size;	/* bytes of device-specific configuration */
	const struct virtio_dev_ops *ops;
	void *dev;
};

/*
 * After pushing used buffers: interrupts the driver if it wants to be
 * (vq_needs_notify()). From the device's thread.
 */
void virtio_queue_notify(struct virtio_queue *q);

/* Reads and clears a queue's kick eventfd; true if there was a kick. */
bool virtio_queue_take_kick(struct virtio_queue *q);

/*
 * What start() hands its device's thread (through worker_call()): the
 * arguments of start(), kept together.
 */
struct virtio_start_args {
	void *dev;
	struct virtio_queue *queues;
	unsigned int nqueues;
	uint64_t features;
	struct virtio_link *link;
};

/*
 * A config_read() over a device's configuration bytes @config[0, @len):
 * @size bytes at @offset, those past the end read as 0.
 */
void virtio_config_read(const uint8_t *config, unsigned int len, unsigned int offset,
			void *data, int size);

#endif
