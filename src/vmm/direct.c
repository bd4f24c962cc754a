// SPDX-License-Identifier: GPL-2.0
/*
 * Direct features of a slice VM (see direct.h): the checks that refuse
 * them with one line each, and turning them on in KVM.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "lib/err.h"
#include "slicevm_kvm.h"
#include "vmm/config.h"
#include "vmm/direct.h"
#include "vmm/slice.h"

/* Linux 6.11's; older UAPI headers lack it. */
#ifndef KVM_CAP_X86_APIC_BUS_CYCLES_NS
#define KVM_CAP_X86_APIC_BUS_CYCLES_NS	237
#endif
_Static_assert(KVM_CAP_X86_APIC_BUS_CYCLES_NS == 237, "upstream's number");

int direct_check_cpus(const char *sys, unsigned int direct, const struct cpumask *cpus,
		      const char *slice)
{
	struct cpumask nohz, ticking;
	char list[64], have[64];
	bool one;

	if (!(direct & VM_DIRECT_TIMER))
		return 0;
	slice_nohz_full(sys, &nohz);
	cpumask_andnot(&ticking, cpus, &nohz);
	if (cpumask_empty(&ticking))
		return 0;
	one = cpumask_count(&ticking) == 1;
	cpumask_format_list(&ticking, list, sizeof(list));
	cpumask_format_list(&nohz, have, sizeof(have));
	return err_set("--direct timer: CPU%s %s of slice %s %s not nohz_full (the host's tick needs %s timer; the kernel's nohz_full: %s): boot with the nohz_full= of 'slicevm host bootargs'",
		       one ? "" : "s", list, slice, one ? "is" : "are", one ? "its" : "their",
		       have[0] ? have : "none");
}

int direct_check_kvm(unsigned int direct, int component, int vm_fd, int *timer_ns)
{
	int ns = component >= DIRECT_TIMER_ABI ?
		 ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SLICEVM_TIMER) : 0;

	*timer_ns = ns > 0 ? ns : 0;
	if (!(direct & VM_DIRECT_TIMER))
		return 0;
	if (component <= 0)
		return err_set("--direct timer needs slicevm's kernel component v%d or newer, and this host's KVM is stock KVM: build it with 'make kernel' and load it (kernel/README.md)",
			       DIRECT_TIMER_ABI);
	if (component < DIRECT_TIMER_ABI)
		return err_set("--direct timer needs slicevm's kernel component v%d or newer, and this host's is v%d: build the current one with 'make kernel' and load it (kernel/README.md)",
			       DIRECT_TIMER_ABI, component);
	if (!*timer_ns)
		return err_set("--direct timer: this host's KVM cannot give the guest its CPU's timer (KVM_CAP_SLICEVM_TIMER is 0: the host's APIC is not in x2APIC mode, or AVIC or APICv is on: kvm_amd avic=0, kvm_intel enable_apicv=0): run without --direct timer");
	return 0;
}

int direct_enable_vm(unsigned int direct, int vm_fd, int timer_ns)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_APIC_BUS_CYCLES_NS,
		.args = { (__u64)timer_ns },
	};

	if (!(direct & VM_DIRECT_TIMER))
		return 0;
	if (ioctl(vm_fd, KVM_ENABLE_CAP, &cap))
		return err_set("--direct timer: KVM refused the guest's APIC bus period of %d ns, the host's (KVM_CAP_X86_APIC_BUS_CYCLES_NS: %s): load the kernel component built for this kernel ('make kernel', kernel/README.md)",
			       timer_ns, strerror(errno));
	return 0;
}

int direct_timer_refused(int err, int index, int cpu)
{
	switch (err) {
	case EINVAL:
		return err_set("vCPU %d: KVM refused the direct timer's arguments (EINVAL): this is a slicevm bug, please report it",
			       index);
	case ENXIO:
		return err_set("vCPU %d: this host cannot give the direct timer on CPU %d (ENXIO: the host's APIC is not in x2APIC mode, AVIC or APICv is on, or the vCPU has no in-kernel LAPIC): run without --direct timer",
			       index, cpu);
	case EDOM:
		return err_set("vCPU %d: the VM's APIC bus period is not the host's APIC timer period (EDOM: APIC bus period mismatch): this is a slicevm bug, please report it",
			       index);
	case EPERM:
		return err_set("vCPU %d: KVM refused the direct timer on CPU %d (EPERM: the vCPU's thread is not pinned alone to a nohz_full CPU): boot with the nohz_full= of 'slicevm host bootargs'",
			       index, cpu);
	case EBUSY:
		return err_set("vCPU %d: another vCPU has CPU %d's timer already (EBUSY: another VM runs there with the direct timer): stop that VM, or use another slice",
			       index, cpu);
	default:
		return err_set("vCPU %d: cannot turn the direct timer on for CPU %d (KVM_CAP_SLICEVM_TIMER): %s",
			       index, cpu, strerror(err));
	}
}

int direct_enable_vcpu(unsigned int direct, int vcpu_fd, int index, int cpu)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SLICEVM_TIMER };

	if (!(direct & VM_DIRECT_TIMER))
		return 0;
	if (ioctl(vcpu_fd, KVM_ENABLE_CAP, &cap))
		return direct_timer_refused(errno, index, cpu);
	return 0;
}
