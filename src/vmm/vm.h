/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_VM_H
#define SLICEVM_VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <json-c/json.h>

#include "boot/boot.h"
#include "lib/cpumask.h"
#include "lib/evloop.h"
#include "vmm/config.h"
#include "vmm/console.h"
#include "vmm/direct.h"
#include "vmm/iobus.h"
#include "vmm/kvm.h"
#include "mem/ram.h"
#include "virtio/disk.h"
#include "virtio/tap.h"

/*
 * How `slicevm run` ends: its process exit status. Documented in
 * docs/slicevm-run.md; the lab tests check each one.
 */
enum vm_exit_status {
	VM_EXIT_POWEROFF = 0,	/* guest powered off, or Ctrl-A x */
	VM_EXIT_ERROR = 1,	/* bad input or a VMM/KVM failure */
	VM_EXIT_REBOOT = 2,	/* guest asked for a reset */
	VM_EXIT_CRASH = 3,	/* guest triple fault or KVM internal error */
	VM_EXIT_SIGNAL_BASE = 128,	/* + signal number, for SIGINT/SIGTERM/SIGHUP */
};

struct vm;

struct vcpu {
	struct vm *vm;
	int index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	atomic_int tid;		/* the thread's id once it runs (for `slicevm ls`) */
};

struct vm_devices;
struct ledger;
struct ctl_server;
struct kvm_stats;
struct vfio_container;
struct vfio_device;



struct vm {
	struct vm_config *cfg;		/* slice_enter() fills what the slice decides */
	struct kvm_host kvm;
	int fd;

	/* The input files, from vm_open_inputs() to vm_prepare() */
	struct kernel_image kernel;
	bool kernel_opened;
	int initrd_fd;
	size_t initrd_size;
	struct disk *disks[VM_MAX_DISKS];	/* opened and locked; the devices take them */
	struct tap *taps[VM_MAX_NETS];		/* attached or created; likewise */

	struct guest_ram ram;
	struct ram_spec ram_spec;	/* backing, node, range: set by slice_enter() */
	struct boot_cpu_state boot_cpu;

	struct iobus pio;
	struct vm_devices *devices;

	int nvcpus;
	struct vcpu *vcpus;

	/* Placement in a slice: vCPU i on vcpu_cpus' i-th CPU, the rest on housekeeping. */
	struct ledger *ledger;
	bool in_slice;
	struct cpumask vcpu_cpus;
	struct cpumask housekeeping;
	bool exitless;		/* idle and spin exits stay in the guest */
	/*
	 * What the VM's KVM answers for each direct feature (direct.h): the
	 * host's APIC timer period, the guest's performance counters; 0 for
	 * one it cannot give.
	 */
	struct direct_kvm direct_kvm;

	/*
	 * Passed-through PCI functions (vm_vfio.c): the slice's devices, the
	 * ones this VM takes, and their VFIO container and devices.
	 */
	int nslice_devices;
	char slice_devices[VM_MAX_DEVICES][VM_PCI_ADDR_MAX];
	int npassthrough;
	char passthrough[VM_MAX_DEVICES][VM_PCI_ADDR_MAX];
	struct vfio_container *vfio;
	struct vfio_device *vfio_devs[VM_MAX_DEVICES];
	/* The main thread's event loop and the control socket (name, ls, stop, console). */
	struct evloop loop;
	struct ctl_server *ctl;
	time_t started_at;
	time_t power_button_at;	/* when `slicevm stop` pressed it; 0 never */

	/* Detached (--detach): the console goes to a pipe the loop drains. */
	bool detached;
	int console_read_fd;	/* the loop's end of the console pipe; -1 */
	int console_write_fd;	/* the serial port's end; -1 */
	int log_fd;		/* --log FILE, or -1 */
	struct console_ring ring;

	/* `slicevm stats`: KVM's stats fds ([0] the VM, [1 + i] vCPU i) and IRQs at start */
	struct kvm_stats *stats;
	char stats_error[160];	/* why stats is NULL */
	char *irq_snapshot;

	/*
	 * The start gate: each vCPU thread, once placed and with its direct
	 * features on, waits until every one is (or one failed), so none
	 * enters the guest of a VM that cannot start.
	 */
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cond;
	int gate_arrived;	/* vCPU threads done with their set-up, or failed */
	bool gate_open;

	/* Ending: the first request wins; the main thread then stops the vCPUs. */
	atomic_bool stopping;
	pthread_mutex_t exit_lock;
	int exit_status;
	char exit_msg[256];
	int wake_fd;		/* eventfd: wakes the main loop */
};

/* Boots and runs the VM described by @cfg; returns the process exit status. */
int vm_run(struct vm_config *cfg);

/*
 * KVM memory slot @slot: @size bytes at @host seen at guest-physical @gpa;
 * @size 0 removes it. Guest RAM takes slots from 0, passed-through BARs
 * theirs (vm_devices.c). Any thread.
 */
int vm_set_memory_slot(struct vm *vm, uint32_t slot, uint64_t gpa, void *host, uint64_t size);

/*
 * Called by each vCPU thread when its set-up is done or failed (after
 * vm_request_exit): waits until the main thread opens the start gate.
 */
void vm_gate_wait(struct vm *vm);

/* Asks the VM to end with @status (first caller wins); thread-safe. */
void vm_request_exit(struct vm *vm, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* vm_vfio.c: open the slice's devices (after slice_enter), map RAM for their DMA, close */
int vm_vfio_open(struct vm *vm);
int vm_vfio_map(struct vm *vm);
void vm_vfio_close(struct vm *vm);

/* stats.c */
void vm_stats_start(struct vm *vm);
void vm_stats_stop(struct vm *vm);
json_object *vm_stats_json(struct vm *vm);

/* vcpu.c */
int vcpu_create(struct vm *vm, struct vcpu *vcpu, int index);
int vcpu_setup_boot(struct vcpu *vcpu, const struct boot_cpu_state *boot);
int vcpu_start(struct vcpu *vcpu);
void vcpu_kick(struct vcpu *vcpu);
void vcpu_stop(struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);
int vcpu_install_kick_handler(void);

#endif
