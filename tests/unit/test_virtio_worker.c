// SPDX-License-Identifier: GPL-2.0
/* The device I/O thread: calls run on it, return its result and its error. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lib/err.h"
#include "virtio/worker.h"

struct probe {
	pthread_t ran_on;
	int calls;
	int ret;
};

static int record(void *arg)
{
	struct probe *p = arg;

	p->ran_on = pthread_self();
	p->calls++;
	if (p->ret)
		return err_set("failed on the worker (call %d)", p->calls);
	return 0;
}

static void test_before_start_runs_inline(void **state)
{
	struct worker *w = worker_create("t-inline");
	struct probe p = { 0 };

	assert_non_null(w);
	assert_int_equal(worker_call(w, record, &p), 0);
	assert_int_equal(p.calls, 1);
	assert_true(pthread_equal(p.ran_on, pthread_self()));
	worker_destroy(w);
}

static void test_runs_on_the_worker(void **state)
{
	struct worker *w = worker_create("t-thread");
	struct probe p = { 0 };

	assert_non_null(w);
	assert_int_equal(worker_start(w, NULL, NULL), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(worker_call(w, record, &p), 0);
	assert_int_equal(p.calls, 100);
	assert_false(pthread_equal(p.ran_on, pthread_self()));
	worker_destroy(w);
}

/* The caller's thread gets the worker's message, not a stale one of its own. */
static void test_error_reaches_the_caller(void **state)
{
	struct worker *w = worker_create("t-error");
	struct probe p = { .ret = -1 };

	assert_non_null(w);
	assert_int_equal(worker_start(w, NULL, NULL), 0);
	err_set("an older message of the caller's");
	assert_int_equal(worker_call(w, record, &p), -1);
	assert_string_equal(err_msg(), "failed on the worker (call 1)");
	p.ret = 0;
	assert_int_equal(worker_call(w, record, &p), 0);
	worker_destroy(w);
}

static int refuse(void *arg)
{
	return err_set("no sandbox for this thread");
}

/* A thread whose init failed is gone: calls fail instead of waiting forever. */
static void test_failed_init(void **state)
{
	struct worker *w = worker_create("t-noinit");
	struct probe p = { 0 };

	assert_non_null(w);
	assert_int_equal(worker_start(w, refuse, NULL), 0);
	assert_int_equal(worker_call(w, record, &p), -1);
	assert_non_null(strstr(err_msg(), "has ended"));
	assert_int_equal(p.calls, 0);
	worker_destroy(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_before_start_runs_inline),
		cmocka_unit_test(test_runs_on_the_worker),
		cmocka_unit_test(test_error_reaches_the_caller),
		cmocka_unit_test(test_failed_init),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
