// SPDX-License-Identifier: GPL-2.0-only
/*
 * timerloop: the guest's timer workload for the direct-timer lab case and
 * bench (built static into the default guest's initramfs by guest.sh).
 *
 *   timerloop PERIOD_US COUNT [IDLE_S]
 *
 * Sleeps COUNT times until the next multiple of PERIOD_US on
 * CLOCK_MONOTONIC (absolute deadlines, so lateness does not add up): with
 * a tickless guest each sleep is one programming of the LAPIC timer and one
 * timer interrupt. Prints, on one line each:
 *
 *   SLICEVM-TIMER-IDLE s=IDLE_S            before an idle window of IDLE_S
 *                                          seconds (one sleep), if given
 *   SLICEVM-TIMER-START period_us=P count=N
 *   SLICEVM-TIMER-DONE ticks=N elapsed_us=E late_max_us=L late_mean_us=M
 *
 * The host compares E with its own clock: a guest timer that ran at the
 * wrong rate, or ticks that were lost, show there. Exits 0, or 1 with a
 * line on stderr for a bad argument or a failing clock call.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t ts_us(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000 + ts->tv_nsec / 1000;
}

static int now_us(uint64_t *us)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		return -1;
	*us = ts_us(&ts);
	return 0;
}

static int sleep_until_us(uint64_t us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = us % 1000000 * 1000 };
	int err;

	while ((err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
		;
	return err;
}

static int parse(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end || *out == 0 || *out > max ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long period, count, idle = 0;
	uint64_t start, next, now, late, late_max = 0, late_sum = 0;

	if (argc < 3 || argc > 4 || parse(argv[1], 10000000, &period) ||
	    parse(argv[2], 100000000, &count) ||
	    (argc == 4 && parse(argv[3], 3600, &idle))) {
		fprintf(stderr, "usage: timerloop PERIOD_US COUNT [IDLE_S] (all > 0)\n");
		return 1;
	}
	if (idle) {
		printf("SLICEVM-TIMER-IDLE s=%lu\n", idle);
		fflush(stdout);
		if (now_us(&now) || sleep_until_us(now + idle * 1000000ULL))
			goto clock_failed;
	}
	printf("SLICEVM-TIMER-START period_us=%lu count=%lu\n", period, count);
	fflush(stdout);
	if (now_us(&start))
		goto clock_failed;
	next = start;
	for (unsigned long i = 0; i < count; i++) {
		next += period;
		if (sleep_until_us(next) || now_us(&now))
			goto clock_failed;
		late = now > next ? now - next : 0;
		late_sum += late;
		if (late > late_max)
			late_max = late;
	}
	printf("SLICEVM-TIMER-DONE ticks=%lu elapsed_us=%llu late_max_us=%llu late_mean_us=%llu\n",
	       count, (unsigned long long)(now - start), (unsigned long long)late_max,
	       (unsigned long long)(late_sum / count));
	return 0;

clock_failed:
	fprintf(stderr, "timerloop: the clock failed: %s\n", strerror(errno));
	return 1;
}
