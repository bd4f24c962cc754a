// SPDX-License-Identifier: GPL-2.0
/* A vCPU blocked on a terminal that does not drain must still stop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/uart.h"

static void no_irq(void *ctx, int irq, int level)
{
}

static void on_kick(int sig)
{
}

static atomic_bool writer_done;

/* A vCPU thread printing: writes THR until told to stop. */
static void *write_forever(void *arg)
{
	uint8_t byte = 'x';

	while (!atomic_load(&writer_done))
		uart_pio(arg, 0, &byte, 1, true);	/* THR */
	return NULL;
}

static bool joined_within(pthread_t t, struct uart *u, int seconds)
{
	struct timespec until;

	for (int i = 0; i < seconds * 20; i++) {
		pthread_kill(t, SIGUSR1);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 50 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (!pthread_timedjoin_np(t, NULL, &until))
			return true;
	}
	return false;
}

static void blocked_output_gives_up_when_stopping(void **state)
{
	struct sigaction sa = { .sa_handler = on_kick };
	int fds[2], flags;
	struct uart *u;
	pthread_t t;

	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);	/* no SA_RESTART */
	assert_int_equal(pipe(fds), 0);
	/* Fill the pipe so that the next write blocks. */
	flags = fcntl(fds[1], F_GETFL);
	fcntl(fds[1], F_SETFL, flags | O_NONBLOCK);
	while (write(fds[1], "........", 8) > 0)
		;
	fcntl(fds[1], F_SETFL, flags);

	u = uart_create(fds[1], 4, no_irq, NULL);
	assert_non_null(u);
	assert_int_equal(pthread_create(&t, NULL, write_forever, u), 0);
	usleep(100 * 1000);
	uart_stop(u);
	/* Once stopping, a blocked write interrupted by a kick gives up. */
	for (int i = 0; i < 100 && !uart_tx_dropped(u); i++) {
		pthread_kill(t, SIGUSR1);
		usleep(10 * 1000);
	}
	assert_true(uart_tx_dropped(u) > 0);
	atomic_store(&writer_done, true);
	assert_true(joined_within(t, u, 5));
	uart_destroy(u);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(blocked_output_gives_up_when_stopping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
