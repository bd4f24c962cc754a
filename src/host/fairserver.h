/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_HOST_FAIRSERVER_H
#define SLICEVM_HOST_FAIRSERVER_H

#include <stdio.h>

#include "host/journal.h"
#include "host/plan.h"

/*
 * Turns off the scheduler's fair server (Linux 6.12+) on every slice CPU:
 * its runtime in debugfs (sched/fair_server/cpuN/runtime) set to 0, the
 * old value journaled. The fair server is a deadline entity that keeps
 * CPU time for normal tasks against real-time ones. A vCPU thread is a
 * normal task that never sleeps, so the server runs out of runtime every
 * period and its replenishment timer, once a second, restarts the CPU's
 * tick and interrupts the vCPU (measured in the lab: the largest source
 * of host interrupts to an idle slice CPU). Nothing real-time runs on a
 * slice CPU, so it protects nothing there.
 *
 * Must run before the partitions exist: Linux 6.12 refuses the change for
 * a CPU in an isolated partition (its deadline bandwidth is accounted in
 * another root domain) and warns; release restores it after them.
 * What cannot be done (no debugfs, a refusal) goes to @notes, not fatal.
 */
int fair_server_apply(struct journal *j, const struct plan *plan, struct notes *notes,
		      FILE *out);

#endif
