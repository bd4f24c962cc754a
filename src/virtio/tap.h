/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VIRTIO_TAP_H
#define SLICEVM_VIRTIO_TAP_H

#include <stdbool.h>

/*
 * A tap device: the host end of a VM's network link (virtio-net, net.h).
 * Each frame the VMM reads or writes on its fd starts with the 12-byte
 * virtio 1.x network header (struct virtio_net_hdr with num_buffers), so
 * checksum and segmentation offloads pass through between the guest and
 * the host's stack untouched.
 *
 * The VMM only attaches to the interface: addresses, the link state, a
 * bridge are the host's network set-up (ip link set NAME up, ...).
 *
 * Life: tap_open() on the main thread, before the sandbox (it opens
 * /dev/net/tun); the fd is then used by one thread at a time (the device's
 * I/O thread, or the kernel's vhost-net worker). tap_set_offloads() is an
 * ioctl: from the main or an I/O thread, never a vCPU thread.
 */

/* The tun driver's offload flags (linux/if_tun.h), for tap_set_offloads(). */
#define TAP_F_CSUM		0x01	/* the reader takes frames with partial checksums */
#define TAP_F_TSO4		0x02	/* ... and TCP segmentation offload over IPv4 */
#define TAP_F_TSO6		0x04	/* ... over IPv6 */
#define TAP_F_TSO_ECN		0x08	/* ... with the ECN (CWR) bit */

#define TAP_VNET_HDR_LEN	12	/* the header before every frame */

struct tap;

/*
 * Attaches to the tap @name, or creates it when no interface has that name
 * (not persistent: it goes away with the VMM). The fd is non-blocking and
 * close-on-exec, set up for TAP_VNET_HDR_LEN headers and no offloads.
 * NULL (err_set(), one line naming the fix) when: @name is empty, longer
 * than 15 characters or has characters other than letters, digits, '.',
 * '-' and '_' (checked before anything is opened); /dev/net/tun is missing
 * (modprobe tun) or not ours to open; an interface of that name is not a
 * single-queue tap, or another process holds it; creating or attaching is
 * not permitted (EPERM: create it as root with "ip tuntap add NAME mode tap
 * user USER", or run slicevm as root); the tun driver has no vnet headers.
 */
struct tap *tap_open(const char *name);

/*
 * For unit tests: a tap over any fd that keeps frame boundaries (one end
 * of a SOCK_SEQPACKET or SOCK_DGRAM socketpair), whose ownership it takes
 * (made non-blocking). Offload calls do nothing on it, and vhost-net
 * cannot use it. @name (cut to 15 characters) is for messages. NULL
 * (err_set(), @fd closed) if out of memory or @fd is negative.
 */
struct tap *tap_from_fd(int fd, const char *name);

/*
 * What the reader (guest) accepts (TAP_F_*: TSO flags only count with
 * TAP_F_CSUM); 0 makes the host finish checksums and segment before a frame
 * reaches the fd. -1, err_set() if the driver refuses. A no-op for
 * tap_from_fd() taps.
 */
int tap_set_offloads(struct tap *t, unsigned int tun_flags);

int tap_fd(const struct tap *t);
const char *tap_name(const struct tap *t);

/* True for a real tun/tap device (tap_open()), false for tap_from_fd(). */
bool tap_is_tun(const struct tap *t);

/* Closes the fd (a tap created by tap_open() disappears). NULL is fine. */
void tap_close(struct tap *t);

#endif
