// SPDX-License-Identifier: GPL-2.0
/*
 * Disk images (virtio/disk.h): what disk_open() accepts and refuses with
 * which message, the locks between two opens, the direct I/O choice, and
 * discard and write zeroes on a file. Images live in a scratch directory
 * under /tmp, removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "lib/err.h"
#include "virtio/disk.h"

#define KiB	1024ULL

static const char *image(const char *name, uint64_t size, uint8_t fill)
{
	static char path[256];
	uint8_t buf[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", test_dir, name);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	memset(buf, fill, sizeof(buf));
	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);

		assert_int_equal(pwrite(fd, buf, n, (off_t)off), (ssize_t)n);
	}
	close(fd);
	return path;
}

static void assert_refused(const char *path, bool readonly, const char *words)
{
	err_clear();
	assert_null(disk_open(path, readonly));
	if (!strstr(err_msg(), words))
		fail_msg("message \"%s\" lacks \"%s\"", err_msg(), words);
	assert_non_null(strstr(err_msg(), path));
}

static void test_open_file(void **state)
{
	const char *path = image("ok.img", 1024 * KiB, 0);
	struct disk *d = disk_open(path, false);

	assert_non_null(d);
	assert_int_equal(d->size, 1024 * KiB);
	assert_int_equal(d->block_size, 512);
	assert_false(d->readonly);
	assert_false(d->is_block_device);
	assert_int_equal(fcntl(d->fd, F_GETFL) & O_ACCMODE, O_RDWR);
	assert_int_equal(fcntl(d->fd, F_GETFL) & O_NONBLOCK, 0);
	assert_true(fcntl(d->fd, F_GETFD) & FD_CLOEXEC);
	/* /tmp here is ext4, which has direct I/O */
	assert_true(d->dfd >= 0);
	assert_true(fcntl(d->dfd, F_GETFL) & O_DIRECT);
	assert_true(fcntl(d->dfd, F_GETFD) & FD_CLOEXEC);
	assert_true(d->dio_align >= 512 && !(d->dio_align & (d->dio_align - 1)));
	assert_true(d->discard_align >= 512);
	assert_string_equal(d->path, path);
	disk_close(d);

	d = disk_open(path, true);
	assert_non_null(d);
	assert_true(d->readonly);
	assert_int_equal(fcntl(d->fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	assert_true(d->dfd < 0 || (fcntl(d->dfd, F_GETFL) & O_ACCMODE) == O_RDONLY);
	disk_close(d);
	disk_close(NULL);
}

static void test_missing(void **state)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/nothing.img", test_dir);
	assert_refused(path, false, "does not exist");
	assert_refused(path, true, "does not exist");
}

static void test_not_a_file(void **state)
{
	char fifo[256];

	assert_refused(test_dir, false, "is a directory");
	assert_refused(test_dir, true, "is a directory");
	assert_refused("/dev/null", true, "not a regular file or block device");
	/* a FIFO must be refused, not waited on */
	snprintf(fifo, sizeof(fifo), "%s/fifo", test_dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_refused(fifo, true, "not a regular file or block device");
	assert_refused(fifo, false, "not a regular file or block device");
	unlink(fifo);
}

static void test_bad_sizes(void **state)
{
	const char *path = image("odd.img", 1000, 0);

	assert_refused(path, false, "not a multiple of 512");
	assert_non_null(strstr(err_msg(), "truncate -s 1024"));
	path = image("empty.img", 0, 0);
	assert_refused(path, true, "is empty");
}

static void test_locks(void **state)
{
	const char *path = image("locked.img", 64 * KiB, 0);
	struct disk *a, *b;

	/* OFD locks: two opens in one process conflict like two VMs */
	a = disk_open(path, false);
	assert_non_null(a);
	assert_refused(path, false, "in use by another VM (locked): stop it or use another image");
	assert_refused(path, true, "in use by another VM (locked)");
	disk_close(a);

	a = disk_open(path, true);
	assert_non_null(a);
	b = disk_open(path, true);	/* readers share */
	assert_non_null(b);
	assert_refused(path, false, "locked");
	disk_close(a);
	assert_refused(path, false, "locked");
	disk_close(b);

	/* closing released it */
	a = disk_open(path, false);
	assert_non_null(a);
	disk_close(a);
}

static void test_lock_other_process(void **state)
{
	const char *path = image("shared.img", 64 * KiB, 0);
	struct disk *a = disk_open(path, false);
	int status;
	pid_t pid;

	assert_non_null(a);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct disk *d = disk_open(path, true);

		_exit(!d && strstr(err_msg(), "locked") ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	disk_close(a);
}

/*
 * A file the VMM may only read: root is not stopped by permissions, so as
 * root the check runs in a child that became nobody.
 */
static int try_readonly_file(const char *path)
{
	struct disk *d;

	if (disk_open(path, false) || !strstr(err_msg(), "add readonly=on"))
		return 1;
	d = disk_open(path, true);
	if (!d)
		return 2;
	disk_close(d);
	return 0;
}

static void test_readonly_file(void **state)
{
	const char *path = image("ro.img", 64 * KiB, 0);
	int status;
	pid_t pid;

	assert_int_equal(chmod(path, 0444), 0);
	if (geteuid()) {
		assert_int_equal(try_readonly_file(path), 0);
		return;
	}
	assert_int_equal(chmod(test_dir, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		if (setgid(65534) || setuid(65534))
			_exit(3);
		_exit(try_readonly_file(path));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	chmod(test_dir, 0700);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_can_direct(void **state)
{
	const char *path = image("direct.img", 64 * KiB, 0);
	struct disk *d = disk_open(path, false);
	uint8_t *buf = aligned_alloc(65536, 4 * 65536);
	uint64_t a;
	struct iovec iov[2];

	assert_non_null(d);
	assert_non_null(buf);
	a = d->dio_align;
	iov[0] = (struct iovec){ buf, a };
	iov[1] = (struct iovec){ buf + 4 * a, 2 * a };
	assert_true(disk_can_direct(d, iov, 2, 0));
	assert_true(disk_can_direct(d, iov, 2, 8 * a));
	assert_false(disk_can_direct(d, iov, 2, a / 2));		/* offset */
	iov[1].iov_base = buf + 4 * a + 8;
	assert_false(disk_can_direct(d, iov, 2, 0));			/* address */
	iov[1] = (struct iovec){ buf + 4 * a, 2 * a - 8 };
	assert_false(disk_can_direct(d, iov, 2, 0));			/* length */
	iov[1].iov_len = a;
	assert_true(disk_can_direct(d, iov, 2, 0));
	/* without a direct descriptor, never */
	close(d->dfd);
	d->dfd = -1;
	assert_false(disk_can_direct(d, iov, 2, 0));
	disk_close(d);
	free(buf);
}

static void assert_bytes(int fd, uint64_t off, uint64_t len, uint8_t want)
{
	uint8_t buf[4096];

	for (uint64_t done = 0; done < len; done += sizeof(buf)) {
		size_t n = len - done < sizeof(buf) ? (size_t)(len - done) : sizeof(buf);

		assert_int_equal(pread(fd, buf, n, (off_t)(off + done)), (ssize_t)n);
		for (size_t i = 0; i < n; i++)
			if (buf[i] != want)
				fail_msg("byte %llu is %#x, not %#x",
					 (unsigned long long)(off + done + i), buf[i], want);
	}
}

static void test_discard_and_zeroes(void **state)
{
	const char *path = image("dwz.img", 1024 * KiB, 0xAA);
	struct disk *d = disk_open(path, false);
	struct stat before, after;
	int fd;

	assert_non_null(d);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(disk_write_zeroes(d, 8 * KiB, 8 * KiB, false), 0);
	assert_bytes(fd, 0, 8 * KiB, 0xAA);
	assert_bytes(fd, 8 * KiB, 8 * KiB, 0);
	assert_bytes(fd, 16 * KiB, 8 * KiB, 0xAA);
	/* sector-sized, not block-aligned: zeroed all the same */
	assert_int_equal(disk_write_zeroes(d, 100 * KiB + 512, 1536, true), 0);
	assert_bytes(fd, 100 * KiB, 512, 0xAA);
	assert_bytes(fd, 100 * KiB + 512, 1536, 0);
	assert_bytes(fd, 102 * KiB, 512, 0xAA);

	/* a discard on a file punches a hole: fewer blocks, zeroes, same size */
	assert_int_equal(fstat(fd, &before), 0);
	assert_int_equal(disk_discard(d, 512 * KiB, 256 * KiB), 0);
	assert_int_equal(fstat(fd, &after), 0);
	assert_true(after.st_blocks < before.st_blocks);
	assert_int_equal(after.st_size, 1024 * KiB);
	assert_bytes(fd, 512 * KiB, 256 * KiB, 0);
	assert_bytes(fd, 768 * KiB, 4 * KiB, 0xAA);
	assert_true(disk_zeroes_may_unmap(d));
	close(fd);
	disk_close(d);
}

/*
 * A loop device of 4K sectors over @file, cleared when @return's fd
 * closes; -1 where there are none to have (not root, no /dev/loop*).
 * Attaching one changes the host, which the project's tests do only in
 * the lab or where asked: SLICEVM_TEST_LOOP=1 (else the test is skipped).
 */
static int loop_attach(const char *file, char *dev, size_t len)
{
	const char *asked = getenv("SLICEVM_TEST_LOOP");
	int ctl = asked && !strcmp(asked, "1") ?
		  open("/dev/loop-control", O_RDWR | O_CLOEXEC) : -1;
	int ffd = open(file, O_RDWR | O_CLOEXEC);
	int lfd = -1;

	for (int tries = 0; ctl >= 0 && ffd >= 0 && tries < 8; tries++) {
		struct loop_config cfg = {
			.fd = (uint32_t)ffd, .block_size = 4096,
			.info.lo_flags = LO_FLAGS_AUTOCLEAR,
		};
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);

		snprintf(dev, len, "/dev/loop%d", n);
		lfd = n < 0 ? -1 : open(dev, O_RDWR | O_CLOEXEC);
		if (lfd < 0 || !ioctl(lfd, LOOP_CONFIGURE, &cfg))
			break;
		close(lfd);
		lfd = -1;
		if (errno != EBUSY)	/* else another user took it first */
			break;
	}
	if (ctl >= 0)
		close(ctl);
	if (ffd >= 0)
		close(ffd);
	return lfd;
}

static void test_block_device(void **state)
{
	const char *file = image("loop.img", 1024 * KiB, 0xAA);
	char dev[64];
	int lfd = loop_attach(file, dev, sizeof(dev));
	struct disk *d;
	int fd, excl;

	if (lfd < 0)
		skip();
	d = disk_open(dev, false);
	if (!d)
		fail_msg("%s", err_msg());
	assert_true(d->is_block_device);
	assert_int_equal(d->size, 1024 * KiB);
	assert_int_equal(d->block_size, 4096);
	assert_true(d->dio_align >= 4096);
	assert_false(disk_zeroes_may_unmap(d));
	/* another VM: the lock; readers too */
	assert_refused(dev, false, "in use by another VM (locked)");
	assert_refused(dev, true, "in use by another VM (locked)");
	/* zeroes and discard through the device's ioctls, with the page cache dirty */
	fd = open(dev, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(d->fd, "dirty", 5, 64 * KiB), 5);
	assert_int_equal(disk_write_zeroes(d, 64 * KiB, 8 * KiB, false), 0);
	assert_bytes(fd, 60 * KiB, 4 * KiB, 0xAA);
	assert_bytes(fd, 64 * KiB, 8 * KiB, 0);
	assert_bytes(fd, 72 * KiB, 4 * KiB, 0xAA);
	assert_int_equal(disk_discard(d, 128 * KiB, 64 * KiB), 0);
	close(fd);
	disk_close(d);

	/* held exclusively by someone else (as a mount would): refused writable */
	excl = open(dev, O_RDWR | O_EXCL | O_CLOEXEC);
	assert_true(excl >= 0);
	assert_refused(dev, false, "in use by the host");
	d = disk_open(dev, true);
	assert_non_null(d);
	disk_close(d);
	close(excl);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_file),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_not_a_file),
		cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_locks),
		cmocka_unit_test(test_lock_other_process),
		cmocka_unit_test(test_readonly_file),
		cmocka_unit_test(test_can_direct),
		cmocka_unit_test(test_discard_and_zeroes),
		cmocka_unit_test(test_block_device),
	};

	return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
