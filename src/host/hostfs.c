// SPDX-License-Identifier: GPL-2.0
/* Reading and writing the kernel's control files (see hostfs.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

/*
 * The root (cgroup, proc or sys) that @path lies under, the longest that
 * matches: /sys/fs/cgroup is under /sys. NULL when under none.
 */
static const char *root_of(const struct host_paths *hp, const char *path)
{
	const char *roots[] = { hp->cgroup, hp->proc, hp->sys }, *best = NULL;

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		size_t n = roots[i] ? strlen(roots[i]) : 0;

		if (n && !strncmp(path, roots[i], n) && path[n] == '/' &&
		    (!best || n > strlen(best)))
			best = roots[i];
	}
	return best;
}

/*
 * Opens @path (as openat2 @flags) only if it resolves beneath its root
 * without leaving it: no "..", no symbolic link pointing out, no /proc
 * magic link. Every change apply and release make goes through here, so a
 * path from a tampered ledger cannot reach another file. -1 with errno set.
 */
static int open_beneath(const struct host_paths *hp, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)flags | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	const char *root = root_of(hp, path);
	int rootfd, fd, saved;

	if (!root) {
		errno = EPERM;
		return -1;
	}
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, rootfd, path + strlen(root) + 1, &how, sizeof(how));
	saved = errno;
	close(rootfd);
	errno = saved;
	return fd;
}

/* Like open_beneath() for the directory holding @path; *@base is its last part. */
static int open_parent_beneath(const struct host_paths *hp, const char *path,
			       char *copy, size_t len, const char **base)
{
	char *slash;

	if (snprintf(copy, len, "%s", path) >= (int)len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	slash = strrchr(copy, '/');
	if (!slash || !slash[1] || !strcmp(slash + 1, ".") || !strcmp(slash + 1, "..")) {
		errno = EINVAL;
		return -1;
	}
	*slash = '\0';
	*base = slash + 1;
	/* the root itself is the parent: open_beneath() wants a path below it */
	if (root_of(hp, path) && !strcmp(copy, root_of(hp, path)))
		return open(copy, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return open_beneath(hp, copy, O_PATH | O_DIRECTORY);
}

static int outside_roots(const struct host_paths *hp, const char *doing, const char *path)
{
	return err_set_errno("refusing to %s %s: it is not under %s, %s or %s "
			     "(or leaves them through a link)", doing, path,
			     hp->cgroup, hp->proc, hp->sys);
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
	fd = open_beneath(hp, path, O_WRONLY | O_TRUNC);
	if (fd < 0) {
		if (errno == EPERM || errno == EXDEV || errno == ELOOP)
			return outside_roots(hp, "write", path);
		return err_set_errno("cannot open %s", path);
	}
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
	char copy[4096];
	const char *base;
	int dfd = open_parent_beneath(hp, path, copy, sizeof(copy), &base);

	if (dfd < 0) {
		if (errno == EPERM || errno == EXDEV || errno == ELOOP)
			return outside_roots(hp, "create", path);
		return err_set_errno("cannot create %s", path);
	}
	if (mkdirat(dfd, base, 0755) < 0) {
		err_set_errno("cannot create %s", path);
		close(dfd);
		return -1;
	}
	close(dfd);
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
	char copy[4096];
	const char *base;
	struct stat sb;
	int dfd, ret = 0;

	dfd = open_parent_beneath(hp, path, copy, sizeof(copy), &base);
	if (dfd < 0) {
		if (errno == EPERM || errno == EXDEV || errno == ELOOP)
			return outside_roots(hp, "remove", path);
		return err_set_errno("cannot remove %s", path);
	}
	if (fstatat(dfd, base, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
		ret = err_set_errno("cannot remove %s", path);
	} else if (!S_ISDIR(sb.st_mode)) {
		errno = ENOTDIR;
		ret = err_set_errno("refusing to remove %s", path);
	} else if (hp->sim && hp->sim->rmdir) {
		int r = hp->sim->rmdir(path, hp->sim->arg);

		if (r < 0) {
			errno = -r;
			ret = err_set_errno("cannot remove %s", path);
		}
	}
	/* unlinkat() removes a directory only, never what a link points to */
	if (!ret && unlinkat(dfd, base, AT_REMOVEDIR) < 0)
		ret = err_set_errno("cannot remove %s", path);
	close(dfd);
	return ret;
}
