// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipiping: IPIs between two of the guest's CPUs, a known number of them,
 * for the direct-interrupt lab case and bench (built static into the
 * default guest's initramfs by guest.sh).
 *
 *   ipiping COUNT [QUIET_S]
 *
 * A thread spins on CPU 1 while the main thread, on CPU 0, asks the kernel
 * COUNT times for an expedited private memory barrier
 * (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)). The kernel sends one IPI
 * to each other CPU running a thread of this process, here CPU 1 only, and
 * waits until that CPU has run the IPI's handler: COUNT round trips, each
 * one IPI from CPU 0 to CPU 1 (ICR write, delivery, EOI) and the wait.
 * The host counts the vCPUs' exits meanwhile and divides by COUNT.
 * Prints, on one line each:
 *
 *   SLICEVM-IPIPING-ARMED count=N quiet_s=Q   then QUIET_S s asleep (the
 *                                            host starts counting)
 *   SLICEVM-IPIPING-DONE count=N ipis=I elapsed_us=E   after the COUNT
 *                                            round trips and QUIET_S s
 *                                            asleep again; I is how many
 *                                            function-call IPIs CPU 1 took
 *                                            meanwhile (a barrier sends none
 *                                            while the spinner is not on
 *                                            CPU 1; -1: unknown)
 *
 * Exits 0, or 1 with a line on stderr (a bad argument, fewer than two
 * CPUs, a kernel without the expedited membarrier, no real-time priority).
 */
#define _GNU_SOURCE
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_bool stop;
static atomic_bool spinning;

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/*
 * Keeps CPU 1 running a thread of this process, so every barrier IPIs it.
 * Real-time, so no ordinary task takes CPU 1 from it meanwhile (a barrier
 * sends no IPI to a CPU running another process's task: once, 812 of 3000
 * reached CPU 1); RT throttling still leaves the CPU's kernel threads 5%.
 */
static void *spin(void *arg)
{
	struct sched_param rt = { .sched_priority = 1 };

	(void)arg;
	if (pin(1)) {
		perror("ipiping: cannot run on CPU 1");
		exit(1);
	}
	if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &rt)) {
		fprintf(stderr, "ipiping: cannot spin at real-time priority on CPU 1\n");
		exit(1);
	}
	atomic_store(&spinning, true);
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		__builtin_ia32_pause();
	return NULL;
}

static int membarrier(int cmd)
{
	return (int)syscall(SYS_membarrier, cmd, 0, 0);
}

/*
 * CPU 1's count of function-call interrupts (the "CAL:" line of
 * /proc/interrupts): the IPIs it really took. -1 if unreadable.
 */
static long long cpu1_calls(void)
{
	char line[4096];
	long long c0, c1 = -1;
	FILE *f = fopen("/proc/interrupts", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " CAL: %lld %lld", &c0, &c1) == 2)
			break;
	fclose(f);
	return c1;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	long count, quiet = 2;
	pthread_t spinner;
	long long calls0, calls1;
	uint64_t t0, t1;
	char *end;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: ipiping COUNT [QUIET_S]\n");
		return 1;
	}
	count = strtol(argv[1], &end, 10);
	if (*end || count < 1) {
		fprintf(stderr, "ipiping: COUNT '%s' is not a positive number\n", argv[1]);
		return 1;
	}
	if (argc == 3) {
		quiet = strtol(argv[2], &end, 10);
		if (*end || quiet < 0) {
			fprintf(stderr, "ipiping: QUIET_S '%s' is not a number of seconds\n", argv[2]);
			return 1;
		}
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		fprintf(stderr, "ipiping: needs two CPUs, the guest has one\n");
		return 1;
	}
	if (pin(0) || membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)) {
		perror("ipiping: cannot run on CPU 0 with an expedited membarrier");
		return 1;
	}
	if (pthread_create(&spinner, NULL, spin, NULL)) {
		fprintf(stderr, "ipiping: cannot start the spinning thread\n");
		return 1;
	}
	while (!atomic_load(&spinning))
		sched_yield();
	printf("SLICEVM-IPIPING-ARMED count=%ld quiet_s=%ld\n", count, quiet);
	fflush(stdout);
	sleep((unsigned int)quiet);
	calls0 = cpu1_calls();
	t0 = now_us();
	for (long i = 0; i < count; i++)
		if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)) {
			perror("ipiping: membarrier");
			return 1;
		}
	t1 = now_us();
	calls1 = cpu1_calls();
	atomic_store(&stop, true);
	pthread_join(spinner, NULL);
	sleep((unsigned int)quiet);
	printf("SLICEVM-IPIPING-DONE count=%ld ipis=%lld elapsed_us=%llu\n", count,
	       calls0 < 0 || calls1 < 0 ? -1 : calls1 - calls0, (unsigned long long)(t1 - t0));
	return 0;
}
