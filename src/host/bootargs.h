/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_HOST_BOOTARGS_H
#define SLICEVM_HOST_BOOTARGS_H

#include <stddef.h>
#include <stdio.h>

#include "host/plan.h"

/*
 * Kernel parameters that finish, from boot, the isolation apply does at run
 * time (what the kernel only decides at boot: the tick, RCU callbacks,
 * managed IRQs):
 *   isolcpus=managed_irq,domain,<slice CPUs> nohz_full=<slice CPUs>
 *   rcu_nocbs=<slice CPUs> irqaffinity=<housekeeping CPUs>
 */

/* The parameters on one line, no newline. Fails when @len is too small. */
int bootargs_format(const struct plan *plan, char *buf, size_t len);

/* The parameters with a comment on each, then the line itself. */
int bootargs_print(const struct plan *plan, FILE *out);

/*
 * Writes a drop-in for /etc/default/grub.d (atomically: a temporary file
 * renamed over @path) that appends the parameters to GRUB_CMDLINE_LINUX.
 */
int bootargs_write_grub_dropin(const struct plan *plan, const char *path);

#endif
