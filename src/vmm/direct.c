// SPDX-License-Identifier: GPL-2.0
/*
 * Direct features of a slice VM (see direct.h): the checks that refuse
 * them with one line each, and turning them on in KVM.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "host/irq.h"
#include "lib/err.h"
#include "lib/str.h"
#include "slicevm_kvm.h"
#include "vmm/config.h"
#include "vmm/direct.h"
#include "vmm/slice.h"

/* Linux 6.11's; older UAPI headers lack it. */
#ifndef KVM_CAP_X86_APIC_BUS_CYCLES_NS
#define KVM_CAP_X86_APIC_BUS_CYCLES_NS	237
#endif
_Static_assert(KVM_CAP_X86_APIC_BUS_CYCLES_NS == 237, "upstream's number");

/* Linux 5.18's; older UAPI headers lack them. */
#ifndef KVM_CAP_PMU_CAPABILITY
#define KVM_CAP_PMU_CAPABILITY		212
#endif
#ifndef KVM_PMU_CAP_DISABLE
#define KVM_PMU_CAP_DISABLE		(1 << 0)
#endif
_Static_assert(KVM_CAP_PMU_CAPABILITY == 212, "upstream's number");

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * What each direct feature takes and says: entry i is feature bit i
 * (VM_DIRECT_*), named config_direct_name(i).
 */
static const struct direct_feature {
	int abi;		/* the component's version that brings it */
	unsigned int cap;	/* asked of the VM, enabled on each vCPU */
	const char *cap_name;
	size_t answer;		/* where its answer goes in struct direct_kvm */
	const char *title;	/* "the direct timer" */
	const char *hw;		/* the CPU's hardware the guest gets: "timer" */
	const char *host_use;	/* what of the host needs @hw on a CPU not nohz_full */
	const char *cannot;	/* why KVM_CHECK_EXTENSION answers 0 */
	const char *enxio;	/* why the vCPU's enable fails with ENXIO */
	int bug_err;		/* an errno of the enable that only a slicevm bug causes, */
	const char *bug;	/* and what it means */
} features[] = {
	{	/* VM_DIRECT_TIMER */
		.abi = DIRECT_TIMER_ABI,
		.cap = KVM_CAP_SLICEVM_TIMER,
		.cap_name = "KVM_CAP_SLICEVM_TIMER",
		.answer = offsetof(struct direct_kvm, timer_ns),
		.title = "the direct timer",
		.hw = "timer",
		.host_use = "the host's tick",
		.cannot = "the host's APIC is not in x2APIC mode, or AVIC or APICv is on: kvm_amd avic=0, kvm_intel enable_apicv=0",
		.enxio = "the host's APIC is not in x2APIC mode, AVIC or APICv is on, or the vCPU has no in-kernel LAPIC",
		.bug_err = EDOM,
		.bug = "the VM's APIC bus period is not the host's APIC timer period (EDOM: APIC bus period mismatch)",
	},
	{	/* VM_DIRECT_PMU */
		.abi = DIRECT_PMU_ABI,
		.cap = KVM_CAP_SLICEVM_PMU,
		.cap_name = "KVM_CAP_SLICEVM_PMU",
		.answer = offsetof(struct direct_kvm, pmu_counters),
		.title = "the direct PMU",
		.hw = "performance counters",
		.host_use = "the host's NMI watchdog",
		.cannot = "no AMD core performance counters (PerfCtrExtCore), or on Intel a component older than v6, a hybrid CPU, kvm_intel with enable_pmu=0, or no full-width counter writes",
		.enxio = "no AMD core performance counters (PerfCtrExtCore), no Intel PMU the component can give, or the vCPU has no in-kernel LAPIC",
		.bug_err = EOPNOTSUPP,
		.bug = "KVM's own PMU is still on for the VM (EOPNOTSUPP: KVM_CAP_PMU_CAPABILITY did not turn it off)",
	},
	{	/* VM_DIRECT_IRQ */
		.abi = DIRECT_IRQ_ABI,
		.cap = KVM_CAP_SLICEVM_IRQ,
		.cap_name = "KVM_CAP_SLICEVM_IRQ",
		.answer = offsetof(struct direct_kvm, irq),
		.title = "direct interrupts",
		.hw = "timer interrupts",
		.host_use = "the host's interrupts",
		.cannot = "no direct timer here",
		.enxio = "no direct timer here",
		.bug_err = ENOENT,
		.bug = "the vCPU did not have the direct timer when it asked for direct interrupts (ENOENT)",
	},
	{	/* VM_DIRECT_IPI */
		.abi = DIRECT_IPI_ABI,
		.cap = KVM_CAP_SLICEVM_IPI,
		.cap_name = "KVM_CAP_SLICEVM_IPI",
		.answer = offsetof(struct direct_kvm, ipi),
		.title = "direct IPIs",
		.hw = "IPIs",
		.host_use = "the host's interrupts",
		.cannot = "no direct interrupts here",
		.enxio = "no direct interrupts here",
		.bug_err = ENOENT,
		.bug = "the vCPU did not have direct interrupts when it asked for direct IPIs (ENOENT)",
	},
};
_Static_assert(VM_DIRECT_ALL == (1U << ARRAY_SIZE(features)) - 1, "an entry for each VM_DIRECT_*");

int direct_features_of(int version)
{
	int n = 0;

	while ((size_t)n < ARRAY_SIZE(features) && features[n].abi <= version)
		n++;
	return n;
}

static int *answer_of(struct direct_kvm *kvm, const struct direct_feature *f)
{
	return (int *)((char *)kvm + f->answer);
}

int direct_check_cpus(const char *sys, unsigned int direct, const struct cpumask *cpus,
		      const char *slice)
{
	struct cpumask nohz, ticking;
	char names[64], list[64], have[64], why[200] = "";
	size_t used = 0;
	bool one;

	/* every feature needs it; irq and ipi come with the timer (config_finish()) */
	direct &= VM_DIRECT_ALL & ~(VM_DIRECT_IRQ | VM_DIRECT_IPI);
	if (!direct)
		return 0;
	slice_nohz_full(sys, &nohz);
	cpumask_andnot(&ticking, cpus, &nohz);
	if (cpumask_empty(&ticking))
		return 0;
	one = cpumask_count(&ticking) == 1;
	for (size_t i = 0; i < ARRAY_SIZE(features); i++)
		if (direct & (1U << i))
			str_append(why, sizeof(why), &used, "%s%s needs %s %s", used ? " and " : "",
				   features[i].host_use, one ? "its" : "their", features[i].hw);
	cpumask_format_list(&ticking, list, sizeof(list));
	cpumask_format_list(&nohz, have, sizeof(have));
	return err_set("--direct %s: CPU%s %s of slice %s %s not nohz_full (%s; the kernel's nohz_full: %s): boot with the nohz_full= of 'slicevm host bootargs'",
		       config_direct_list(direct, ",", names, sizeof(names)), one ? "" : "s",
		       list, slice, one ? "is" : "are", why, have[0] ? have : "none");
}

int direct_check_irqs(const char *proc, unsigned int direct, const struct cpumask *cpus,
		      const char *slice)
{
	char list[300], cpulist[64];
	int n;

	if (!(direct & VM_DIRECT_IRQ))
		return 0;
	n = irq_routed_to(proc, cpus, list, sizeof(list));
	if (!n)
		return 0;
	cpumask_format_list(cpus, cpulist, sizeof(cpulist));
	return err_set("--direct irq: host IRQ%s %s %s routed to a CPU of slice %s (%s), where the guest would take %s: run 'slicevm host apply', which moves device IRQs off slices, or write housekeeping CPUs to %s/irq/N/smp_affinity_list",
		       n > 1 ? "s" : "", list, n > 1 ? "are" : "is", slice, cpulist,
		       n > 1 ? "their interrupts" : "its interrupts", proc);
}

int direct_check_kvm(unsigned int direct, int component, int vm_fd, struct direct_kvm *kvm)
{
	unsigned int lacking = 0;
	char names[64];
	int need = 0;

	for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
		const struct direct_feature *f = &features[i];
		int n = component >= f->abi ? ioctl(vm_fd, KVM_CHECK_EXTENSION, f->cap) : 0;

		*answer_of(kvm, f) = n > 0 ? n : 0;
		if ((direct & (1U << i)) && component < f->abi) {
			lacking |= 1U << i;
			need = f->abi > need ? f->abi : need;
		}
	}
	config_direct_list(lacking, ",", names, sizeof(names));
	if (lacking && component <= 0)
		return err_set("--direct %s needs slicevm's kernel component v%d or newer, and this host's KVM is stock KVM: build it with 'make kernel' and load it (kernel/README.md)",
			       names, need);
	if (lacking)
		return err_set("--direct %s needs slicevm's kernel component v%d or newer, and this host's is v%d: build the current one with 'make kernel' and load it (kernel/README.md)",
			       names, need, component);
	for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
		const struct direct_feature *f = &features[i];
		const char *name = config_direct_name((int)i);

		if ((direct & (1U << i)) && !*answer_of(kvm, f))
			return err_set("--direct %s: this host's KVM cannot give the guest its CPU's %s (%s is 0: %s): run without --direct %s",
				       name, f->hw, f->cap_name, f->cannot, name);
	}
	return 0;
}

/* KVM_ENABLE_CAP of @cap with args[0] @arg on @fd: 0, or the errno. */
static int enable_cap(int fd, unsigned int cap, __u64 arg)
{
	struct kvm_enable_cap enable = { .cap = cap, .args = { arg } };

	return ioctl(fd, KVM_ENABLE_CAP, &enable) ? errno : 0;
}

int direct_enable_vm(unsigned int direct, int vm_fd, const struct direct_kvm *kvm)
{
	int err = 0;

	if (direct & VM_DIRECT_TIMER)
		err = enable_cap(vm_fd, KVM_CAP_X86_APIC_BUS_CYCLES_NS, (__u64)kvm->timer_ns);
	if (err)
		return err_set("--direct timer: KVM refused the guest's APIC bus period of %d ns, the host's (KVM_CAP_X86_APIC_BUS_CYCLES_NS: %s): load the kernel component built for this kernel ('make kernel', kernel/README.md)",
			       kvm->timer_ns, strerror(err));
	/* a KVM without a PMU for any VM (kvm.enable_pmu=0) answers 0: nothing to turn off */
	if ((direct & VM_DIRECT_PMU) && ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_PMU_CAPABILITY))
		err = enable_cap(vm_fd, KVM_CAP_PMU_CAPABILITY, KVM_PMU_CAP_DISABLE);
	if (err)
		return err_set("--direct pmu: KVM refused to turn its own PMU emulation off for the VM (KVM_CAP_PMU_CAPABILITY: %s): this is a slicevm bug, please report it",
			       strerror(err));
	return 0;
}

int direct_refused(unsigned int feature, int err, int index, int cpu)
{
	const struct direct_feature *f = NULL;
	const char *name = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(features); i++)
		if (feature == 1U << i) {
			f = &features[i];
			name = config_direct_name((int)i);
		}
	if (!f)
		return err_set("vCPU %d: cannot turn direct feature %#x on for CPU %d: %s",
			       index, feature, cpu, strerror(err));
	if (err == f->bug_err)
		return err_set("vCPU %d: %s: this is a slicevm bug, please report it", index, f->bug);
	switch (err) {
	case EINVAL:
		return err_set("vCPU %d: KVM refused the arguments of %s (EINVAL): this is a slicevm bug, please report it",
			       index, f->title);
	case ENXIO:
		return err_set("vCPU %d: this host cannot give %s on CPU %d (ENXIO: %s): run without --direct %s",
			       index, f->title, cpu, f->enxio, name);
	case EPERM:
		return err_set("vCPU %d: KVM refused %s on CPU %d (EPERM: the vCPU's thread is not pinned alone to a nohz_full CPU): boot with the nohz_full= of 'slicevm host bootargs'",
			       index, f->title, cpu);
	case EBUSY:
		return err_set("vCPU %d: another vCPU has CPU %d's %s already (EBUSY: another VM runs there with %s): stop that VM, or use another slice",
			       index, cpu, f->hw, f->title);
	default:
		return err_set("vCPU %d: cannot turn %s on for CPU %d (%s): %s",
			       index, f->title, cpu, f->cap_name, strerror(err));
	}
}

int direct_enable_vcpu(unsigned int direct, int vcpu_fd, int index, int cpu)
{
	for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
		int err;

		if (!(direct & (1U << i)))
			continue;
		err = enable_cap(vcpu_fd, features[i].cap, 0);
		if (err)
			return direct_refused(1U << i, err, index, cpu);
	}
	return 0;
}
