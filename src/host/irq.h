/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_HOST_IRQ_H
#define SLICEVM_HOST_IRQ_H

#include <stdio.h>

#include "host/journal.h"
#include "lib/cpumask.h"

/*
 * Keeps device interrupts off slice CPUs: /proc/irq/default_smp_affinity
 * (IRQs set up later) and every /proc/irq/N/smp_affinity are narrowed to
 * their housekeeping CPUs (or set to all housekeeping CPUs when they had
 * none). The kernel refuses some (per-CPU interrupts, the timer, managed
 * IRQs, which follow their queues' CPUs): those are listed in @notes, not
 * fatal. Reports on @out how many moved.
 */
int irq_apply(struct journal *j, const struct cpumask *housekeeping, struct notes *notes,
	      FILE *out);

/* @old narrowed to @hk, or all of @hk when they do not meet. */
void irq_narrow(const struct cpumask *old, const struct cpumask *hk, struct cpumask *out);

/*
 * How many device IRQs (those with a handler, under @proc/irq) are routed
 * to a CPU of @cpus (their effective affinity, or their affinity where the
 * kernel shows no effective one). @list gets the first IRQ_ROUTED_NAMED as
 * "N (handler), ..." and how many more. Unreadable entries count as not
 * routed there: this is a check for the operator, not a guarantee.
 */
#define IRQ_ROUTED_NAMED	4
int irq_routed_to(const char *proc, const struct cpumask *cpus, char *list, size_t len);

/*
 * The unbound workqueue cpumask (/sys/devices/virtual/workqueue/cpumask),
 * narrowed the same way: kernel work not tied to a CPU stays off slices.
 * Must run before the partitions exist: Linux 6.7+ already leaves isolated
 * CPUs out of what the file shows, and that is not the value to restore.
 */
int workqueue_apply(struct journal *j, const struct cpumask *housekeeping,
		    struct notes *notes, FILE *out);

#endif
