// SPDX-License-Identifier: GPL-2.0
/* Reading and writing the kernel's control files (see hostfs.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/hostfs.h"
#include "lib/err.h"

void host_paths_default(struct host_paths *hp)
{
	hp->cgroup = "/sys/fs/cgroup";
	hp->proc = "/proc";
	hp->sys = "/sys";
	hp->sim = NULL;
}

int hostfs_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return err_set("path '%s...' is too long: use a shorter root directory",
			       buf);
	return 0;
}

static void chomp(char *s, size_t n)
{
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

int hostfs_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set_errno("cannot open %s", path);
	n = read(fd, buf, len - 1);
	if (n < 0) {
		err_set_errno("cannot read %s", path);
		close(fd);
		return -1;
	}
	close(fd);
	if ((size_t)n == len - 1) {
		errno = EOVERFLOW;
		return err_set("%s holds more than %zu bytes: not a control file?",
			       path, len - 1);
	}
	buf[n] = '\0';
	chomp(buf, (size_t)n);
	return 0;
}

char *hostfs_read_all(const char *path)
{
	size_t cap = 16384, used = 0;
	char *buf = malloc(cap);
	int fd;

	if (!buf) {
		err_set("out of memory reading %s", path);
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set_errno("cannot open %s", path);
		free(buf);
		return NULL;
	}
	for (;;) {
		ssize_t n;

		if (used + 1 >= cap) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger) {
				err_set("out of memory reading %s", path);
				goto fail;
			}
			buf = bigger;
			cap *= 2;
		}
		/* /proc files come in pieces: read until end of file. */
		n = read(fd, buf + used, cap - used - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_set_errno("cannot read %s", path);
			goto fail;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	buf[used] = '\0';
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

int hostfs_write(const struct host_paths *hp, const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd;

	if (hp->sim && hp->sim->write) {
		int r = hp->sim->write(path, val, hp->sim->arg);

		if (r < 0) {
			errno = -r;
			return err_set_errno("cannot write '%s' to %s", val, path);
		}
		if (r > 0)
			return 0;
	}
	/* O_TRUNC, as the shell's `>` does: control files ignore it. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return err_set_errno("cannot open %s", path);
	/* The kernel parses one write() as one value: never split it. */
	n = write(fd, val, len);
	if (n < 0 || (size_t)n != len) {
		if (n >= 0)
			errno = EIO;
		err_set_errno("cannot write '%s' to %s", val, path);
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return err_set_errno("cannot write '%s' to %s", val, path);
	return 0;
}

int hostfs_mkdir(const struct host_paths *hp, const char *path)
{
	if (mkdir(path, 0755) < 0)
		return err_set_errno("cannot create %s", path);
	if (hp->sim && hp->sim->mkdir) {
		int r = hp->sim->mkdir(path, hp->sim->arg);

		if (r < 0) {
			errno = -r;
			return err_set_errno("cannot create %s", path);
		}
	}
	return 0;
}

int hostfs_rmdir(const struct host_paths *hp, const char *path)
{
	if (hp->sim && hp->sim->rmdir) {
		int r = hp->sim->rmdir(path, hp->sim->arg);

		if (r < 0) {
			errno = -r;
			return err_set_errno("cannot remove %s", path);
		}
	}
	if (rmdir(path) < 0)
		return err_set_errno("cannot remove %s", path);
	return 0;
}
