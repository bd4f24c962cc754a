// SPDX-License-Identifier: GPL-2.0
/* The event loop: handlers run for ready fds, and may add and remove fds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/evloop.h"

static int calls[8];

static void count(struct evloop *loop, int fd, uint32_t events, void *arg)
{
	char buf[16];

	calls[(intptr_t)arg]++;
	(void)!read(fd, buf, sizeof(buf));
}

/* Removes the fd of handler 1 from handler 0, in the same round. */
static int other_fd;
static void remove_other(struct evloop *loop, int fd, uint32_t events, void *arg)
{
	char buf[16];

	calls[0]++;
	(void)!read(fd, buf, sizeof(buf));
	evloop_del(loop, other_fd);
}

static void test_ready_fds_run_their_handlers(void **state)
{
	struct evloop loop;
	int a[2], b[2];

	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	assert_int_equal(evloop_init(&loop), 0);
	assert_int_equal(evloop_add(&loop, a[0], EPOLLIN, count, (void *)0), 0);
	assert_int_equal(evloop_add(&loop, b[0], EPOLLIN, count, (void *)1), 0);
	assert_int_equal(evloop_add(&loop, b[0], EPOLLIN, count, (void *)1), -1);
	assert_int_equal(evloop_run_once(&loop, 0), 0);
	assert_int_equal(write(b[1], "x", 1), 1);
	assert_int_equal(evloop_run_once(&loop, 1000), 1);
	assert_int_equal(calls[1], 1);
	assert_int_equal(calls[0], 0);
	/* watched for nothing: not run */
	assert_int_equal(evloop_mod(&loop, a[0], 0), 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(evloop_run_once(&loop, 0), 0);
	assert_int_equal(evloop_mod(&loop, a[0], EPOLLIN), 0);
	assert_int_equal(evloop_run_once(&loop, 0), 1);
	assert_int_equal(calls[0], 1);
	evloop_close(&loop);
	close(a[0]); close(a[1]); close(b[0]); close(b[1]);
}

static void test_removed_in_the_same_round(void **state)
{
	struct evloop loop;
	int a[2], b[2];

	calls[0] = calls[1] = 0;
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	other_fd = b[0];
	assert_int_equal(evloop_init(&loop), 0);
	assert_int_equal(evloop_add(&loop, a[0], EPOLLIN, remove_other, NULL), 0);
	assert_int_equal(evloop_add(&loop, b[0], EPOLLIN, count, (void *)1), 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "x", 1), 1);
	evloop_run_once(&loop, 1000);
	/* whichever ran first, b's handler never runs after its removal */
	assert_int_equal(calls[0], 1);
	assert_true(calls[1] <= 1);
	calls[1] = 0;
	evloop_run_once(&loop, 0);
	assert_int_equal(calls[1], 0);
	for (int i = 0; i < EVLOOP_MAX - 1; i++) {
		int p[2];

		assert_int_equal(pipe(p), 0);
		assert_int_equal(evloop_add(&loop, p[0], EPOLLIN, count, NULL), 0);
	}
	assert_int_equal(evloop_add(&loop, a[1], EPOLLOUT, count, NULL), -1);
	evloop_close(&loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_fds_run_their_handlers),
		cmocka_unit_test(test_removed_in_the_same_round),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
