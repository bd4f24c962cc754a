// SPDX-License-Identifier: GPL-2.0
/*
 * `slicevm stats`: the VM's and each vCPU's KVM statistics (binary stats
 * fds, no debugfs) and the host interrupts that landed on the CPUs the
 * vCPUs run on since the VM started. Answered on the main thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "host/hostfs.h"
#include "host/interrupts.h"
#include "lib/err.h"
#include "vmm/kvm_stats.h"
#include "vmm/vm.h"

/* /proc/interrupts now; NULL on failure. */
static char *read_interrupts(void)
{
	return hostfs_read_all("/proc/interrupts");
}

void vm_stats_stop(struct vm *vm)
{
	if (vm->stats) {
		for (int i = 0; i <= vm->nvcpus; i++)
			kvm_stats_close(&vm->stats[i]);
		free(vm->stats);
		vm->stats = NULL;
	}
	free(vm->irq_snapshot);
	vm->irq_snapshot = NULL;
}

/* [0] the VM fd's stats, [1 + i] vCPU i's. */
static int open_stats(struct vm *vm)
{
	char what[32];

	vm->stats = calloc((size_t)vm->nvcpus + 1, sizeof(*vm->stats));
	if (!vm->stats)
		return err_set("out of memory for statistics");
	for (int i = 0; i <= vm->nvcpus; i++)
		vm->stats[i].fd = -1;
	if (kvm_stats_open_ioctl(&vm->stats[0], vm->fd, "VM"))
		goto fail;
	for (int i = 0; i < vm->nvcpus; i++) {
		snprintf(what, sizeof(what), "vCPU %d", i);
		if (kvm_stats_open_ioctl(&vm->stats[1 + i], vm->vcpus[i].fd, what))
			goto fail;
	}
	return 0;
fail:
	for (int i = 0; i <= vm->nvcpus; i++)
		kvm_stats_close(&vm->stats[i]);
	free(vm->stats);
	vm->stats = NULL;
	return -1;
}

static int refresh(struct vm *vm)
{
	if (!vm->stats)
		return err_set("this VM has no statistics: %s", vm->stats_error);
	for (int i = 0; i <= vm->nvcpus; i++)
		if (kvm_stats_refresh(&vm->stats[i]))
			return -1;
	return 0;
}

/*
 * Opened before the vCPUs run: KVM_GET_STATS_FD on a vCPU fd takes the
 * vCPU's mutex, which KVM_RUN holds for as long as the guest runs, so the
 * main thread would wait for the next exit to user space (forever, for an
 * idle vCPU that halts in the kernel). Reading the fds later takes no lock.
 * Statistics are an extra: without them the VM runs, and `stats` says why.
 */
void vm_stats_start(struct vm *vm)
{
	vm->irq_snapshot = read_interrupts();
	if (open_stats(vm))
		snprintf(vm->stats_error, sizeof(vm->stats_error), "%s", err_msg());
}

/* The CPUs the vCPUs may run on: the slice's, else every CPU. */
static void vcpu_cpus(const struct vm *vm, struct cpumask *m)
{
	if (vm->in_slice) {
		*m = vm->vcpu_cpus;
		return;
	}
	cpumask_clear(m);
	for (int cpu = 0; cpu < CPUMASK_MAX; cpu++)
		cpumask_set(m, cpu);
}

static json_object *interrupts_json(const struct vm *vm)
{
	struct irq_table then = { 0 }, now = { 0 };
	char *text = read_interrupts();
	json_object *arr = NULL;
	struct cpumask cpus;

	vcpu_cpus(vm, &cpus);
	if (text && vm->irq_snapshot && !interrupts_parse(vm->irq_snapshot, &then) &&
	    !interrupts_parse(text, &now))
		arr = interrupts_diff_json(&then, &now, &cpus, NULL);
	interrupts_free(&then);
	interrupts_free(&now);
	free(text);
	return arr;
}

json_object *vm_stats_json(struct vm *vm)
{
	struct kvm_stats_snapshot snap = { .name = vm->cfg->name };
	struct timespec t;
	json_object *o;

	if (refresh(vm))
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &t);
	snap.time = (double)t.tv_sec + (double)t.tv_nsec / 1e9;
	snap.vm = &vm->stats[0];
	snap.nvcpus = vm->nvcpus;
	snap.vcpus = &vm->stats[1];
	o = kvm_stats_json(&snap, NULL);
	if (o)
		json_object_object_add(o, "host_interrupts", interrupts_json(vm));
	return o;
}
