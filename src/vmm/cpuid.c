// SPDX-License-Identifier: GPL-2.0
#include <stdint.h>

#include <asm/kvm_para.h>

#include "vmm/config.h"
#include "vmm/cpuid.h"

#define CPUID_1_ECX_HYPERVISOR	(1U << 31)
#define CPUID_1_ECX_TSC_DEADLINE (1U << 24)
#define CPUID_1_ECX_X2APIC	(1U << 21)
#define CPUID_1_ECX_PDCM	(1U << 15)	/* IA32_PERF_CAPABILITIES */
#define CPUID_1_ECX_DSCPL	(1U << 4)
#define CPUID_1_ECX_DTES64	(1U << 2)
#define CPUID_1_EDX_DS		(1U << 21)	/* the debug store: BTS, PEBS */
#define CPUID_1_EDX_HTT		(1U << 28)
#define CPUID_7_EBX_TSC_ADJUST	(1U << 1)
#define CPUID_EXT1_ECX_CMPLEGACY (1U << 1)
#define CPUID_EXT1_ECX_PERFCTR_CORE (1U << 23)	/* AMD: PerfCtrExtCore */
#define CPUID_EXT22_EAX_PERFMON_V2 (1U << 0)	/* AMD: PerfMonV2 */

/* x2APIC topology level types (leaf 0xB/0x1F ECX[15:8]). */
#define TOPO_LEVEL_SMT	1
#define TOPO_LEVEL_CORE	2

/* Bits of APIC id needed to number @n things. */
static uint32_t id_bits(int n)
{
	uint32_t bits = 0;

	while ((1 << bits) < n)
		bits++;
	return bits;
}

static void fill_ext_topology(struct kvm_cpuid_entry2 *e, int index, int ncpus)
{
	/* One thread per core: the SMT level is 1 wide, the core level holds all. */
	switch (e->index) {
	case 0:
		e->eax = 0;
		e->ebx = 1;
		e->ecx = TOPO_LEVEL_SMT << 8;
		break;
	case 1:
		e->eax = id_bits(ncpus);
		e->ebx = ncpus;
		e->ecx = (TOPO_LEVEL_CORE << 8) | 1;
		break;
	default:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = e->index;
		break;
	}
	e->edx = index;
}

void cpuid_for_vcpu(struct kvm_cpuid2 *cpuid, int index, int ncpus,
		    bool dedicated, bool tsc_deadline, unsigned int direct)
{
	bool direct_timer = direct & VM_DIRECT_TIMER;
	bool direct_pmu = direct & VM_DIRECT_PMU;

	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 1:
			/* APIC id, and how many logical CPUs share the package. */
			e->ebx = (e->ebx & 0xFFFF) | ((uint32_t)index << 24) |
				 ((uint32_t)(ncpus & 0xFF) << 16);
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			if (tsc_deadline && !direct_timer)
				e->ecx |= CPUID_1_ECX_TSC_DEADLINE;
			else
				e->ecx &= ~CPUID_1_ECX_TSC_DEADLINE;
			/* KVM's list has it (emulated everywhere); the direct timer needs it */
			if (direct_timer)
				e->ecx |= CPUID_1_ECX_X2APIC;
			if (ncpus > 1)
				e->edx |= CPUID_1_EDX_HTT;
			else
				e->edx &= ~CPUID_1_EDX_HTT;
			/*
			 * Intel's direct PMU is the architectural one of leaf
			 * 0xA, as KVM lists it: no IA32_PERF_CAPABILITIES
			 * (full-width writes, PEBS and LBR formats) and no
			 * debug store (BTS, PEBS), which stay KVM's, off for
			 * the VM. AMD has none of these bits.
			 */
			if (direct_pmu) {
				e->ecx &= ~(CPUID_1_ECX_PDCM | CPUID_1_ECX_DSCPL | CPUID_1_ECX_DTES64);
				e->edx &= ~CPUID_1_EDX_DS;
			}
			break;
		case 4:
			/* Intel: cores per package - 1 in EAX[31:26], 6 bits. */
			if (e->eax & 0x1F)
				e->eax = (e->eax & 0x3FFFFFF) |
					 ((uint32_t)(ncpus > 64 ? 63 : ncpus - 1) << 26);
			break;
		case 7:
			/*
			 * Linux reads IA32_TSC_ADJUST once a second when it
			 * idles, to catch firmware moving the TSC. KVM emulates
			 * it, so each read is an exit: the one an idle vCPU with
			 * the direct timer still paid every second. Its TSC is
			 * KVM's to keep anyway.
			 */
			if (e->index == 0 && direct_timer)
				e->ebx &= ~CPUID_7_EBX_TSC_ADJUST;
			break;
		case 0xB:
		case 0x1F:
			fill_ext_topology(e, index, ncpus);
			break;
		case 0x80000001:
			if (ncpus > 1)
				e->ecx |= CPUID_EXT1_ECX_CMPLEGACY;
			/* the six core counters, as the CPU has them (the direct PMU) */
			if (direct_pmu)
				e->ecx |= CPUID_EXT1_ECX_PERFCTR_CORE;
			break;
		case 0x80000022:
			/* PerfMonV2's global control is not passed through */
			if (direct_pmu)
				e->eax &= ~CPUID_EXT22_EAX_PERFMON_V2;
			break;
		case 0x80000008:
			/* AMD: cores per package - 1, and the APIC id bits they use. */
			e->ecx = (e->ecx & ~0xF0FFU) | (id_bits(ncpus) << 12) |
				 (uint32_t)(ncpus - 1);
			break;
		case KVM_CPUID_FEATURES:
			/*
			 * Never preempted: the guest drops paravirtual
			 * spinlocks and polls in idle instead of yielding.
			 */
			if (dedicated)
				e->edx |= 1U << KVM_HINTS_REALTIME;
			else
				e->edx &= ~(1U << KVM_HINTS_REALTIME);
			/*
			 * With direct interrupts the guest ends its timer's on
			 * the physical APIC: a paravirtual EOI (a flag in guest
			 * memory instead of the EOI write) would skip that, so
			 * the kernel component gives them only without it.
			 */
			if (direct & VM_DIRECT_IRQ)
				e->eax &= ~(1U << KVM_FEATURE_PV_EOI);
			break;
		case 0x8000001E:
			/* AMD: extended APIC id, core id, one thread per core, node 0. */
			e->eax = index;
			e->ebx = index & 0xFF;
			e->ecx = 0;
			break;
		}
	}
}
