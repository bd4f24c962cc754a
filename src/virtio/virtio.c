// SPDX-License-Identifier: GPL-2.0
/*
 * The helpers virtio.h gives devices for their queues' eventfds. Both run
 * on the device's thread (the only one that touches the queue); the fds
 * belong to the transport.
 */
#include <stdint.h>
#include <unistd.h>

#include "virtio/virtio.h"

/* The transport makes kick_fd non-blocking: an empty eventfd fails with EAGAIN. */
void virtio_config_read(const uint8_t *config, unsigned int len, unsigned int offset,
			void *data, int size)
{
	uint8_t *out = data;

	for (unsigned int i = 0; i < (unsigned int)size; i++)
		out[i] = offset < len && i < len - offset ? config[offset + i] : 0;
}

bool virtio_queue_take_kick(struct virtio_queue *q)
{
	uint64_t n;

	return read(q->kick_fd, &n, sizeof(n)) == (ssize_t)sizeof(n);
}

void virtio_queue_notify(struct virtio_queue *q)
{
	uint64_t one = 1;

	if (q->call_fd < 0 || !vq_needs_notify(&q->vq))
		return;
	if (write(q->call_fd, &one, sizeof(one)) < 0) {
		/* only a counter at its limit fails, and then the driver is woken anyway */
	}
}
