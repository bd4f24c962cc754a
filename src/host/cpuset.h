/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_HOST_CPUSET_H
#define SLICEVM_HOST_CPUSET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "host/hostfs.h"
#include "host/journal.h"
#include "host/plan.h"
#include "lib/cpumask.h"

/*
 * Slices as cgroup v2 cpuset partitions.
 *
 * Layout: one cgroup per slice directly under the cgroup root,
 * <root>/slicevm-<name>, of type "threaded", with cpuset.cpus = the slice's
 * CPUs, cpuset.mems = its node, cpuset.cpus.partition = isolated.
 *   - Directly under the root: a partition's parent must itself be a valid
 *     partition root, and the cgroup root always is. A shared parent
 *     (slicevm.slice/<name>) would have to be a partition too, holding every
 *     slice CPU, for no gain.
 *   - Threaded: once the partition exists, the root cgroup's CPUs shrink to
 *     the housekeeping CPUs, and a thread can only be given CPUs its cgroup
 *     has. A VMM puts its process in the root cgroup (the root may be both a
 *     threaded domain and the parent of ordinary cgroups) and only its vCPU
 *     threads in the slice's threaded cgroup: the vCPUs get the slice's
 *     CPUs, every other thread stays on housekeeping CPUs.
 */

#define CPUSET_DIR_PREFIX	"slicevm-"

/* <cgroup_root>/slicevm-<name>; NULL @cgroup_root means /sys/fs/cgroup. */
int cpuset_slice_dir(const char *cgroup_root, const char *name, char *buf, size_t len);

/* Fails with "apply needs cgroup v2 mounted at ..." unless it is there with cpuset. */
int cpuset_check_v2(const struct host_paths *hp);

/*
 * CPUs and memory nodes apply may hand out: the root cgroup's effective
 * sets (which exclude CPUs other partitions took), or the online ones.
 */
int cpuset_available(const struct host_paths *hp, struct cpumask *cpus,
		     struct cpumask *mems);

/* Fails, changing nothing, if @plan cannot be applied to this host as it is. */
int cpuset_validate(const struct host_paths *hp, const struct plan *plan);

/*
 * Creates every slice's partition through @j. An "isolated" partition the
 * kernel does not know is made a "root" partition, with a note; a partition
 * that reads back invalid fails (the caller undoes the journal).
 */
int cpuset_apply(struct journal *j, const struct plan *plan, struct notes *notes,
		 FILE *out);

/* cpuset.cpus.partition of slice @name into @buf ("isolated", "root invalid (...)"). */
int cpuset_partition(const struct host_paths *hp, const char *name, char *buf, size_t len);

/* True when @state (a cpuset.cpus.partition value) is a working partition. */
bool cpuset_partition_valid(const char *state);

/* ---- For the VMM (`slicevm run --slice`) --------------------------------- */

/*
 * Moves the calling process into the cgroup root, the threaded domain the
 * slice cgroups belong to; call before cpuset_attach_thread().
 */
int cpuset_enter_root(const char *cgroup_root);

/*
 * Moves thread @tid (gettid(); 0 = the calling thread) of a process in the
 * cgroup root into slice @name's cgroup, after which sched_setaffinity() can
 * give it the slice's CPUs.
 */
int cpuset_attach_thread(const char *cgroup_root, const char *name, pid_t tid);

#endif
