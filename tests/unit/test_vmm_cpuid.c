// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/config.h"
#include "vmm/cpuid.h"

static struct kvm_cpuid2 *make_cpuid(void)
{
	static const struct { uint32_t fn, idx; } leaves[] = {
		{ 1, 0 }, { 4, 0 }, { 4, 1 }, { 0xB, 0 }, { 0xB, 1 }, { 0xB, 2 },
		{ 0x80000001, 0 }, { 0x80000008, 0 }, { 0x8000001E, 0 },
		{ 0x80000022, 0 }, { 0x40000001, 0 }, { 7, 0 }, { 7, 1 },
		{ 0xA, 0 },
	};
	const size_t n = sizeof(leaves) / sizeof(leaves[0]);
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

	c->nent = n;
	for (size_t i = 0; i < n; i++) {
		c->entries[i].function = leaves[i].fn;
		c->entries[i].index = leaves[i].idx;
		c->entries[i].ebx = 0xFFFFFFFF;
		c->entries[i].eax = leaves[i].fn == 4 ? 0x121 : 0;
	}
	c->entries[0].ebx = 0x00000800;	/* CLFLUSH line size 8 qwords */
	return c;
}

static struct kvm_cpuid_entry2 *leaf(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	fail_msg("leaf %#x.%u missing", fn, idx);
	return NULL;
}

static void apic_ids_and_topology(void **state)
{
	struct kvm_cpuid2 *c = make_cpuid();

	cpuid_for_vcpu(c, 3, 4, false, false, 0);
	assert_int_equal(leaf(c, 1, 0)->ebx >> 24, 3);
	assert_int_equal((leaf(c, 1, 0)->ebx >> 16) & 0xFF, 4);
	assert_int_equal(leaf(c, 1, 0)->ebx & 0xFFFF, 0x800);	/* kept */
	assert_true(leaf(c, 1, 0)->ecx & (1U << 31));		/* hypervisor */
	assert_true(leaf(c, 1, 0)->edx & (1U << 28));		/* HTT */
	assert_int_equal(leaf(c, 0xB, 0)->ebx, 1);
	assert_int_equal(leaf(c, 0xB, 0)->edx, 3);
	assert_int_equal(leaf(c, 0xB, 1)->eax, 2);		/* 4 CPUs: 2 bits */
	assert_int_equal(leaf(c, 0xB, 1)->ebx, 4);
	assert_int_equal((leaf(c, 0xB, 1)->ecx >> 8) & 0xFF, 2);
	assert_int_equal(leaf(c, 0xB, 2)->ebx, 0);		/* end of levels */
	assert_int_equal(leaf(c, 0xB, 2)->edx, 3);
	assert_int_equal(leaf(c, 4, 1)->eax >> 26, 3);
	assert_int_equal(leaf(c, 0x80000008, 0)->ecx & 0xFF, 3);
	assert_int_equal((leaf(c, 0x80000008, 0)->ecx >> 12) & 0xF, 2);
	assert_int_equal(leaf(c, 0x8000001E, 0)->eax, 3);
	assert_true(leaf(c, 0x80000001, 0)->ecx & 2);
	free(c);
}

static void single_cpu(void **state)
{
	struct kvm_cpuid2 *c = make_cpuid();

	c->entries[0].edx = 1U << 28;
	cpuid_for_vcpu(c, 0, 1, false, false, 0);
	assert_int_equal(leaf(c, 1, 0)->ebx >> 24, 0);
	assert_false(leaf(c, 1, 0)->edx & (1U << 28));
	assert_int_equal(leaf(c, 0xB, 1)->eax, 0);
	assert_int_equal(leaf(c, 0x80000008, 0)->ecx & 0xFF, 0);
	free(c);
}

static void realtime_hint_only_when_dedicated(void **state)
{
	struct kvm_cpuid2 *c = make_cpuid();

	leaf(c, 0x40000001, 0)->edx = 0;
	cpuid_for_vcpu(c, 0, 2, true, false, 0);
	assert_int_equal(leaf(c, 0x40000001, 0)->edx, 1);	/* KVM_HINTS_REALTIME */
	cpuid_for_vcpu(c, 0, 2, false, false, 0);
	assert_int_equal(leaf(c, 0x40000001, 0)->edx, 0);
	free(c);
}

/* TSC-deadline mode: announced only when KVM emulates it. */
static void tsc_deadline_when_kvm_has_it(void **state)
{
	struct kvm_cpuid2 *c = make_cpuid();

	cpuid_for_vcpu(c, 0, 1, false, false, 0);
	assert_false(leaf(c, 1, 0)->ecx & (1U << 24));
	cpuid_for_vcpu(c, 0, 1, false, true, 0);
	assert_true(leaf(c, 1, 0)->ecx & (1U << 24));
	assert_true(leaf(c, 1, 0)->ecx & (1U << 31));		/* the rest kept */
	free(c);
}

/*
 * The direct timer passes through the x2APIC's one-shot mode only: the
 * guest is shown no TSC-deadline mode even when KVM emulates it (or its
 * list had the bit), and x2APIC.
 */
static void direct_timer_no_tsc_deadline(void **state)
{
	struct kvm_cpuid2 *c = make_cpuid();

	leaf(c, 1, 0)->ecx = 1U << 24;			/* as if KVM's list had it */
	cpuid_for_vcpu(c, 0, 2, true, true, VM_DIRECT_TIMER);
	assert_int_equal(leaf(c, 1, 0)->ecx, (1U << 31) | (1U << 21));
	/* without the direct timer, the usual: TSC deadline as KVM says */
	cpuid_for_vcpu(c, 0, 2, true, true, 0);
	assert_true(leaf(c, 1, 0)->ecx & (1U << 24));
	cpuid_for_vcpu(c, 0, 2, true, false, 0);
	assert_false(leaf(c, 1, 0)->ecx & (1U << 24));
	assert_true(leaf(c, 1, 0)->ecx & (1U << 21));	/* x2APIC kept as it was */

	leaf(c, 1, 0)->ecx = 0;				/* a list without x2APIC */
	cpuid_for_vcpu(c, 0, 1, true, false, 0);
	assert_false(leaf(c, 1, 0)->ecx & (1U << 21));
	cpuid_for_vcpu(c, 0, 1, true, false, VM_DIRECT_TIMER);
	assert_true(leaf(c, 1, 0)->ecx & (1U << 21));
	assert_false(leaf(c, 1, 0)->ecx & (1U << 24));
	free(c);
}

/*
 * An idle Linux guest reads IA32_TSC_ADJUST once a second, an exit each:
 * the direct timer's guest is not shown it (leaf 7.0 EBX bit 1); others
 * are, and no other bit or subleaf changes.
 */
static void direct_timer_no_tsc_adjust(void **state)
{
	struct kvm_cpuid2 *c = make_cpuid();

	cpuid_for_vcpu(c, 0, 1, true, false, 0);
	assert_int_equal(leaf(c, 7, 0)->ebx, 0xFFFFFFFF);
	cpuid_for_vcpu(c, 0, 1, true, false, VM_DIRECT_TIMER | VM_DIRECT_IRQ);
	assert_int_equal(leaf(c, 7, 0)->ebx, 0xFFFFFFFD);
	assert_int_equal(leaf(c, 7, 1)->ebx, 0xFFFFFFFF);
	free(c);
}

/*
 * The direct PMU: the guest is shown AMD's six core counters
 * (PerfCtrExtCore) and not PerfMonV2, whose global control the component
 * does not pass through; the rest of both leaves is kept.
 */
static void direct_pmu_core_counters(void **state)
{
	struct kvm_cpuid2 *c = make_cpuid();

	leaf(c, 0x80000001, 0)->ecx = 0;
	leaf(c, 0x80000022, 0)->eax = 0x7;		/* PerfMonV2, LbrStackV2, LbrAndPmcFreeze */
	leaf(c, 0x80000022, 0)->ebx = 0x5106;		/* 6 core counters, ... */
	cpuid_for_vcpu(c, 0, 1, true, false, 0);
	assert_int_equal(leaf(c, 0x80000001, 0)->ecx, 0);
	assert_int_equal(leaf(c, 0x80000022, 0)->eax, 0x7);
	cpuid_for_vcpu(c, 0, 1, true, false, VM_DIRECT_TIMER);
	assert_int_equal(leaf(c, 0x80000001, 0)->ecx, 0);
	assert_int_equal(leaf(c, 0x80000022, 0)->eax, 0x7);

	leaf(c, 1, 0)->ecx = 0;
	cpuid_for_vcpu(c, 0, 1, true, false, VM_DIRECT_PMU);
	assert_int_equal(leaf(c, 0x80000001, 0)->ecx, 1U << 23);
	assert_int_equal(leaf(c, 0x80000022, 0)->eax, 0x6);
	assert_int_equal(leaf(c, 0x80000022, 0)->ebx, 0x5106);
	/* the timer's bits are not the PMU's business */
	assert_false(leaf(c, 1, 0)->ecx & (1U << 21));

	/* with the timer too, and more vCPUs: each leaf's other bits as before */
	leaf(c, 0x80000001, 0)->ecx = 0;
	leaf(c, 0x80000022, 0)->eax = 0x7;
	cpuid_for_vcpu(c, 1, 2, true, true, VM_DIRECT_TIMER | VM_DIRECT_PMU);
	assert_int_equal(leaf(c, 0x80000001, 0)->ecx, (1U << 23) | 2);
	assert_int_equal(leaf(c, 0x80000022, 0)->eax, 0x6);
	assert_int_equal(leaf(c, 1, 0)->ecx, (1U << 31) | (1U << 21));
	free(c);

	/* a table without leaf 8000_0022h: nothing to clear, nothing added */
	c = make_cpuid();
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0x80000022)
			c->entries[i] = c->entries[--c->nent];
	leaf(c, 0x80000001, 0)->ecx = 0;
	cpuid_for_vcpu(c, 0, 1, true, false, VM_DIRECT_PMU);
	assert_int_equal(leaf(c, 0x80000001, 0)->ecx, 1U << 23);
	for (uint32_t i = 0; i < c->nent; i++)
		assert_int_not_equal(c->entries[i].function, 0x80000022);
	free(c);
}

/*
 * The direct PMU on Intel: leaf 0xA as KVM lists it (the component gives
 * exactly those counters), and no IA32_PERF_CAPABILITIES (PDCM) or debug
 * store (DS, DTES64, DS-CPL), which would lead the guest to PEBS, LBR
 * formats and full-width writes that stay KVM's, off for the VM.
 */
static void direct_pmu_intel_architectural(void **state)
{
	const uint32_t pdcm = 1U << 15, dscpl = 1U << 4, dtes64 = 1U << 2, ds = 1U << 21;
	const uint32_t other_ecx = (1U << 0) | (1U << 9) | (1U << 26);	/* SSE3, SSSE3, XSAVE */
	const uint32_t other_edx = (1U << 0) | (1U << 25);		/* FPU, SSE */
	struct kvm_cpuid2 *c = make_cpuid();

	for (int pass = 0; pass < 2; pass++) {
		unsigned int direct = pass ? VM_DIRECT_PMU : VM_DIRECT_TIMER;

		leaf(c, 1, 0)->ecx = other_ecx | pdcm | dscpl | dtes64;
		leaf(c, 1, 0)->edx = other_edx | ds;
		leaf(c, 0xA, 0)->eax = 0x07300802;	/* v2, 8 counters of 48 bits */
		leaf(c, 0xA, 0)->edx = 0x8603;		/* 3 fixed of 48 bits */
		cpuid_for_vcpu(c, 0, 1, true, false, direct);
		if (pass) {
			assert_int_equal(leaf(c, 1, 0)->ecx & ~(1U << 31), other_ecx);
			assert_int_equal(leaf(c, 1, 0)->edx, other_edx);
		} else {	/* not the PMU's: kept (x2APIC is the timer's) */
			assert_int_equal(leaf(c, 1, 0)->ecx & ~((1U << 31) | (1U << 21)),
					 other_ecx | pdcm | dscpl | dtes64);
			assert_int_equal(leaf(c, 1, 0)->edx, other_edx | ds);
		}
		assert_int_equal(leaf(c, 0xA, 0)->eax, 0x07300802);
		assert_int_equal(leaf(c, 0xA, 0)->edx, 0x8603);
	}
	free(c);
}

/*
 * Direct interrupts: the guest's EOI must reach the physical APIC, so no
 * paravirtual EOI (KVM_FEATURE_PV_EOI, bit 6 of 4000_0001h EAX); the
 * other paravirtual features stay.
 */
static void direct_irq_no_pv_eoi(void **state)
{
	struct kvm_cpuid2 *c = make_cpuid();

	leaf(c, 0x40000001, 0)->eax = 0x1fff;
	cpuid_for_vcpu(c, 0, 1, true, false, VM_DIRECT_TIMER | VM_DIRECT_PMU);
	assert_int_equal(leaf(c, 0x40000001, 0)->eax, 0x1fff);
	cpuid_for_vcpu(c, 0, 1, true, false, VM_DIRECT_TIMER | VM_DIRECT_IRQ);
	assert_int_equal(leaf(c, 0x40000001, 0)->eax, 0x1fff & ~(1U << 6));
	assert_int_equal(leaf(c, 0x40000001, 0)->edx, 1);	/* the realtime hint kept */
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(apic_ids_and_topology),
		cmocka_unit_test(single_cpu),
		cmocka_unit_test(realtime_hint_only_when_dedicated),
		cmocka_unit_test(tsc_deadline_when_kvm_has_it),
		cmocka_unit_test(direct_timer_no_tsc_deadline),
		cmocka_unit_test(direct_timer_no_tsc_adjust),
		cmocka_unit_test(direct_pmu_core_counters),
		cmocka_unit_test(direct_pmu_intel_architectural),
		cmocka_unit_test(direct_irq_no_pv_eoi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
