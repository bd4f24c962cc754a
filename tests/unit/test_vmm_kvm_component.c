// SPDX-License-Identifier: GPL-2.0
/*
 * slicevm's kernel component as the VMM sees it: the version asked of a
 * KVM fd (0 from anything that is not a KVM with the component: stock KVM
 * answers 0, other files fail the ioctl) and the one line a slice VM
 * prints about it. The ABI header is the one the kernel side includes.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "slicevm_kvm.h"
#include "vmm/config.h"
#include "vmm/kvm.h"

static void test_abi_numbers(void **state)
{
	/* far from upstream's capabilities, inside the component's block */
	assert_int_equal(KVM_CAP_SLICEVM, 0x534c);
	assert_true(KVM_CAP_SLICEVM >= SLICEVM_KVM_CAP_FIRST);
	assert_true(KVM_CAP_SLICEVM <= SLICEVM_KVM_CAP_LAST);
	assert_true(SLICEVM_KVM_CAP_LAST - SLICEVM_KVM_CAP_FIRST == 15);
	assert_true(SLICEVM_KVM_ABI_VERSION >= 1);
	assert_int_equal(KVM_CAP_SLICEVM_TIMER, 0x534d);
	assert_int_equal(KVM_CAP_SLICEVM_PMU, 0x534e);
	assert_true(KVM_CAP_SLICEVM_PMU <= SLICEVM_KVM_CAP_LAST);
	assert_int_equal(KVM_CAP_SLICEVM_IRQ, 0x534f);
	assert_int_equal(KVM_CAP_SLICEVM_IPI, 0x5350);
	assert_string_equal(SLICEVM_KVM_ABI_PARAM, "/sys/module/kvm/parameters/slicevm_abi");
}

static void test_version_of_non_kvm_fds(void **state)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC), p[2];

	assert_true(fd >= 0);
	assert_int_equal(kvm_component_version(fd), 0);
	close(fd);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(kvm_component_version(p[0]), 0);
	close(p[0]);
	close(p[1]);
	assert_int_equal(kvm_component_version(-1), 0);
}

/* The line for a component of @version; @direct the VM_DIRECT_* features on. */
static const char *summary(int version, int timer_ns, int counters, unsigned int direct,
			   const char *cpus, char *buf, size_t len)
{
	struct cpumask m;
	struct kvm_component_use use = {
		.version = version,
		.kvm = {
			.timer_ns = timer_ns,
			.pmu_counters = counters,
			.irq = timer_ns > 0,	/* as a v4 SVM host answers */
			.ipi = timer_ns > 0,	/* and a v5 one */
		},
		.direct = direct,
		.cpus = cpus ? &m : NULL,
	};

	if (cpus)
		assert_int_equal(cpumask_parse_list(cpus, &m), 0);
	return kvm_component_summary(&use, buf, len);
}

static void test_summary(void **state)
{
	char buf[768], small[24];
	const char *s;

	s = summary(0, 0, 0, 0, NULL, buf, sizeof(buf));
	assert_ptr_equal(s, buf);
	assert_string_equal(s, "stock KVM (no kernel component): the guest's timer, IPIs and interrupts exit to KVM as usual");
	assert_string_equal(summary(-1, 0, 0, 0, NULL, buf, sizeof(buf)), s);

	/* stage 1, an older component: honest that it changes nothing, and what v2 adds */
	assert_string_equal(summary(1, 0, 0, 0, "3", buf, sizeof(buf)),
			    "kernel component v1 loaded: stage 1, nothing yet beyond stock KVM (the guest's timer, IPIs and interrupts still exit to KVM); v2 adds the direct timer ('make kernel', kernel/README.md)");

	/* stage 2 with --direct timer: where the guest's timer is */
	assert_string_equal(summary(2, 1, 0, VM_DIRECT_TIMER, "3", buf, sizeof(buf)),
			    "kernel component v2: the guest's LAPIC timer on CPU 3's own timer (direct timer; APIC timer period 1 ns); IPIs and interrupts still exit to KVM");
	assert_string_equal(summary(2, 10, 0, VM_DIRECT_TIMER, "2-5", buf, sizeof(buf)),
			    "kernel component v2: each vCPU's LAPIC timer on its CPU's own timer (CPUs 2-5; direct timer; APIC timer period 10 ns); IPIs and interrupts still exit to KVM");
	/* without it: available, and how to ask; or not on this host */
	assert_string_equal(summary(2, 1, 0, 0, "3", buf, sizeof(buf)),
			    "kernel component v2 loaded: the direct timer is available (APIC timer period 1 ns) but not asked for: give --direct timer for the guest's LAPIC timer without exits; its timer, IPIs and interrupts exit to KVM as usual");
	assert_string_equal(summary(2, 0, 0, 0, "3", buf, sizeof(buf)),
			    "kernel component v2 loaded, but this host cannot give the direct timer (the host's APIC is not in x2APIC mode, or AVIC or APICv is on): the guest's timer, IPIs and interrupts exit to KVM as usual");
	/* v2 has no PMU to speak of, whatever is said of it */
	assert_string_equal(summary(2, 1, 6, VM_DIRECT_ALL, "3", buf, sizeof(buf)),
			    "kernel component v2: the guest's LAPIC timer on CPU 3's own timer (direct timer; APIC timer period 1 ns); IPIs and interrupts still exit to KVM");
	assert_null(strstr(summary(2, 0, 6, VM_DIRECT_PMU, "3", buf, sizeof(buf)), "PMU"));
	assert_null(strstr(summary(2, 1, 0, 0, "3", buf, sizeof(buf)), "PMU"));

	/* newer than known: used as this slicevm's version */
	assert_int_equal(SLICEVM_KVM_ABI_VERSION, 7);
	assert_string_equal(summary(8, 1, 6, VM_DIRECT_ALL, "7", buf, sizeof(buf)),
			    "kernel component v8 (newer than this slicevm knows: used as v7): the guest's LAPIC timer on CPU 7's own timer (direct timer; APIC timer period 1 ns) and its performance counters on CPU 7's own (direct pmu; 6 counters) and its timer and device interrupts on CPU 7's own APIC (direct irq; the host's IPIs there sent as NMIs) and its IPIs from its other vCPUs on CPU 7's own APIC (direct ipi; the sender's ICR write still exits)");
	s = summary(8, 0, 0, 0, NULL, buf, sizeof(buf));
	assert_non_null(strstr(s, "kernel component v8 (newer than this slicevm knows: used as v7) loaded, but this host cannot"));

	/* v6: Intel's counters, general-purpose and fixed */
	assert_non_null(strstr(summary(6, 1, 8 | 3 << 8, VM_DIRECT_PMU, "7", buf, sizeof(buf)),
			       "the guest's performance counters on CPU 7's own (direct pmu; 8 general-purpose and 3 fixed counters)"));

	/* one line, cut rather than overrun; slice_report's line holds any */
	for (int v = -1; v <= SLICEVM_KVM_ABI_VERSION + 1; v++)
		for (unsigned int d = 0; d <= VM_DIRECT_ALL; d++)
			for (int can = 0; can < 4; can++) {
				s = summary(v, can & 1 ? 40 : 0, can & 2 ? 6 : 0, d, "0-200",
					    buf, sizeof(buf));
				assert_null(strchr(s, '\n'));
				if (strlen(s) >= 736)	/* slice_report()'s line is 768 */
					fail_msg("%zu characters: %s", strlen(s), s);
			}
	s = summary(2, 1, 0, VM_DIRECT_TIMER, "3", small, sizeof(small));
	assert_int_equal(strlen(s), sizeof(small) - 1);
	s = summary(3, 1, 6, VM_DIRECT_ALL, "3", small, sizeof(small));
	assert_string_equal(s, "kernel component v3: th");
	s = summary(3, 0, 0, 0, "3", small, sizeof(small));
	assert_int_equal(strlen(s), sizeof(small) - 1);
	s = summary(1, 0, 0, 0, NULL, small, sizeof(small));
	assert_int_equal(strlen(s), sizeof(small) - 1);
}

/* v4: direct interrupts after the others, "are" for their plural title. */
static void test_summary_irq(void **state)
{
	char buf[512];

	assert_string_equal(summary(4, 1, 0, VM_DIRECT_TIMER | VM_DIRECT_IRQ, "1", buf, sizeof(buf)),
			    "kernel component v4: the guest's LAPIC timer on CPU 1's own timer (direct timer; APIC timer period 1 ns) and its timer interrupts on CPU 1's own APIC (direct irq; the host's IPIs there sent as NMIs); its IPIs and its devices' interrupts still exit to KVM; this host cannot give the direct PMU (no AMD core performance counters (PerfCtrExtCore), nor an Intel PMU the component can give)");
	assert_string_equal(summary(4, 1, 6, VM_DIRECT_TIMER | VM_DIRECT_PMU, "1", buf, sizeof(buf)),
			    "kernel component v4: the guest's LAPIC timer on CPU 1's own timer (direct timer; APIC timer period 1 ns) and its performance counters on CPU 1's own (direct pmu; 6 counters); IPIs and interrupts still exit to KVM; direct interrupts are available (the host's IPIs there sent as NMIs) but not asked for: give --direct irq for the guest's timer interrupts without exits");
	/* no direct timer here: no interrupts either */
	assert_string_equal(summary(4, 0, 0, 0, "1", buf, sizeof(buf)),
			    "kernel component v4 loaded, but this host cannot give the direct timer (the host's APIC is not in x2APIC mode, or AVIC or APICv is on) or the direct PMU (no AMD core performance counters (PerfCtrExtCore), nor an Intel PMU the component can give) or direct interrupts (no direct timer): the guest's timer, IPIs and interrupts exit to KVM as usual");
}

/* v5: IPIs with interrupts, on or available. */
static void test_summary_ipi(void **state)
{
	char buf[768];

	assert_string_equal(summary(5, 1, 0, VM_DIRECT_TIMER | VM_DIRECT_IRQ | VM_DIRECT_IPI, "1-2", buf, sizeof(buf)),
			    "kernel component v5: each vCPU's LAPIC timer on its CPU's own timer (CPUs 1-2; direct timer; APIC timer period 1 ns) and its timer interrupts on its CPU's own APIC (direct irq; the host's IPIs there sent as NMIs) and its IPIs from its other vCPUs on its CPU's own APIC (direct ipi; the sender's ICR write still exits); its devices' interrupts still exit to KVM; this host cannot give the direct PMU (no AMD core performance counters (PerfCtrExtCore), nor an Intel PMU the component can give)");
	assert_string_equal(summary(5, 1, 0, VM_DIRECT_TIMER | VM_DIRECT_IRQ, "1", buf, sizeof(buf)),
			    "kernel component v5: the guest's LAPIC timer on CPU 1's own timer (direct timer; APIC timer period 1 ns) and its timer interrupts on CPU 1's own APIC (direct irq; the host's IPIs there sent as NMIs); its IPIs and its devices' interrupts still exit to KVM; direct IPIs are available (the sender's ICR write still exits) but not asked for: give --direct ipi for the guest's IPIs from its other vCPUs without exits; this host cannot give the direct PMU (no AMD core performance counters (PerfCtrExtCore), nor an Intel PMU the component can give)");
}

/* v7: direct interrupts take the devices' interrupts too. */
static void test_summary_dev(void **state)
{
	char buf[768];

	assert_string_equal(summary(7, 1, 0, VM_DIRECT_TIMER | VM_DIRECT_IRQ, "1", buf, sizeof(buf)),
			    "kernel component v7: the guest's LAPIC timer on CPU 1's own timer (direct timer; APIC timer period 1 ns) and its timer and device interrupts on CPU 1's own APIC (direct irq; the host's IPIs there sent as NMIs); its IPIs still exit to KVM; direct IPIs are available (the sender's ICR write still exits) but not asked for: give --direct ipi for the guest's IPIs from its other vCPUs without exits; this host cannot give the direct PMU (no AMD core performance counters (PerfCtrExtCore), nor an Intel PMU the component can give)");
	assert_string_equal(summary(7, 1, 0, VM_DIRECT_TIMER, "1", buf, sizeof(buf)),
			    "kernel component v7: the guest's LAPIC timer on CPU 1's own timer (direct timer; APIC timer period 1 ns); IPIs and interrupts still exit to KVM; direct interrupts (the host's IPIs there sent as NMIs) and direct IPIs (the sender's ICR write still exits) are available but not asked for: give --direct irq,ipi for the guest's timer and device interrupts and IPIs from its other vCPUs without exits; this host cannot give the direct PMU (no AMD core performance counters (PerfCtrExtCore), nor an Intel PMU the component can give)");
}

/* v3: each feature on, available or not possible, in one line. */
static void test_summary_pmu(void **state)
{
	static const struct {
		int timer_ns, counters;
		unsigned int direct;
		const char *cpus, *line;
	} lines[] = {
		{ 1, 6, VM_DIRECT_ALL, "3",
		  "kernel component v3: the guest's LAPIC timer on CPU 3's own timer (direct timer; APIC timer period 1 ns) and its performance counters on CPU 3's own (direct pmu; 6 counters); IPIs and interrupts still exit to KVM" },
		{ 10, 6, VM_DIRECT_ALL, "2-5",
		  "kernel component v3: each vCPU's LAPIC timer on its CPU's own timer (CPUs 2-5; direct timer; APIC timer period 10 ns) and its performance counters on its CPU's own (direct pmu; 6 counters); IPIs and interrupts still exit to KVM" },
		{ 1, 6, VM_DIRECT_PMU, "3",
		  "kernel component v3: the guest's performance counters on CPU 3's own (direct pmu; 6 counters); its timer, IPIs and interrupts still exit to KVM; the direct timer is available (APIC timer period 1 ns) but not asked for: give --direct timer for the guest's LAPIC timer without exits" },
		{ 0, 6, VM_DIRECT_PMU, "2-5",
		  "kernel component v3: each vCPU's performance counters on its CPU's own (CPUs 2-5; direct pmu; 6 counters); its timer, IPIs and interrupts still exit to KVM; this host cannot give the direct timer (the host's APIC is not in x2APIC mode, or AVIC or APICv is on)" },
		{ 1, 6, VM_DIRECT_TIMER, "3",
		  "kernel component v3: the guest's LAPIC timer on CPU 3's own timer (direct timer; APIC timer period 1 ns); IPIs and interrupts still exit to KVM; the direct PMU is available (6 counters) but not asked for: give --direct pmu for the guest's performance counters without exits" },
		{ 1, 0, VM_DIRECT_TIMER, "3",
		  "kernel component v3: the guest's LAPIC timer on CPU 3's own timer (direct timer; APIC timer period 1 ns); IPIs and interrupts still exit to KVM; this host cannot give the direct PMU (no AMD core performance counters (PerfCtrExtCore), nor an Intel PMU the component can give)" },
		{ 1, 6, 0, "3",
		  "kernel component v3 loaded: the direct timer (APIC timer period 1 ns) and the direct PMU (6 counters) are available but not asked for: give --direct timer,pmu for the guest's LAPIC timer and performance counters without exits; its timer, IPIs and interrupts exit to KVM as usual" },
		{ 1, 0, 0, "3",
		  "kernel component v3 loaded: the direct timer is available (APIC timer period 1 ns) but not asked for: give --direct timer for the guest's LAPIC timer without exits; this host cannot give the direct PMU (no AMD core performance counters (PerfCtrExtCore), nor an Intel PMU the component can give); its timer, IPIs and interrupts exit to KVM as usual" },
		{ 0, 6, 0, "3",
		  "kernel component v3 loaded: the direct PMU is available (6 counters) but not asked for: give --direct pmu for the guest's performance counters without exits; this host cannot give the direct timer (the host's APIC is not in x2APIC mode, or AVIC or APICv is on); its timer, IPIs and interrupts exit to KVM as usual" },
		{ 0, 0, 0, "3",
		  "kernel component v3 loaded, but this host cannot give the direct timer (the host's APIC is not in x2APIC mode, or AVIC or APICv is on) or the direct PMU (no AMD core performance counters (PerfCtrExtCore), nor an Intel PMU the component can give): the guest's timer, IPIs and interrupts exit to KVM as usual" },
	};
	char buf[512];

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_string_equal(summary(3, lines[i].timer_ns, lines[i].counters, lines[i].direct,
					    lines[i].cpus, buf, sizeof(buf)), lines[i].line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abi_numbers),
		cmocka_unit_test(test_version_of_non_kvm_fds),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_summary_pmu),
		cmocka_unit_test(test_summary_irq),
		cmocka_unit_test(test_summary_ipi),
		cmocka_unit_test(test_summary_dev),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
