// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk (virtio/blk.h) driven the way a transport and a driver would:
 * fake guest memory and the driver's side of the queues from vqsim.h
 * (queues set up with vq_setup(), eventfds for kicks and interrupts), a
 * real worker thread and a real io_uring on an image file under /tmp. Each
 * test writes descriptors and the available ring, kicks, waits for the
 * used ring (with a timeout, so a bug fails rather than hangs) and checks
 * the status byte and the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <endian.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "vqsim.h"
#include "lib/err.h"
#include "virtio/blk.h"
#include "vmm/sandbox.h"

#define MEM_SIZE	(16ULL << 20)
#define QSIZE		VIRTIO_BLK_QUEUE_SIZE
#define NQ_MAX		2
#define RING_GPA	0x10000ULL	/* the queues' areas, then buffers */
#define DISK_BYTES	(4ULL << 20)
#define DISK_SECTORS	(DISK_BYTES / 512)
#define POISON		0xEE

struct fx {
	struct vs_ram ram;
	char path[256];
	struct disk *disk;	/* until virtio_blk_create() takes it */
	struct worker *w;
	struct virtio_blk *b;
	int (*worker_init)(void *arg);
	struct vs_transport t;	/* its queues, the driver's side of them */
	uint32_t last_len;	/* used length of the last request run() saw */
};

static uint8_t pat(uint64_t off)
{
	return (uint8_t)((off >> 9) * 31 + off);
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

/* The image: every byte from pat() */

static void make_image(struct fx *f, const char *name, uint64_t size)
{
	uint8_t buf[65536];
	int fd;

	snprintf(f->path, sizeof(f->path), "%s/%s", test_dir, name);
	fd = open(f->path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = pat(off + i);
		assert_int_equal(pwrite(fd, buf, sizeof(buf), (off_t)off), (ssize_t)sizeof(buf));
	}
	close(fd);
}

static void file_read(struct fx *f, uint64_t off, void *buf, size_t len)
{
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void assert_file_pattern(struct fx *f, uint64_t off, uint64_t len)
{
	uint8_t *buf = malloc(len);

	assert_non_null(buf);
	file_read(f, off, buf, len);
	for (uint64_t i = 0; i < len; i++)
		if (buf[i] != pat(off + i))
			fail_msg("file byte %llu changed", (unsigned long long)(off + i));
	free(buf);
}

static void assert_guest_pattern(struct fx *f, uint64_t gpa, uint64_t off, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++)
		if (*gp(f, gpa + i) != pat(off + i))
			fail_msg("guest byte %llu is %#x, not the disk's %#x",
				 (unsigned long long)i, *gp(f, gpa + i), pat(off + i));
}

static void assert_all(const uint8_t *p, uint64_t len, uint8_t v)
{
	for (uint64_t i = 0; i < len; i++)
		if (p[i] != v)
			fail_msg("byte %llu is %#x, not %#x", (unsigned long long)i, p[i], v);
}

/* The transport's side */

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	if (vs_ram_init(&f->ram, MEM_SIZE, RING_GPA) ||
	    vs_transport_init(&f->t, &f->ram, NQ_MAX, QSIZE))
		return -1;
	make_image(f, "disk.img", DISK_BYTES);
	f->disk = disk_open(f->path, false);
	if (!f->disk)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vs_transport_stop(&f->t);
	worker_destroy(f->w);
	virtio_blk_destroy(f->b);
	disk_close(f->disk);
	vs_transport_close(&f->t);
	unlink(f->path);
	vs_ram_free(&f->ram);
	free(f);
	return 0;
}

/* Creates the device (taking f->disk) and its worker. */
static void create(struct fx *f, const char *serial, unsigned int nq)
{
	f->w = worker_create("blk-test");
	assert_non_null(f->w);
	f->b = virtio_blk_create(f->disk, serial, nq, f->w);
	f->disk = NULL;
	if (!f->b)
		fail_msg("%s", err_msg());
	f->t.desc = virtio_blk_desc(f->b);
	f->t.nq = nq;
	assert_int_equal(worker_start(f->w, f->worker_init, NULL), 0);
}

static void up(struct fx *f, unsigned int nq)
{
	create(f, NULL, nq);
	vs_transport_start(&f->t, f->t.desc->features);
}

/* The driver's side */

static uint64_t header(struct fx *f, uint32_t type, uint64_t sector)
{
	uint64_t gpa = galloc(f, 16, 8);
	uint32_t t = htole32(type), zero = 0;
	uint64_t s = htole64(sector);

	memcpy(gp(f, gpa), &t, 4);
	memcpy(gp(f, gpa + 4), &zero, 4);
	memcpy(gp(f, gpa + 8), &s, 8);
	return gpa;
}

static uint64_t status_slot(struct fx *f)
{
	uint64_t gpa = galloc(f, 1, 1);

	*gp(f, gpa) = POISON;
	return gpa;
}

/* A request of header, @data (if any) and status; returns the status's address. */
static uint64_t request(struct fx *f, unsigned int qi, uint32_t type, uint64_t sector,
			uint64_t data, uint32_t len, bool data_write)
{
	struct vs_buf s[3];
	unsigned int n = 0;
	uint64_t st;

	s[n++] = (struct vs_buf){ header(f, type, sector), 16, false };
	if (len)
		s[n++] = (struct vs_buf){ data, len, data_write };
	st = status_slot(f);
	s[n++] = (struct vs_buf){ st, 1, true };
	vs_add_chain(&f->t.drv[qi], s, n, false);
	return st;
}

/* Kicks queue @qi, waits for one used entry, returns the status byte at @st. */
static uint8_t run(struct fx *f, unsigned int qi, uint64_t st)
{
	struct vs_queue *q = &f->t.drv[qi];

	vs_kick(q);
	vs_wait_used(q, 1);
	f->last_len = vs_used_elem(q, 1).len;
	return *gp(f, st);
}

static uint8_t rw(struct fx *f, uint32_t type, uint64_t sector, uint64_t data, uint32_t len)
{
	return run(f, 0, request(f, 0, type, sector, data, len,
				 type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID));
}

/* Tests */

static uint32_t cfg32(struct fx *f, unsigned int off)
{
	uint32_t v;

	f->t.desc->ops->config_read(f->t.desc->dev, off, &v, 4);
	return le32toh(v);
}

static void test_config(void **state)
{
	struct fx *f = *state;
	uint64_t cap, v8;
	uint16_t nq;
	uint8_t b;

	create(f, "serial", 2);
	assert_string_equal(f->t.desc->name, "virtio-blk");
	assert_int_equal(f->t.desc->device_id, VIRTIO_ID_BLOCK);
	assert_true(f->t.desc->pci_class == 0x010000 || f->t.desc->pci_class == 0x018000);
	assert_int_equal(f->t.desc->nqueues, 2);
	assert_int_equal(f->t.desc->queue_size, QSIZE);
	assert_int_equal(f->t.desc->config_size, 60);
	for (int bit = 0; bit < 64; bit++) {
		bool want = bit == VIRTIO_BLK_F_SEG_MAX || bit == VIRTIO_BLK_F_BLK_SIZE ||
			    bit == VIRTIO_BLK_F_FLUSH || bit == VIRTIO_BLK_F_MQ ||
			    bit == VIRTIO_BLK_F_DISCARD || bit == VIRTIO_BLK_F_WRITE_ZEROES ||
			    bit == VIRTIO_RING_F_INDIRECT_DESC || bit == VIRTIO_RING_F_EVENT_IDX;

		if (!!(f->t.desc->features & (1ULL << bit)) != want)
			fail_msg("feature bit %d", bit);
	}
	f->t.desc->ops->config_read(f->t.desc->dev, 0, &cap, 8);
	assert_int_equal(le64toh(cap), DISK_SECTORS);
	assert_int_equal(cfg32(f, 0), DISK_SECTORS & 0xFFFFFFFF);	/* in halves too */
	assert_int_equal(cfg32(f, 4), DISK_SECTORS >> 32);
	assert_int_equal(cfg32(f, 8), 0);				/* size_max: not offered */
	assert_int_equal(cfg32(f, 12), VIRTIO_BLK_SEG_MAX);
	assert_int_equal(cfg32(f, 20), 512);				/* blk_size */
	f->t.desc->ops->config_read(f->t.desc->dev, 34, &nq, 2);
	assert_int_equal(le16toh(nq), 2);
	assert_int_equal(cfg32(f, 36), VIRTIO_BLK_MAX_DISCARD_SECTORS);
	assert_int_equal(cfg32(f, 40), VIRTIO_BLK_DWZ_SEG_MAX);
	assert_true(cfg32(f, 44) >= 1);				/* discard alignment, sectors */
	assert_int_equal(cfg32(f, 48), VIRTIO_BLK_MAX_ZEROES_SECTORS);
	assert_int_equal(cfg32(f, 52), VIRTIO_BLK_DWZ_SEG_MAX);
	f->t.desc->ops->config_read(f->t.desc->dev, 56, &b, 1);
	assert_int_equal(b, 1);						/* a file: may unmap */
	/* byte by byte at an odd offset, and past the end */
	f->t.desc->ops->config_read(f->t.desc->dev, 13, &b, 1);
	assert_int_equal(b, (VIRTIO_BLK_SEG_MAX >> 8) & 0xFF);
	f->t.desc->ops->config_read(f->t.desc->dev, 12, &b, 1);
	assert_int_equal(b, VIRTIO_BLK_SEG_MAX & 0xFF);
	v8 = ~0ULL;
	f->t.desc->ops->config_read(f->t.desc->dev, 56, &v8, 8);	/* straddles the end */
	assert_int_equal(v8, 1);
	v8 = ~0ULL;
	f->t.desc->ops->config_read(f->t.desc->dev, 4096, &v8, 8);
	assert_int_equal(v8, 0);
	v8 = ~0ULL;
	f->t.desc->ops->config_read(f->t.desc->dev, UINT32_MAX - 2, &v8, 8);
	assert_int_equal(v8, 0);
}

static void test_config_readonly_single_queue(void **state)
{
	struct fx *f = *state;

	disk_close(f->disk);
	f->disk = disk_open(f->path, true);
	assert_non_null(f->disk);
	create(f, NULL, 1);
	assert_true(f->t.desc->features & (1ULL << VIRTIO_BLK_F_RO));
	assert_false(f->t.desc->features & (1ULL << VIRTIO_BLK_F_MQ));
	assert_false(f->t.desc->features & (1ULL << VIRTIO_BLK_F_DISCARD));
	assert_false(f->t.desc->features & (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	assert_int_equal(f->t.desc->nqueues, 1);
}

static void test_create_refused(void **state)
{
	struct fx *f = *state;
	struct worker *w = worker_create("blk-test");
	struct disk *d;

	assert_non_null(w);
	/* refused, and the disk closed: its lock is free again */
	assert_null(virtio_blk_create(f->disk, NULL, 0, w));
	assert_non_null(strstr(err_msg(), "queues"));
	f->disk = disk_open(f->path, false);
	assert_non_null(f->disk);
	assert_null(virtio_blk_create(f->disk, NULL, VIRTIO_BLK_MAX_QUEUES + 1, w));
	f->disk = disk_open(f->path, false);
	assert_null(virtio_blk_create(f->disk, "123456789012345678901", 1, w));
	assert_non_null(strstr(err_msg(), "serial"));
	f->disk = NULL;
	d = disk_open(f->path, false);
	assert_non_null(d);
	disk_close(d);
	worker_destroy(w);
}

static void test_read(void **state)
{
	struct fx *f = *state;
	uint64_t buf, st;

	up(f, 1);
	buf = galloc(f, 4096, 4096);
	memset(gp(f, buf), POISON, 4096);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 3, buf, 4096), VIRTIO_BLK_S_OK);
	assert_int_equal(f->last_len, 4096 + 1);
	assert_guest_pattern(f, buf, 3 * 512, 4096);
	assert_true(vs_take_irqs(&f->t.drv[0], 1000) >= 1);
	/* the last sector */
	st = request(f, 0, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, buf, 512, true);
	assert_int_equal(run(f, 0, st), VIRTIO_BLK_S_OK);
	assert_guest_pattern(f, buf, DISK_BYTES - 512, 512);
	/* nothing to move: done without the disk */
	st = request(f, 0, VIRTIO_BLK_T_IN, DISK_SECTORS, 0, 0, true);
	assert_int_equal(run(f, 0, st), VIRTIO_BLK_S_OK);
	assert_int_equal(f->last_len, 1);
}

/* Header split, odd buffers, data and status in one descriptor: all allowed. */
static void test_read_scattered(void **state)
{
	struct fx *f = *state;
	uint64_t h = header(f, VIRTIO_BLK_T_IN, 7);
	uint64_t a = galloc(f, 4096, 4096) + 3, b = galloc(f, 4096, 4096) + 100;
	uint64_t c = galloc(f, 4096, 4096) + 1;
	struct vs_buf s[5] = {
		{ h, 10, false }, { h + 10, 6, false },
		{ a, 100, true }, { b, 412, true }, { c, 1536 + 1, true },	/* + status */
	};

	up(f, 1);
	memset(gp(f, c), POISON, 1537);
	vs_add_chain(&f->t.drv[0], s, 5, false);
	vs_kick(&f->t.drv[0]);
	vs_wait_used(&f->t.drv[0], 1);
	assert_int_equal(*gp(f, c + 1536), VIRTIO_BLK_S_OK);
	assert_int_equal(vs_used_elem(&f->t.drv[0], 1).len, 2048 + 1);
	assert_guest_pattern(f, a, 7 * 512, 100);
	assert_guest_pattern(f, b, 7 * 512 + 100, 412);
	assert_guest_pattern(f, c, 8 * 512, 1536);
}

static void test_write(void **state)
{
	struct fx *f = *state;
	uint64_t h = header(f, VIRTIO_BLK_T_OUT, 10);
	uint64_t a = galloc(f, 1000, 8), b = galloc(f, 1048, 8), st = status_slot(f);
	struct vs_buf s[4] = {
		{ h, 16, false }, { a, 1000, false }, { b, 1048, false }, { st, 1, true },
	};
	uint8_t back[2048];

	up(f, 1);
	memset(gp(f, a), 0x11, 1000);
	memset(gp(f, b), 0x22, 1048);
	vs_add_chain(&f->t.drv[0], s, 4, true);		/* through an indirect table */
	assert_int_equal(run(f, 0, st), VIRTIO_BLK_S_OK);
	assert_int_equal(f->last_len, 1);
	file_read(f, 10 * 512, back, sizeof(back));
	assert_all(back, 1000, 0x11);
	assert_all(back + 1000, 1048, 0x22);
	assert_file_pattern(f, 9 * 512, 512);
	assert_file_pattern(f, 14 * 512, 512);
}

/*
 * Aligned buffers go to the O_DIRECT descriptor, others to the buffered
 * one: told apart by pointing the direct descriptor at another file.
 */
static void test_direct_or_buffered(void **state)
{
	struct fx *f = *state;
	uint64_t align = f->disk->dio_align, buf = galloc(f, 2 * align, align);
	char decoy[256];
	uint8_t fill[65536], back[512];
	int fd;

	assert_true(f->disk->dfd >= 0);
	snprintf(decoy, sizeof(decoy), "%s/decoy.img", test_dir);
	fd = open(decoy, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	memset(fill, 0x5A, sizeof(fill));
	for (uint64_t off = 0; off < DISK_BYTES; off += sizeof(fill))
		assert_int_equal(pwrite(fd, fill, sizeof(fill), (off_t)off), sizeof(fill));
	close(fd);
	close(f->disk->dfd);
	f->disk->dfd = open(decoy, O_RDWR | O_DIRECT | O_CLOEXEC);
	assert_true(f->disk->dfd >= 0);
	up(f, 1);

	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 64, buf, (uint32_t)align), VIRTIO_BLK_S_OK);
	assert_all(gp(f, buf), align, 0x5A);				/* direct */
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 64, buf + 8, (uint32_t)align), VIRTIO_BLK_S_OK);
	assert_guest_pattern(f, buf + 8, 64 * 512, align);		/* buffered */
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 1, buf, (uint32_t)align), VIRTIO_BLK_S_OK);
	if (align > 512)						/* offset unaligned */
		assert_guest_pattern(f, buf, 512, align);

	/* writes likewise */
	memset(gp(f, buf), 0x33, align);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 128, buf, (uint32_t)align), VIRTIO_BLK_S_OK);
	assert_file_pattern(f, 128 * 512, align);
	memset(gp(f, buf + 8), 0x44, align);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 128, buf + 8, (uint32_t)align), VIRTIO_BLK_S_OK);
	file_read(f, 128 * 512, back, sizeof(back));
	assert_all(back, sizeof(back), 0x44);
	unlink(decoy);
}

/*
 * O_DIRECT refusing (EINVAL) what was predicted to suit it: done buffered
 * instead. The prediction is made wrong on purpose: any address goes.
 */
static void test_direct_refused_falls_back(void **state)
{
	struct fx *f = *state;
	uint64_t buf = galloc(f, 8192, 4096) + 1;
	uint8_t back[512];

	assert_true(f->disk->dfd >= 0);
	f->disk->dio_align = 1;
	up(f, 1);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 16, buf, 4096), VIRTIO_BLK_S_OK);
	assert_guest_pattern(f, buf, 16 * 512, 4096);
	memset(gp(f, buf), 0x77, 4096);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 32, buf, 4096), VIRTIO_BLK_S_OK);
	file_read(f, 32 * 512, back, sizeof(back));
	assert_all(back, sizeof(back), 0x77);
	/* and from now on */
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 48, buf, 512), VIRTIO_BLK_S_OK);
	assert_guest_pattern(f, buf, 48 * 512, 512);
}

static void test_flush(void **state)
{
	struct fx *f = *state;
	uint64_t st;

	up(f, 1);
	st = request(f, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	assert_int_equal(run(f, 0, st), VIRTIO_BLK_S_OK);
	assert_int_equal(f->last_len, 1);
}

/* Without FLUSH negotiated the cache is write-through; writes still work. */
static void test_write_through(void **state)
{
	struct fx *f = *state;
	uint64_t buf = galloc(f, 512, 512);
	uint8_t back[512];

	create(f, NULL, 1);
	vs_transport_start(&f->t, f->t.desc->features & ~(1ULL << VIRTIO_BLK_F_FLUSH));
	memset(gp(f, buf), 0x66, 512);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 5, buf, 512), VIRTIO_BLK_S_OK);
	file_read(f, 5 * 512, back, sizeof(back));
	assert_all(back, sizeof(back), 0x66);
}

static void test_get_id(void **state)
{
	struct fx *f = *state;
	uint64_t id = galloc(f, 32, 8);
	uint8_t want[20] = "slicevm-0";

	create(f, "slicevm-0", 1);
	vs_transport_start(&f->t, f->t.desc->features);
	memset(gp(f, id), POISON, 32);
	assert_int_equal(rw(f, VIRTIO_BLK_T_GET_ID, 0, id, 20), VIRTIO_BLK_S_OK);
	assert_memory_equal(gp(f, id), want, 20);
	assert_int_equal(*gp(f, id + 20), POISON);
	assert_int_equal(f->last_len, 21);
	/* a smaller buffer gets what fits */
	memset(gp(f, id), POISON, 32);
	assert_int_equal(rw(f, VIRTIO_BLK_T_GET_ID, 0, id, 4), VIRTIO_BLK_S_OK);
	assert_memory_equal(gp(f, id), "slic", 4);
	assert_int_equal(*gp(f, id + 4), POISON);
}

static void test_get_id_default_empty(void **state)
{
	struct fx *f = *state;
	uint64_t id = galloc(f, 20, 8);

	up(f, 1);
	memset(gp(f, id), POISON, 20);
	assert_int_equal(rw(f, VIRTIO_BLK_T_GET_ID, 0, id, 20), VIRTIO_BLK_S_OK);
	assert_all(gp(f, id), 20, 0);
}

struct dwz {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

static uint8_t dwz(struct fx *f, uint32_t type, const struct dwz *segs, unsigned int n)
{
	uint64_t g = galloc(f, n * sizeof(*segs), 8);

	for (unsigned int i = 0; i < n; i++) {
		struct dwz le = {
			htole64(segs[i].sector), htole32(segs[i].num_sectors),
			htole32(segs[i].flags),
		};

		memcpy(gp(f, g + i * sizeof(le)), &le, sizeof(le));
	}
	return run(f, 0, request(f, 0, type, 0, g, n * (uint32_t)sizeof(*segs), false));
}

static void assert_file_zero(struct fx *f, uint64_t off, uint64_t len)
{
	uint8_t *buf = malloc(len);

	assert_non_null(buf);
	file_read(f, off, buf, len);
	assert_all(buf, len, 0);
	free(buf);
}

static void test_discard(void **state)
{
	struct fx *f = *state;
	struct dwz two[2] = { { 16, 16, 0 }, { 256, 8, 0 } };
	struct dwz bad[2] = { { 512, 8, 0 }, { DISK_SECTORS - 4, 8, 0 } };
	struct dwz unmap = { 512, 8, VIRTIO_BLK_WZ_F_UNMAP };
	struct dwz many[VIRTIO_BLK_DWZ_SEG_MAX + 1];

	up(f, 1);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, two, 2), VIRTIO_BLK_S_OK);
	assert_int_equal(f->last_len, 1);
	/* a file punched: reads as zeroes */
	assert_file_zero(f, 16 * 512, 16 * 512);
	assert_file_zero(f, 256 * 512, 8 * 512);
	assert_file_pattern(f, 32 * 512, 512);
	assert_file_pattern(f, 15 * 512, 512);

	/* one bad segment: nothing done, not even the good one */
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, bad, 2), VIRTIO_BLK_S_IOERR);
	assert_file_pattern(f, 512 * 512, 8 * 512);
	/* unmap on a discard, too many segments, too many sectors */
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, &unmap, 1), VIRTIO_BLK_S_UNSUPP);
	for (unsigned int i = 0; i < VIRTIO_BLK_DWZ_SEG_MAX + 1; i++)
		many[i] = (struct dwz){ 512 + i, 1, 0 };
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, many, VIRTIO_BLK_DWZ_SEG_MAX + 1),
			 VIRTIO_BLK_S_IOERR);
	many[0] = (struct dwz){ 0, VIRTIO_BLK_MAX_DISCARD_SECTORS + 1, 0 };
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, many, 1), VIRTIO_BLK_S_IOERR);
	many[0] = (struct dwz){ UINT64_MAX, 1, 0 };
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, many, 1), VIRTIO_BLK_S_IOERR);
	assert_file_pattern(f, 512 * 512, 64 * 512);
	/* a payload that is not whole segments */
	assert_int_equal(run(f, 0, request(f, 0, VIRTIO_BLK_T_DISCARD, 0, galloc(f, 24, 8), 24,
					   false)), VIRTIO_BLK_S_IOERR);
}

static void test_write_zeroes(void **state)
{
	struct fx *f = *state;
	struct dwz segs[3] = {
		{ 40, 3, 0 }, { 100, 24, VIRTIO_BLK_WZ_F_UNMAP }, { 200, 0, 0 },
	};
	struct dwz odd = { 300, 1, 2 };

	up(f, 1);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, segs, 3), VIRTIO_BLK_S_OK);
	assert_file_zero(f, 40 * 512, 3 * 512);
	assert_file_zero(f, 100 * 512, 24 * 512);
	assert_file_pattern(f, 39 * 512, 512);
	assert_file_pattern(f, 43 * 512, 512);
	assert_file_pattern(f, 124 * 512, 512);
	assert_file_pattern(f, 200 * 512, 512);
	/* an unknown flag */
	assert_int_equal(dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, &odd, 1), VIRTIO_BLK_S_UNSUPP);
	assert_file_pattern(f, 300 * 512, 512);
	odd = (struct dwz){ 0, VIRTIO_BLK_MAX_ZEROES_SECTORS + 1, 0 };
	assert_int_equal(dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, &odd, 1), VIRTIO_BLK_S_IOERR);
	assert_file_pattern(f, 0, 4096);
}

static void test_malformed(void **state)
{
	struct fx *f = *state;
	uint64_t buf = galloc(f, 8192, 4096), h, st;
	struct stat sb;
	struct vs_buf s[2];

	up(f, 1);
	memset(gp(f, buf), POISON, 8192);
	/* beyond the end, across it, wrapping around */
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, DISK_SECTORS, buf, 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, buf, 1024), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, UINT64_MAX, buf, 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, UINT64_MAX >> 9, buf, 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, DISK_SECTORS + 1, 0, 0), VIRTIO_BLK_S_IOERR);
	assert_all(gp(f, buf), 8192, POISON);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, DISK_SECTORS - 1, buf, 1024), VIRTIO_BLK_S_IOERR);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_size, DISK_BYTES);
	assert_file_pattern(f, DISK_BYTES - 512, 512);
	/* not whole sectors */
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, buf, 1000), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 0, buf, 100), VIRTIO_BLK_S_IOERR);
	assert_all(gp(f, buf), 8192, POISON);
	assert_file_pattern(f, 0, 512);
	/* types it does not know */
	assert_int_equal(rw(f, 10, 0, buf, 512), VIRTIO_BLK_S_UNSUPP);	/* GET_LIFETIME */
	assert_int_equal(rw(f, 0x7777, 0, 0, 0), VIRTIO_BLK_S_UNSUPP);
	/* a header too short */
	h = header(f, VIRTIO_BLK_T_IN, 0);
	st = status_slot(f);
	s[0] = (struct vs_buf){ h, 8, false };
	s[1] = (struct vs_buf){ st, 1, true };
	vs_add_chain(&f->t.drv[0], s, 2, false);
	assert_int_equal(run(f, 0, st), VIRTIO_BLK_S_IOERR);
	/* no writable byte for a status: given back with nothing written */
	s[0] = (struct vs_buf){ header(f, VIRTIO_BLK_T_OUT, 0), 16, false };
	s[1] = (struct vs_buf){ buf, 512, false };
	vs_add_chain(&f->t.drv[0], s, 2, false);
	vs_kick(&f->t.drv[0]);
	vs_wait_used(&f->t.drv[0], 1);
	assert_int_equal(vs_used_elem(&f->t.drv[0], 1).len, 0);
	assert_file_pattern(f, 0, 512);
	assert_int_equal(vs_link_count(&f->t.link), 0);
}

static void test_readonly(void **state)
{
	struct fx *f = *state;
	uint64_t buf = galloc(f, 4096, 4096);
	struct dwz seg = { 0, 8, 0 };

	disk_close(f->disk);
	f->disk = disk_open(f->path, true);
	assert_non_null(f->disk);
	up(f, 1);
	memset(gp(f, buf), 0x99, 4096);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 0, buf, 4096), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, &seg, 1), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, &seg, 1), VIRTIO_BLK_S_IOERR);
	assert_file_pattern(f, 0, 8192);
	assert_int_equal(rw(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, buf, 4096), VIRTIO_BLK_S_OK);
	assert_guest_pattern(f, buf, 0, 4096);
}

/* The file shrinks under the device: reads past its new end fail, never zeroes. */
static void test_short_read_is_error(void **state)
{
	struct fx *f = *state;
	uint64_t align = f->disk->dio_align, buf = galloc(f, 8192, align);

	up(f, 1);
	assert_int_equal(truncate(f->path, DISK_BYTES / 2), 0);
	memset(gp(f, buf), POISON, 8192);
	/* past the end: buffered, then direct */
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, DISK_SECTORS - 8, buf + 8, 4096),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, DISK_SECTORS - 8, buf, 4096), VIRTIO_BLK_S_IOERR);
	/* across it: short */
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, DISK_SECTORS / 2 - 1, buf + 8, 1024),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, DISK_SECTORS / 2 - align / 512,
			    buf, (uint32_t)(2 * align)), VIRTIO_BLK_S_IOERR);
	/* before it: fine */
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, buf, 4096), VIRTIO_BLK_S_OK);
	assert_guest_pattern(f, buf, 0, 4096);
}

/* Writes the host refuses (the file open read-only underneath): IOERR. */
static void test_write_error(void **state)
{
	struct fx *f = *state;
	uint64_t buf = galloc(f, 4096, 4096);
	int ro = open(f->path, O_RDONLY | O_CLOEXEC);
	struct dwz seg = { 0, 8, 0 };

	assert_true(ro >= 0);
	assert_true(dup3(ro, f->disk->fd, O_CLOEXEC) == f->disk->fd);
	close(ro);
	close(f->disk->dfd);
	f->disk->dfd = -1;
	up(f, 1);
	memset(gp(f, buf), 0x99, 4096);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 0, buf, 4096), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 0, buf + 1, 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, &seg, 1), VIRTIO_BLK_S_IOERR);
	assert_file_pattern(f, 0, 8192);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, buf, 4096), VIRTIO_BLK_S_OK);
	assert_guest_pattern(f, buf, 0, 4096);
}

static void test_broken_queue(void **state)
{
	struct fx *f = *state;
	uint64_t buf = galloc(f, 512, 512);

	up(f, 1);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, buf, 512), VIRTIO_BLK_S_OK);
	vs_publish(&f->t.drv[0], QSIZE + 44);	/* a head outside the table */
	vs_kick(&f->t.drv[0]);
	vs_link_wait(&f->t.link, 1);
	/* it stays broken, and is not reported again */
	vs_kick(&f->t.drv[0]);
	usleep(100 * 1000);
	assert_int_equal(vs_link_count(&f->t.link), 1);
	assert_int_equal(vs_used_idx(&f->t.drv[0]), 1);
	/* the driver resets the device and starts over */
	vs_transport_reset(&f->t);
	vs_transport_start(&f->t, f->t.desc->features);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 1, buf, 512), VIRTIO_BLK_S_OK);
	assert_guest_pattern(f, buf, 512, 512);
}

/*
 * Reset with reads still at the disk: reset() returns only when they are
 * done, and nothing is pushed or written into guest memory afterwards.
 */
static void test_reset_in_flight(void **state)
{
	struct fx *f = *state;
	const uint32_t chunk = 512 * 1024;
	const unsigned int n = 64;
	uint64_t buf = galloc(f, chunk, 4096);
	uint8_t *snap = malloc(chunk);
	struct vs_queue *q = &f->t.drv[0];
	uint16_t at_reset;

	assert_non_null(snap);
	/* a bigger image, so the reads take a while */
	disk_close(f->disk);
	make_image(f, "big.img", n * (uint64_t)chunk);
	f->disk = disk_open(f->path, false);
	assert_non_null(f->disk);
	up(f, 1);
	for (unsigned int i = 0; i < n; i++)
		request(f, 0, VIRTIO_BLK_T_IN, i * (uint64_t)(chunk / 512), buf, chunk, true);
	vs_kick(q);
	/* all taken (avail_event moves once the queue is empty) and so submitted */
	vs_wait_avail_event(q, n);
	vs_transport_reset(&f->t);
	at_reset = vs_used_idx(q);
	memcpy(snap, gp(f, buf), chunk);
	print_message("%u of %u reads were done at reset\n", at_reset, n);
	usleep(200 * 1000);
	assert_int_equal(vs_used_idx(q), at_reset);
	assert_memory_equal(snap, gp(f, buf), chunk);
	free(snap);

	/* every request came back to the pool: a full queue works after a restart */
	vs_transport_start(&f->t, f->t.desc->features);
	for (unsigned int i = 0; i < 64; i++)
		request(f, 0, VIRTIO_BLK_T_IN, i, galloc(f, 512, 512), 512, true);
	vs_kick(q);
	vs_wait_used(q, 64);
}

/*
 * Two queues of 256 reads each, more than the device keeps in flight: the
 * queues stall and resume, and every read completes on its own queue.
 */
static void test_many_queues_and_stall(void **state)
{
	struct fx *f = *state;
	uint64_t bufs[NQ_MAX][QSIZE], sts[NQ_MAX][QSIZE];

	up(f, 2);
	for (unsigned int q = 0; q < 2; q++) {
		for (unsigned int i = 0; i < QSIZE; i++) {
			uint64_t sector = (q * QSIZE + i) * 8ULL % DISK_SECTORS;
			struct vs_buf s[3];

			bufs[q][i] = galloc(f, 4096, (i & 1) ? 8 : 4096);
			sts[q][i] = status_slot(f);
			s[0] = (struct vs_buf){ header(f, VIRTIO_BLK_T_IN, sector), 16, false };
			s[1] = (struct vs_buf){ bufs[q][i], 4096, true };
			s[2] = (struct vs_buf){ sts[q][i], 1, true };
			vs_add_chain(&f->t.drv[q], s, 3, true);
		}
	}
	vs_kick(&f->t.drv[0]);
	vs_kick(&f->t.drv[1]);
	vs_wait_used(&f->t.drv[0], QSIZE);
	vs_wait_used(&f->t.drv[1], QSIZE);
	for (unsigned int q = 0; q < 2; q++) {
		for (unsigned int i = 0; i < QSIZE; i++) {
			uint64_t sector = (q * QSIZE + i) * 8ULL % DISK_SECTORS;

			assert_int_equal(*gp(f, sts[q][i]), VIRTIO_BLK_S_OK);
			assert_guest_pattern(f, bufs[q][i], sector * 512, 4096);
		}
		assert_true(vs_take_irqs(&f->t.drv[q], 1000) >= 1);
	}
}

/* A queue the driver left disabled (no eventfds even) is not watched. */
static void test_disabled_queue(void **state)
{
	struct fx *f = *state;
	uint64_t buf = galloc(f, 512, 512);

	create(f, NULL, 2);
	f->t.disabled = 1U << 0;
	vs_transport_start(&f->t, f->t.desc->features);
	assert_int_equal(f->t.q[0].kick_fd, -1);
	assert_int_equal(run(f, 1, request(f, 1, VIRTIO_BLK_T_IN, 9, buf, 512, true)),
			 VIRTIO_BLK_S_OK);
	assert_guest_pattern(f, buf, 9 * 512, 512);
}

/* Chains made available before DRIVER_OK are served at start, without a kick. */
static void test_before_start(void **state)
{
	struct fx *f = *state;
	uint64_t buf = galloc(f, 512, 512), st;

	create(f, NULL, 1);
	vs_transport_start(&f->t, f->t.desc->features);
	vs_transport_reset(&f->t);
	/* rings as start() leaves them, with a request already in */
	vs_queue_reset(&f->t.drv[0]);
	st = request(f, 0, VIRTIO_BLK_T_IN, 2, buf, 512, true);
	vs_queue_setup(&f->t.drv[0], &f->t.q[0], f->t.features);
	vs_transport_start_device(&f->t);
	vs_wait_used(&f->t.drv[0], 1);
	assert_int_equal(*gp(f, st), VIRTIO_BLK_S_OK);
	assert_guest_pattern(f, buf, 1024, 512);
}

/* Event index: the device asks for the next kick and honours used_event. */
static void test_event_idx(void **state)
{
	struct fx *f = *state;
	struct vs_queue *q = &f->t.drv[0];
	uint64_t buf = galloc(f, 512, 512);

	up(f, 1);
	assert_true(f->t.features & (1ULL << VIRTIO_RING_F_EVENT_IDX));
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, buf, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(vs_avail_event(q), q->avail_idx);
	vs_take_irqs(q, 200);

	/* used_event far ahead: the driver wants no interrupt yet */
	vs_set_used_event(q, q->used_seen + 5);
	request(f, 0, VIRTIO_BLK_T_IN, 0, buf, 512, true);
	vs_kick(q);
	vs_wait_used_keep_event(q, 1);
	assert_int_equal(vs_take_irqs(q, 200), 0);
	/* at the next index: one */
	vs_set_used_event(q, q->used_seen);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, buf, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(vs_take_irqs(q, 1000), 1);
}

static int enter_io_sandbox(void *arg)
{
	return sandbox_enter(SANDBOX_IO);
}

/*
 * The worker confined as the VMM confines it: every system call of the
 * data path, reset and restart must be one the I/O class allows (a
 * forbidden one ends this test binary with status 159 and says which).
 */
static void test_io_sandbox(void **state)
{
	struct fx *f = *state;
	uint64_t buf = galloc(f, 8192, 4096);
	struct dwz seg = { 64, 8, 0 };

	f->worker_init = enter_io_sandbox;
	create(f, "confined", 1);
	vs_transport_start(&f->t, f->t.desc->features);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 8, buf, 4096), VIRTIO_BLK_S_OK);
	assert_guest_pattern(f, buf, 8 * 512, 4096);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 8, buf + 8, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 16, buf, 4096), VIRTIO_BLK_S_OK);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 16, buf + 8, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(rw(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(rw(f, VIRTIO_BLK_T_GET_ID, 0, buf, 20), VIRTIO_BLK_S_OK);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, &seg, 1), VIRTIO_BLK_S_OK);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, &seg, 1), VIRTIO_BLK_S_OK);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, DISK_SECTORS, buf, 512), VIRTIO_BLK_S_IOERR);
	for (unsigned int i = 0; i < 32; i++)
		request(f, 0, VIRTIO_BLK_T_IN, i * 64, galloc(f, 32768, 4096), 32768, true);
	vs_kick(&f->t.drv[0]);
	vs_transport_reset(&f->t);
	vs_transport_start(&f->t, f->t.desc->features);
	vs_publish(&f->t.drv[0], QSIZE);
	vs_kick(&f->t.drv[0]);
	vs_link_wait(&f->t.link, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config),
		T(test_config_readonly_single_queue),
		T(test_create_refused),
		T(test_read),
		T(test_read_scattered),
		T(test_write),
		T(test_direct_or_buffered),
		T(test_direct_refused_falls_back),
		T(test_flush),
		T(test_write_through),
		T(test_get_id),
		T(test_get_id_default_empty),
		T(test_discard),
		T(test_write_zeroes),
		T(test_malformed),
		T(test_readonly),
		T(test_short_read_is_error),
		T(test_write_error),
		T(test_broken_queue),
		T(test_reset_in_flight),
		T(test_many_queues_and_stall),
		T(test_disabled_queue),
		T(test_before_start),
		T(test_event_idx),
		T(test_io_sandbox),
	};

	return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
