// SPDX-License-Identifier: GPL-2.0
/* The run directory, VM names, and the client side of the control socket. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lib/err.h"
#include "lib/json.h"

/* How long a client waits for a VMM's answer. */
#define CTL_TIMEOUT_MS	5000

/*
 * The sockets, locks and exit records of a user's VMs live here: a
 * directory someone else owns or may write (a /tmp/slicevm-UID made first
 * by another user) could hand the client a socket of theirs.
 */
static int check_run_dir(const char *dir)
{
	struct stat sb;

	if (lstat(dir, &sb))
		return err_set_errno("cannot use the run directory %s", dir);
	if (!S_ISDIR(sb.st_mode))
		return err_set("run directory %s is not a directory: remove it or set SLICEVM_RUN_DIR",
			       dir);
	if ((sb.st_uid != geteuid() && sb.st_uid != 0) || (sb.st_mode & 022))
		return err_set("run directory %s is owned by uid %u with mode %04o: it must be "
			       "yours (or root's) and writable by no one else; remove it or set "
			       "SLICEVM_RUN_DIR", dir, (unsigned int)sb.st_uid,
			       (unsigned int)(sb.st_mode & 07777));
	return 0;
}

int ctl_run_dir(char *buf, size_t len, bool create)
{
	const char *env = getenv("SLICEVM_RUN_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (env && *env)
		n = snprintf(buf, len, "%s", env);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/run/slicevm");
	else if (xdg && *xdg)
		n = snprintf(buf, len, "%s/slicevm", xdg);
	else
		n = snprintf(buf, len, "/tmp/slicevm-%u", (unsigned int)geteuid());
	if (n < 0 || (size_t)n >= len)
		return err_set("the run directory's path is too long: set a shorter SLICEVM_RUN_DIR");
	if (create) {
		if (mkdir(buf, 0755) == 0)
			chmod(buf, 0755);	/* whatever the umask */
		else if (errno != EEXIST)
			return err_set_errno("cannot create the run directory %s", buf);
	}
	if (access(buf, F_OK) && !create)
		return 0;		/* none yet: nothing to trust */
	return check_run_dir(buf);
}

int ctl_path(char *buf, size_t len, const char *name, const char *suffix)
{
	char dir[4096];
	int n;

	if (ctl_run_dir(dir, sizeof(dir), false))
		return -1;
	n = snprintf(buf, len, "%s/%s.%s", dir, name, suffix);
	if (n < 0 || (size_t)n >= len)
		return err_set("the path for VM %s is too long: set a shorter SLICEVM_RUN_DIR", name);
	return 0;
}

int ctl_check_name(const char *name)
{
	size_t n = strlen(name);

	if (!n || n >= VM_NAME_MAX || !isalnum((unsigned char)name[0]))
		return err_set("VM name '%s' must be 1 to %d characters starting with a letter or digit",
			       name, VM_NAME_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return err_set("VM name '%s' has '%c': use letters, digits, '_', '.' and '-'",
				       name, isprint((unsigned char)name[i]) ? name[i] : '?');
	return 0;
}

int ctl_connect(const char *name)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char path[sizeof(addr.sun_path)];
	int fd;

	if (ctl_check_name(name) || ctl_path(path, sizeof(path), name, "sock"))
		return -1;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set_errno("cannot create a socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		int e = errno;

		close(fd);
		if (e == ENOENT || e == ECONNREFUSED)
			return err_set("no VM named %s is running: see 'slicevm ls'", name);
		if (e == EACCES)
			return err_set("VM %s belongs to another user: run as root", name);
		errno = e;
		return err_set_errno("cannot reach VM %s at %s", name, path);
	}
	return fd;
}

/* One line from @fd, waiting at most CTL_TIMEOUT_MS. */
static int read_line(int fd, char *buf, size_t len)
{
	size_t used = 0;

	while (used < len - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, CTL_TIMEOUT_MS) <= 0)
			return err_set("the VM did not answer within %d s", CTL_TIMEOUT_MS / 1000);
		n = read(fd, buf + used, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_set("the VM closed the connection without an answer");
		if (buf[used] == '\n') {
			buf[used] = '\0';
			return 0;
		}
		used++;
	}
	return err_set("the VM's answer is longer than %zu bytes", len - 1);
}

json_object *ctl_request(int fd, const char *cmd)
{
	static char line[1 << 20];
	json_object *resp, *ok, *error;
	char req[256];
	int n = snprintf(req, sizeof(req), "{\"v\": %d, \"cmd\": \"%s\"}\n", CTL_VERSION, cmd);

	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		err_set_errno("cannot send '%s' to the VM", cmd);
		return NULL;
	}
	if (read_line(fd, line, sizeof(line)))
		return NULL;
	resp = json_parse_text(line, "the VM's answer");
	if (!resp)
		return NULL;
	if (!json_object_object_get_ex(resp, "ok", &ok) || !json_object_get_boolean(ok)) {
		err_set("the VM refused '%s': %s", cmd,
			json_object_object_get_ex(resp, "error", &error) ?
			json_object_get_string(error) : "no reason given");
		json_object_put(resp);
		return NULL;
	}
	return resp;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ctl_list(char ***names, int *n)
{
	char dir[4096], **list = NULL;
	struct dirent *e;
	int count = 0, cap = 0;
	DIR *d;

	*names = NULL;
	*n = 0;
	if (ctl_run_dir(dir, sizeof(dir), false))
		return -1;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : err_set_errno("cannot read %s", dir);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len < 6 || strcmp(e->d_name + len - 5, ".sock"))
			continue;
		if (count == cap) {
			char **more = realloc(list, (size_t)(cap = cap ? cap * 2 : 16) * sizeof(*list));

			if (!more)
				break;
			list = more;
		}
		list[count] = strndup(e->d_name, len - 5);
		if (list[count])
			count++;
	}
	closedir(d);
	qsort(list, (size_t)count, sizeof(*list), by_name);
	*names = list;
	*n = count;
	return 0;
}
