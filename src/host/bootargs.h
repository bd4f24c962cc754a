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
 * and what makes slice memory the slice's:
 *   memmap=<SIZE>$<START> per reserved slice ("reserve_as": "pmem": '!'
 *   for '$'), hugepagesz=1G|2M hugepages=<node>:<count>,... per page size of
 *   the hugetlb slices (Linux 5.16+ takes per-node counts).
 * A reserved slice must have its range (phys_start) chosen already.
 */

/* The parameters on one line, no newline. Fails when @len is too small. */
int bootargs_format(const struct plan *plan, char *buf, size_t len);

/* The parameters with a comment on each, then the line itself. */
int bootargs_print(const struct plan *plan, FILE *out);

/*
 * Writes a drop-in for /etc/default/grub.d (atomically: a temporary file
 * renamed over @path) that appends the parameters to GRUB_CMDLINE_LINUX.
 * Each '$' is written "\\\$" there: the shell that sources the drop-in
 * leaves "\$" in the value, grub-mkconfig copies it into grub.cfg as is, and
 * GRUB's parser turns it into the '$' the kernel must see.
 */
int bootargs_write_grub_dropin(const struct plan *plan, const char *path);

#endif
