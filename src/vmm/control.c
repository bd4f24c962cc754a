// SPDX-License-Identifier: GPL-2.0
/*
 * What `slicevm ls`, `stop` and `stats` ask of a running VM through its
 * control socket (ctl/ctl.h carries the requests; this answers them).
 * Runs on the main thread, in the event loop.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "vmm/runloop.h"
#include "vmm/vm.h"
#include "vmm/vm_devices.h"

/* The host CPU thread @tid last ran on (field 39 of its stat), or -1. */
static int last_cpu(pid_t tid)
{
	char path[64], buf[1024], *p;
	int cpu = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')'))) {
		/* field 3 follows ") "; field 39 is 36 fields later */
		p += 2;
		for (int field = 3; field < 39 && p; field++) {
			p = strchr(p, ' ');
			if (p)
				p++;
		}
		if (p)
			cpu = atoi(p);
	}
	fclose(f);
	return cpu;
}

static json_object *vcpus_json(const struct vm *vm)
{
	json_object *arr = json_object_new_array();

	for (int i = 0; i < vm->nvcpus; i++) {
		const struct vcpu *v = &vm->vcpus[i];
		json_object *o = json_object_new_object();
		int tid = atomic_load(&v->tid);

		json_object_object_add(o, "index", json_object_new_int(i));
		json_object_object_add(o, "tid", json_object_new_int(tid));
		json_object_object_add(o, "host_cpu", json_object_new_int(tid ? last_cpu(tid) : -1));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* The direct features the VM's vCPUs have ("timer", "pmu"), in the names --direct takes. */
static json_object *direct_json(const struct vm *vm)
{
	json_object *arr = json_object_new_array();
	const char *name;

	for (int i = 0; (name = config_direct_name(i)); i++)
		if (vm->cfg->direct & (1U << i))
			json_object_array_add(arr, json_object_new_string(name));
	return arr;
}

static json_object *info(struct vm *vm)
{
	json_object *o = json_object_new_object();
	time_t now = time(NULL);

	json_object_object_add(o, "name", json_object_new_string(vm->cfg->name));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "slice", vm->cfg->slice ?
			       json_object_new_string(vm->cfg->slice) : NULL);
	json_object_object_add(o, "state", json_object_new_string(
		atomic_load(&vm->stopping) ? "stopping" :
		vm->power_button_at ? "shutting-down" : "running"));
	json_object_object_add(o, "vcpus", vcpus_json(vm));
	/* what the guest has: a device-dax range loses its info block, identity adds a boot region */
	json_object_object_add(o, "memory",
			       json_object_new_int64((int64_t)guest_mem_total(&vm->ram.layout)));
	json_object_object_add(o, "backing",
			       json_object_new_string(ram_backing_name(vm->ram_spec.backing)));
	json_object_object_add(o, "started_at", json_object_new_int64(vm->started_at));
	json_object_object_add(o, "uptime_s", json_object_new_int64(now - vm->started_at));
	json_object_object_add(o, "detached", json_object_new_boolean(vm->detached));
	/* KVM_CAP_SLICEVM: the kernel component's ABI version, 0 on stock KVM */
	json_object_object_add(o, "kvm_component", json_object_new_int(vm->kvm.component));
	json_object_object_add(o, "direct", direct_json(vm));
	json_object_object_add(o, "devices", vm_devices_json(vm));
	return o;
}

json_object *vm_control_request(void *arg, const char *cmd, json_object *req)
{
	struct vm *vm = arg;

	if (!strcmp(cmd, "info"))
		return info(vm);
	if (!strcmp(cmd, "stop")) {
		/* the guest hears its power button and shuts itself down */
		vm_devices_power_button(vm);
		if (!vm->power_button_at)
			vm->power_button_at = time(NULL);
		return json_object_new_object();
	}
	if (!strcmp(cmd, "quit")) {
		vm_request_exit(vm, VM_EXIT_POWEROFF, "quit from its console");
		return json_object_new_object();
	}
	if (!strcmp(cmd, "stats"))
		return vm_stats_json(vm);
	err_set("unknown request '%s': info, stop, quit, stats or console", cmd);
	return NULL;
}
