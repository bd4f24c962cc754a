/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_DIRECT_H
#define SLICEVM_VMM_DIRECT_H

#include "lib/cpumask.h"

/*
 * Direct features (--direct, "direct"; VM_DIRECT_* in config.h): hardware
 * of a slice vCPU's own CPU that its guest uses without exits, through
 * slicevm's kernel component (the ABI: kernel/include/slicevm_kvm.h):
 *   timer  the guest's LAPIC timer on the physical one of the CPU its vCPU
 *          is pinned to (KVM_CAP_SLICEVM_TIMER, ABI version 2);
 *   pmu    the guest's performance counters on the physical core counters
 *          of that CPU (KVM_CAP_SLICEVM_PMU, ABI version 3; on Intel 6);
 *   irq    with timer: the timer's interrupts delivered to the guest and
 *          ended by it on the physical APIC without exits, the host's IPIs
 *          to the CPU sent as NMIs (KVM_CAP_SLICEVM_IRQ, ABI version 4);
 *   ipi    with irq: the IPIs between the VM's vCPUs taken by the receiving
 *          vCPU without an exit; the sender's ICR write still exits, and
 *          KVM checks the destination (KVM_CAP_SLICEVM_IPI, ABI version 5).
 *
 * Checked and turned on in this order; each refusal is one line with the
 * fix, before the guest runs (the vCPUs wait for each other at the start):
 *   direct_check_cpus()   slice_enter(): every vCPU's CPU is nohz_full;
 *   direct_check_irqs()   slice_enter(), for irq: no host device IRQ is
 *                         routed to a vCPU's CPU;
 *   direct_check_kvm()    once the VM exists: a component new enough for
 *                         each feature asked, and one that can on this host;
 *   direct_enable_vm()    before any vCPU: the timer's APIC bus period is
 *                         the host's APIC timer period; the PMU's: KVM's own
 *                         PMU emulation off for the VM;
 *   direct_enable_vcpu()  by each vCPU thread once pinned, before it
 *                         enters its sandbox.
 * Each does nothing for a VM without the features.
 */

/* The component's ABI versions that bring the direct features. */
#define DIRECT_TIMER_ABI	2
#define DIRECT_PMU_ABI		3
#define DIRECT_IRQ_ABI		4
#define DIRECT_IPI_ABI		5
#define DIRECT_DEV_ABI		7	/* direct interrupts take the devices' too */

/* What the VM's KVM answers for each direct feature (KVM_CHECK_EXTENSION). */
struct direct_kvm {
	int timer_ns;		/* KVM_CAP_SLICEVM_TIMER: the host's APIC timer period; 0: it cannot */
	int pmu_counters;	/* KVM_CAP_SLICEVM_PMU: SLICEVM_KVM_PMU_GP() and _FIXED() counters; 0: it cannot */
	int irq;		/* KVM_CAP_SLICEVM_IRQ: 1, or 0: it cannot */
	int ipi;		/* KVM_CAP_SLICEVM_IPI: 1, or 0: it cannot */
};

/*
 * How many direct features, in VM_DIRECT_* bit order, a component of ABI
 * @version brings (each feature's version is above the one before).
 */
int direct_features_of(int version);

/*
 * Refuses the features of @direct unless every CPU of @cpus (the vCPUs'
 * CPUs of slice @slice) is nohz_full (slice_nohz_full(@sys)): the host
 * needs the timer (its tick) and the counters (its NMI watchdog) of a CPU
 * that is not. The line names the features asked.
 */
int direct_check_cpus(const char *sys, unsigned int direct, const struct cpumask *cpus,
		      const char *slice);

/*
 * Refuses irq of @direct while a host device IRQ (under @proc/irq) is
 * routed to a CPU of @cpus: with interrupts not intercepted the guest
 * would take it through its own IDT, and the host could lose it. The line
 * names the IRQs and the fix.
 */
int direct_check_irqs(const char *proc, unsigned int direct, const struct cpumask *cpus,
		      const char *slice);

/*
 * What the KVM behind VM fd @vm_fd, whose component is version @component
 * (0: stock KVM), gives, into @kvm: each answer is 0 when the component is
 * too old for it or the host cannot. Refuses each feature of @direct when
 * the component is missing or older than the feature's version (naming
 * every feature it lacks), or when the host cannot give it.
 */
int direct_check_kvm(unsigned int direct, int component, int vm_fd, struct direct_kvm *kvm);

/*
 * Before any vCPU exists: for the timer, the VM's APIC bus period (the
 * guest's timer clock) set to the host's, @kvm->timer_ns
 * (KVM_CAP_X86_APIC_BUS_CYCLES_NS); for the PMU, KVM's own PMU emulation
 * turned off for the VM (KVM_CAP_PMU_CAPABILITY, KVM_PMU_CAP_DISABLE).
 */
int direct_enable_vm(unsigned int direct, int vm_fd, const struct direct_kvm *kvm);

/*
 * Called by vCPU @index's own thread once it is pinned alone to @cpu:
 * KVM_ENABLE_CAP of each feature's capability (KVM_CAP_SLICEVM_TIMER,
 * KVM_CAP_SLICEVM_PMU, KVM_CAP_SLICEVM_IRQ, which needs the timer's, then
 * KVM_CAP_SLICEVM_IPI, which needs the IRQ's) on its fd @vcpu_fd. A
 * refusal is reported as direct_refused() says.
 */
int direct_enable_vcpu(unsigned int direct, int vcpu_fd, int index, int cpu);

/*
 * err_set()s the line for KVM_ENABLE_CAP of direct feature @feature (one
 * VM_DIRECT_* bit) failing with errno @err on vCPU @index pinned to @cpu:
 * one line per errno of the ABI header's list; returns -1.
 */
int direct_refused(unsigned int feature, int err, int index, int cpu);

#endif
