/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_CPUID_H
#define SLICEVM_VMM_CPUID_H

#include <linux/kvm.h>

/*
 * Per-vCPU CPUID: KVM's supported CPUID with the APIC id and the topology
 * leaves filled in for vCPU @index of @ncpus (one thread per core, one
 * package), and the hypervisor bit set. Pure: unit tested without KVM.
 */
void cpuid_for_vcpu(struct kvm_cpuid2 *cpuid, int index, int ncpus);

#endif
