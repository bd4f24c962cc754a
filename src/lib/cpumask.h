/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_LIB_CPUMASK_H
#define SLICEVM_LIB_CPUMASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A set of host CPU numbers, as the kernel's cpulist and hex-mask files use. */
#define CPUMASK_MAX 1024

struct cpumask {
	uint64_t bits[CPUMASK_MAX / 64];
};

static inline void cpumask_clear(struct cpumask *m)
{
	for (size_t i = 0; i < CPUMASK_MAX / 64; i++)
		m->bits[i] = 0;
}

static inline void cpumask_set(struct cpumask *m, int cpu)
{
	m->bits[cpu / 64] |= 1ULL << (cpu % 64);
}

static inline void cpumask_unset(struct cpumask *m, int cpu)
{
	m->bits[cpu / 64] &= ~(1ULL << (cpu % 64));
}

static inline bool cpumask_test(const struct cpumask *m, int cpu)
{
	return cpu >= 0 && cpu < CPUMASK_MAX &&
	       (m->bits[cpu / 64] >> (cpu % 64)) & 1;
}

int cpumask_count(const struct cpumask *m);
bool cpumask_empty(const struct cpumask *m);
bool cpumask_equal(const struct cpumask *a, const struct cpumask *b);
bool cpumask_intersects(const struct cpumask *a, const struct cpumask *b);
bool cpumask_subset(const struct cpumask *sub, const struct cpumask *super);
void cpumask_or(struct cpumask *dst, const struct cpumask *a, const struct cpumask *b);
void cpumask_and(struct cpumask *dst, const struct cpumask *a, const struct cpumask *b);
void cpumask_andnot(struct cpumask *dst, const struct cpumask *a, const struct cpumask *b);

/* The first CPU after @prev (-1 to start), or -1 when there is none. */
int cpumask_next(const struct cpumask *m, int prev);

#define cpumask_for_each(cpu, m) \
	for ((cpu) = cpumask_next((m), -1); (cpu) >= 0; (cpu) = cpumask_next((m), (cpu)))

/* "0-3,8,10-11" <-> mask. Parsing fails (-1, err_msg() set) on bad syntax. */
int cpumask_parse_list(const char *list, struct cpumask *m);
char *cpumask_format_list(const struct cpumask *m, char *buf, size_t len);

/* "ff,00000001" (as /proc/irq/N/smp_affinity) <-> mask. */
int cpumask_parse_hex(const char *hex, struct cpumask *m);
char *cpumask_format_hex(const struct cpumask *m, char *buf, size_t len);

#endif
