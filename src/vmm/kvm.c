// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "host/check.h"
#include "lib/err.h"
#include "lib/str.h"
#include "slicevm_kvm.h"
#include "vmm/config.h"
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

/* A direct feature as the slice's line tells it: entry i is VM_DIRECT_* bit i. */
struct told {
	const char *title;	/* "the direct timer" */
	const char *hw;		/* what of the guest's it is: "LAPIC timer" */
	const char *own;	/* what of its CPU's: "own timer" */
	const char *cannot;	/* why this host cannot give it */
	char detail[48];	/* what KVM answered: "APIC timer period 1 ns" */
	bool plural;		/* @title is ("direct interrupts are") */
	bool on;		/* asked for (and so checked) */
	bool can;		/* KVM_CHECK_EXTENSION answered non-zero */
};

/* "the direct timer (@detail or @cannot)@sep..." for the features of @mask. */
static void tell_list(char *buf, size_t len, size_t *used, const struct told *f, int nf,
		      unsigned int mask, const char *sep, bool cannot)
{
	const char *next = "";

	for (int i = 0; i < nf; i++) {
		if (!(mask & (1U << i)))
			continue;
		str_append(buf, len, used, "%s%s (%s)", next, f[i].title,
			   cannot ? f[i].cannot : f[i].detail);
		next = sep;
	}
}

/* The features of @mask are available: how to ask for them. */
static void tell_available(char *buf, size_t len, size_t *used, const struct told *f, int nf,
			   unsigned int mask)
{
	const char *next = "";
	char names[64];

	if (__builtin_popcount(mask) == 1) {
		int i = __builtin_ctz(mask);

		str_append(buf, len, used, "%s %s available (%s)", f[i].title,
			   f[i].plural ? "are" : "is", f[i].detail);
	} else {
		tell_list(buf, len, used, f, nf, mask, " and ", false);
		str_append(buf, len, used, " are available");
	}
	str_append(buf, len, used, " but not asked for: give --direct %s for the guest's ",
		   config_direct_list(mask, ",", names, sizeof(names)));
	for (int i = 0; i < nf; i++)
		if (mask & (1U << i)) {
			str_append(buf, len, used, "%s%s", next, f[i].hw);
			next = " and ";
		}
	str_append(buf, len, used, " without exits");
}

/*
 * Stage by stage this says what the component adds; a version newer than
 * this slicevm knows is used only as far as this slicevm knows it. A
 * feature the version has is on (asked for), available, or not possible
 * here; the timer's lines of v2 stay as they were before the PMU came.
 */
const char *kvm_component_summary(const struct kvm_component_use *use, char *buf, size_t len)
{
	struct told f[] = {
		{ "the direct timer", "LAPIC timer", "own timer",
		  "the host's APIC is not in x2APIC mode, or AVIC or APICv is on",
		  "", false, use->direct & VM_DIRECT_TIMER, use->kvm.timer_ns > 0 },
		{ "the direct PMU", "performance counters", "own",
		  "no AMD core performance counters (PerfCtrExtCore), nor an Intel PMU the component can give",
		  "", false, use->direct & VM_DIRECT_PMU, use->kvm.pmu_counters > 0 },
		{ "direct interrupts", "timer interrupts", "own APIC",
		  "no direct timer",
		  "the host's IPIs there sent as NMIs", true, use->direct & VM_DIRECT_IRQ,
		  use->kvm.irq > 0 },
		{ "direct IPIs", "IPIs from its other vCPUs", "own APIC",
		  "no direct interrupts",
		  "the sender's ICR write still exits", true, use->direct & VM_DIRECT_IPI,
		  use->kvm.ipi > 0 },
	};
	int nf = direct_features_of(use->version);
	int n = use->cpus ? cpumask_count(use->cpus) : 0;
	char cpus[64] = "none", where[80], newer[80] = "";
	unsigned int on = 0, can = 0, cannot = 0;
	size_t used = 0;

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
	if (use->version >= DIRECT_DEV_ABI)
		f[2].hw = "timer and device interrupts";
	snprintf(f[0].detail, sizeof(f[0].detail), "APIC timer period %d ns", use->kvm.timer_ns);
	check_pmu_counters(use->kvm.pmu_counters, f[1].detail, sizeof(f[1].detail));
	for (int i = 0; i < nf; i++) {
		if (f[i].on)
			on |= 1U << i;
		else if (f[i].can)
			can |= 1U << i;
		else
			cannot |= 1U << i;
	}
	if (n && use->cpus)
		cpumask_format_list(use->cpus, cpus, sizeof(cpus));
	if (n == 1)
		snprintf(where, sizeof(where), "CPU %s's", cpus);
	else
		snprintf(where, sizeof(where), "its CPU's");

	str_append(buf, len, &used, "kernel component v%d%s", use->version, newer);
	/* what is on: "the guest's LAPIC timer on CPU 3's own timer (direct timer; ...)" */
	for (int i = 0; i < nf; i++) {
		bool first = !(on & ((1U << i) - 1));
		char note[80] = "";

		if (!(on & (1U << i)))
			continue;
		if (first && n != 1)
			snprintf(note, sizeof(note), "CPUs %s; ", cpus);
		str_append(buf, len, &used, "%s %s on %s %s (%sdirect %s; %s)",
			   !first ? " and its" : n == 1 ? ": the guest's" : ": each vCPU's",
			   f[i].hw, where, f[i].own, note, config_direct_name(i), f[i].detail);
	}
	if (on & VM_DIRECT_IPI) {
		if (use->version < DIRECT_DEV_ABI)
			str_append(buf, len, &used, "; its devices' interrupts still exit to KVM");
	} else if (on & VM_DIRECT_IRQ)
		str_append(buf, len, &used, "; its IPIs%s still exit to KVM",
			   use->version < DIRECT_DEV_ABI ? " and its devices' interrupts" : "");
	else if (on)
		str_append(buf, len, &used, "; %sIPIs and interrupts still exit to KVM",
			   on & VM_DIRECT_TIMER ? "" : "its timer, ");
	else
		str_append(buf, len, &used, " loaded%s", can ? ": " : ", but ");
	if (can) {
		str_append(buf, len, &used, "%s", on ? "; " : "");
		tell_available(buf, len, &used, f, nf, can);
	}
	if (cannot) {
		str_append(buf, len, &used, "%sthis host cannot give ", on || can ? "; " : "");
		tell_list(buf, len, &used, f, nf, cannot, " or ", true);
	}
	if (!on)
		str_append(buf, len, &used, "%s timer, IPIs and interrupts exit to KVM as usual",
			   can ? "; its" : ": the guest's");
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
