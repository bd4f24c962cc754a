/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VIRTIO_RNG_H
#define SLICEVM_VIRTIO_RNG_H

#include "virtio/virtio.h"
#include "virtio/worker.h"

/*
 * virtio-rng (virtio 1.2, 5.4): one queue whose buffers the device fills
 * with bytes from the host's getrandom(). Work runs on worker @w.
 */
struct virtio_rng;

struct virtio_rng *virtio_rng_create(struct worker *w);
const struct virtio_device_desc *virtio_rng_desc(struct virtio_rng *r);
/* After its transport and worker are gone. */
void virtio_rng_destroy(struct virtio_rng *r);

#endif
