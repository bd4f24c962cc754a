/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_KVM_H
#define SLICEVM_VMM_KVM_H

#include <stddef.h>

#include <linux/kvm.h>
#include <stdbool.h>

#include "lib/cpumask.h"
#include "vmm/direct.h"

/*
 * The KVM system device: opening it with clear errors, refusing KVMs that
 * cannot run a stock Linux guest, and the capabilities slicevm relies on.
 */
struct kvm_host {
	int fd;
	int max_vcpus;
	int vcpu_mmap_size;
	int disable_exits;	/* KVM_X86_DISABLE_EXITS_* this KVM can turn off */
	bool tsc_deadline;	/* its LAPIC emulates the TSC-deadline timer mode */
	int component;		/* KVM_CAP_SLICEVM: the kernel component's ABI version, 0 on stock KVM */
	struct kvm_cpuid2 *supported_cpuid;	/* KVM_GET_SUPPORTED_CPUID */
};

/* Path of the KVM device; SLICEVM_KVM_DEVICE overrides it (for tests). */
const char *kvm_device_path(void);

int kvm_host_open(struct kvm_host *kvm);
void kvm_host_close(struct kvm_host *kvm);

/*
 * The ABI version of slicevm's kernel component (kernel/README.md) that the
 * KVM behind @fd (/dev/kvm or a VM) speaks: KVM_CHECK_EXTENSION of
 * KVM_CAP_SLICEVM. 0 on stock KVM, and when the ioctl fails.
 */
int kvm_component_version(int fd);

/* What a slice's guest gets from this host's KVM, for kvm_component_summary(). */
struct kvm_component_use {
	int version;		/* KVM_CAP_SLICEVM: the component's ABI version, 0 on stock KVM */
	struct direct_kvm kvm;	/* what KVM answered for each direct feature */
	unsigned int direct;	/* the VM_DIRECT_* features on for the VM's vCPUs */
	const struct cpumask *cpus;	/* their CPUs, with any of @direct */
};

/*
 * One line (no "slicevm: " prefix, no newline) on what a slice's guest
 * gets from the KVM @use describes: stock KVM, an older component, and for
 * each direct feature of the component's version (the timer from v2, the
 * PMU from v3, interrupts from v4) whether it is on, available but not asked for, or not
 * possible here. Cut to @len.
 */
const char *kvm_component_summary(const struct kvm_component_use *use, char *buf, size_t len);

#endif
