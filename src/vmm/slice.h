/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_SLICE_H
#define SLICEVM_VMM_SLICE_H

#include "lib/cpumask.h"

struct vm;

/*
 * Running inside a slice: claim it in the host ledger, keep the VMM's own
 * threads on the housekeeping CPUs, pin vCPU i to the slice's i-th CPU and
 * bind guest memory to the slice's NUMA node. Without --slice these do
 * nothing.
 */
int slice_enter(struct vm *vm);
void slice_leave(struct vm *vm);

/*
 * Says what the claim had to do (take over a dead VM's claim) and what the
 * slice gets from this host's KVM (with or without slicevm's kernel
 * component), once the VM is about to run: a run that fails earlier prints
 * only its error.
 */
void slice_report(struct vm *vm);

/*
 * Called by vCPU @index's own thread: moves it into the slice's cgroup and
 * pins it to its CPU. Does nothing outside a slice.
 */
int slice_place_vcpu(struct vm *vm, int index);

/* The host CPU of vCPU @index: the slice's @index-th CPU; -1 outside a slice. */
int slice_vcpu_cpu(const struct vm *vm, int index);

/*
 * The host's tickless CPUs, from <@sys>/devices/system/cpu/nohz_full (@sys:
 * "/sys", or a fake tree in tests): none when the file is missing, empty
 * or "(null)" (a kernel booted without nohz_full=).
 */
void slice_nohz_full(const char *sys, struct cpumask *nohz);

#endif
