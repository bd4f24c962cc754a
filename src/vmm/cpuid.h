/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_CPUID_H
#define SLICEVM_VMM_CPUID_H

#include <linux/kvm.h>

#include <stdbool.h>

/*
 * Per-vCPU CPUID: KVM's supported CPUID with the APIC id and the topology
 * leaves filled in for vCPU @index of @ncpus (one thread per core, one
 * package), and the hypervisor bit set. @dedicated says each vCPU has a
 * host CPU of its own (a slice): the guest is told its vCPUs are never
 * preempted (KVM_HINTS_REALTIME). Pure: unit tested without KVM.
 */
void cpuid_for_vcpu(struct kvm_cpuid2 *cpuid, int index, int ncpus,
		    bool dedicated);

#endif
