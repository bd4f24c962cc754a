/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VIRTIO_DISK_H
#define SLICEVM_VIRTIO_DISK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

/*
 * A disk image for a virtio-blk device: a regular file or a block device,
 * opened and checked on the main thread before KVM is touched, so that a
 * missing, busy or odd-sized image is the first thing the user hears about.
 *
 * The image is locked with an open file description lock over the whole
 * file (fcntl F_OFD_SETLK): exclusive when writable, shared when read-only,
 * so two VMs never write one image, even from one process. A writable
 * block device is also opened O_EXCL, which the kernel refuses while the
 * device is mounted or held by another driver.
 *
 * Two descriptors: @fd (buffered, always there, holds the lock) and @dfd
 * (O_DIRECT, -1 where the file system refuses it; the O_EXCL one of a
 * block device). A request goes through @dfd only when every buffer and
 * the offset suit direct I/O (disk_can_direct()); the kernel keeps the
 * page cache coherent with direct I/O.
 *
 * Ownership: the caller of disk_open() owns the disk until it hands it to
 * a device (virtio_blk_create() takes it). The fields are read-only after
 * disk_open(), so any thread may read them.
 */

#define DISK_SECTOR	512ULL		/* virtio-blk's unit of sector numbers */

struct disk {
	char *path;		/* as given, for messages */
	int fd;			/* buffered; O_RDWR, or O_RDONLY when readonly */
	int dfd;		/* O_DIRECT, or -1 */
	uint64_t size;		/* bytes, a non-zero multiple of DISK_SECTOR */
	uint32_t block_size;	/* logical block size the guest sees: 512 for files, BLKSSZGET for devices */
	uint32_t dio_align;	/* buffer address, length and offset alignment for @dfd, >= block_size */
	uint32_t discard_align;	/* bytes a discard is best aligned to: the file system block, or block_size */
	bool readonly;
	bool is_block_device;
};

/*
 * Opens and locks @path. NULL, with a one-line err_set() naming the problem
 * and the fix, for: a missing image, a directory or anything but a regular
 * file or block device, a read-only file asked writable, an image another
 * VM holds (the lock), a block device in use by the host, an empty image
 * or one whose size is not a multiple of 512 bytes.
 */
struct disk *disk_open(const char *path, bool readonly);

/* Closes the descriptors (releasing the lock) and frees @d. NULL is fine. */
void disk_close(struct disk *d);

/*
 * Whether a transfer of @niov buffers at byte @offset may use @dfd: there
 * is one, and the offset and every buffer's address and length are
 * multiples of dio_align.
 */
bool disk_can_direct(const struct disk *d, const struct iovec *iov, unsigned int niov,
		     uint64_t offset);

/*
 * Synchronous, on the device's thread; [@offset, +@len) is inside the disk.
 * disk_discard() deallocates where it can (a hint: a file system or device
 * that cannot is no error); disk_write_zeroes() makes the range read as
 * zeroes, deallocating it only if @unmap (files: PUNCH_HOLE or ZERO_RANGE,
 * else writing zeroes; devices: BLKZEROOUT). 0, or -1 with errno.
 */
int disk_discard(struct disk *d, uint64_t offset, uint64_t len);
int disk_write_zeroes(struct disk *d, uint64_t offset, uint64_t len, bool unmap);

/* Whether disk_write_zeroes() with @unmap may deallocate (files only). */
bool disk_zeroes_may_unmap(const struct disk *d);

#endif
