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
 * preempted (KVM_HINTS_REALTIME). @tsc_deadline says KVM emulates the
 * LAPIC timer's TSC-deadline mode (KVM_CAP_TSC_DEADLINE_TIMER), which KVM
 * leaves to the VMM to announce (CPUID.1:ECX[24]): the guest then arms its
 * timer with one MSR write of an absolute deadline instead of a count;
 * without it the bit is cleared. @direct holds the VM's direct features
 * (VM_DIRECT_*, vmm/direct.h): with VM_DIRECT_TIMER the guest's LAPIC
 * timer is its CPU's own, which passes through the one-shot mode of the
 * x2APIC only: no TSC-deadline mode whatever @tsc_deadline says, and x2APIC
 * shown (CPUID.1:ECX[21]). With VM_DIRECT_PMU the guest's performance
 * counters are its CPU's own core counters: on AMD PerfCtrExtCore shown
 * (CPUID 8000_0001h ECX[23]), PerfMonV2 (8000_0022h EAX[0]) not, which the
 * component does not pass through; on Intel leaf 0xA as KVM lists it,
 * without PDCM (CPUID.1:ECX[15]) or the debug store (EDX[21], ECX[2], [4]).
 * Pure: unit tested without KVM.
 */
void cpuid_for_vcpu(struct kvm_cpuid2 *cpuid, int index, int ncpus,
		    bool dedicated, bool tsc_deadline, unsigned int direct);

#endif
