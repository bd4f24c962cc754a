// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/file.h"
#include "lib/size.h"

int file_read_into(int fd, const char *what, const char *path, void *buf, size_t size)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = pread(fd, (uint8_t *)buf + done, size - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set_errno("cannot read %s %s", what, path);
		if (n == 0)
			return err_set("%s %s shrank while being read: try again",
				       what, path);
		done += (size_t)n;
	}
	return 0;
}

static int open_file(const char *what, const char *path, const char *hint)
{
	/*
	 * Non-blocking, so that a FIFO given by mistake is refused as "not a
	 * regular file" instead of waiting for a writer; no controlling
	 * terminal from a tty path either.
	 */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		return err_set("%s %s does not exist: %s", what, path, hint);
	if (errno == EACCES)
		return err_set("%s %s is not readable (permission denied): check its permissions or run as its owner",
			       what, path);
	return err_set_errno("cannot open %s %s", what, path);
}

int file_open_checked(const char *what, const char *path, const char *hint,
		      uint64_t max, size_t *size)
{
	char limit[32];
	struct stat st;
	int fd;

	fd = open_file(what, path, hint);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		err_set_errno("cannot stat %s %s", what, path);
	else if (!S_ISREG(st.st_mode))
		err_set("%s %s is not a regular file: %s", what, path, hint);
	else if (fcntl(fd, F_SETFL, 0) < 0)
		err_set_errno("cannot read %s %s", what, path);
	else if (st.st_size == 0)
		err_set("%s %s is empty: %s", what, path, hint);
	else if ((uint64_t)st.st_size > max)
		err_set("%s %s is larger than slicevm loads (%s): give a smaller file",
			what, path, size_format(max, limit, sizeof(limit)));
	else {
		*size = (size_t)st.st_size;
		return fd;
	}
	close(fd);
	return -1;
}

int file_read_all(const char *what, const char *path, const char *hint,
		  uint64_t max, uint8_t **data, size_t *size)
{
	uint8_t *buf;
	size_t n;
	int fd;

	fd = file_open_checked(what, path, hint, max, &n);
	if (fd < 0)
		return -1;
	buf = malloc(n);
	if (!buf) {
		err_set("out of memory reading %s %s", what, path);
	} else if (file_read_into(fd, what, path, buf, n)) {
		free(buf);
	} else {
		close(fd);
		*data = buf;
		*size = n;
		return 0;
	}
	close(fd);
	return -1;
}

int file_link_name(const char *path, char *buf, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *base;

	if (n < 0)
		return -1;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, base, strlen(base) + 1);
	return 0;
}
