// SPDX-License-Identifier: GPL-2.0
/* The main thread's event loop (see evloop.h). */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/evloop.h"

#define EVLOOP_DEAD	(-2)	/* deleted during the current round */

int evloop_init(struct evloop *loop)
{
	for (int i = 0; i < EVLOOP_MAX; i++)
		loop->e[i].fd = -1;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		return err_set_errno("cannot create the event loop");
	return 0;
}

void evloop_close(struct evloop *loop)
{
	if (loop->epfd >= 0)
		close(loop->epfd);
	loop->epfd = -1;
}

static struct evloop_entry *find(struct evloop *loop, int fd)
{
	for (int i = 0; i < EVLOOP_MAX; i++)
		if (loop->e[i].fd == fd)
			return &loop->e[i];
	return NULL;
}

int evloop_add(struct evloop *loop, int fd, uint32_t events, evloop_fn fn, void *arg)
{
	struct evloop_entry *e = find(loop, -1);
	/* the slot's address, not the fd: a handler may delete and reuse fds */
	struct epoll_event ev = { .events = events };

	if (fd < 0 || find(loop, fd))
		return err_set("event loop: fd %d is invalid or already watched", fd);
	if (!e)
		return err_set("event loop: more than %d file descriptors", EVLOOP_MAX);
	ev.data.ptr = e;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev))
		return err_set_errno("event loop: cannot watch fd %d", fd);
	*e = (struct evloop_entry){ .fd = fd, .events = events, .fn = fn, .arg = arg };
	return 0;
}

int evloop_mod(struct evloop *loop, int fd, uint32_t events)
{
	struct evloop_entry *e = find(loop, fd);
	struct epoll_event ev = { .events = events };

	if (!e)
		return err_set("event loop: fd %d is not watched", fd);
	if (e->events == events)
		return 0;
	ev.data.ptr = e;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev))
		return err_set_errno("event loop: cannot change fd %d", fd);
	e->events = events;
	return 0;
}

void evloop_del(struct evloop *loop, int fd)
{
	struct evloop_entry *e = find(loop, fd);

	if (!e)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	/* not reused before this round's other events are handled */
	e->fd = EVLOOP_DEAD;
	e->fn = NULL;
}

int evloop_run_once(struct evloop *loop, int timeout_ms)
{
	struct epoll_event ev[16];
	int n = epoll_wait(loop->epfd, ev, 16, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : err_set_errno("event loop: epoll_wait failed");
	for (int i = 0; i < n; i++) {
		struct evloop_entry *e = ev[i].data.ptr;

		/* an earlier handler of this round may have removed it */
		if (e->fd < 0)
			continue;
		e->fn(loop, e->fd, ev[i].events, e->arg);
	}
	for (int i = 0; i < EVLOOP_MAX; i++)
		if (loop->e[i].fd == EVLOOP_DEAD)
			loop->e[i].fd = -1;
	return n;
}
