// SPDX-License-Identifier: GPL-2.0
/*
 * A VM's life: check the inputs, map guest RAM and lay the kernel out in
 * it, then create the KVM VM, its devices and vCPUs, run until the guest or
 * the user ends it, and tear everything down in reverse order.
 *
 * Everything the user can get wrong is checked before /dev/kvm is opened,
 * so bad input fails the same way on every host.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/file.h"
#include "lib/size.h"
#include "arch/x86/platform.h"
#include "ctl/ctl.h"
#include "vmm/console.h"
#include "vmm/direct.h"
#include "vmm/runloop.h"
#include "vmm/slice.h"
#include "vmm/trim.h"
#include "vmm/vm.h"
#include "vmm/vm_devices.h"

/* Larger than any guest's low memory could hold anyway. */
#define INITRD_FILE_MAX		(4ULL << 30)

void vm_request_exit(struct vm *vm, int status, const char *fmt, ...)
{
	uint64_t one = 1;
	va_list ap;

	pthread_mutex_lock(&vm->exit_lock);
	if (!atomic_load(&vm->stopping)) {
		vm->exit_status = status;
		if (fmt) {
			va_start(ap, fmt);
			vsnprintf(vm->exit_msg, sizeof(vm->exit_msg), fmt, ap);
			va_end(ap);
		}
		atomic_store(&vm->stopping, true);
		if (write(vm->wake_fd, &one, sizeof(one)) < 0) {
			/* The counter cannot overflow with one write; nothing to do. */
		}
	}
	pthread_mutex_unlock(&vm->exit_lock);
}

static int check_memory_size(const struct vm_config *cfg)
{
	char want[32], have[32];
	uint64_t total;

	if (host_memory_total(&total))
		return -1;
	if (cfg->memory > total)
		return err_set("memory %s is more than this host has (%s): give less --memory",
			       size_format(cfg->memory, want, sizeof(want)),
			       size_format(total & ~((1ULL << 20) - 1), have, sizeof(have)));
	return 0;
}

/* Threads for zeroing physical memory: the CPUs this process may use, up to 8. */
static int zero_threads(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	n = CPU_COUNT(&set);
	return n < 1 ? 1 : n > 8 ? 8 : n;
}

/*
 * No tenant's data reaches the next: physical memory (a reserved range) is
 * zeroed before the guest first sees it, which also covers a VMM that was
 * killed and could not clean up, and again when the VM ends. The threads
 * run where this one may: the housekeeping CPUs in a slice.
 */
static void vm_zero_physical(struct vm *vm, const char *when)
{
	double secs;
	int n = zero_threads();
	uint64_t bytes = guest_ram_zero_physical(&vm->ram, n, &secs);
	char buf[32];

	if (!bytes)
		return;
	fprintf(stderr, "slicevm: zeroed %s of reserved memory %s in %.3f s (%.1f GiB/s, %d thread%s)\n",
		size_format(bytes, buf, sizeof(buf)), when, secs,
		secs > 0 ? (double)bytes / (1 << 30) / secs : 0.0, n, n == 1 ? "" : "s");
}

static int vm_map_ram(struct vm *vm, const struct kernel_image *k, uint64_t initrd_size)
{
	struct ram_spec spec = vm->ram_spec;

	spec.size = vm->cfg->memory;
	/* a slice's hugepages and reserved ranges are filled now; anon too in a slice */
	spec.populate = vm->in_slice;
	if (spec.backing == RAM_RESERVED && spec.identity)
		spec.boot_size = boot_low_memory_needed(k, initrd_size);
	/* a reserved range is not part of the host's MemTotal */
	if (spec.backing != RAM_RESERVED && check_memory_size(vm->cfg))
		return -1;
	if (guest_ram_map(&vm->ram, &spec))
		return -1;
	vm_zero_physical(vm, "before the guest starts");
	return 0;
}

/*
 * Everything that depends only on the inputs: no KVM yet. The kernel is
 * read, copied into guest RAM and dropped, and the initrd read straight
 * into guest RAM once it is known to fit: the guest has its own copy, and
 * keeping them would multiply the VMM's own memory.
 */
/*
 * The input files, checked first of all: a missing kernel is the user's
 * first mistake to hear about, before any slice or cgroup question. Only
 * the initrd's size now: boot_setup() reads it once it knows it fits.
 */
static int vm_open_inputs(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;

	if (kernel_open(cfg->kernel, &vm->kernel))
		return -1;
	vm->kernel_opened = true;
	/* each image locked now: a disk another VM holds changes nothing */
	for (int i = 0; i < cfg->ndisks; i++) {
		vm->disks[i] = disk_open(cfg->disks[i].path, cfg->disks[i].readonly);
		if (!vm->disks[i])
			return -1;
	}
	/* a tap that can be neither found nor created is the user's to fix */
	for (int i = 0; i < cfg->nnets; i++) {
		vm->taps[i] = tap_open(cfg->nets[i].tap);
		if (!vm->taps[i])
			return -1;
	}
	if (!cfg->initrd)
		return 0;
	vm->initrd_fd = file_open_checked("initrd", cfg->initrd, "give the path of an initramfs",
					  INITRD_FILE_MAX, &vm->initrd_size);
	return vm->initrd_fd < 0 ? -1 : 0;
}

/* The disks and taps no device took (a start that failed before the devices). */
static void vm_close_disks(struct vm *vm)
{
	for (int i = 0; i < VM_MAX_DISKS; i++) {
		disk_close(vm->disks[i]);
		vm->disks[i] = NULL;
	}
	for (int i = 0; i < VM_MAX_NETS; i++) {
		tap_close(vm->taps[i]);
		vm->taps[i] = NULL;
	}
}

static void vm_close_inputs(struct vm *vm)
{
	if (vm->kernel_opened)
		kernel_close(&vm->kernel);
	vm->kernel_opened = false;
	if (vm->initrd_fd >= 0)
		close(vm->initrd_fd);
	vm->initrd_fd = -1;
}

static int vm_prepare(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	struct boot_config boot = {
		.cmdline = cfg->cmdline,
		.ncpus = cfg->cpus,
		.use_pvh = cfg->pvh,
		.initrd_path = cfg->initrd,
		.initrd_fd = vm->initrd_fd,
		.initrd_size = vm->initrd_size,
	};
	int ret = -1;

	if (vm_map_ram(vm, &vm->kernel, boot.initrd_size) == 0)
		ret = boot_setup(&vm->ram.layout, &vm->kernel, &boot, &vm->boot_cpu);
	vm_close_inputs(vm);
	return ret;
}

int vm_set_memory_slot(struct vm *vm, uint32_t slot, uint64_t gpa, void *host, uint64_t size)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region))
		return err_set_errno("KVM refused memory slot %u at %#llx (+%#llx)", slot,
				     (unsigned long long)gpa, (unsigned long long)size);
	return 0;
}

/*
 * A vCPU alone on a tickless host CPU gains nothing from exiting to KVM
 * when it idles or spins: keep HLT, PAUSE, MWAIT and C-state exits in the
 * guest (slice_enter() decides when). KVM wants this before any vCPU exists.
 */
static int vm_disable_exits(struct vm *vm)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_DISABLE_EXITS };

	if (!vm->exitless || !vm->kvm.disable_exits)
		return 0;
	cap.args[0] = vm->kvm.disable_exits & KVM_X86_DISABLE_VALID_EXITS;
	if (ioctl(vm->fd, KVM_ENABLE_CAP, &cap))
		return err_set_errno("cannot keep idle exits in the guest (KVM_CAP_X86_DISABLE_EXITS %#llx)",
				     (unsigned long long)cap.args[0]);
	return 0;
}

static int vm_create_kvm(struct vm *vm)
{
	const struct guest_mem *mem = &vm->ram.layout;
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity_map = KVM_IDENTITY_MAP_ADDR;

	if (kvm_host_open(&vm->kvm))
		return -1;
	if (vm->cfg->cpus > vm->kvm.max_vcpus)
		return err_set("cpus %d is more than this host's KVM allows (%d): give fewer --cpus",
			       vm->cfg->cpus, vm->kvm.max_vcpus);
	vm->fd = ioctl(vm->kvm.fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return err_set_errno("KVM_CREATE_VM failed");
	if (direct_check_kvm(vm->cfg->direct, vm->kvm.component, vm->fd, &vm->direct_kvm))
		return -1;
	/* Intel needs these pages for real-mode emulation; harmless on AMD. */
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) ||
	    ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &identity_map))
		return err_set_errno("cannot place KVM's TSS and identity map");
	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0))
		return err_set_errno("KVM_CREATE_IRQCHIP failed");
	if (ioctl(vm->fd, KVM_CREATE_PIT2, &pit))
		return err_set_errno("KVM_CREATE_PIT2 failed");
	/* both before any vCPU exists, as KVM wants */
	if (vm_disable_exits(vm) || direct_enable_vm(vm->cfg->direct, vm->fd, &vm->direct_kvm))
		return -1;
	for (int i = 0; i < mem->nr; i++)
		if (vm_set_memory_slot(vm, (uint32_t)i, mem->r[i].gpa, mem->r[i].host,
				    mem->r[i].size))
			return -1;
	return 0;
}

static int vm_create_vcpus(struct vm *vm)
{
	vm->vcpus = calloc(vm->cfg->cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return err_set("out of memory for %d vCPUs", vm->cfg->cpus);
	for (int i = 0; i < vm->cfg->cpus; i++) {
		if (vcpu_create(vm, &vm->vcpus[i], i)) {
			vm->nvcpus = i + 1;	/* destroy what was made, this one too */
			return -1;
		}
		vm->nvcpus = i + 1;
	}
	return vcpu_setup_boot(&vm->vcpus[0], &vm->boot_cpu);
}

/*
 * KVM starts per-VM worker threads (NX huge page recovery) at the first
 * KVM_RUN, as children of the calling thread: its cgroup, its CPUs. Make
 * that call here, on a housekeeping CPU, and not from a vCPU thread already
 * moved into a slice. With immediate_exit set, KVM_RUN returns before it
 * enters the guest.
 */
static int vm_start_kvm_workers(struct vm *vm)
{
	struct vcpu *vcpu = &vm->vcpus[0];
	int ret;

	vcpu->run->immediate_exit = 1;
	ret = ioctl(vcpu->fd, KVM_RUN, 0);
	vcpu->run->immediate_exit = 0;
	if (ret == 0)
		return err_set("KVM entered the guest despite immediate_exit: this KVM is too old");
	if (errno != EINTR)
		return err_set_errno("the first KVM_RUN failed");
	return 0;
}

/*
 * From start to teardown the signals that end the VM stay blocked and are
 * read from a signalfd by the main loop, so a signal arriving at any moment
 * (a second SIGHUP, Ctrl-C while the kernel loads) never skips the teardown
 * that releases the slice and restores the terminal.
 */
static void ending_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

static int block_signals(sigset_t *old)
{
	sigset_t blocked;

	ending_signals(&blocked);
	/* vCPU threads unblock the kick signal for themselves. */
	sigaddset(&blocked, SIGUSR1);
	if (pthread_sigmask(SIG_BLOCK, &blocked, old))
		return err_set("cannot block signals");
	return 0;
}

/*
 * A signal that arrived after the main loop stopped reading them (during a
 * failed start, or the teardown) must not kill the process once they are
 * unblocked: the exit status already says how the VM ended.
 */
static void drain_ending_signals(void)
{
	const struct timespec now = { 0, 0 };
	sigset_t ending;

	ending_signals(&ending);
	while (sigtimedwait(&ending, NULL, &now) > 0)
		;
}

/* Detached: tells the waiting parent (cmd_run) that the VM runs, or why not. */
static void tell_parent(struct vm *vm, const char *error)
{
	int fd = vm->cfg->ready_fd;
	char line[600];
	int n;

	if (fd < 0)
		return;
	if (error)
		n = snprintf(line, sizeof(line), "%s\n", error);
	else
		n = snprintf(line, sizeof(line), "ok %s\n", vm->cfg->name);
	if (write(fd, line, (size_t)n) != n) {
		/* the parent is gone: nobody to tell */
	}
	close(fd);
	vm->cfg->ready_fd = -1;
}

void vm_gate_wait(struct vm *vm)
{
	pthread_mutex_lock(&vm->gate_lock);
	vm->gate_arrived++;
	pthread_cond_broadcast(&vm->gate_cond);
	while (!vm->gate_open)
		pthread_cond_wait(&vm->gate_cond, &vm->gate_lock);
	pthread_mutex_unlock(&vm->gate_lock);
}

/*
 * Waits until the @n vCPU threads started have arrived at the start gate,
 * then opens it. False when one failed (it asked the VM to end): the
 * threads then leave without entering the guest.
 */
static bool vm_gate_open(struct vm *vm, int n)
{
	bool go;

	pthread_mutex_lock(&vm->gate_lock);
	while (vm->gate_arrived < n)
		pthread_cond_wait(&vm->gate_cond, &vm->gate_lock);
	go = !atomic_load(&vm->stopping);
	vm->gate_open = true;
	pthread_cond_broadcast(&vm->gate_cond);
	pthread_mutex_unlock(&vm->gate_lock);
	return go;
}

static int vm_start_and_wait(struct vm *vm)
{
	sigset_t ending;
	int sig_fd, ret = 0, started = 0;

	ending_signals(&ending);
	sig_fd = signalfd(-1, &ending, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sig_fd < 0)
		return err_set_errno("signalfd failed");
	if (vcpu_install_kick_handler()) {
		close(sig_fd);
		return -1;
	}
	/*
	 * Before the vCPUs run: dropping pages from the page tables later
	 * would send TLB shootdowns to the (slice) CPUs running them.
	 */
	vmm_trim_resident();
	vm_stats_start(vm);
	for (int i = 0; i < vm->nvcpus && !ret; i++) {
		ret = vcpu_start(&vm->vcpus[i]);
		started += !ret;
	}
	if (ret)
		vm_request_exit(vm, VM_EXIT_ERROR, "%s", err_msg());
	if (vm_gate_open(vm, started)) {
		/* every vCPU placed with its direct features: the guest runs */
		slice_report(vm);
		vm->started_at = time(NULL);
		ctl_server_started(vm->ctl);
		tell_parent(vm, NULL);
		vm_run_loop(vm, sig_fd);
	} else {
		/* a VM whose guest never ran: its error, and no exit record */
		tell_parent(vm, vm->exit_msg);
		close(sig_fd);
	}
	/* nobody serves the socket from here on: refuse rather than leave clients waiting */
	ctl_server_stop_listening(vm->ctl);
	vm_devices_stop(vm);
	for (int i = 0; i < vm->nvcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (int i = 0; i < vm->nvcpus; i++)
		vcpu_stop(&vm->vcpus[i]);
	return 0;
}

/*
 * Every VM has a name: --name, the VM config's, the slice's, or vm-PID.
 * Taking it (the control socket's lock) comes first, so a name in use
 * changes nothing.
 */
static int vm_take_name(struct vm *vm)
{
	static const struct ctl_ops ops = {
		.request = vm_control_request,
		.console_input = control_console_input,
		.console_backlog = control_console_backlog,
	};
	struct ctl_ops mine = ops;
	char name[32];

	if (!vm->cfg->name) {
		if (vm->cfg->slice)
			snprintf(name, sizeof(name), "%s", vm->cfg->slice);
		else
			snprintf(name, sizeof(name), "vm-%d", (int)getpid());
		config_set_str(&vm->cfg->name, name);
	}
	mine.arg = vm;
	if (!vm->detached) {
		/* its console is the terminal that started it */
		mine.console_input = NULL;
		mine.console_backlog = NULL;
	}
	return ctl_server_open(&vm->ctl, vm->cfg->name, &vm->loop, &mine);
}

/* Detached: the serial port writes into a pipe the event loop drains. */
static int vm_open_console(struct vm *vm)
{
	int p[2];

	vm->console_write_fd = STDOUT_FILENO;
	if (!vm->detached)
		return 0;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
		return err_set_errno("cannot make the console pipe");
	vm->console_read_fd = p[0];
	vm->console_write_fd = p[1];
	if (vm->cfg->log) {
		vm->log_fd = open(vm->cfg->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (vm->log_fd < 0)
			return err_set_errno("cannot open the console log %s (--log)", vm->cfg->log);
	}
	return 0;
}

static void vm_teardown(struct vm *vm, int status)
{
	vm_close_inputs(vm);
	vm_stats_stop(vm);
	for (int i = 0; i < vm->nvcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm_devices_destroy(vm);
	/* the devices reset (no DMA goes on), then the IOMMU lets go of guest RAM */
	vm_vfio_close(vm);
	vm_close_disks(vm);
	if (vm->fd >= 0)
		close(vm->fd);
	kvm_host_close(&vm->kvm);
	vm_zero_physical(vm, "after the VM");
	guest_ram_unmap(&vm->ram);
	if (vm->wake_fd >= 0)
		close(vm->wake_fd);
	slice_leave(vm);
	/* a VM that never ran leaves no record (nor the run directory it made) */
	ctl_server_close(vm->ctl, vm->started_at ? status : -1, vm->exit_msg);
	vm->ctl = NULL;
	evloop_close(&vm->loop);
	if (vm->console_read_fd >= 0)
		close(vm->console_read_fd);
	if (vm->console_write_fd > STDERR_FILENO)
		close(vm->console_write_fd);
	if (vm->log_fd >= 0)
		close(vm->log_fd);
	pthread_mutex_destroy(&vm->exit_lock);
	pthread_mutex_destroy(&vm->gate_lock);
	pthread_cond_destroy(&vm->gate_cond);
}

static int report(struct vm *vm)
{
	if (vm->exit_msg[0])
		fprintf(stderr, "slicevm: %s\n", vm->exit_msg);
	return vm->exit_status;
}

int vm_run(struct vm_config *cfg)
{
	struct vm vm = {
		.cfg = cfg,
		.fd = -1,
		.wake_fd = -1,
		.ram_spec = { .backing = RAM_ANON, .numa_node = -1 },
		.kvm = { .fd = -1 },
		.loop = { .epfd = -1 },
		.detached = cfg->detach,
		.console_read_fd = -1,
		.console_write_fd = -1,
		.log_fd = -1,
		.initrd_fd = -1,
	};
	sigset_t old_mask;
	int status;

	/* A closed terminal or pipe must end writes with EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (block_signals(&old_mask)) {
		fprintf(stderr, "slicevm: %s\n", err_msg());
		return VM_EXIT_ERROR;
	}
	pthread_mutex_init(&vm.exit_lock, NULL);
	pthread_mutex_init(&vm.gate_lock, NULL);
	pthread_cond_init(&vm.gate_cond, NULL);
	vm.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm.wake_fd < 0)
		err_set_errno("eventfd failed");
	if (vm.wake_fd < 0 || evloop_init(&vm.loop) || vm_open_inputs(&vm) ||
	    vm_take_name(&vm) || vm_open_console(&vm) || slice_enter(&vm) ||
	    vm_vfio_open(&vm) || vm_prepare(&vm) || vm_vfio_map(&vm) || vm_create_kvm(&vm) || vm_devices_create(&vm) ||
	    vm_create_vcpus(&vm) || vm_start_kvm_workers(&vm) ||
	    vm_start_and_wait(&vm)) {
		fprintf(stderr, "slicevm: %s\n", err_msg());
		tell_parent(&vm, err_msg());
		snprintf(vm.exit_msg, sizeof(vm.exit_msg), "%s", err_msg());
		status = VM_EXIT_ERROR;
	} else {
		status = report(&vm);
	}
	vm_teardown(&vm, status);
	drain_ending_signals();
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	return status;
}
