/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_LIB_EVLOOP_H
#define SLICEVM_LIB_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

/*
 * One event loop for the VMM's main thread: file descriptors with a
 * handler each (epoll underneath). Devices, signals, the terminal and the
 * control socket join it; nothing here blocks but evloop_run_once().
 * Single-threaded: only the loop's own thread may call these.
 */

#define EVLOOP_MAX	64

struct evloop;
typedef void (*evloop_fn)(struct evloop *loop, int fd, uint32_t events, void *arg);

struct evloop_entry {
	int fd;			/* -1: free */
	uint32_t events;	/* EPOLLIN, EPOLLOUT, ... as registered */
	evloop_fn fn;
	void *arg;
};

struct evloop {
	int epfd;
	struct evloop_entry e[EVLOOP_MAX];
};

int evloop_init(struct evloop *loop);
void evloop_close(struct evloop *loop);

/* Watches @fd for @events (EPOLLIN...): @fn runs when one is ready. */
int evloop_add(struct evloop *loop, int fd, uint32_t events, evloop_fn fn, void *arg);
/* Changes what @fd is watched for (0: nothing for now, still registered). */
int evloop_mod(struct evloop *loop, int fd, uint32_t events);
/* Stops watching @fd (does not close it); safe from inside a handler. */
void evloop_del(struct evloop *loop, int fd);

/*
 * Waits up to @timeout_ms (-1: forever) and runs the handlers of the ready
 * fds. Returns the number handled, 0 on timeout or EINTR, -1 on error.
 */
int evloop_run_once(struct evloop *loop, int timeout_ms);

#endif
