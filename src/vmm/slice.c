// SPDX-License-Identifier: GPL-2.0
/*
 * `slicevm run --slice NAME`: the VM takes the slice from the host ledger
 * for as long as it runs. The claim is made before anything else, so two
 * VMs started together on one slice never both get as far as KVM.
 */
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "host/cpuset.h"
#include "host/ledger.h"
#include "lib/err.h"
#include "vmm/slice.h"
#include "vmm/vm.h"

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

/*
 * True when the host's scheduler tick is off on every CPU of @cpus
 * (nohz_full, as `slicevm host bootargs` sets up). Only then does idling
 * inside the guest save exits: on a ticking CPU each tick interrupts the
 * halted guest instead of a sleeping vCPU thread (measured in the lab).
 */
static bool host_cpus_tickless(const struct cpumask *cpus)
{
	struct cpumask nohz;
	char line[4096] = "";
	FILE *f = fopen("/sys/devices/system/cpu/nohz_full", "r");

	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	/* "(null)" when the kernel was booted without nohz_full=. */
	if (cpumask_parse_list(line, &nohz))
		return false;
	return !cpumask_empty(&nohz) && cpumask_subset(cpus, &nohz);
}

int slice_enter(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	struct slice slice;
	int ncpus;

	if (!cfg->slice)
		return 0;
	/* No ledger means nothing was applied; a claim must not create one. */
	if (ledger_open_existing(&vm->ledger, NULL))
		return -1;
	if (ledger_claim(vm->ledger, cfg->slice, cfg->name, getpid(), &slice,
			 &vm->housekeeping))
		return -1;
	vm->in_slice = true;

	ncpus = cpumask_count(&slice.cpus);
	if (cfg->cpus > ncpus)
		return err_set("cpus %d is more than slice %s has (%d CPUs): give --cpus %d or fewer",
			       cfg->cpus, cfg->slice, ncpus, ncpus);
	vm->vcpu_cpus = slice.cpus;
	vm->numa_node = slice.node;
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

/* Host CPU for vCPU @index: the slice's @index-th CPU; -1 outside a slice. */
static int slice_vcpu_cpu(const struct vm *vm, int index)
{
	int cpu = -1;

	if (!vm->in_slice)
		return -1;
	for (int i = 0; i <= index; i++)
		cpu = cpumask_next(&vm->vcpu_cpus, cpu);
	return cpu;
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
	if (vm->in_slice && ledger_note(vm->ledger)[0])
		fprintf(stderr, "slicevm: %s\n", ledger_note(vm->ledger));
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
