// SPDX-License-Identifier: GPL-2.0
/* KVM's binary statistics (see kvm_stats.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "lib/err.h"
#include "vmm/kvm_stats.h"

/* The largest data block accepted (KVM's are a few KiB). */
#define KVM_STATS_MAX_DATA	(1U << 20)
/* The id string's block (KVM_STATS_ID_MAXLEN in the kernel). */
#define KVM_STATS_ID_LEN	64

/* On-disk descriptor without its name: struct kvm_stats_desc's fixed part. */
#define DESC_FIXED	sizeof(struct kvm_stats_desc)

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad(const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set("malformed KVM statistics: %s: give a fd from KVM_GET_STATS_FD of a kernel whose format this reader knows",
		       what);
}

/* Reads exactly @len bytes at @off; 1 when the file ends first. */
static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set_errno("cannot read the KVM statistics fd %d", fd);
		if (n == 0)
			return 1;
		done += (size_t)n;
	}
	return 0;
}

static int read_block(int fd, void *buf, size_t len, uint64_t off, const char *what)
{
	int r = pread_all(fd, buf, len, off);

	if (r > 0)
		return bad("the %s (%zu bytes at offset %llu) runs past the end of the file",
			   what, len, (unsigned long long)off);
	return r;
}

static int read_header(int fd, struct kvm_stats_header *h)
{
	if (read_block(fd, h, sizeof(*h), 0, "header"))
		return -1;
	if (h->name_size == 0 || h->name_size > KVM_STATS_MAX_NAME)
		return bad("name size %u is not in 1..%u", h->name_size, KVM_STATS_MAX_NAME);
	if (h->num_desc > KVM_STATS_MAX_DESC)
		return bad("%u descriptors, more than the %u accepted", h->num_desc,
			   KVM_STATS_MAX_DESC);
	return 0;
}

static int read_id(struct kvm_stats *st, const struct kvm_stats_header *h)
{
	char id[KVM_STATS_ID_LEN];

	if (read_block(st->fd, id, sizeof(id), h->id_offset, "id string"))
		return -1;
	if (!memchr(id, '\0', sizeof(id)))
		return bad("the id string at offset %u is not NUL-terminated", h->id_offset);
	memcpy(st->id, id, sizeof(id));
	st->id[KVM_STATS_ID_LEN] = '\0';
	return 0;
}

/* Checks one raw descriptor and fills @s from it; *@end grows to cover its data. */
static int parse_desc(const char *raw, uint32_t name_size, int i, struct kvm_stat *s,
		      char *name, uint64_t *end)
{
	struct kvm_stats_desc d;
	const char *nm = raw + DESC_FIXED;
	uint64_t last;

	memcpy(&d, raw, DESC_FIXED);
	if (!memchr(nm, '\0', name_size))
		return bad("descriptor %d: its name is not NUL-terminated within %u bytes",
			   i, name_size);
	if (!nm[0])
		return bad("descriptor %d has an empty name", i);
	if (d.size == 0)
		return bad("stat %s has size 0", nm);
	if (d.offset % sizeof(uint64_t))
		return bad("stat %s: offset %u is not a multiple of 8", nm, d.offset);
	last = (uint64_t)d.offset + (uint64_t)d.size * sizeof(uint64_t);
	if (last > KVM_STATS_MAX_DATA)
		return bad("stat %s ends at byte %llu of the data block, past the %u accepted",
			   nm, (unsigned long long)last, KVM_STATS_MAX_DATA);
	if (last > *end)
		*end = last;
	strcpy(name, nm);
	s->name = name;
	s->flags = d.flags;
	s->exponent = d.exponent;
	s->size = d.size;
	s->offset = d.offset;
	s->bucket_size = d.bucket_size;
	return 0;
}

static void point_values(struct kvm_stats *st)
{
	for (int i = 0; i < st->n; i++)
		st->stat[i].value = st->data + st->stat[i].offset / sizeof(uint64_t);
}

static int read_descs(struct kvm_stats *st, const struct kvm_stats_header *h)
{
	size_t stride = DESC_FIXED + h->name_size;
	size_t len = stride * h->num_desc;
	uint64_t end = 0;
	char *raw;
	int ret = -1;

	raw = malloc(len ? len : 1);
	st->stat = calloc(h->num_desc ? h->num_desc : 1, sizeof(*st->stat));
	st->names = calloc(h->num_desc ? h->num_desc : 1, h->name_size);
	if (!raw || !st->stat || !st->names) {
		err_set("out of memory for %u KVM statistics descriptors", h->num_desc);
		goto out;
	}
	if (read_block(st->fd, raw, len, h->desc_offset, "descriptor block"))
		goto out;
	for (uint32_t i = 0; i < h->num_desc; i++)
		if (parse_desc(raw + i * stride, h->name_size, (int)i, &st->stat[i],
			       st->names + (size_t)i * h->name_size, &end))
			goto out;
	st->n = (int)h->num_desc;
	st->data_len = (uint32_t)end;
	st->data_offset = h->data_offset;
	st->data = calloc(end ? end / sizeof(uint64_t) : 1, sizeof(uint64_t));
	if (!st->data) {
		err_set("out of memory for %llu bytes of KVM statistics", (unsigned long long)end);
		goto out;
	}
	point_values(st);
	ret = 0;
out:
	free(raw);
	return ret;
}

int kvm_stats_open(struct kvm_stats *st, int fd)
{
	struct kvm_stats_header h;

	memset(st, 0, sizeof(*st));
	st->fd = fd;
	if (read_header(fd, &h) || read_id(st, &h) || read_descs(st, &h) ||
	    kvm_stats_refresh(st)) {
		kvm_stats_close(st);
		return -1;
	}
	return 0;
}

int kvm_stats_open_ioctl(struct kvm_stats *st, int kvm_fd, const char *what)
{
	int fd = ioctl(kvm_fd, KVM_GET_STATS_FD, NULL);

	if (fd < 0) {
		memset(st, 0, sizeof(*st));
		st->fd = -1;
		if (errno == ENOTTY || errno == EINVAL)
			return err_set("this kernel's KVM has no binary statistics for the %s (KVM_GET_STATS_FD): use Linux 5.14 or newer",
				       what);
		return err_set_errno("KVM_GET_STATS_FD on the %s failed", what);
	}
	if (kvm_stats_open(st, fd)) {
		close(fd);
		st->fd = -1;
		return -1;
	}
	st->own_fd = true;
	return 0;
}

int kvm_stats_refresh(struct kvm_stats *st)
{
	if (st->fd < 0)
		return err_set("these KVM statistics are a copy with no fd: refresh the original");
	return read_block(st->fd, st->data, st->data_len, st->data_offset, "data block");
}

const struct kvm_stat *kvm_stats_find(const struct kvm_stats *st, const char *name)
{
	for (int i = 0; i < st->n; i++)
		if (!strcmp(st->stat[i].name, name))
			return &st->stat[i];
	return NULL;
}

int kvm_stats_get(const struct kvm_stats *st, const char *name, uint64_t *val)
{
	const struct kvm_stat *s = kvm_stats_find(st, name);

	if (!s)
		return err_set("KVM statistics %s have no stat '%s': see kvm_stats_for_each for the names this kernel has",
			       st->id[0] ? st->id : "(unnamed)", name);
	*val = s->value[0];
	return 0;
}

int kvm_stats_copy(struct kvm_stats *dst, const struct kvm_stats *src)
{
	size_t nsz = 0;

	memset(dst, 0, sizeof(*dst));
	dst->fd = -1;
	for (int i = 0; i < src->n; i++)
		nsz += strlen(src->stat[i].name) + 1;
	dst->stat = calloc(src->n ? src->n : 1, sizeof(*dst->stat));
	dst->names = malloc(nsz ? nsz : 1);
	dst->data = malloc(src->data_len ? src->data_len : 1);
	if (!dst->stat || !dst->names || !dst->data) {
		kvm_stats_close(dst);
		return err_set("out of memory copying KVM statistics");
	}
	memcpy(dst->id, src->id, sizeof(dst->id));
	dst->data_offset = src->data_offset;
	dst->data_len = src->data_len;
	memcpy(dst->data, src->data, src->data_len);
	memcpy(dst->stat, src->stat, src->n * sizeof(*dst->stat));
	dst->n = src->n;
	nsz = 0;
	for (int i = 0; i < src->n; i++) {
		strcpy(dst->names + nsz, src->stat[i].name);
		dst->stat[i].name = dst->names + nsz;
		nsz += strlen(src->stat[i].name) + 1;
	}
	point_values(dst);
	return 0;
}

void kvm_stats_close(struct kvm_stats *st)
{
	if (st->own_fd && st->fd >= 0)
		close(st->fd);
	free(st->stat);
	free(st->names);
	free(st->data);
	memset(st, 0, sizeof(*st));
	st->fd = -1;
}

const char *kvm_stat_type_name(uint32_t flags)
{
	switch (flags & KVM_STATS_TYPE_MASK) {
	case KVM_STATS_TYPE_CUMULATIVE: return "cumulative";
	case KVM_STATS_TYPE_INSTANT: return "instant";
	case KVM_STATS_TYPE_PEAK: return "peak";
	case KVM_STATS_TYPE_LINEAR_HIST: return "linear-hist";
	case KVM_STATS_TYPE_LOG_HIST: return "log-hist";
	default: return "unknown";
	}
}

const char *kvm_stat_unit_name(uint32_t flags)
{
	switch (flags & KVM_STATS_UNIT_MASK) {
	case KVM_STATS_UNIT_NONE: return "";
	case KVM_STATS_UNIT_BYTES: return "bytes";
	case KVM_STATS_UNIT_SECONDS: return "seconds";
	case KVM_STATS_UNIT_CYCLES: return "cycles";
	case KVM_STATS_UNIT_BOOLEAN: return "boolean";
	default: return "unknown";
	}
}
