/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_HOST_INTERRUPTS_H
#define SLICEVM_HOST_INTERRUPTS_H

#include <stdint.h>

#include "lib/cpumask.h"

/*
 * /proc/interrupts, parsed. The header names the columns ("CPU0 CPU2 ..."
 * lists online CPUs only, so columns are mapped through it); each line is
 * "LABEL:" then up to one count per column, then a description. Some lines
 * have fewer counts ("ERR:" and "MIS:" have one, a total).
 */
struct irq_line {
	char label[32];		/* "0", "LOC", "NMI" */
	char desc[96];		/* "IO-APIC 2-edge timer", "Local timer interrupts" */
	int ncounts;		/* counts given, from the first column */
	uint64_t *counts;
};

struct irq_table {
	int ncols;
	int *cpu;		/* CPU number of each column */
	int nlines;
	struct irq_line *lines;
};

/* Fails (-1, err_msg()) on text without a "CPUn" header. */
int interrupts_parse(const char *text, struct irq_table *t);
void interrupts_free(struct irq_table *t);

/* Interrupts of @line on the CPUs of @cpus; 0 for CPUs it has no column for. */
uint64_t interrupts_sum(const struct irq_table *t, const struct irq_line *line,
			const struct cpumask *cpus);

struct irq_delta {
	char label[32];
	char desc[96];
	uint64_t count;
};

/*
 * What landed on @cpus between @then and @now, per line, biggest first;
 * lines with nothing new are left out. A counter that went down (a freed
 * and reused IRQ number) counts from zero. *out is malloc'd.
 */
int interrupts_diff(const struct irq_table *then, const struct irq_table *now,
		    const struct cpumask *cpus, struct irq_delta **out, int *n);

/*
 * The same as a JSON array of {"irq", "desc", "count"}, and their sum in
 * *@total (may be NULL). NULL when the diff fails.
 */
struct json_object *interrupts_diff_json(const struct irq_table *then,
					 const struct irq_table *now,
					 const struct cpumask *cpus, uint64_t *total);

#endif
