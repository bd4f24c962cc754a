/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_HOST_APPLY_H
#define SLICEVM_HOST_APPLY_H

#include <stdbool.h>
#include <stdio.h>

#include "host/hostfs.h"
#include "host/ledger.h"
#include "host/plan.h"
#include "host/topology.h"

/*
 * `slicevm host apply`: makes @plan real on the host @hp describes and
 * records it in @l. In order: the slices' PCI devices go to vfio-pci
 * (vfiobind.h), the unbound workqueue cpumask and the IRQ affinities are
 * narrowed to the housekeeping CPUs, then each slice gets its cpuset
 * partition (cpuset.h), then /proc/interrupts is snapshotted for status.
 * Every change is journaled first (journal.h); a failure half way undoes
 * what was done and leaves the ledger as it was. A device the host uses
 * (a mounted disk, the default route's network card) is refused unless
 * @force.
 *
 * Applying the plan that is already applied changes nothing (returns 0,
 * after checking the partitions still hold). A different plan is refused
 * until release. A ledger from an earlier boot is forgotten: the reboot
 * already reset what it recorded.
 */
/*
 * Opens the ledger at @path (NULL: the default) for host_apply(), creating
 * it only when @plan can be applied on @hp: an apply refused for cgroup v1,
 * an unreadable boot id or a plan that does not fit leaves no ledger file
 * (or directory) behind.
 */
int host_apply_open(struct ledger **l, const char *path, const struct host_paths *hp,
		    const struct plan *plan, bool force);

int host_apply(struct ledger *l, const struct host_paths *hp, const struct plan *plan,
	       bool force, FILE *out);

/*
 * `slicevm host release`: undoes everything apply recorded (newest first)
 * and forgets the plan. Refused while a live VM holds a slice, unless
 * @force; that check and marking the plan 'releasing' (claims are refused
 * from then on) are one ledger transaction. A release that stopped half
 * way is finished by running it again. Nothing applied is not an error. A cgroup that cannot be removed
 * yet (a forced release under a running VM) and the devices of a slice a
 * running VM holds stay in the ledger and the release fails; running it
 * again later finishes it.
 */
int host_release(struct ledger *l, const struct host_paths *hp, bool force, FILE *out);

/*
 * Resolves configuration file @config against topology @source (NULL: this
 * host) into @plan, as `slicevm host plan` does.
 */
int host_resolve_plan(const char *config, const char *source, struct plan *plan);

/*
 * For a plan resolved from @config on this host's topology @topo: gives its
 * reserved slices their physical ranges from /sys and /proc (physmem.h),
 * with the memory that memmap= already reserved counted back into its node
 * (@topo is changed). host_resolve_plan() does this when @source is NULL.
 */
int host_place_reserved(const char *config, struct topology *topo, struct plan *plan);

#endif
