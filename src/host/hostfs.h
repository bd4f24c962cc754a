/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_HOST_HOSTFS_H
#define SLICEVM_HOST_HOSTFS_H

#include <stddef.h>

/*
 * Where apply, release and status find the kernel's files. The defaults are
 * the real ones; unit tests point them at a fake tree under a temp dir and
 * add a struct host_sim that plays the kernel's part (cgroupfs creating
 * control files on mkdir, a write the kernel refuses, a partition that reads
 * back "invalid").
 */
struct host_sim {
	/* After a real mkdir(@path): create what the kernel would (or -ERRNO). */
	int (*mkdir)(const char *path, void *arg);
	/* Before the real rmdir(@path): remove what the kernel would, or -ERRNO. */
	int (*rmdir)(const char *path, void *arg);
	/*
	 * Before writing @val to @path: return -ERRNO to refuse the write
	 * (as the kernel would), 0 to let the plain write happen, 1 when the
	 * hook wrote the file itself (e.g. a different read-back value).
	 */
	int (*write)(const char *path, const char *val, void *arg);
	void *arg;
};

struct host_paths {
	const char *cgroup;	/* cgroup v2 mount: /sys/fs/cgroup */
	const char *proc;	/* /proc */
	const char *sys;	/* /sys */
	const struct host_sim *sim;	/* NULL on a real host */
};

/* The real paths, no simulation. */
void host_paths_default(struct host_paths *hp);

/*
 * Reads a (small, kernel) file into @buf, without trailing newlines. Fails
 * with errno set and err_msg() naming the file; the caller may replace it.
 */
int hostfs_read(const char *path, char *buf, size_t len);

/* Reads a whole file of any size; free() the result. NULL on failure. */
char *hostfs_read_all(const char *path);

/* One write() of @val, as `echo VAL > PATH` does; errno kept on failure. */
int hostfs_write(const struct host_paths *hp, const char *path, const char *val);

int hostfs_mkdir(const struct host_paths *hp, const char *path);
int hostfs_rmdir(const struct host_paths *hp, const char *path);

/* snprintf into @buf that fails (err_set) instead of truncating. */
int hostfs_path(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
