// SPDX-License-Identifier: GPL-2.0
/*
 * Device I/O threads. A call from another thread is a slot guarded by a
 * mutex: the caller fills it, wakes the loop through an eventfd and waits
 * on a condition variable until the worker ran it. Calls are rare (driver
 * start and reset), so one slot and one caller at a time is enough.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/err.h"
#include "virtio/worker.h"

struct worker {
	struct evloop loop;
	char name[16];
	pthread_t thread;
	bool started;
	int wake_fd;		/* eventfd: a call is waiting, or stop */

	pthread_mutex_t lock;
	pthread_cond_t done_cond;
	pthread_mutex_t call_lock;	/* one caller at a time */
	int (*fn)(void *arg);	/* the pending call, under lock */
	void *arg;
	int ret;		/* what it returned */
	char msg[256];		/* and its err_msg() when that was -1 */
	bool done;
	bool stop;
	bool gone;		/* the thread ended: calls fail */

	int (*init)(void *arg);
	void *init_arg;
};

static void run_pending(struct worker *w)
{
	int (*fn)(void *arg);
	void *arg;
	int ret;

	pthread_mutex_lock(&w->lock);
	fn = w->fn;
	arg = w->arg;
	pthread_mutex_unlock(&w->lock);
	if (!fn)
		return;
	ret = fn(arg);
	pthread_mutex_lock(&w->lock);
	/* err_msg() is per thread: the caller gets a copy of this one's */
	w->ret = ret;
	if (ret)
		snprintf(w->msg, sizeof(w->msg), "%s", err_msg());
	w->fn = NULL;
	w->done = true;
	pthread_cond_broadcast(&w->done_cond);
	pthread_mutex_unlock(&w->lock);
}

static void on_wake(struct evloop *loop, int fd, uint32_t events, void *arg)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: another wake already took the count */
	}
	run_pending(arg);
}

static void mark_gone(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->gone = true;
	w->fn = NULL;
	w->done = true;		/* a caller waiting now fails */
	pthread_cond_broadcast(&w->done_cond);
	pthread_mutex_unlock(&w->lock);
}

static bool stopping(struct worker *w)
{
	bool stop;

	pthread_mutex_lock(&w->lock);
	stop = w->stop;
	pthread_mutex_unlock(&w->lock);
	return stop;
}

static void *worker_thread(void *arg)
{
	struct worker *w = arg;

	pthread_setname_np(pthread_self(), w->name);
	if (w->init && w->init(w->init_arg)) {
		fprintf(stderr, "slicevm: I/O thread %s: %s\n", w->name, err_msg());
		mark_gone(w);
		return NULL;
	}
	while (!stopping(w)) {
		if (evloop_run_once(&w->loop, -1) < 0) {
			fprintf(stderr, "slicevm: I/O thread %s: %s\n", w->name, err_msg());
			break;
		}
	}
	mark_gone(w);
	return NULL;
}

struct worker *worker_create(const char *name)
{
	struct worker *w = calloc(1, sizeof(*w));

	if (!w) {
		err_set("out of memory for an I/O thread");
		return NULL;
	}
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->loop.epfd = -1;
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->call_lock, NULL);
	pthread_cond_init(&w->done_cond, NULL);
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake_fd < 0) {
		err_set_errno("cannot make the wake-up eventfd of I/O thread %s", w->name);
		worker_destroy(w);
		return NULL;
	}
	if (evloop_init(&w->loop) ||
	    evloop_add(&w->loop, w->wake_fd, EPOLLIN, on_wake, w)) {
		worker_destroy(w);
		return NULL;
	}
	return w;
}

struct evloop *worker_loop(struct worker *w)
{
	return &w->loop;
}

int worker_start(struct worker *w, int (*init)(void *arg), void *arg)
{
	int ret;

	w->init = init;
	w->init_arg = arg;
	ret = pthread_create(&w->thread, NULL, worker_thread, w);
	if (ret) {
		errno = ret;
		return err_set_errno("cannot start I/O thread %s", w->name);
	}
	w->started = true;
	return 0;
}

static void wake(struct worker *w)
{
	uint64_t one = 1;

	if (write(w->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow with these writes */
	}
}

int worker_call(struct worker *w, int (*fn)(void *arg), void *arg)
{
	char msg[sizeof(w->msg)];
	bool gone;
	int ret = 0;

	if (!w->started || pthread_equal(pthread_self(), w->thread))
		return fn(arg);
	pthread_mutex_lock(&w->call_lock);
	pthread_mutex_lock(&w->lock);
	if (!w->gone) {
		w->fn = fn;
		w->arg = arg;
		w->ret = 0;
		w->done = false;
		wake(w);
		while (!w->done)
			pthread_cond_wait(&w->done_cond, &w->lock);
		ret = w->ret;
		memcpy(msg, w->msg, sizeof(msg));
	}
	gone = w->gone;
	pthread_mutex_unlock(&w->lock);
	pthread_mutex_unlock(&w->call_lock);
	if (gone)
		return err_set("I/O thread %s has ended", w->name);
	if (ret)
		return err_set("%s", msg);
	return 0;
}

void worker_destroy(struct worker *w)
{
	if (!w)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		pthread_mutex_unlock(&w->lock);
		wake(w);
		pthread_join(w->thread, NULL);
	}
	evloop_close(&w->loop);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	pthread_cond_destroy(&w->done_cond);
	pthread_mutex_destroy(&w->call_lock);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
