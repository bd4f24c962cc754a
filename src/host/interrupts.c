// SPDX-License-Identifier: GPL-2.0
/* Parsing and comparing /proc/interrupts (see interrupts.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "host/interrupts.h"
#include "lib/err.h"

void interrupts_free(struct irq_table *t)
{
	for (int i = 0; i < t->nlines; i++)
		free(t->lines[i].counts);
	free(t->lines);
	free(t->cpu);
	memset(t, 0, sizeof(*t));
}

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static int parse_header(const char *p, const char *end, struct irq_table *t)
{
	int cap = 0;

	for (;;) {
		char *num_end;
		long cpu;

		p = skip_space(p, end);
		if (p >= end)
			break;
		if (end - p < 4 || strncmp(p, "CPU", 3) || !isdigit((unsigned char)p[3]))
			return err_set("/proc/interrupts header has '%.*s' where CPUn belongs",
				       (int)(end - p > 16 ? 16 : end - p), p);
		cpu = strtol(p + 3, &num_end, 10);
		if (cpu >= CPUMASK_MAX)
			return err_set("/proc/interrupts names CPU%ld, above %d", cpu,
				       CPUMASK_MAX - 1);
		if (t->ncols == cap) {
			int *more;

			cap = cap ? cap * 2 : 64;
			more = realloc(t->cpu, (size_t)cap * sizeof(*more));
			if (!more)
				return err_set("out of memory parsing /proc/interrupts");
			t->cpu = more;
		}
		t->cpu[t->ncols++] = (int)cpu;
		p = num_end;
	}
	if (!t->ncols)
		return err_set("/proc/interrupts has no CPU columns");
	return 0;
}

static void copy_trimmed(char *dst, size_t len, const char *p, const char *end)
{
	size_t n;

	p = skip_space(p, end);
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	n = (size_t)(end - p) < len - 1 ? (size_t)(end - p) : len - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	/* Descriptions pad with runs of spaces: fold them to one. */
	for (char *s = dst, *d = dst; ; s++) {
		if (*s == ' ' && d > dst && d[-1] == ' ')
			continue;
		*d++ = *s;
		if (!*s)
			break;
	}
}

static int parse_line(const char *p, const char *end, struct irq_table *t,
		      struct irq_line *line)
{
	const char *colon = memchr(p, ':', (size_t)(end - p));

	memset(line, 0, sizeof(*line));
	p = skip_space(p, end);
	if (!colon || colon <= p)
		return 1;	/* not a counter line */
	copy_trimmed(line->label, sizeof(line->label), p, colon);
	line->counts = calloc((size_t)t->ncols, sizeof(*line->counts));
	if (!line->counts)
		return err_set("out of memory parsing /proc/interrupts");
	p = colon + 1;
	while (line->ncounts < t->ncols) {
		const char *q = skip_space(p, end);
		unsigned long long v;
		char *num_end;

		if (q >= end || !isdigit((unsigned char)*q))
			break;
		errno = 0;
		v = strtoull(q, &num_end, 10);
		/* "123abc" is a description word, not a count. */
		if (errno || (num_end < end && !isspace((unsigned char)*num_end)))
			break;
		line->counts[line->ncounts++] = v;
		p = num_end;
	}
	copy_trimmed(line->desc, sizeof(line->desc), p, end);
	return 0;
}

int interrupts_parse(const char *text, struct irq_table *t)
{
	const char *p = text;
	int cap = 0;
	bool header = false;

	memset(t, 0, sizeof(*t));
	while (*p) {
		const char *end = strchr(p, '\n');
		const char *next;
		int r;

		if (!end)
			end = p + strlen(p);
		next = *end ? end + 1 : end;
		if (skip_space(p, end) == end) {
			p = next;
			continue;
		}
		if (!header) {
			if (parse_header(p, end, t))
				goto fail;
			header = true;
			p = next;
			continue;
		}
		if (t->nlines == cap) {
			struct irq_line *more;

			cap = cap ? cap * 2 : 64;
			more = realloc(t->lines, (size_t)cap * sizeof(*more));
			if (!more) {
				err_set("out of memory parsing /proc/interrupts");
				goto fail;
			}
			t->lines = more;
		}
		r = parse_line(p, end, t, &t->lines[t->nlines]);
		if (r < 0)
			goto fail;
		if (r == 0)
			t->nlines++;
		p = next;
	}
	if (!header) {
		err_set("/proc/interrupts is empty");
		goto fail;
	}
	return 0;
fail:
	interrupts_free(t);
	return -1;
}

uint64_t interrupts_sum(const struct irq_table *t, const struct irq_line *line,
			const struct cpumask *cpus)
{
	uint64_t sum = 0;

	for (int c = 0; c < line->ncounts; c++)
		if (cpumask_test(cpus, t->cpu[c]))
			sum += line->counts[c];
	return sum;
}

static const struct irq_line *find_line(const struct irq_table *t, const char *label)
{
	for (int i = 0; i < t->nlines; i++)
		if (!strcmp(t->lines[i].label, label))
			return &t->lines[i];
	return NULL;
}

/* One CPU's count on @line, 0 when it has no such column. */
static uint64_t count_on(const struct irq_table *t, const struct irq_line *line, int cpu)
{
	for (int c = 0; c < line->ncounts; c++)
		if (t->cpu[c] == cpu)
			return line->counts[c];
	return 0;
}

static int by_count(const void *a, const void *b)
{
	const struct irq_delta *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->label, y->label);
}

int interrupts_diff(const struct irq_table *then, const struct irq_table *now,
		    const struct cpumask *cpus, struct irq_delta **out, int *n)
{
	struct irq_delta *d = calloc((size_t)now->nlines + 1, sizeof(*d));
	int count = 0, cpu;

	if (!d)
		return err_set("out of memory comparing interrupt counts");
	for (int i = 0; i < now->nlines; i++) {
		const struct irq_line *line = &now->lines[i];
		const struct irq_line *old = find_line(then, line->label);
		uint64_t sum = 0;

		/* Per CPU: a counter that went down restarted from zero. */
		cpumask_for_each(cpu, cpus) {
			uint64_t a = old ? count_on(then, old, cpu) : 0;
			uint64_t b = count_on(now, line, cpu);

			sum += b >= a ? b - a : b;
		}
		if (!sum)
			continue;
		snprintf(d[count].label, sizeof(d[count].label), "%s", line->label);
		snprintf(d[count].desc, sizeof(d[count].desc), "%s", line->desc);
		d[count++].count = sum;
	}
	qsort(d, (size_t)count, sizeof(*d), by_count);
	*out = d;
	*n = count;
	return 0;
}

json_object *interrupts_diff_json(const struct irq_table *then, const struct irq_table *now,
				  const struct cpumask *cpus, uint64_t *total)
{
	struct irq_delta *d;
	json_object *arr;
	uint64_t sum = 0;
	int n;

	if (interrupts_diff(then, now, cpus, &d, &n))
		return NULL;
	arr = json_object_new_array();
	for (int i = 0; i < n; i++) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "irq", json_object_new_string(d[i].label));
		json_object_object_add(e, "desc", json_object_new_string(d[i].desc));
		json_object_object_add(e, "count", json_object_new_int64((int64_t)d[i].count));
		json_object_array_add(arr, e);
		sum += d[i].count;
	}
	free(d);
	if (total)
		*total = sum;
	return arr;
}
