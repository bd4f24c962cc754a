/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_HOST_PROCSTAT_H
#define SLICEVM_HOST_PROCSTAT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A process is named by its pid AND its start time (field 22 of
 * /proc/PID/stat, clock ticks after boot): pids are reused, the pair is not.
 *
 * Returns 0 with *start set, 1 when there is no such live process (no
 * /proc/PID, or a zombie), -1 when the stat file cannot be parsed.
 * @proc_root is "/proc" on a real host.
 */
int procstat_start_time(const char *proc_root, pid_t pid, uint64_t *start);

/* True when (pid, start) names a process that is running now. */
bool procstat_alive(const char *proc_root, pid_t pid, uint64_t start);

/* The kernel's boot id (/proc/sys/kernel/random/boot_id) into @buf (37+ bytes). */
int procstat_boot_id(const char *proc_root, char *buf, size_t len);

#endif
