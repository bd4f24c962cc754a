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

/*
 * 1 when (pid, start) names a process that is running now; 0 only when it
 * surely does not (no such process, a zombie, or another process has the
 * pid now); -1 when that cannot be told (/proc unreadable, hidepid, a
 * malformed stat file), with err_msg() saying why. Callers must not take
 * -1 for dead: a slice would be taken from a running VM.
 */
int procstat_alive(const char *proc_root, pid_t pid, uint64_t start);

/*
 * The PID namespace this process's pids are in (the inode of
 * PROC/self/ns/pid), or 0 when unknown. A pid recorded in another
 * namespace names a different process here, or none.
 */
uint64_t procstat_pidns(const char *proc_root);

/* The kernel's boot id (/proc/sys/kernel/random/boot_id) into @buf (37+ bytes). */
int procstat_boot_id(const char *proc_root, char *buf, size_t len);

#endif
