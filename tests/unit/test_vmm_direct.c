// SPDX-License-Identifier: GPL-2.0
/*
 * The direct timer's checks and their lines (vmm/direct.h): the slice's
 * CPUs against a FAKE /sys's nohz_full, the kernel component's version and
 * answer, and each errno of the per-vCPU enable. No KVM: fds that are not
 * KVM's fail the ioctls as a KVM without the feature would not, so those
 * paths are checked by their messages only.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "lib/err.h"
#include "vmm/config.h"
#include "vmm/direct.h"
#include "vmm/slice.h"

/* A fake /sys under test_dir whose nohz_full reads @text (NULL: no file). */
static const char *fake_sys(const char *name, const char *text)
{
	static char sys[512];
	char dir[600];

	snprintf(sys, sizeof(sys), "%s/%s", test_dir, name);
	snprintf(dir, sizeof(dir), "%s/devices", sys);
	assert_int_equal(mkdir(sys, 0755), 0);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/devices/system", sys);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/devices/system/cpu", sys);
	assert_int_equal(mkdir(dir, 0755), 0);
	if (text)
		test_put_file(dir, "nohz_full", text);
	return sys;
}

static struct cpumask mask(const char *list)
{
	struct cpumask m;

	assert_int_equal(cpumask_parse_list(list, &m), 0);
	return m;
}

static void nohz_full_read(void **state)
{
	struct cpumask m;
	char buf[64];

	slice_nohz_full(fake_sys("list", "2-5,8\n"), &m);
	assert_string_equal(cpumask_format_list(&m, buf, sizeof(buf)), "2-5,8");
	/* missing, empty, "(null)" (booted without nohz_full=), junk: none */
	slice_nohz_full(fake_sys("missing", NULL), &m);
	assert_true(cpumask_empty(&m));
	slice_nohz_full(fake_sys("empty", ""), &m);
	assert_true(cpumask_empty(&m));
	slice_nohz_full(fake_sys("newline", "\n"), &m);
	assert_true(cpumask_empty(&m));
	slice_nohz_full(fake_sys("null", "(null)\n"), &m);
	assert_true(cpumask_empty(&m));
	slice_nohz_full(fake_sys("junk", "2-x\n"), &m);
	assert_true(cpumask_empty(&m));
	slice_nohz_full("/nonexistent-sys-root", &m);
	assert_true(cpumask_empty(&m));
}

static void cpus_checked(void **state)
{
	const char *sys = fake_sys("cpus", "2-5\n");
	struct cpumask cpus = mask("2-3");

	assert_int_equal(direct_check_cpus(sys, VM_DIRECT_TIMER, &cpus, "db"), 0);
	cpus = mask("5");
	assert_int_equal(direct_check_cpus(sys, VM_DIRECT_TIMER, &cpus, "db"), 0);

	/* one CPU ticking: named, with the kernel's list and the fix */
	cpus = mask("5-6");
	err_clear();
	assert_int_equal(direct_check_cpus(sys, VM_DIRECT_TIMER, &cpus, "db"), -1);
	assert_string_equal(err_msg(),
			    "--direct timer: CPU 6 of slice db is not nohz_full (the host's tick needs its timer; the kernel's nohz_full: 2-5): boot with the nohz_full= of 'slicevm host bootargs'");
	cpus = mask("6-7,9");
	assert_int_equal(direct_check_cpus(sys, VM_DIRECT_TIMER, &cpus, "web"), -1);
	assert_string_equal(err_msg(),
			    "--direct timer: CPUs 6-7,9 of slice web are not nohz_full (the host's tick needs their timer; the kernel's nohz_full: 2-5): boot with the nohz_full= of 'slicevm host bootargs'");

	/* no nohz_full at all */
	sys = fake_sys("cpus-none", "(null)\n");
	cpus = mask("3");
	assert_int_equal(direct_check_cpus(sys, VM_DIRECT_TIMER, &cpus, "db"), -1);
	assert_string_equal(err_msg(),
			    "--direct timer: CPU 3 of slice db is not nohz_full (the host's tick needs its timer; the kernel's nohz_full: none): boot with the nohz_full= of 'slicevm host bootargs'");
	sys = fake_sys("cpus-missing", NULL);
	assert_int_equal(direct_check_cpus(sys, VM_DIRECT_TIMER, &cpus, "db"), -1);
	assert_non_null(strstr(err_msg(), "the kernel's nohz_full: none"));

	/* not asked: not checked */
	assert_int_equal(direct_check_cpus(sys, 0, &cpus, "db"), 0);
}

static void kvm_checked(void **state)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC), ns = -7;

	assert_true(fd >= 0);
	/* not asked: never refused, and no period without a v2 component */
	assert_int_equal(direct_check_kvm(0, 0, fd, &ns), 0);
	assert_int_equal(ns, 0);
	ns = -7;
	assert_int_equal(direct_check_kvm(0, 1, fd, &ns), 0);
	assert_int_equal(ns, 0);
	ns = -7;
	assert_int_equal(direct_check_kvm(0, 2, fd, &ns), 0);	/* the ioctl fails: 0 */
	assert_int_equal(ns, 0);

	assert_int_equal(direct_check_kvm(VM_DIRECT_TIMER, 0, fd, &ns), -1);
	assert_string_equal(err_msg(),
			    "--direct timer needs slicevm's kernel component v2 or newer, and this host's KVM is stock KVM: build it with 'make kernel' and load it (kernel/README.md)");
	assert_int_equal(direct_check_kvm(VM_DIRECT_TIMER, 1, fd, &ns), -1);
	assert_string_equal(err_msg(),
			    "--direct timer needs slicevm's kernel component v2 or newer, and this host's is v1: build the current one with 'make kernel' and load it (kernel/README.md)");
	/* v2 and v3 that answer 0 (here: a fd whose ioctl fails) */
	for (int v = 2; v <= 3; v++) {
		ns = -7;
		assert_int_equal(direct_check_kvm(VM_DIRECT_TIMER, v, fd, &ns), -1);
		assert_int_equal(ns, 0);
		assert_string_equal(err_msg(),
				    "--direct timer: this host's KVM cannot give the guest its CPU's timer (KVM_CAP_SLICEVM_TIMER is 0: the host's APIC is not in x2APIC mode, or AVIC or APICv is on: kvm_amd avic=0, kvm_intel enable_apicv=0): run without --direct timer");
	}
	close(fd);
}

static void enable_only_when_asked(void **state)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(direct_enable_vm(0, -1, 0), 0);
	assert_int_equal(direct_enable_vcpu(0, -1, 0, 3), 0);
	/* asked, on fds KVM_ENABLE_CAP fails on */
	assert_int_equal(direct_enable_vm(VM_DIRECT_TIMER, fd, 1), -1);
	assert_string_equal(err_msg(),
			    "--direct timer: KVM refused the guest's APIC bus period of 1 ns, the host's (KVM_CAP_X86_APIC_BUS_CYCLES_NS: Inappropriate ioctl for device): load the kernel component built for this kernel ('make kernel', kernel/README.md)");
	assert_int_equal(direct_enable_vcpu(VM_DIRECT_TIMER, fd, 1, 3), -1);
	assert_string_equal(err_msg(),
			    "vCPU 1: cannot turn the direct timer on for CPU 3 (KVM_CAP_SLICEVM_TIMER): Inappropriate ioctl for device");
	assert_int_equal(direct_enable_vcpu(VM_DIRECT_TIMER, -1, 0, 2), -1);
	assert_string_equal(err_msg(),
			    "vCPU 0: cannot turn the direct timer on for CPU 2 (KVM_CAP_SLICEVM_TIMER): Bad file descriptor");
	close(fd);
}

/* Each errno of the header's list has its own line, naming the vCPU, its CPU and the fix. */
static void enable_errors(void **state)
{
	static const struct {
		int err;
		const char *msg;
	} lines[] = {
		{ EINVAL, "vCPU 1: KVM refused the direct timer's arguments (EINVAL): this is a slicevm bug, please report it" },
		{ ENXIO, "vCPU 1: this host cannot give the direct timer on CPU 5 (ENXIO: the host's APIC is not in x2APIC mode, AVIC or APICv is on, or the vCPU has no in-kernel LAPIC): run without --direct timer" },
		{ EDOM, "vCPU 1: the VM's APIC bus period is not the host's APIC timer period (EDOM: APIC bus period mismatch): this is a slicevm bug, please report it" },
		{ EPERM, "vCPU 1: KVM refused the direct timer on CPU 5 (EPERM: the vCPU's thread is not pinned alone to a nohz_full CPU): boot with the nohz_full= of 'slicevm host bootargs'" },
		{ EBUSY, "vCPU 1: another vCPU has CPU 5's timer already (EBUSY: another VM runs there with the direct timer): stop that VM, or use another slice" },
		{ ENOMEM, "vCPU 1: cannot turn the direct timer on for CPU 5 (KVM_CAP_SLICEVM_TIMER): Cannot allocate memory" },
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		err_clear();
		assert_int_equal(direct_timer_refused(lines[i].err, 1, 5), -1);
		assert_string_equal(err_msg(), lines[i].msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nohz_full_read),
		cmocka_unit_test(cpus_checked),
		cmocka_unit_test(kvm_checked),
		cmocka_unit_test(enable_only_when_asked),
		cmocka_unit_test(enable_errors),
	};

	return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
