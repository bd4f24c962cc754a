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

static void test_summary(void **state)
{
	char buf[200], small[24];
	const char *s;

	s = kvm_component_summary(0, buf, sizeof(buf));
	assert_ptr_equal(s, buf);
	assert_non_null(strstr(s, "stock KVM"));
	assert_non_null(strstr(s, "timer, IPIs and interrupts exit to KVM"));
	s = kvm_component_summary(-1, buf, sizeof(buf));
	assert_non_null(strstr(s, "stock KVM"));

	/* stage 1: loaded, and honest that it changes nothing yet */
	s = kvm_component_summary(1, buf, sizeof(buf));
	assert_non_null(strstr(s, "kernel component v1 loaded"));
	assert_non_null(strstr(s, "nothing yet beyond stock KVM"));

	s = kvm_component_summary(SLICEVM_KVM_ABI_VERSION + 1, buf, sizeof(buf));
	assert_non_null(strstr(s, "newer than this slicevm knows"));

	/* one line, cut rather than overrun */
	for (int v = -1; v <= SLICEVM_KVM_ABI_VERSION + 1; v++)
		assert_null(strchr(kvm_component_summary(v, buf, sizeof(buf)), '\n'));
	s = kvm_component_summary(1, small, sizeof(small));
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
