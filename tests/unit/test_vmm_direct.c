// SPDX-License-Identifier: GPL-2.0
/*
 * The direct features' checks and their lines (vmm/direct.h): the slice's
 * CPUs against a FAKE /sys's nohz_full, the kernel component's version and
 * answers, and each errno of the per-vCPU enables. No KVM: fds that are not
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

/* The PMU needs nohz_full CPUs as the timer does; the line names what was asked. */
static void cpus_checked_pmu(void **state)
{
	const char *sys = fake_sys("cpus-pmu", "2-5\n");
	struct cpumask cpus = mask("2-5");

	assert_int_equal(direct_check_cpus(sys, VM_DIRECT_PMU, &cpus, "db"), 0);
	assert_int_equal(direct_check_cpus(sys, (VM_DIRECT_TIMER | VM_DIRECT_PMU), &cpus, "db"), 0);

	cpus = mask("1-2");
	err_clear();
	assert_int_equal(direct_check_cpus(sys, VM_DIRECT_PMU, &cpus, "db"), -1);
	assert_string_equal(err_msg(),
			    "--direct pmu: CPU 1 of slice db is not nohz_full (the host's NMI watchdog needs its performance counters; the kernel's nohz_full: 2-5): boot with the nohz_full= of 'slicevm host bootargs'");
	cpus = mask("0-1,7");
	assert_int_equal(direct_check_cpus(sys, VM_DIRECT_TIMER | VM_DIRECT_PMU, &cpus, "web"), -1);
	assert_string_equal(err_msg(),
			    "--direct timer,pmu: CPUs 0-1,7 of slice web are not nohz_full (the host's tick needs their timer and the host's NMI watchdog needs their performance counters; the kernel's nohz_full: 2-5): boot with the nohz_full= of 'slicevm host bootargs'");
	cpus = mask("7");
	assert_int_equal(direct_check_cpus(sys, (VM_DIRECT_TIMER | VM_DIRECT_PMU), &cpus, "web"), -1);
	assert_string_equal(err_msg(),
			    "--direct timer,pmu: CPU 7 of slice web is not nohz_full (the host's tick needs its timer and the host's NMI watchdog needs its performance counters; the kernel's nohz_full: 2-5): boot with the nohz_full= of 'slicevm host bootargs'");
	/* bits of no feature are not asked */
	assert_int_equal(direct_check_cpus(sys, ~VM_DIRECT_ALL, &cpus, "web"), 0);
}

/*
 * A fake /proc/irq entry N: a handler directory @handler (NULL: none) and
 * effective_affinity_list @eff (NULL: none, smp_affinity_list @aff then).
 */
static void fake_irq(const char *proc, const char *n, const char *handler, const char *eff,
		     const char *aff)
{
	char dir[600], sub[700];

	snprintf(dir, sizeof(dir), "%s/irq", proc);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/irq/%s", proc, n);
	assert_int_equal(mkdir(dir, 0755), 0);
	if (handler) {
		snprintf(sub, sizeof(sub), "%s/%s", dir, handler);
		assert_int_equal(mkdir(sub, 0755), 0);
	}
	if (eff)
		test_put_file(dir, "effective_affinity_list", eff);
	if (aff)
		test_put_file(dir, "smp_affinity_list", aff);
}

/* irq is refused while a device IRQ goes to a vCPU's CPU, with each named. */
static void irqs_checked(void **state)
{
	char proc[512], want[1024];
	struct cpumask cpus = mask("2-3");

	snprintf(proc, sizeof(proc), "%s/proc-irqs", test_dir);
	assert_int_equal(mkdir(proc, 0755), 0);
	fake_irq(proc, "0", "timer", "0\n", "0-7\n");
	fake_irq(proc, "9", "acpi", "1\n", NULL);
	fake_irq(proc, "24", NULL, "2\n", "2\n");	/* no handler: never fires */
	fake_irq(proc, "30", "nvme0q1", "0-1\n", "0-3\n");	/* effective, not asked for, counts */
	assert_int_equal(direct_check_irqs(proc, VM_DIRECT_TIMER | VM_DIRECT_IRQ, &cpus, "db"), 0);

	fake_irq(proc, "31", "nvme0q2", "3\n", "2-3\n");
	err_clear();
	assert_int_equal(direct_check_irqs(proc, VM_DIRECT_TIMER | VM_DIRECT_IRQ, &cpus, "db"), -1);
	snprintf(want, sizeof(want),
		 "--direct irq: host IRQ 31 (nvme0q2) is routed to a CPU of slice db (2-3), where the guest would take its interrupts: run 'slicevm host apply', which moves device IRQs off slices, or write housekeeping CPUs to %s/irq/N/smp_affinity_list",
		 proc);
	assert_string_equal(err_msg(), want);
	/* not asked, or the timer alone: not checked */
	assert_int_equal(direct_check_irqs(proc, VM_DIRECT_TIMER, &cpus, "db"), 0);
	assert_int_equal(direct_check_irqs(proc, 0, &cpus, "db"), 0);

	/* where the kernel shows no effective affinity, the affinity counts */
	fake_irq(proc, "40", "eth0", NULL, "2\n");
	for (int i = 41; i < 45; i++) {
		char n[8];

		snprintf(n, sizeof(n), "%d", i);
		fake_irq(proc, n, "virtio0", "3\n", NULL);
	}
	assert_int_equal(direct_check_irqs(proc, VM_DIRECT_TIMER | VM_DIRECT_IRQ, &cpus, "web"), -1);
	assert_non_null(strstr(err_msg(),
			       "host IRQs 31 (nvme0q2), 40 (eth0), 41 (virtio0), 42 (virtio0) and 2 more are routed to a CPU of slice web (2-3), where the guest would take their interrupts"));
	/* no /proc/irq (a container): nothing to refuse on */
	assert_int_equal(direct_check_irqs("/nonexistent-proc", VM_DIRECT_TIMER | VM_DIRECT_IRQ,
					   &cpus, "db"), 0);
}

static void kvm_checked(void **state)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct direct_kvm ans;

	assert_true(fd >= 0);
	/* not asked: never refused, and no answer without a component that has it */
	for (int v = 0; v <= 4; v++) {
		ans = (struct direct_kvm){ -7, -7, -7, -7 };
		assert_int_equal(direct_check_kvm(0, v, fd, &ans), 0);	/* the ioctls fail: 0 */
		assert_int_equal(ans.timer_ns, 0);
		assert_int_equal(ans.pmu_counters, 0);
	}

	assert_int_equal(direct_check_kvm(VM_DIRECT_TIMER, 0, fd, &ans), -1);
	assert_string_equal(err_msg(),
			    "--direct timer needs slicevm's kernel component v2 or newer, and this host's KVM is stock KVM: build it with 'make kernel' and load it (kernel/README.md)");
	assert_int_equal(direct_check_kvm(VM_DIRECT_TIMER, 1, fd, &ans), -1);
	assert_string_equal(err_msg(),
			    "--direct timer needs slicevm's kernel component v2 or newer, and this host's is v1: build the current one with 'make kernel' and load it (kernel/README.md)");
	/* v2 to v4 that answer 0 (here: a fd whose ioctl fails) */
	for (int v = 2; v <= 4; v++) {
		ans.timer_ns = -7;
		assert_int_equal(direct_check_kvm(VM_DIRECT_TIMER, v, fd, &ans), -1);
		assert_int_equal(ans.timer_ns, 0);
		assert_string_equal(err_msg(),
				    "--direct timer: this host's KVM cannot give the guest its CPU's timer (KVM_CAP_SLICEVM_TIMER is 0: the host's APIC is not in x2APIC mode, or AVIC or APICv is on: kvm_amd avic=0, kvm_intel enable_apicv=0): run without --direct timer");
	}
	close(fd);
}

/* The PMU: v3 or newer, naming each feature the component lacks. */
static void kvm_checked_pmu(void **state)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct direct_kvm ans;

	assert_true(fd >= 0);
	assert_int_equal(DIRECT_PMU_ABI, 3);
	assert_int_equal(direct_check_kvm(VM_DIRECT_PMU, 0, fd, &ans), -1);
	assert_string_equal(err_msg(),
			    "--direct pmu needs slicevm's kernel component v3 or newer, and this host's KVM is stock KVM: build it with 'make kernel' and load it (kernel/README.md)");
	assert_int_equal(direct_check_kvm((VM_DIRECT_TIMER | VM_DIRECT_PMU), 0, fd, &ans), -1);
	assert_string_equal(err_msg(),
			    "--direct timer,pmu needs slicevm's kernel component v3 or newer, and this host's KVM is stock KVM: build it with 'make kernel' and load it (kernel/README.md)");
	assert_int_equal(direct_check_kvm((VM_DIRECT_TIMER | VM_DIRECT_PMU), 1, fd, &ans), -1);
	assert_string_equal(err_msg(),
			    "--direct timer,pmu needs slicevm's kernel component v3 or newer, and this host's is v1: build the current one with 'make kernel' and load it (kernel/README.md)");
	/* v2 has the timer: only the PMU is named */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(direct_check_kvm(i ? (VM_DIRECT_TIMER | VM_DIRECT_PMU) : VM_DIRECT_PMU, 2, fd, &ans), -1);
		assert_string_equal(err_msg(),
				    "--direct pmu needs slicevm's kernel component v3 or newer, and this host's is v2: build the current one with 'make kernel' and load it (kernel/README.md)");
	}
	/* v3 and newer that answer 0: the PMU's line, or the timer's first */
	for (int v = 3; v <= 4; v++) {
		ans = (struct direct_kvm){ -7, -7, -7, -7 };
		assert_int_equal(direct_check_kvm(VM_DIRECT_PMU, v, fd, &ans), -1);
		assert_int_equal(ans.timer_ns, 0);
		assert_int_equal(ans.pmu_counters, 0);
		assert_string_equal(err_msg(),
				    "--direct pmu: this host's KVM cannot give the guest its CPU's performance counters (KVM_CAP_SLICEVM_PMU is 0: no AMD core performance counters (PerfCtrExtCore), or on Intel a component older than v6, a hybrid CPU, kvm_intel with enable_pmu=0, or no full-width counter writes): run without --direct pmu");
		assert_int_equal(direct_check_kvm((VM_DIRECT_TIMER | VM_DIRECT_PMU), v, fd, &ans), -1);
		assert_non_null(strstr(err_msg(), "--direct timer: this host's KVM cannot give the guest its CPU's timer"));
	}
	close(fd);
}

static void enable_only_when_asked(void **state)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	const struct direct_kvm ans = { .timer_ns = 1, .pmu_counters = 6 };

	assert_true(fd >= 0);
	assert_int_equal(direct_enable_vm(0, -1, &ans), 0);
	assert_int_equal(direct_enable_vcpu(0, -1, 0, 3), 0);
	assert_int_equal(direct_enable_vm(~VM_DIRECT_ALL, -1, &ans), 0);
	assert_int_equal(direct_enable_vcpu(~VM_DIRECT_ALL, -1, 0, 3), 0);
	/* asked, on fds KVM_ENABLE_CAP fails on */
	assert_int_equal(direct_enable_vm(VM_DIRECT_TIMER, fd, &ans), -1);
	assert_string_equal(err_msg(),
			    "--direct timer: KVM refused the guest's APIC bus period of 1 ns, the host's (KVM_CAP_X86_APIC_BUS_CYCLES_NS: Inappropriate ioctl for device): load the kernel component built for this kernel ('make kernel', kernel/README.md)");
	assert_int_equal(direct_enable_vcpu(VM_DIRECT_TIMER, fd, 1, 3), -1);
	assert_string_equal(err_msg(),
			    "vCPU 1: cannot turn the direct timer on for CPU 3 (KVM_CAP_SLICEVM_TIMER): Inappropriate ioctl for device");
	assert_int_equal(direct_enable_vcpu(VM_DIRECT_TIMER, -1, 0, 2), -1);
	assert_string_equal(err_msg(),
			    "vCPU 0: cannot turn the direct timer on for CPU 2 (KVM_CAP_SLICEVM_TIMER): Bad file descriptor");

	/* the PMU: KVM's own PMU off for the VM, then each vCPU's */
	assert_int_equal(direct_enable_vm(VM_DIRECT_PMU, fd, &ans), -1);
	assert_string_equal(err_msg(),
			    "--direct pmu: KVM refused to turn its own PMU emulation off for the VM (KVM_CAP_PMU_CAPABILITY: Inappropriate ioctl for device): this is a slicevm bug, please report it");
	assert_int_equal(direct_enable_vcpu(VM_DIRECT_PMU, fd, 1, 3), -1);
	assert_string_equal(err_msg(),
			    "vCPU 1: cannot turn the direct PMU on for CPU 3 (KVM_CAP_SLICEVM_PMU): Inappropriate ioctl for device");
	/* both: the timer's first */
	assert_int_equal(direct_enable_vm((VM_DIRECT_TIMER | VM_DIRECT_PMU), fd, &ans), -1);
	assert_non_null(strstr(err_msg(), "--direct timer: KVM refused the guest's APIC bus period of 1 ns"));
	assert_int_equal(direct_enable_vcpu((VM_DIRECT_TIMER | VM_DIRECT_PMU), fd, 2, 4), -1);
	assert_string_equal(err_msg(),
			    "vCPU 2: cannot turn the direct timer on for CPU 4 (KVM_CAP_SLICEVM_TIMER): Inappropriate ioctl for device");
	close(fd);
}

/* Each errno of the header's list has its own line, naming the vCPU, its CPU and the fix. */
static void enable_errors(void **state)
{
	static const struct {
		int err;
		const char *msg;
	} lines[] = {
		{ EINVAL, "vCPU 1: KVM refused the arguments of the direct timer (EINVAL): this is a slicevm bug, please report it" },
		{ ENXIO, "vCPU 1: this host cannot give the direct timer on CPU 5 (ENXIO: the host's APIC is not in x2APIC mode, AVIC or APICv is on, or the vCPU has no in-kernel LAPIC): run without --direct timer" },
		{ EDOM, "vCPU 1: the VM's APIC bus period is not the host's APIC timer period (EDOM: APIC bus period mismatch): this is a slicevm bug, please report it" },
		{ EPERM, "vCPU 1: KVM refused the direct timer on CPU 5 (EPERM: the vCPU's thread is not pinned alone to a nohz_full CPU): boot with the nohz_full= of 'slicevm host bootargs'" },
		{ EBUSY, "vCPU 1: another vCPU has CPU 5's timer already (EBUSY: another VM runs there with the direct timer): stop that VM, or use another slice" },
		{ ENOMEM, "vCPU 1: cannot turn the direct timer on for CPU 5 (KVM_CAP_SLICEVM_TIMER): Cannot allocate memory" },
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		err_clear();
		assert_int_equal(direct_refused(VM_DIRECT_TIMER, lines[i].err, 1, 5), -1);
		assert_string_equal(err_msg(), lines[i].msg);
	}
}

/* The PMU's: the header's list, EOPNOTSUPP in place of the timer's EDOM. */
static void enable_errors_pmu(void **state)
{
	static const struct {
		int err;
		const char *msg;
	} lines[] = {
		{ EINVAL, "vCPU 2: KVM refused the arguments of the direct PMU (EINVAL): this is a slicevm bug, please report it" },
		{ ENXIO, "vCPU 2: this host cannot give the direct PMU on CPU 7 (ENXIO: no AMD core performance counters (PerfCtrExtCore), no Intel PMU the component can give, or the vCPU has no in-kernel LAPIC): run without --direct pmu" },
		{ EOPNOTSUPP, "vCPU 2: KVM's own PMU is still on for the VM (EOPNOTSUPP: KVM_CAP_PMU_CAPABILITY did not turn it off): this is a slicevm bug, please report it" },
		{ EPERM, "vCPU 2: KVM refused the direct PMU on CPU 7 (EPERM: the vCPU's thread is not pinned alone to a nohz_full CPU): boot with the nohz_full= of 'slicevm host bootargs'" },
		{ EBUSY, "vCPU 2: another vCPU has CPU 7's performance counters already (EBUSY: another VM runs there with the direct PMU): stop that VM, or use another slice" },
		{ EDOM, "vCPU 2: cannot turn the direct PMU on for CPU 7 (KVM_CAP_SLICEVM_PMU): Numerical argument out of domain" },
		{ ENOMEM, "vCPU 2: cannot turn the direct PMU on for CPU 7 (KVM_CAP_SLICEVM_PMU): Cannot allocate memory" },
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		err_clear();
		assert_int_equal(direct_refused(VM_DIRECT_PMU, lines[i].err, 2, 7), -1);
		assert_string_equal(err_msg(), lines[i].msg);
	}
	/* the timer's EOPNOTSUPP is not the PMU's */
	assert_int_equal(direct_refused(VM_DIRECT_TIMER, EOPNOTSUPP, 2, 7), -1);
	assert_string_equal(err_msg(),
			    "vCPU 2: cannot turn the direct timer on for CPU 7 (KVM_CAP_SLICEVM_TIMER): Operation not supported");
	/* not one feature: a plain line */
	assert_int_equal(direct_refused((VM_DIRECT_TIMER | VM_DIRECT_PMU), EBUSY, 2, 7), -1);
	assert_string_equal(err_msg(), "vCPU 2: cannot turn direct feature 0x3 on for CPU 7: Device or resource busy");
	assert_int_equal(direct_refused(0, EBUSY, 2, 7), -1);
	assert_string_equal(err_msg(), "vCPU 2: cannot turn direct feature 0 on for CPU 7: Device or resource busy");
}

/* Direct interrupts: v4, after the timer; their own lines. */
static void irq_checked(void **state)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct direct_kvm ans = { -7, -7, -7, -7 };

	assert_true(fd >= 0);
	assert_int_equal(DIRECT_IRQ_ABI, 4);
	assert_int_equal(direct_check_kvm(VM_DIRECT_TIMER | VM_DIRECT_IRQ, 3, fd, &ans), -1);
	assert_string_equal(err_msg(),
			    "--direct irq needs slicevm's kernel component v4 or newer, and this host's is v3: build the current one with 'make kernel' and load it (kernel/README.md)");
	assert_int_equal(direct_check_kvm(VM_DIRECT_ALL & ~VM_DIRECT_IPI, 0, fd, &ans), -1);
	assert_string_equal(err_msg(),
			    "--direct timer,pmu,irq needs slicevm's kernel component v4 or newer, and this host's KVM is stock KVM: build it with 'make kernel' and load it (kernel/README.md)");
	assert_int_equal(direct_check_kvm(VM_DIRECT_IRQ, 4, fd, &ans), -1);
	assert_int_equal(ans.irq, 0);
	assert_string_equal(err_msg(),
			    "--direct irq: this host's KVM cannot give the guest its CPU's timer interrupts (KVM_CAP_SLICEVM_IRQ is 0: no direct timer here): run without --direct irq");

	/* enabled after the timer: the timer's refusal comes first */
	assert_int_equal(direct_enable_vcpu(VM_DIRECT_TIMER | VM_DIRECT_IRQ, fd, 0, 1), -1);
	assert_non_null(strstr(err_msg(), "(KVM_CAP_SLICEVM_TIMER)"));
	assert_int_equal(direct_enable_vcpu(VM_DIRECT_IRQ, fd, 0, 1), -1);
	assert_string_equal(err_msg(),
			    "vCPU 0: cannot turn direct interrupts on for CPU 1 (KVM_CAP_SLICEVM_IRQ): Inappropriate ioctl for device");

	/* the header's errnos */
	assert_int_equal(direct_refused(VM_DIRECT_IRQ, ENOENT, 0, 1), -1);
	assert_string_equal(err_msg(),
			    "vCPU 0: the vCPU did not have the direct timer when it asked for direct interrupts (ENOENT): this is a slicevm bug, please report it");
	assert_int_equal(direct_refused(VM_DIRECT_IRQ, ENXIO, 0, 1), -1);
	assert_string_equal(err_msg(),
			    "vCPU 0: this host cannot give direct interrupts on CPU 1 (ENXIO: no direct timer here): run without --direct irq");
	assert_int_equal(direct_refused(VM_DIRECT_IRQ, EINVAL, 0, 1), -1);
	assert_string_equal(err_msg(),
			    "vCPU 0: KVM refused the arguments of direct interrupts (EINVAL): this is a slicevm bug, please report it");
	assert_int_equal(direct_refused(VM_DIRECT_IRQ, EPERM, 0, 1), -1);
	assert_non_null(strstr(err_msg(), "KVM refused direct interrupts on CPU 1 (EPERM"));
	close(fd);
}

/* Direct IPIs: v5, after direct interrupts; their own lines. */
static void ipi_checked(void **state)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct direct_kvm ans = { -7, -7, -7, -7 };
	const unsigned int all3 = VM_DIRECT_TIMER | VM_DIRECT_IRQ | VM_DIRECT_IPI;

	assert_true(fd >= 0);
	assert_int_equal(DIRECT_IPI_ABI, 5);
	assert_int_equal(direct_check_kvm(all3, 4, fd, &ans), -1);
	assert_string_equal(err_msg(),
			    "--direct ipi needs slicevm's kernel component v5 or newer, and this host's is v4: build the current one with 'make kernel' and load it (kernel/README.md)");
	assert_int_equal(direct_check_kvm(all3, 3, fd, &ans), -1);
	assert_string_equal(err_msg(),
			    "--direct irq,ipi needs slicevm's kernel component v5 or newer, and this host's is v3: build the current one with 'make kernel' and load it (kernel/README.md)");
	/* the /dev/null fd answers nothing: the timer's line comes first */
	assert_int_equal(direct_check_kvm(VM_DIRECT_IPI, 5, fd, &ans), -1);
	assert_int_equal(ans.ipi, 0);
	assert_string_equal(err_msg(),
			    "--direct ipi: this host's KVM cannot give the guest its CPU's IPIs (KVM_CAP_SLICEVM_IPI is 0: no direct interrupts here): run without --direct ipi");
	assert_int_equal(direct_enable_vcpu(VM_DIRECT_IPI, fd, 1, 2), -1);
	assert_string_equal(err_msg(),
			    "vCPU 1: cannot turn direct IPIs on for CPU 2 (KVM_CAP_SLICEVM_IPI): Inappropriate ioctl for device");

	/* the header's errnos */
	assert_int_equal(direct_refused(VM_DIRECT_IPI, ENOENT, 0, 1), -1);
	assert_string_equal(err_msg(),
			    "vCPU 0: the vCPU did not have direct interrupts when it asked for direct IPIs (ENOENT): this is a slicevm bug, please report it");
	assert_int_equal(direct_refused(VM_DIRECT_IPI, ENXIO, 0, 1), -1);
	assert_string_equal(err_msg(),
			    "vCPU 0: this host cannot give direct IPIs on CPU 1 (ENXIO: no direct interrupts here): run without --direct ipi");
	assert_int_equal(direct_refused(VM_DIRECT_IPI, EINVAL, 0, 1), -1);
	assert_string_equal(err_msg(),
			    "vCPU 0: KVM refused the arguments of direct IPIs (EINVAL): this is a slicevm bug, please report it");
	assert_int_equal(direct_refused(VM_DIRECT_IPI, EPERM, 0, 1), -1);
	assert_non_null(strstr(err_msg(), "KVM refused direct IPIs on CPU 1 (EPERM"));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nohz_full_read),
		cmocka_unit_test(cpus_checked),
		cmocka_unit_test(cpus_checked_pmu),
		cmocka_unit_test(irqs_checked),
		cmocka_unit_test(kvm_checked),
		cmocka_unit_test(kvm_checked_pmu),
		cmocka_unit_test(enable_only_when_asked),
		cmocka_unit_test(enable_errors),
		cmocka_unit_test(enable_errors_pmu),
		cmocka_unit_test(irq_checked),
		cmocka_unit_test(ipi_checked),
	};

	return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
