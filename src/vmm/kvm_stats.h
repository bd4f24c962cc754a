/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_KVM_STATS_H
#define SLICEVM_VMM_KVM_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

/*
 * KVM's binary statistics (KVM_GET_STATS_FD on a VM fd or a vCPU fd; no
 * debugfs). The file holds a header, an id string, a block of descriptors
 * (each a struct kvm_stats_desc followed by a name of the header's
 * name_size bytes) and a data block of u64 values. Everything but the
 * data block is fixed for the fd's life: it is read once, by
 * kvm_stats_open(); kvm_stats_refresh() re-reads only the data block.
 *
 * Whatever the fd holds, the reader never reads or writes out of bounds:
 * a malformed file is refused with one line naming the problem.
 *
 * Not thread-safe: one struct kvm_stats per reader.
 */

struct kvm_stat {
	const char *name;	/* KVM's own: "exits", "halt_exits", "pages_4k" */
	uint32_t flags;		/* KVM_STATS_TYPE_* | KVM_STATS_UNIT_* | KVM_STATS_BASE_* */
	int16_t exponent;	/* value * base^exponent is in the unit */
	uint16_t size;		/* number of u64 values: > 1 for histograms */
	uint32_t offset;	/* of the first value in the data block, in bytes */
	uint32_t bucket_size;	/* linear histograms */
	const uint64_t *value;	/* [size], in the current data block */
};

struct kvm_stats {
	int fd;			/* -1 for a copy (kvm_stats_copy) */
	bool own_fd;		/* closed by kvm_stats_close() */
	char id[65];		/* "kvm-PID" or "kvm-PID/vcpu-N" */
	uint32_t data_offset;	/* of the data block in the file */
	uint32_t data_len;	/* bytes read on each refresh */
	int n;
	struct kvm_stat *stat;	/* [n], in the file's order */
	uint64_t *data;		/* the data block as last read */
	char *names;		/* storage of every name */
};

/*
 * Largest descriptor count and name size accepted; KVM has about 100
 * stats of at most 48-byte names. Larger ones are refused as malformed.
 */
#define KVM_STATS_MAX_DESC	4096
#define KVM_STATS_MAX_NAME	256

/*
 * Reads header, id, descriptors and a first data block from the stats fd
 * @fd. @fd is borrowed: the caller closes it after kvm_stats_close().
 * 0, or -1 with err_msg() naming the problem and @st left empty.
 */
int kvm_stats_open(struct kvm_stats *st, int fd);

/*
 * KVM_GET_STATS_FD on @kvm_fd (a VM fd or a vCPU fd), then
 * kvm_stats_open(); the stats fd is then @st's and kvm_stats_close()
 * closes it. @what names the fd in errors ("VM", "vCPU 1").
 */
int kvm_stats_open_ioctl(struct kvm_stats *st, int kvm_fd, const char *what);

/* Re-reads the data block (one pread). 0, or -1 with err_msg(). */
int kvm_stats_refresh(struct kvm_stats *st);

/* The stat named @name, NULL when @st has none. */
const struct kvm_stat *kvm_stats_find(const struct kvm_stats *st, const char *name);

/* The first value of stat @name into *@val; -1 with err_msg() when @st has none. */
int kvm_stats_get(const struct kvm_stats *st, const char *name, uint64_t *val);

/*
 * A copy of @src's descriptors and current data, with no fd: keep one
 * before kvm_stats_refresh() to compute differences.
 */
int kvm_stats_copy(struct kvm_stats *dst, const struct kvm_stats *src);

/* Frees @st (closing its fd when it owns it); @st may be empty or zeroed. */
void kvm_stats_close(struct kvm_stats *st);

/* "cumulative", "instant", "peak", "linear-hist", "log-hist", "unknown". */
const char *kvm_stat_type_name(uint32_t flags);
/* "", "bytes", "seconds", "cycles", "boolean", "unknown". */
const char *kvm_stat_unit_name(uint32_t flags);

#define kvm_stats_for_each(s, st) \
	for ((s) = (st)->stat; (s) < (st)->stat + (st)->n; (s)++)

/*
 * One reading of a VM: the VM fd's stats and each vCPU's, taken at @time
 * (seconds on a monotonic clock). The formatters below are pure: they read
 * only these structures.
 */
struct kvm_stats_snapshot {
	const char *name;		/* the VM's name */
	double time;
	const struct kvm_stats *vm;	/* may be NULL */
	int nvcpus;
	const struct kvm_stats *vcpus;	/* [nvcpus] */
};

/*
 * The snapshot @cur as JSON, with KVM's counter names as keys:
 *   { "name", "time", "vm": { NAME: N | [N, ...] },
 *     "vcpus": [ { NAME: N | [..] }, ... ],
 *     "per_second": { "interval": S, "vm": {..}, "vcpus": [..] } }
 * "vm" has the VM fd's stats and, as debugfs does, each vCPU stat summed
 * over the vCPUs (peaks: the largest; a VM stat of the same name wins).
 * Histograms are arrays. "per_second" is there only with @prev (an
 * earlier snapshot of the same VM, time before @cur's): for cumulative
 * scalar stats, (now - then) / interval; a counter that went backwards
 * gives 0. NULL with err_msg() when out of memory.
 */
json_object *kvm_stats_json(const struct kvm_stats_snapshot *cur,
			    const struct kvm_stats_snapshot *prev);

/*
 * The same as a kvm_stat-like table: a title line, then one line per
 * scalar stat of the VM (the "vm" object above) with its total and, with
 * @prev, its rate per second; then, with @per_vcpu, one column per vCPU.
 * Stats whose value is 0 (and rate 0) are left out unless @all.
 */
int kvm_stats_print(const struct kvm_stats_snapshot *cur,
		    const struct kvm_stats_snapshot *prev, bool per_vcpu, bool all,
		    FILE *out);

#endif
