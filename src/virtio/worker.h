/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VIRTIO_WORKER_H
#define SLICEVM_VIRTIO_WORKER_H

#include "lib/evloop.h"

/*
 * A device's I/O thread: an event loop (lib/evloop.h) running on a thread
 * of its own, and a way for other threads (vCPUs handling the driver's
 * register writes) to run a function on it and wait until it ran. All of
 * a device's queue state is then touched by one thread only.
 *
 * Life: worker_create() and worker_start() on the main thread before the
 * vCPUs run (threads come only from the main thread, see vmm/sandbox.h);
 * the loop's fds are added from functions run on the worker (worker_call)
 * or before worker_start(); worker_destroy() on the main thread stops and
 * joins it.
 */

struct worker;

/* @name names the thread (at most 15 characters are kept). NULL: err_set(). */
struct worker *worker_create(const char *name);

/* The worker's loop: use it only on the worker thread, or before worker_start(). */
struct evloop *worker_loop(struct worker *w);

/*
 * Starts the thread. @init (optional) runs on it first: the VMM's hook
 * that pins it to housekeeping CPUs and enters the I/O sandbox; if it
 * returns non-zero the thread ends at once and every later worker_call()
 * fails.
 */
int worker_start(struct worker *w, int (*init)(void *arg), void *arg);

/*
 * Runs @fn(@arg) on the worker thread and waits for it; returns what @fn
 * returned. When @fn fails (-1 and err_set() on the worker), the caller's
 * thread gets the same err_msg(). On the worker thread itself, or before
 * worker_start(), @fn runs at once. -1 (err_set()) if the worker thread
 * is gone.
 */
int worker_call(struct worker *w, int (*fn)(void *arg), void *arg);

/* Stops and joins the thread (if started), then frees @w. NULL is fine. */
void worker_destroy(struct worker *w);

#endif
