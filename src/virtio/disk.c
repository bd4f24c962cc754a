// SPDX-License-Identifier: GPL-2.0
/*
 * Disk images for virtio-blk (see disk.h). Everything here runs on the main
 * thread at start-up; the I/O thread only reads the finished struct disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/err.h"
#include "virtio/disk.h"

#define DIO_ALIGN_MAX	65536U	/* a larger need: no direct I/O (nor such a block size) */

static struct disk *fail(struct disk *d)
{
	disk_close(d);
	return NULL;
}

static int refuse_type(const char *path, const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		return err_set("disk %s is a directory: give an image file or a block device",
			       path);
	return err_set("disk %s is not a regular file or block device: give an image file or a block device",
		       path);
}

static int open_error(const char *path, bool readonly)
{
	int e = errno;

	if (e == ENOENT)
		return err_set("disk %s does not exist: check the path, or create the image (truncate -s 10G %s)",
			       path, path);
	if (!readonly && (e == EACCES || e == EROFS || e == EPERM))
		return err_set("disk %s cannot be opened for writing (%s): add readonly=on to use it read-only",
			       path, strerror(e));
	return err_set("cannot open disk %s: %s: check the path and its permissions", path,
		       strerror(e));
}

static int clear_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) ? -1 : 0;
}

/*
 * The buffered descriptor. O_NONBLOCK keeps open() from waiting should the
 * path have become a FIFO since stat(); it is cleared once fstat() agrees.
 */
static int open_buffered(struct disk *d, struct stat *st)
{
	int flags = (d->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK;

	/* a failed look-up is no reason to suggest readonly=on */
	if (stat(d->path, st))
		return open_error(d->path, true);
	if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode))
		return refuse_type(d->path, st);
	d->fd = open(d->path, flags);
	if (d->fd < 0)
		return open_error(d->path, d->readonly);
	if (fstat(d->fd, st))
		return err_set_errno("cannot stat disk %s", d->path);
	if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode))
		return refuse_type(d->path, st);
	if (clear_nonblock(d->fd))
		return err_set_errno("cannot set up disk %s", d->path);
	d->is_block_device = S_ISBLK(st->st_mode);
	return 0;
}

/* Over the whole file, on this open file description: see disk.h. */
static int lock_image(struct disk *d)
{
	struct flock fl = {
		.l_type = d->readonly ? F_RDLCK : F_WRLCK,
		.l_whence = SEEK_SET,
	};

	if (!fcntl(d->fd, F_OFD_SETLK, &fl))
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		return err_set("disk %s is in use by another VM (locked): stop it or use another image",
			       d->path);
	return err_set("cannot lock disk %s: %s: put the image on a file system with locks",
		       d->path, strerror(errno));
}

static int block_device_size(struct disk *d)
{
	uint64_t bytes;
	int lbs;

	if (ioctl(d->fd, BLKGETSIZE64, &bytes) || ioctl(d->fd, BLKSSZGET, &lbs))
		return err_set_errno("cannot read the size of block device %s", d->path);
	if (lbs < 512 || lbs > (int)DIO_ALIGN_MAX || (lbs & (lbs - 1)))
		return err_set("block device %s has a logical block size of %d bytes, which virtio-blk cannot show: use another disk",
			       d->path, lbs);
	d->size = bytes;
	d->block_size = (uint32_t)lbs;
	return 0;
}

static int check_size(struct disk *d, const struct stat *st)
{
	if (d->is_block_device) {
		if (block_device_size(d))
			return -1;
	} else {
		d->size = (uint64_t)st->st_size;
		d->block_size = DISK_SECTOR;
	}
	if (!d->size)
		return err_set("disk %s is empty: give it a size (truncate -s 10G %s)", d->path,
			       d->path);
	if (d->size % DISK_SECTOR)
		return err_set("disk %s is %llu bytes, not a multiple of 512: resize it to whole sectors (truncate -s %llu %s)",
			       d->path, (unsigned long long)d->size,
			       (unsigned long long)((d->size / DISK_SECTOR + 1) * DISK_SECTOR),
			       d->path);
	return 0;
}

static bool pow2_in(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v >= lo && v <= hi && !(v & (v - 1));
}

/*
 * The alignment direct I/O needs: what the kernel reports (STATX_DIOALIGN,
 * Linux 6.1), else the file system block for files (always enough) and
 * the logical block size for devices. 0: no direct I/O after all.
 */
static uint32_t dio_alignment(const struct disk *d, const struct stat *st)
{
	struct statx sx;
	uint32_t a = d->block_size;

	if (!statx(d->dfd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) &&
	    (sx.stx_mask & STATX_DIOALIGN)) {
		if (!sx.stx_dio_offset_align || !sx.stx_dio_mem_align)
			return 0;
		a = a > sx.stx_dio_mem_align ? a : sx.stx_dio_mem_align;
		a = a > sx.stx_dio_offset_align ? a : sx.stx_dio_offset_align;
	} else if (!d->is_block_device && st->st_blksize > (blksize_t)a) {
		a = (uint32_t)st->st_blksize;
	}
	return pow2_in(a, 512, DIO_ALIGN_MAX) ? a : 0;
}

/*
 * The second, O_DIRECT descriptor: by path, so it must turn out to be the
 * same file as the first (O_NONBLOCK as for the first). EINVAL: the file system has no direct I/O. A
 * writable block device is opened O_EXCL here, after the lock, so that
 * another VM is reported as such: the kernel refuses it (EBUSY) while the
 * device is mounted or held by another driver.
 */
static int open_direct(struct disk *d, const struct stat *st)
{
	int flags = (d->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_DIRECT | O_NONBLOCK;
	struct stat dst;

	if (d->is_block_device && !d->readonly)
		flags |= O_EXCL;
	d->dfd = open(d->path, flags);
	if (d->dfd < 0) {
		if (errno == EINVAL)
			return 0;
		if (errno == EBUSY && d->is_block_device)
			return err_set("disk %s is in use by the host (mounted, or held by another device): unmount it or use another disk",
				       d->path);
		return err_set("cannot open disk %s for direct I/O: %s: check the image",
			       d->path, strerror(errno));
	}
	if (fstat(d->dfd, &dst) || dst.st_dev != st->st_dev || dst.st_ino != st->st_ino)
		return err_set("disk %s changed while it was being opened: try again", d->path);
	if (clear_nonblock(d->dfd))
		return err_set_errno("cannot set up disk %s", d->path);
	d->dio_align = dio_alignment(d, st);
	if (!d->dio_align) {
		close(d->dfd);
		d->dfd = -1;
	}
	return 0;
}

static uint32_t discard_alignment(const struct disk *d, const struct stat *st)
{
	if (!d->is_block_device && pow2_in((uint32_t)st->st_blksize, 512, 1U << 20))
		return (uint32_t)st->st_blksize;
	return d->block_size;
}

struct disk *disk_open(const char *path, bool readonly)
{
	struct disk *d = calloc(1, sizeof(*d));
	struct stat st;

	if (!d || !(d->path = strdup(path))) {
		free(d);
		err_set("out of memory for disk %s", path);
		return NULL;
	}
	d->fd = d->dfd = -1;
	d->readonly = readonly;
	if (open_buffered(d, &st) || lock_image(d) || check_size(d, &st) ||
	    open_direct(d, &st))
		return fail(d);
	d->discard_align = discard_alignment(d, &st);
	return d;
}

void disk_close(struct disk *d)
{
	if (!d)
		return;
	if (d->dfd >= 0)
		close(d->dfd);
	if (d->fd >= 0)
		close(d->fd);
	free(d->path);
	free(d);
}

bool disk_can_direct(const struct disk *d, const struct iovec *iov, unsigned int niov,
		     uint64_t offset)
{
	uint64_t a = d->dio_align;

	if (d->dfd < 0 || !a || offset % a)
		return false;
	for (unsigned int i = 0; i < niov; i++)
		if ((uintptr_t)iov[i].iov_base % a || iov[i].iov_len % a)
			return false;
	return true;
}

/*
 * The block device's ioctls drop the range from the page cache, which the
 * kernel refuses (EBUSY) on a descriptor other than the exclusive holder's
 * while one exists: that is ours, the O_DIRECT one.
 */
static int range_ioctl(const struct disk *d, unsigned long req, uint64_t offset, uint64_t len)
{
	uint64_t range[2] = { offset, len };

	return ioctl(d->dfd >= 0 ? d->dfd : d->fd, req, range);
}

int disk_discard(struct disk *d, uint64_t offset, uint64_t len)
{
	int ret;

	if (d->is_block_device)
		ret = range_ioctl(d, BLKDISCARD, offset, len);
	else
		ret = fallocate(d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				(off_t)offset, (off_t)len);
	if (ret && errno == EOPNOTSUPP)
		return 0;	/* nothing to deallocate with: the data simply stays */
	return ret ? -1 : 0;
}

/* The last resort for file systems with neither hole punching nor zero ranges. */
static int write_zero_buffers(struct disk *d, uint64_t offset, uint64_t len)
{
	static const uint8_t zeroes[65536];

	while (len) {
		size_t n = len < sizeof(zeroes) ? (size_t)len : sizeof(zeroes);
		ssize_t done = pwrite(d->fd, zeroes, n, (off_t)offset);

		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0) {
			if (!done)
				errno = EIO;
			return -1;
		}
		offset += (uint64_t)done;
		len -= (uint64_t)done;
	}
	return 0;
}

int disk_write_zeroes(struct disk *d, uint64_t offset, uint64_t len, bool unmap)
{
	const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	const int zero = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	int modes[2] = { unmap ? punch : zero, unmap ? zero : punch };

	if (d->is_block_device)
		return range_ioctl(d, BLKZEROOUT, offset, len) ? -1 : 0;
	/* on a file both modes leave zeroes; the other is the fallback */
	for (int i = 0; i < 2; i++) {
		if (!fallocate(d->fd, modes[i], (off_t)offset, (off_t)len))
			return 0;
		if (errno != EOPNOTSUPP)
			return -1;
	}
	return write_zero_buffers(d, offset, len);
}

bool disk_zeroes_may_unmap(const struct disk *d)
{
	/* BLKZEROOUT keeps the blocks allocated (BLKDEV_ZERO_NOUNMAP) */
	return !d->is_block_device;
}
