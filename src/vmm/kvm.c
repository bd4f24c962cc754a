// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/err.h"
#include "slicevm_kvm.h"
#include "vmm/direct.h"
#include "vmm/kvm.h"

/* A nested, page-table-based KVM that emulates guest kernel code. */
#define KVM_PVM_MODULE	"/sys/module/kvm_pvm"

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "in-kernel irqchip" },
	{ KVM_CAP_PIT2, "in-kernel PIT" },
	{ KVM_CAP_USER_MEMORY, "user memory slots" },
	{ KVM_CAP_SET_TSS_ADDR, "TSS address" },
	{ KVM_CAP_EXT_CPUID, "KVM_GET_SUPPORTED_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "immediate exit" },
	{ KVM_CAP_MP_STATE, "MP state" },
};

const char *kvm_device_path(void)
{
	const char *path = getenv("SLICEVM_KVM_DEVICE");

	return path && *path ? path : "/dev/kvm";
}

static int open_device(void)
{
	const char *path = kvm_device_path();
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		return err_set("%s does not exist: load KVM (modprobe kvm_intel or kvm_amd) and enable virtualization in the firmware",
			       path);
	if (errno == EACCES || errno == EPERM)
		return err_set("%s: permission denied: run as root or join the group that owns %s (usually kvm)",
			       path, path);
	return err_set_errno("cannot open %s", path);
}

static struct kvm_cpuid2 *get_supported_cpuid(int fd)
{
	for (int n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *cpuid;

		cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
		if (!cpuid) {
			err_set("out of memory for KVM's CPUID list");
			return NULL;
		}
		cpuid->nent = n;
		if (!ioctl(fd, KVM_GET_SUPPORTED_CPUID, cpuid))
			return cpuid;
		free(cpuid);
		if (errno != E2BIG)
			break;
	}
	err_set_errno("KVM_GET_SUPPORTED_CPUID failed");
	return NULL;
}

static int check_caps(struct kvm_host *kvm)
{
	int ver = ioctl(kvm->fd, KVM_GET_API_VERSION, 0);

	if (ver != KVM_API_VERSION)
		return err_set("%s speaks KVM API %d; slicevm needs %d",
			       kvm_device_path(), ver, KVM_API_VERSION);
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++)
		if (ioctl(kvm->fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0)
			return err_set("this host's KVM lacks %s (capability %d): use a newer kernel",
				       required_caps[i].name, required_caps[i].cap);

	kvm->max_vcpus = ioctl(kvm->fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (kvm->max_vcpus <= 0)
		kvm->max_vcpus = ioctl(kvm->fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (kvm->max_vcpus <= 0)
		kvm->max_vcpus = 4;	/* what the API promises without the caps */
	kvm->disable_exits = ioctl(kvm->fd, KVM_CHECK_EXTENSION,
				   KVM_CAP_X86_DISABLE_EXITS);
	if (kvm->disable_exits < 0)
		kvm->disable_exits = 0;
	kvm->tsc_deadline = ioctl(kvm->fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	kvm->component = kvm_component_version(kvm->fd);
	kvm->vcpu_mmap_size = ioctl(kvm->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->vcpu_mmap_size <= 0)
		return err_set_errno("KVM_GET_VCPU_MMAP_SIZE failed");
	return 0;
}

int kvm_component_version(int fd)
{
	int version = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SLICEVM);

	return version > 0 ? version : 0;
}

/*
 * Stage by stage this says what the component adds; a version newer than
 * this slicevm knows is used only as far as this slicevm knows it.
 */
const char *kvm_component_summary(const struct kvm_component_use *use, char *buf, size_t len)
{
	char cpus[64], newer[80] = "";
	int n;

	if (use->version <= 0) {
		snprintf(buf, len,
			 "stock KVM (no kernel component): the guest's timer, IPIs and interrupts exit to KVM as usual");
		return buf;
	}
	if (use->version < DIRECT_TIMER_ABI) {
		snprintf(buf, len,
			 "kernel component v%d loaded: stage 1, nothing yet beyond stock KVM (the guest's timer, IPIs and interrupts still exit to KVM); v2 adds the direct timer ('make kernel', kernel/README.md)",
			 use->version);
		return buf;
	}
	if (use->version > SLICEVM_KVM_ABI_VERSION)
		snprintf(newer, sizeof(newer), " (newer than this slicevm knows: used as v%d)",
			 SLICEVM_KVM_ABI_VERSION);
	if (use->direct_timer) {
		n = use->cpus ? cpumask_count(use->cpus) : 0;
		if (use->cpus)
			cpumask_format_list(use->cpus, cpus, sizeof(cpus));
		if (n == 1)
			snprintf(buf, len,
				 "kernel component v%d%s: the guest's LAPIC timer on CPU %s's own timer (direct timer; APIC timer period %d ns); IPIs and interrupts still exit to KVM",
				 use->version, newer, cpus, use->timer_ns);
		else
			snprintf(buf, len,
				 "kernel component v%d%s: each vCPU's LAPIC timer on its CPU's own timer (CPUs %s; direct timer; APIC timer period %d ns); IPIs and interrupts still exit to KVM",
				 use->version, newer, n ? cpus : "none", use->timer_ns);
	} else if (use->timer_ns > 0) {
		snprintf(buf, len,
			 "kernel component v%d%s loaded: the direct timer is available (APIC timer period %d ns) but not asked for: give --direct timer for the guest's LAPIC timer without exits; its timer, IPIs and interrupts exit to KVM as usual",
			 use->version, newer, use->timer_ns);
	} else {
		snprintf(buf, len,
			 "kernel component v%d%s loaded, but this host cannot give the direct timer (the host's APIC is not in x2APIC mode, or AVIC or APICv is on): the guest's timer, IPIs and interrupts exit to KVM as usual",
			 use->version, newer);
	}
	return buf;
}

int kvm_host_open(struct kvm_host *kvm)
{
	memset(kvm, 0, sizeof(*kvm));
	kvm->fd = -1;

	if (!access(KVM_PVM_MODULE, F_OK))
		return err_set("this host's KVM is kvm_pvm, which emulates guest kernel code and cannot boot a stock Linux guest: boot it in the nested lab instead ('make boot')");
	kvm->fd = open_device();
	if (kvm->fd < 0)
		return -1;
	if (check_caps(kvm))
		goto fail;
	kvm->supported_cpuid = get_supported_cpuid(kvm->fd);
	if (!kvm->supported_cpuid)
		goto fail;
	return 0;
fail:
	kvm_host_close(kvm);
	return -1;
}

void kvm_host_close(struct kvm_host *kvm)
{
	if (kvm->fd >= 0)
		close(kvm->fd);
	free(kvm->supported_cpuid);
	kvm->fd = -1;
	kvm->supported_cpuid = NULL;
}
