// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cpumask.h"
#include "lib/err.h"

#define WORDS (CPUMASK_MAX / 64)

int cpumask_count(const struct cpumask *m)
{
	int n = 0;

	for (int i = 0; i < WORDS; i++)
		n += __builtin_popcountll(m->bits[i]);
	return n;
}

bool cpumask_empty(const struct cpumask *m)
{
	return cpumask_count(m) == 0;
}

bool cpumask_equal(const struct cpumask *a, const struct cpumask *b)
{
	return !memcmp(a->bits, b->bits, sizeof(a->bits));
}

bool cpumask_intersects(const struct cpumask *a, const struct cpumask *b)
{
	for (int i = 0; i < WORDS; i++)
		if (a->bits[i] & b->bits[i])
			return true;
	return false;
}

bool cpumask_subset(const struct cpumask *sub, const struct cpumask *super)
{
	for (int i = 0; i < WORDS; i++)
		if (sub->bits[i] & ~super->bits[i])
			return false;
	return true;
}

void cpumask_or(struct cpumask *dst, const struct cpumask *a, const struct cpumask *b)
{
	for (int i = 0; i < WORDS; i++)
		dst->bits[i] = a->bits[i] | b->bits[i];
}

void cpumask_and(struct cpumask *dst, const struct cpumask *a, const struct cpumask *b)
{
	for (int i = 0; i < WORDS; i++)
		dst->bits[i] = a->bits[i] & b->bits[i];
}

void cpumask_andnot(struct cpumask *dst, const struct cpumask *a, const struct cpumask *b)
{
	for (int i = 0; i < WORDS; i++)
		dst->bits[i] = a->bits[i] & ~b->bits[i];
}

int cpumask_next(const struct cpumask *m, int prev)
{
	for (int cpu = prev + 1; cpu < CPUMASK_MAX; cpu++) {
		uint64_t word = m->bits[cpu / 64] >> (cpu % 64);

		if (!word) {
			cpu |= 63;	/* skip the rest of an empty word */
			continue;
		}
		return cpu + __builtin_ctzll(word);
	}
	return -1;
}

static int parse_cpu(const char **p, const char *list)
{
	char *end;
	long cpu;

	if (!isdigit((unsigned char)**p))
		return err_set("CPU list '%s' is malformed: write it like 0-3,8", list);
	errno = 0;
	cpu = strtol(*p, &end, 10);
	if (errno || cpu >= CPUMASK_MAX)
		return err_set("CPU list '%s' names a CPU above %d", list, CPUMASK_MAX - 1);
	*p = end;
	return (int)cpu;
}

int cpumask_parse_list(const char *list, struct cpumask *m)
{
	const char *p = list;

	cpumask_clear(m);
	while (*p && *p != '\n') {
		int first, last;

		first = parse_cpu(&p, list);
		if (first < 0)
			return -1;
		last = first;
		if (*p == '-') {
			p++;
			last = parse_cpu(&p, list);
			if (last < 0)
				return -1;
			if (last < first)
				return err_set("CPU list '%s' has a backward range %d-%d: write it as %d-%d",
					       list, first, last, last, first);
		}
		for (int cpu = first; cpu <= last; cpu++)
			cpumask_set(m, cpu);
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return err_set("CPU list '%s' is malformed: write it like 0-3,8",
				       list);
	}
	return 0;
}

char *cpumask_format_list(const struct cpumask *m, char *buf, size_t len)
{
	size_t used = 0;
	int cpu = cpumask_next(m, -1);

	buf[0] = '\0';
	while (cpu >= 0 && used < len) {
		int last = cpu;

		while (cpumask_test(m, last + 1))
			last++;
		if (last == cpu)
			used += snprintf(buf + used, len - used, "%s%d",
					 used ? "," : "", cpu);
		else
			used += snprintf(buf + used, len - used, "%s%d-%d",
					 used ? "," : "", cpu, last);
		cpu = cpumask_next(m, last);
	}
	return buf;
}

int cpumask_parse_hex(const char *hex, struct cpumask *m)
{
	size_t n = strlen(hex);
	int bit = 0;

	cpumask_clear(m);
	while (n && (hex[n - 1] == '\n' || hex[n - 1] == ' '))
		n--;
	if (!n)
		return err_set("CPU mask is empty");
	while (n--) {
		char c = hex[n];
		int v;

		if (c == ',')
			continue;
		if (!isxdigit((unsigned char)c))
			return err_set("CPU mask '%s' is not hexadecimal", hex);
		v = isdigit((unsigned char)c) ? c - '0' : tolower(c) - 'a' + 10;
		for (int i = 0; i < 4; i++, bit++)
			if (v & (1 << i)) {
				if (bit >= CPUMASK_MAX)
					return err_set("CPU mask '%s' is too wide", hex);
				cpumask_set(m, bit);
			}
	}
	return 0;
}

char *cpumask_format_hex(const struct cpumask *m, char *buf, size_t len)
{
	int top = WORDS - 1;
	size_t used = 0;

	/* The kernel groups 32-bit words with commas, most significant first. */
	while (top > 0 && !m->bits[top])
		top--;
	buf[0] = '\0';
	for (int half = top * 2 + 1; half >= 0 && used < len; half--) {
		uint32_t w = (uint32_t)(m->bits[half / 2] >> (32 * (half % 2)));

		if (half == top * 2 + 1 && !w && half)
			continue;
		used += snprintf(buf + used, len - used,
				 used ? ",%08x" : "%x", w);
	}
	return buf;
}
