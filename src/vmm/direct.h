/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_DIRECT_H
#define SLICEVM_VMM_DIRECT_H

#include "lib/cpumask.h"

/*
 * Direct features (--direct, "direct"; VM_DIRECT_* in config.h): hardware
 * of a slice vCPU's own CPU that its guest uses without exits, through
 * slicevm's kernel component (the ABI: kernel/include/slicevm_kvm.h).
 * Today the timer: the guest's LAPIC timer on the physical one of the CPU
 * its vCPU is pinned to (KVM_CAP_SLICEVM_TIMER, ABI version 2).
 *
 * Checked and turned on in this order; each refusal is one line with the
 * fix, before the guest runs (the vCPUs wait for each other at the start):
 *   direct_check_cpus()   slice_enter(): every vCPU's CPU is nohz_full;
 *   direct_check_kvm()    once the VM exists: a component of version 2 or
 *                         newer, and one that can on this host;
 *   direct_enable_vm()    before any vCPU: the VM's APIC bus period is the
 *                         host's APIC timer period;
 *   direct_enable_vcpu()  by each vCPU thread once pinned, before it
 *                         enters its sandbox.
 * Each does nothing for a VM without the feature.
 */

/* The component's ABI version that brings the direct timer. */
#define DIRECT_TIMER_ABI	2

/*
 * Refuses @direct's timer unless every CPU of @cpus (the vCPUs' CPUs of
 * slice @slice) is nohz_full (slice_nohz_full(@sys)): the host's tick
 * needs the timer of a CPU that has it.
 */
int direct_check_cpus(const char *sys, unsigned int direct, const struct cpumask *cpus,
		      const char *slice);

/*
 * What the KVM behind VM fd @vm_fd, whose component is version @component
 * (0: stock KVM), gives: *@timer_ns is the host's APIC timer period when it
 * can give the direct timer (KVM_CHECK_EXTENSION of KVM_CAP_SLICEVM_TIMER),
 * else 0. Refuses @direct's timer when the component is missing or older
 * than DIRECT_TIMER_ABI, or the host cannot.
 */
int direct_check_kvm(unsigned int direct, int component, int vm_fd, int *timer_ns);

/*
 * Before any vCPU exists: the VM's APIC bus period (the guest's timer
 * clock) set to @timer_ns, the host's (KVM_CAP_X86_APIC_BUS_CYCLES_NS).
 */
int direct_enable_vm(unsigned int direct, int vm_fd, int timer_ns);

/*
 * Called by vCPU @index's own thread once it is pinned alone to @cpu:
 * KVM_CAP_SLICEVM_TIMER on its fd @vcpu_fd. A refusal is reported as
 * direct_timer_refused() says.
 */
int direct_enable_vcpu(unsigned int direct, int vcpu_fd, int index, int cpu);

/*
 * err_set()s the line for KVM_ENABLE_CAP(KVM_CAP_SLICEVM_TIMER) failing
 * with errno @err on vCPU @index pinned to @cpu; returns -1.
 */
int direct_timer_refused(int err, int index, int cpu);

#endif
