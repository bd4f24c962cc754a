// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipiping: IPIs from the guest's CPU 0 to others, a known number of them,
 * for the direct-interrupt lab case and bench (built static into the
 * default guest's initramfs by guest.sh).
 *
 *   ipiping COUNT [QUIET_S [TARGETS]]
 *
 * A thread spins on each of CPUs 1 to TARGETS (1 unless given) while the
 * main thread, on CPU 0, asks the kernel COUNT times for an expedited
 * private memory barrier (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)).
 * The kernel sends an IPI to each other CPU running a thread of this
 * process, here CPUs 1 to TARGETS, and waits until they have run its
 * handler: COUNT round trips, each one IPI from CPU 0 (ICR writes or
 * Linux's PV IPI hypercall), its deliveries and EOIs, and the wait. To one
 * CPU, Linux writes the ICR for it alone; to all the others, the ICR's
 * all-but-self shorthand (unless the guest has no_ipi_broadcast=1); to a
 * set of them, the hypercall when KVM offers it. The host counts the
 * vCPUs' exits meanwhile and divides by COUNT.
 * Prints, on one line each:
 *
 *   SLICEVM-IPIPING-ARMED count=N quiet_s=Q targets=T   then QUIET_S s
 *                                            asleep (the host starts
 *                                            counting)
 *   SLICEVM-IPIPING-DONE count=N ipis=I elapsed_us=E
 *                                            after the COUNT round trips and
 *                                            QUIET_S s asleep again; I is the
 *                                            fewest function-call IPIs a
 *                                            target CPU took meanwhile (-1:
 *                                            unknown)
 *   SLICEVM-IPIPING-BARRIERS median_us=B quick=Q quick_us=U
 *                        spinners_waited_us=W,... spinners_slices=S,...
 *                                            1 s later (out of the host's
 *                                            count); B a barrier's median
 *                                            time, Q how many took under a
 *                                            sixteenth of it (U us in all),
 *                                            W how long each spinner waited
 *                                            for its CPU, S how many times it
 *                                            got it back (-1: unknown)
 *
 * A barrier sends no IPI to a CPU while the spinner is off it, and then
 * takes a few us instead of a round trip: one ms off the CPU makes
 * hundreds of such quick barriers, so with one target COUNT - I = Q.
 *
 * Exits 0, or 1 with a line on stderr (a bad argument, too few CPUs, a
 * kernel without the expedited membarrier, no real-time priority).
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

#define MAX_TARGETS 7

static atomic_bool stop;
static atomic_int spinning;
static pid_t spinner_tid[MAX_TARGETS];

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/*
 * Keeps CPU (long)ARG running a thread of this process, so every barrier
 * IPIs it. Real-time, so no ordinary task takes the CPU from it meanwhile
 * (a barrier sends no IPI to a CPU running another process's task: once,
 * 812 of 3000 reached CPU 1); RT throttling still leaves the CPU's kernel
 * threads 5%.
 */
static void *spin(void *arg)
{
	struct sched_param rt = { .sched_priority = 1 };
	int cpu = (int)(long)arg;

	if (pin(cpu)) {
		fprintf(stderr, "ipiping: cannot run on CPU %d\n", cpu);
		exit(1);
	}
	if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &rt)) {
		fprintf(stderr, "ipiping: cannot spin at real-time priority on CPU %d\n", cpu);
		exit(1);
	}
	spinner_tid[cpu - 1] = (pid_t)syscall(SYS_gettid);
	atomic_fetch_add(&spinning, 1);
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		__builtin_ia32_pause();
	return NULL;
}

static int membarrier(int cmd)
{
	return (int)syscall(SYS_membarrier, cmd, 0, 0);
}

/*
 * CPUs 1 to TARGETS' counts of function-call interrupts (the "CAL:" line
 * of /proc/interrupts): the IPIs they really took. False if unreadable.
 */
static bool calls(long long *per_cpu, int targets)
{
	char line[4096], *p, *end;
	bool found = false;
	FILE *f = fopen("/proc/interrupts", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		p = strstr(line, "CAL:");
		if (!p || strspn(line, " ") != (size_t)(p - line))
			continue;
		p += 4;
		strtoll(p, &end, 10);	/* CPU 0's */
		found = end != p;
		for (int i = 0; found && i < targets; i++) {
			p = end;
			per_cpu[i] = strtoll(p, &end, 10);
			found = end != p;
		}
	}
	fclose(f);
	return found;
}

/*
 * Thread TID's scheduler statistics: how long, in us, it has waited
 * runnable but not running (the second field of its schedstat: a
 * spinner's wait is time its CPU ran something else, when barriers sent
 * it no IPI) and how many times it has been given a CPU (the third).
 * False if unreadable.
 */
static bool sched_stats(pid_t tid, long long *waited_us, long long *slices)
{
	char path[64];
	unsigned long long run = 0, wait = 0, count = 0;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fscanf(f, "%llu %llu %llu", &run, &wait, &count);
	fclose(f);
	*waited_us = (long long)(wait / 1000);
	*slices = (long long)count;
	return n == 3;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The barriers' times: returns the median of the N (at least 1) times in
 * US, and sets QUICK and QUICK_US to how many took under a sixteenth of
 * it and how long they took in all. Sorts US.
 */
static uint64_t barrier_stats(uint64_t *us, long n, long *quick, uint64_t *quick_us)
{
	uint64_t m;

	qsort(us, (size_t)n, sizeof(*us), cmp_u64);
	m = us[n / 2];
	*quick = 0;
	*quick_us = 0;
	for (long i = 0; i < n && us[i] * 16 < m; i++) {
		(*quick)++;
		*quick_us += us[i];
	}
	return m;
}

/* A non-negative number from ARG, or -1. */
static long number(const char *arg)
{
	char *end;
	long n = strtol(arg, &end, 10);

	return *arg && !*end && n >= 0 ? n : -1;
}

int main(int argc, char **argv)
{
	long count, quiet = 2, targets = 1;
	pthread_t spinner[MAX_TARGETS];
	long long calls0[MAX_TARGETS], calls1[MAX_TARGETS], took = -1;
	long long wait0[MAX_TARGETS], wait1[MAX_TARGETS];
	long long slices0[MAX_TARGETS], slices1[MAX_TARGETS];
	char waited[MAX_TARGETS * 24] = "", slices[MAX_TARGETS * 24] = "";
	bool counted, stats = true;
	uint64_t t0, t1, median, quick_us, *took_us;
	long quick;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: ipiping COUNT [QUIET_S [TARGETS]]\n");
		return 1;
	}
	count = number(argv[1]);
	if (count < 1) {
		fprintf(stderr, "ipiping: COUNT '%s' is not a positive number\n", argv[1]);
		return 1;
	}
	if (argc >= 3 && (quiet = number(argv[2])) < 0) {
		fprintf(stderr, "ipiping: QUIET_S '%s' is not a number of seconds\n", argv[2]);
		return 1;
	}
	if (argc == 4 && ((targets = number(argv[3])) < 1 || targets > MAX_TARGETS)) {
		fprintf(stderr, "ipiping: TARGETS '%s' is not a number of CPUs from 1 to %d\n",
			argv[3], MAX_TARGETS);
		return 1;
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < targets + 1) {
		fprintf(stderr, "ipiping: needs %ld CPUs, the guest has %ld\n", targets + 1,
			sysconf(_SC_NPROCESSORS_ONLN));
		return 1;
	}
	took_us = malloc((size_t)count * sizeof(*took_us));
	if (!took_us) {
		fprintf(stderr, "ipiping: no memory for %ld barriers' times\n", count);
		return 1;
	}
	memset(took_us, 0xff, (size_t)count * sizeof(*took_us));	/* its pages in now */
	if (pin(0) || membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)) {
		perror("ipiping: cannot run on CPU 0 with an expedited membarrier");
		return 1;
	}
	for (long i = 0; i < targets; i++)
		if (pthread_create(&spinner[i], NULL, spin, (void *)(i + 1))) {
			fprintf(stderr, "ipiping: cannot start the spinning threads\n");
			return 1;
		}
	while (atomic_load(&spinning) < targets)
		sched_yield();
	printf("SLICEVM-IPIPING-ARMED count=%ld quiet_s=%ld targets=%ld\n", count, quiet, targets);
	fflush(stdout);
	sleep((unsigned int)quiet);
	counted = calls(calls0, (int)targets);
	for (long i = 0; i < targets; i++)
		stats = sched_stats(spinner_tid[i], &wait0[i], &slices0[i]) && stats;
	t0 = t1 = now_us();
	for (long i = 0; i < count; i++) {	/* one clock read a barrier: t1 its end */
		uint64_t begun = t1;

		if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)) {
			perror("ipiping: membarrier");
			return 1;
		}
		t1 = now_us();
		took_us[i] = t1 - begun;
	}
	for (long i = 0; i < targets; i++)
		stats = sched_stats(spinner_tid[i], &wait1[i], &slices1[i]) && stats;
	counted = calls(calls1, (int)targets) && counted;
	atomic_store(&stop, true);
	for (long i = 0; i < targets; i++)
		pthread_join(spinner[i], NULL);
	sleep((unsigned int)quiet);
	for (long i = 0; counted && i < targets; i++)
		if (took < 0 || calls1[i] - calls0[i] < took)
			took = calls1[i] - calls0[i];
	for (long i = 0; i < targets; i++) {
		snprintf(waited + strlen(waited), sizeof(waited) - strlen(waited), "%s%lld",
			 i ? "," : "", stats ? wait1[i] - wait0[i] : -1);
		snprintf(slices + strlen(slices), sizeof(slices) - strlen(slices), "%s%lld",
			 i ? "," : "", stats ? slices1[i] - slices0[i] : -1);
	}
	/* What the host counts ends with this line, kept short: each byte exits. */
	printf("SLICEVM-IPIPING-DONE count=%ld ipis=%lld elapsed_us=%llu\n",
	       count, took, (unsigned long long)(t1 - t0));
	fflush(stdout);
	sleep(1);
	median = barrier_stats(took_us, count, &quick, &quick_us);
	printf("SLICEVM-IPIPING-BARRIERS median_us=%llu quick=%ld quick_us=%llu spinners_waited_us=%s spinners_slices=%s\n",
	       (unsigned long long)median, quick, (unsigned long long)quick_us, waited, slices);
	free(took_us);
	return 0;
}
