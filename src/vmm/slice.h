/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_SLICE_H
#define SLICEVM_VMM_SLICE_H

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

#endif
