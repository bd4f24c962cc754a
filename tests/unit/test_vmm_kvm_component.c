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
#include "vmm/kvm.h"

static void test_abi_numbers(void **state)
{
	/* far from upstream's capabilities, inside the component's block */
	assert_int_equal(KVM_CAP_SLICEVM, 0x534c);
	assert_true(KVM_CAP_SLICEVM >= SLICEVM_KVM_CAP_FIRST);
	assert_true(KVM_CAP_SLICEVM <= SLICEVM_KVM_CAP_LAST);
	assert_true(SLICEVM_KVM_CAP_LAST - SLICEVM_KVM_CAP_FIRST == 15);
	assert_true(SLICEVM_KVM_ABI_VERSION >= 1);
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

static const char *summary(int version, int timer_ns, bool direct, const char *cpus,
			   char *buf, size_t len)
{
	struct cpumask m;
	struct kvm_component_use use = {
		.version = version,
		.timer_ns = timer_ns,
		.direct_timer = direct,
		.cpus = cpus ? &m : NULL,
	};

	if (cpus)
		assert_int_equal(cpumask_parse_list(cpus, &m), 0);
	return kvm_component_summary(&use, buf, len);
}

static void test_summary(void **state)
{
	char buf[400], small[24];
	const char *s;

	s = summary(0, 0, false, NULL, buf, sizeof(buf));
	assert_ptr_equal(s, buf);
	assert_string_equal(s, "stock KVM (no kernel component): the guest's timer, IPIs and interrupts exit to KVM as usual");
	assert_string_equal(summary(-1, 0, false, NULL, buf, sizeof(buf)), s);

	/* stage 1, an older component: honest that it changes nothing, and what v2 adds */
	assert_string_equal(summary(1, 0, false, "3", buf, sizeof(buf)),
			    "kernel component v1 loaded: stage 1, nothing yet beyond stock KVM (the guest's timer, IPIs and interrupts still exit to KVM); v2 adds the direct timer ('make kernel', kernel/README.md)");

	/* stage 2 with --direct timer: where the guest's timer is */
	assert_string_equal(summary(2, 1, true, "3", buf, sizeof(buf)),
			    "kernel component v2: the guest's LAPIC timer on CPU 3's own timer (direct timer; APIC timer period 1 ns); IPIs and interrupts still exit to KVM");
	assert_string_equal(summary(2, 10, true, "2-5", buf, sizeof(buf)),
			    "kernel component v2: each vCPU's LAPIC timer on its CPU's own timer (CPUs 2-5; direct timer; APIC timer period 10 ns); IPIs and interrupts still exit to KVM");
	/* without it: available, and how to ask; or not on this host */
	assert_string_equal(summary(2, 1, false, "3", buf, sizeof(buf)),
			    "kernel component v2 loaded: the direct timer is available (APIC timer period 1 ns) but not asked for: give --direct timer for the guest's LAPIC timer without exits; its timer, IPIs and interrupts exit to KVM as usual");
	assert_string_equal(summary(2, 0, false, "3", buf, sizeof(buf)),
			    "kernel component v2 loaded, but this host cannot give the direct timer (the host's APIC is not in x2APIC mode, or AVIC or APICv is on): the guest's timer, IPIs and interrupts exit to KVM as usual");

	/* newer than known: used as this slicevm's version */
	assert_int_equal(SLICEVM_KVM_ABI_VERSION, 2);
	assert_string_equal(summary(3, 1, true, "7", buf, sizeof(buf)),
			    "kernel component v3 (newer than this slicevm knows: used as v2): the guest's LAPIC timer on CPU 7's own timer (direct timer; APIC timer period 1 ns); IPIs and interrupts still exit to KVM");
	s = summary(3, 0, false, NULL, buf, sizeof(buf));
	assert_non_null(strstr(s, "kernel component v3 (newer than this slicevm knows: used as v2) loaded, but this host cannot"));

	/* one line, cut rather than overrun */
	for (int v = -1; v <= SLICEVM_KVM_ABI_VERSION + 1; v++)
		for (int d = 0; d <= 1; d++) {
			s = summary(v, v > 1 ? 4 : 0, d, "0-200", buf, sizeof(buf));
			assert_null(strchr(s, '\n'));
			assert_true(strlen(s) < 300);	/* slice_report's line */
		}
	s = summary(2, 1, true, "3", small, sizeof(small));
	assert_int_equal(strlen(s), sizeof(small) - 1);
	s = summary(1, 0, false, NULL, small, sizeof(small));
	assert_int_equal(strlen(s), sizeof(small) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abi_numbers),
		cmocka_unit_test(test_version_of_non_kvm_fds),
		cmocka_unit_test(test_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
