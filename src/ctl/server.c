// SPDX-License-Identifier: GPL-2.0
/* The VMM's control socket (see ctl.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lib/err.h"
#include "lib/json.h"

struct ctl_server;

/* The most of one answer a slow client may leave unread (a 254-vCPU stats is ~0.5M). */
#define CTL_OUT_MAX	(4 << 20)

struct ctl_conn {
	struct ctl_server *s;
	int fd;			/* -1: free */
	bool console;		/* streaming the console */
	char *out;		/* the unsent rest of an answer; NULL: none */
	size_t out_len, out_off;
	size_t len;		/* bytes of a request line so far */
	char line[CTL_LINE_MAX];
	size_t in_len;		/* console input the guest has not taken yet */
	unsigned char in[256];
};

struct ctl_server {
	struct evloop *loop;
	struct ctl_ops ops;
	char name[VM_NAME_MAX];
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char lock_path[4096];
	int lock_fd;
	int listen_fd;
	bool made_run_dir;
	struct ctl_conn conn[CTL_CLIENTS_MAX];
};

static void conn_close(struct ctl_server *s, struct ctl_conn *c)
{
	evloop_del(s->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	free(c->out);
	c->out = NULL;
}

/*
 * What to wait for on @c: its unsent answer first; then requests, or for a
 * console, input the guest has room for (none while it holds some back).
 */
static void conn_watch(struct ctl_server *s, struct ctl_conn *c)
{
	uint32_t ev = c->out ? EPOLLOUT : 0;

	if (!c->out && !(c->console && c->in_len))
		ev |= EPOLLIN;
	evloop_mod(s->loop, c->fd, ev);
}

/* Sends what it can now; the rest waits for EPOLLOUT (and the client's reading). */
static int conn_flush(struct ctl_server *s, struct ctl_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			/* no more requests until this answer is out */
			conn_watch(s, c);
			return 0;
		}
		if (n <= 0) {
			conn_close(s, c);
			return -1;
		}
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	conn_watch(s, c);
	return 0;
}

/* An answer: queued whole (bounded), then flushed as the client reads. */
static int conn_send(struct ctl_server *s, struct ctl_conn *c, const void *buf, size_t len)
{
	size_t have = c->out_len - c->out_off;
	char *more;

	if (have + len > CTL_OUT_MAX) {
		conn_close(s, c);	/* a client that reads nothing */
		return -1;
	}
	more = malloc(have + len);
	if (!more) {
		conn_close(s, c);
		return -1;
	}
	if (have)
		memcpy(more, c->out + c->out_off, have);
	memcpy(more + have, buf, len);
	free(c->out);
	c->out = more;
	c->out_len = have + len;
	c->out_off = 0;
	return conn_flush(s, c);
}

static void reply(struct ctl_server *s, struct ctl_conn *c, json_object *resp, bool ok)
{
	const char *text;

	if (!resp)
		resp = json_object_new_object();
	json_object_object_add(resp, "v", json_object_new_int(CTL_VERSION));
	json_object_object_add(resp, "ok", json_object_new_boolean(ok));
	if (!ok)
		json_object_object_add(resp, "error", json_object_new_string(err_msg()));
	text = json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (conn_send(s, c, text, strlen(text)) == 0)
		conn_send(s, c, "\n", 1);
	json_object_put(resp);
}

static void start_console(struct ctl_server *s, struct ctl_conn *c)
{
	unsigned char backlog[16384];
	size_t n = s->ops.console_backlog ?
		   s->ops.console_backlog(s->ops.arg, backlog, sizeof(backlog)) : 0;

	c->console = true;
	if (n)
		conn_send(s, c, backlog, n);
}

static const char *request_cmd(json_object *req)
{
	json_object *v, *cmd;

	if (!json_object_is_type(req, json_type_object)) {
		err_set("a request is a JSON object like {\"v\": 1, \"cmd\": \"info\"}");
		return NULL;
	}
	if (!json_object_object_get_ex(req, "v", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int(v) != CTL_VERSION) {
		err_set("protocol version %s is not this VMM's (%d): use the slicevm that runs it",
			json_object_object_get_ex(req, "v", &v) ?
			json_object_to_json_string(v) : "missing", CTL_VERSION);
		return NULL;
	}
	if (!json_object_object_get_ex(req, "cmd", &cmd) ||
	    !json_object_is_type(cmd, json_type_string)) {
		err_set("a request needs \"cmd\": info, stop, quit, stats or console");
		return NULL;
	}
	return json_object_get_string(cmd);
}

static void handle_line(struct ctl_server *s, struct ctl_conn *c, const char *line)
{
	json_object *req = json_parse_text(line, "control request"), *resp = NULL;
	const char *cmd = req ? request_cmd(req) : NULL;

	if (cmd && !strcmp(cmd, "console") && !s->ops.console_input) {
		err_set("this VM runs in the foreground: its console is the terminal that "
			"started it (run it with --detach to attach later)");
		reply(s, c, NULL, false);
	} else if (cmd && !strcmp(cmd, "console")) {
		reply(s, c, NULL, true);
		if (c->fd >= 0)
			start_console(s, c);
	} else if (cmd) {
		resp = s->ops.request(s->ops.arg, cmd, req);
		reply(s, c, resp, resp != NULL);
	} else {
		reply(s, c, NULL, false);
	}
	json_object_put(req);
}

static void feed_guest(struct ctl_server *s, struct ctl_conn *c)
{
	size_t taken = s->ops.console_input ? s->ops.console_input(s->ops.arg, c->in, c->in_len) :
		       c->in_len;

	memmove(c->in, c->in + taken, c->in_len - taken);
	c->in_len -= taken;
	/* read more only once the guest took everything */
	conn_watch(s, c);
}

static void console_readable(struct ctl_server *s, struct ctl_conn *c, uint32_t events)
{
	ssize_t n;

	if (c->in_len) {
		/* waiting for the guest; a client that hung up meanwhile is gone */
		if (events & (EPOLLHUP | EPOLLERR))
			conn_close(s, c);
		return;
	}
	n = read(c->fd, c->in, sizeof(c->in));

	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		conn_close(s, c);
		return;
	}
	c->in_len = (size_t)n;
	feed_guest(s, c);
}

static void conn_readable(struct evloop *loop, int fd, uint32_t events, void *arg)
{
	struct ctl_conn *c = arg;
	struct ctl_server *s = c->s;
	char *nl;
	ssize_t n;

	if (c->out && (events & EPOLLOUT)) {
		conn_flush(s, c);
		return;
	}
	if (c->console) {
		console_readable(s, c, events);
		return;
	}
	if (c->out)
		return;		/* the last answer first */
	n = read(fd, c->line + c->len, sizeof(c->line) - 1 - c->len);
	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		conn_close(s, c);
		return;
	}
	c->len += (size_t)n;
	c->line[c->len] = '\0';
	while (c->fd >= 0 && !c->console && (nl = memchr(c->line, '\n', c->len))) {
		size_t used = (size_t)(nl - c->line) + 1;

		*nl = '\0';
		handle_line(s, c, c->line);
		if (c->fd < 0)
			return;
		memmove(c->line, c->line + used, c->len - used);
		c->len -= used;
		c->line[c->len] = '\0';
		if (c->console && c->len) {
			/* typed right after the request: the guest's, not a request */
			memcpy(c->in, c->line, c->len < sizeof(c->in) ? c->len : sizeof(c->in));
			c->in_len = c->len < sizeof(c->in) ? c->len : sizeof(c->in);
			c->len = 0;
			feed_guest(s, c);
		}
	}
	if (c->fd >= 0 && !c->console && c->len == sizeof(c->line) - 1) {
		err_set("a request line is longer than %d bytes", CTL_LINE_MAX - 1);
		reply(s, c, NULL, false);
		if (c->fd >= 0)
			conn_close(s, c);
	}
}

/* Only the socket's owner (or root) may control the VM, whatever the file mode says. */
static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static void accept_client(struct evloop *loop, int fd, uint32_t events, void *arg)
{
	struct ctl_server *s = arg;
	struct ctl_conn *c = NULL;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (cfd < 0)
		return;
	for (int i = 0; i < CTL_CLIENTS_MAX && !c; i++)
		if (s->conn[i].fd < 0)
			c = &s->conn[i];
	if (!peer_allowed(cfd)) {
		close(cfd);	/* not ours */
		return;
	}
	if (!c) {
		static const char busy[] = "{\"v\": 1, \"ok\": false, \"error\": \"too many "
					   "clients: close a 'slicevm console' and try again\"}\n";

		(void)!send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(cfd);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->s = s;
	c->fd = cfd;
	if (evloop_add(loop, cfd, EPOLLIN, conn_readable, c)) {
		close(cfd);
		c->fd = -1;
	}
}

void ctl_server_stop_listening(struct ctl_server *s)
{
	if (!s || s->listen_fd < 0)
		return;
	evloop_del(s->loop, s->listen_fd);
	close(s->listen_fd);
	s->listen_fd = -1;
	unlink(s->sock_path);	/* the lock still holds the name */
	for (int i = 0; i < CTL_CLIENTS_MAX; i++)
		if (s->conn[i].fd >= 0)
			conn_close(s, &s->conn[i]);
}

void ctl_server_console_output(struct ctl_server *s, const unsigned char *buf, size_t len)
{
	for (int i = 0; s && i < CTL_CLIENTS_MAX; i++) {
		struct ctl_conn *c = &s->conn[i];
		ssize_t n;

		/* behind on the backlog: this output is lost rather than sent out of order */
		if (c->fd < 0 || !c->console || c->out)
			continue;
		/* a console client that does not keep up loses output, never the guest */
		n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			conn_close(s, c);
	}
}

void ctl_server_console_resume(struct ctl_server *s)
{
	for (int i = 0; s && i < CTL_CLIENTS_MAX; i++)
		if (s->conn[i].fd >= 0 && s->conn[i].console && s->conn[i].in_len)
			feed_guest(s, &s->conn[i]);
}

/*
 * The name's lock, held for the VMM's life. A lock file removed and made
 * anew by another VMM between our open and flock is not the name's lock
 * any more: check that the path still names what we locked.
 */
static int take_name(struct ctl_server *s)
{
	for (int tries = 0; tries < 8; tries++) {
		struct stat a, b;
		int fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd < 0)
			return err_set_errno("cannot create %s", s->lock_path);
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			char pid[32] = "";
			ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);

			close(fd);
			pid[n > 0 ? n : 0] = '\0';
			pid[strcspn(pid, "\n")] = '\0';
			return err_set("a VM named %s is already running%s%s%s: give another --name, or stop it with 'slicevm stop %s'",
				       s->name, *pid ? " (pid " : "", pid, *pid ? ")" : "",
				       s->name);
		}
		if (fstat(fd, &a) == 0 && stat(s->lock_path, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			char pid[32];
			int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());

			if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)n, 0) != n) {
				/* only a hint for the refusal message above */
			}
			s->lock_fd = fd;
			return 0;
		}
		close(fd);
	}
	return err_set("cannot take the name %s: its lock file keeps changing", s->name);
}

static int listen_on(struct ctl_server *s)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(s->sock_path) >= sizeof(addr.sun_path))
		return err_set("control socket path %s is too long: set a shorter SLICEVM_RUN_DIR",
			       s->sock_path);
	memcpy(addr.sun_path, s->sock_path, strlen(s->sock_path) + 1);
	/* we hold the name: a socket there was left by a VMM that died */
	unlink(s->sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set_errno("cannot create the control socket");
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || chmod(s->sock_path, 0600) ||
	    listen(fd, 8)) {
		err_set_errno("cannot listen on %s", s->sock_path);
		close(fd);
		unlink(s->sock_path);
		return -1;
	}
	s->listen_fd = fd;
	return 0;
}

void ctl_server_started(struct ctl_server *s)
{
	char exit_path[4200];

	if (s && !ctl_path(exit_path, sizeof(exit_path), s->name, "exit"))
		unlink(exit_path);
}

int ctl_server_open(struct ctl_server **out, const char *name, struct evloop *loop,
		    const struct ctl_ops *ops)
{
	struct ctl_server *s;
	char dir[4096];
	struct stat sb;
	bool made;

	if (ctl_check_name(name) || ctl_run_dir(dir, sizeof(dir), false))
		return -1;
	made = stat(dir, &sb) < 0;
	if (ctl_run_dir(dir, sizeof(dir), true))
		return -1;
	s = calloc(1, sizeof(*s));
	if (!s)
		return err_set("out of memory for the control socket");
	s->loop = loop;
	s->ops = *ops;
	s->lock_fd = s->listen_fd = -1;
	s->made_run_dir = made;
	snprintf(s->name, sizeof(s->name), "%s", name);
	for (int i = 0; i < CTL_CLIENTS_MAX; i++)
		s->conn[i].fd = -1;
	if (ctl_path(s->sock_path, sizeof(s->sock_path), name, "sock") ||
	    ctl_path(s->lock_path, sizeof(s->lock_path), name, "lock") ||
	    take_name(s))
		goto fail;
	if (listen_on(s) || evloop_add(loop, s->listen_fd, EPOLLIN, accept_client, s))
		goto fail;
	*out = s;
	return 0;
fail:
	ctl_server_close(s, -1, NULL);
	return -1;
}

void ctl_record_exit(const char *name, pid_t pid, int status, const char *reason)
{
	char path[4200], tmp[4300];
	json_object *o;
	FILE *f;
	int fd;

	if (ctl_path(path, sizeof(path), name, "exit"))
		return;
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	unlink(tmp);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "pid", json_object_new_int(pid));
	json_object_object_add(o, "status", json_object_new_int(status));
	json_object_object_add(o, "reason", json_object_new_string(reason ? reason : ""));
	json_object_object_add(o, "ended_at", json_object_new_int64(time(NULL)));
	/* a new file, never through a link someone planted */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f && fd >= 0)
		close(fd);
	if (f) {
		fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		if (fclose(f) == 0)
			rename(tmp, path);
		else
			unlink(tmp);
	}
	json_object_put(o);
}

void ctl_server_close(struct ctl_server *s, int exit_status, const char *reason)
{
	char dir[4096];

	if (!s)
		return;
	for (int i = 0; i < CTL_CLIENTS_MAX; i++)
		if (s->conn[i].fd >= 0)
			conn_close(s, &s->conn[i]);
	if (s->listen_fd >= 0) {
		evloop_del(s->loop, s->listen_fd);
		close(s->listen_fd);
		unlink(s->sock_path);
	}
	if (s->lock_fd >= 0) {
		if (exit_status >= 0)
			ctl_record_exit(s->name, getpid(), exit_status, reason);
		/* unlink while holding it: a newcomer then locks a new file */
		unlink(s->lock_path);
		close(s->lock_fd);
	}
	if (s->made_run_dir && ctl_run_dir(dir, sizeof(dir), false) == 0)
		rmdir(dir);	/* we made it: only if nothing else is in it now */
	free(s);
}
