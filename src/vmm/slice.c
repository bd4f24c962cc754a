// SPDX-License-Identifier: GPL-2.0
/*
 * `slicevm run --slice NAME`: the VM takes the slice from the host ledger
 * for as long as it runs. The claim is made before anything else, so two
 * VMs started together on one slice never both get as far as KVM.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host/cpuset.h"
#include "host/ledger.h"
#include "lib/err.h"
#include "lib/size.h"
#include "vmm/direct.h"
#include "vmm/slice.h"
#include "vmm/vm.h"

#define SYSFS	"/sys"
#define PROCFS	"/proc"

_Static_assert(SLICE_DEV_MAX == VM_MAX_DEVICES && PCI_ADDR_MAX == VM_PCI_ADDR_MAX,
	       "a slice's device list is copied into the VM's");

/* Threads created from now on (all but the vCPUs, which re-pin) inherit this. */
static int pin_to_housekeeping(const struct cpumask *housekeeping)
{
	cpu_set_t set;
	int cpu;

	CPU_ZERO(&set);
	cpumask_for_each(cpu, housekeeping)
		if (cpu < CPU_SETSIZE)
			CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return err_set_errno("cannot move the VMM onto the housekeeping CPUs");
	return 0;
}

void slice_nohz_full(const char *sys, struct cpumask *nohz)
{
	char path[512], line[4096] = "";
	FILE *f;

	cpumask_clear(nohz);
	if (snprintf(path, sizeof(path), "%s/devices/system/cpu/nohz_full", sys) >=
	    (int)sizeof(path))
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	/* "(null)" when the kernel was booted without nohz_full=. */
	if (cpumask_parse_list(line, nohz))
		cpumask_clear(nohz);
}

/*
 * True when the host's scheduler tick is off on every CPU of @cpus
 * (nohz_full, as `slicevm host bootargs` sets up). Only then does idling
 * inside the guest save exits: on a ticking CPU each tick interrupts the
 * halted guest instead of a sleeping vCPU thread (measured in the lab).
 */
static bool host_cpus_tickless(const struct cpumask *cpus)
{
	struct cpumask nohz;

	slice_nohz_full(SYSFS, &nohz);
	return !cpumask_empty(&nohz) && cpumask_subset(cpus, &nohz);
}

/*
 * A VM in a slice gets, unless told otherwise, one vCPU per slice CPU and
 * all of the slice's memory; it never gets more than the slice has.
 */
static int take_slice_sizes(struct vm_config *cfg, const struct slice *s)
{
	int ncpus = cpumask_count(&s->cpus);
	char want[32], have[32];

	if (!cfg->cpus_set)
		cfg->cpus = ncpus;
	if (!cfg->memory_set)
		cfg->memory = s->memory;
	if (cfg->cpus > ncpus)
		return err_set("cpus %d is more than slice %s has (%d CPU%s): give --cpus %d or fewer",
			       cfg->cpus, s->name, ncpus, ncpus == 1 ? "" : "s", ncpus);
	if (cfg->memory > s->memory)
		return err_set("memory %s is more than slice %s has (%s): give --memory %s or less",
			       size_format(cfg->memory, want, sizeof(want)), s->name,
			       size_format(s->memory, have, sizeof(have)), have);
	return config_check_sizes(cfg);
}

/* The slice's memory: its backing, its node, its physical range. */
static void take_slice_memory(struct ram_spec *spec, const struct slice *s)
{
	static const enum ram_backing backing[] = {
		[BACKING_ANON] = RAM_ANON,
		[BACKING_HUGETLB] = RAM_HUGETLB,
		[BACKING_RESERVED] = RAM_RESERVED,
	};

	spec->backing = backing[s->backing];
	spec->numa_node = s->node;
	spec->phys_start = s->phys_start;
	spec->identity = s->identity;
}

int slice_vcpu_cpu(const struct vm *vm, int index)
{
	int cpu = -1;

	if (!vm->in_slice)
		return -1;
	for (int i = 0; i <= index; i++)
		cpu = cpumask_next(&vm->vcpu_cpus, cpu);
	return cpu;
}

/* The CPUs the vCPUs run on: the slice's first cfg->cpus. */
static void slice_vcpus_cpus(const struct vm *vm, struct cpumask *cpus)
{
	cpumask_clear(cpus);
	for (int i = 0; i < vm->cfg->cpus; i++) {
		int cpu = slice_vcpu_cpu(vm, i);

		if (cpu >= 0)
			cpumask_set(cpus, cpu);
	}
}

int slice_enter(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	struct cpumask used;
	struct slice slice;

	if (!cfg->slice)
		return 0;
	/* No ledger means nothing was applied; a claim must not create one. */
	if (ledger_open_existing(&vm->ledger, NULL))
		return -1;
	if (ledger_claim(vm->ledger, cfg->slice, cfg->name, getpid(), &slice,
			 &vm->housekeeping))
		return -1;
	vm->in_slice = true;
	if (take_slice_sizes(vm->cfg, &slice))
		return -1;
	vm->vcpu_cpus = slice.cpus;
	slice_vcpus_cpus(vm, &used);
	if (direct_check_cpus(SYSFS, cfg->direct, &used, cfg->slice) ||
	    direct_check_irqs(PROCFS, cfg->direct, &used, cfg->slice))
		return -1;
	vm->nslice_devices = slice.ndevices;
	memcpy(vm->slice_devices, slice.devices, sizeof(vm->slice_devices));
	take_slice_memory(&vm->ram_spec, &slice);
	vm->exitless = host_cpus_tickless(&slice.cpus);
	/*
	 * The slice's CPUs belong to its cgroup partition; only threads in
	 * that (threaded) cgroup may run there. The process joins the root
	 * cgroup, the slices' threaded domain, so each vCPU thread can move
	 * into the slice while every other thread stays on housekeeping CPUs.
	 */
	if (cpuset_enter_root(NULL))
		return -1;
	return pin_to_housekeeping(&vm->housekeeping);
}

int slice_place_vcpu(struct vm *vm, int index)
{
	int cpu = slice_vcpu_cpu(vm, index);
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	if (cpuset_attach_thread(NULL, vm->cfg->slice, 0))
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return err_set_errno("cannot pin vCPU %d to CPU %d of slice %s",
				     index, cpu, vm->cfg->slice);
	return 0;
}

void slice_report(struct vm *vm)
{
	struct cpumask cpus;
	struct kvm_component_use use = {
		.version = vm->kvm.component,
		.kvm = vm->direct_kvm,
		.direct = vm->cfg->direct,
		.cpus = &cpus,
	};
	char line[768];

	if (!vm->in_slice)
		return;
	slice_vcpus_cpus(vm, &cpus);
	if (ledger_note(vm->ledger)[0])
		fprintf(stderr, "slicevm: %s\n", ledger_note(vm->ledger));
	fprintf(stderr, "slicevm: slice %s: %s\n", vm->cfg->slice,
		kvm_component_summary(&use, line, sizeof(line)));
}

void slice_leave(struct vm *vm)
{
	if (vm->in_slice && ledger_unclaim(vm->ledger, vm->cfg->slice, getpid()) < 0)
		fprintf(stderr, "slicevm: could not release slice %s: %s\n",
			vm->cfg->slice, err_msg());
	vm->in_slice = false;
	if (vm->ledger)
		ledger_close(vm->ledger);
	vm->ledger = NULL;
}
