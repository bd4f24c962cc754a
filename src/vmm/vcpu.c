// SPDX-License-Identifier: GPL-2.0
/*
 * One thread per vCPU, each looping on KVM_RUN and handing port I/O to the
 * bus. vCPU 0 starts at the kernel's entry with the state boot_setup()
 * computed; the others wait in KVM for the guest's INIT/SIPI.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lib/err.h"
#include "vmm/cpuid.h"
#include "vmm/direct.h"
#include "vmm/sandbox.h"
#include "vmm/slice.h"
#include "vmm/vm.h"
#include "vmm/vm_devices.h"

#define VCPU_KICK_SIGNAL	SIGUSR1

#define MSR_IA32_TSC		0x10
#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102

#define MISC_ENABLE_FAST_STRING	(1ULL << 0)
#define MTRR_ENABLE		(1ULL << 11)
#define MTRR_TYPE_WRBACK	6

#define APIC_LVT_LINT0		0x350
#define APIC_LVT_LINT1		0x360
#define APIC_MODE_NMI		0x4
#define APIC_MODE_EXTINT	0x7

static void kick_handler(int sig)
{
	/* Only here to make KVM_RUN return with EINTR. */
}

int vcpu_install_kick_handler(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL))
		return err_set_errno("cannot install the vCPU kick handler");
	return 0;
}

static const struct kvm_cpuid_entry2 *find_leaf(const struct kvm_cpuid2 *cpuid,
						uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == function &&
		    cpuid->entries[i].index == index)
			return &cpuid->entries[i];
	return NULL;
}

/*
 * XCR0 with every XSAVE feature the guest may use. KVM sizes the XSAVE
 * area it reports in CPUID 0xD.0 EBX from the vCPU's XCR0 when the CPUID
 * is set, and some KVMs do not resize it when the guest then enables AVX;
 * Linux sees the mismatch and turns XSAVE (and AVX) off. Starting with the
 * features enabled that Linux will enable anyway avoids that.
 */
static int set_xcr0(struct vcpu *vcpu, const struct kvm_cpuid2 *cpuid)
{
	const struct kvm_cpuid_entry2 *basic = find_leaf(cpuid, 1, 0);
	const struct kvm_cpuid_entry2 *xsave = find_leaf(cpuid, 0xD, 0);
	struct kvm_xcrs xcrs = { .nr_xcrs = 1 };

	if (!basic || !(basic->ecx & (1U << 26)) || !xsave)
		return 0;	/* no XSAVE: XCR0 does not exist */
	xcrs.xcrs[0].xcr = 0;
	xcrs.xcrs[0].value = xsave->eax | ((uint64_t)xsave->edx << 32);
	if (ioctl(vcpu->fd, KVM_SET_XCRS, &xcrs))
		return err_set_errno("KVM_SET_XCRS failed for vCPU %d", vcpu->index);
	return 0;
}

static int apply_cpuid(struct vcpu *vcpu, struct kvm_cpuid2 *cpuid)
{
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid))
		return err_set_errno("KVM_SET_CPUID2 failed for vCPU %d", vcpu->index);
	return 0;
}

static int set_cpuid(struct vcpu *vcpu)
{
	const struct kvm_cpuid2 *supported = vcpu->vm->kvm.supported_cpuid;
	size_t bytes = sizeof(*supported) +
		       supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *cpuid = malloc(bytes);
	int ret;

	if (!cpuid)
		return err_set("out of memory for CPUID");
	memcpy(cpuid, supported, bytes);
	cpuid_for_vcpu(cpuid, vcpu->index, vcpu->vm->cfg->cpus, vcpu->vm->in_slice,
		       vcpu->vm->kvm.tsc_deadline, vcpu->vm->cfg->direct);
	/* Set twice: XCR0 can only take features the guest's CPUID allows. */
	ret = apply_cpuid(vcpu, cpuid) || set_xcr0(vcpu, cpuid) ||
	      apply_cpuid(vcpu, cpuid) ? -1 : 0;
	free(cpuid);
	return ret;
}

/* The MSR values a Linux kernel expects to find at its entry point. */
static int set_msrs(struct vcpu *vcpu)
{
	static const struct kvm_msr_entry boot_msrs[] = {
		{ .index = MSR_IA32_SYSENTER_CS },
		{ .index = MSR_IA32_SYSENTER_ESP },
		{ .index = MSR_IA32_SYSENTER_EIP },
		{ .index = MSR_STAR },
		{ .index = MSR_LSTAR },
		{ .index = MSR_CSTAR },
		{ .index = MSR_SYSCALL_MASK },
		{ .index = MSR_KERNEL_GS_BASE },
		{ .index = MSR_IA32_TSC },
		{ .index = MSR_IA32_MISC_ENABLE, .data = MISC_ENABLE_FAST_STRING },
		/* Memory write-back by default, as firmware leaves it. */
		{ .index = MSR_MTRR_DEF_TYPE, .data = MTRR_ENABLE | MTRR_TYPE_WRBACK },
	};
	const size_t n = sizeof(boot_msrs) / sizeof(boot_msrs[0]);
	struct kvm_msrs *msrs;
	int ret;

	msrs = calloc(1, sizeof(*msrs) + sizeof(boot_msrs));
	if (!msrs)
		return err_set("out of memory for MSRs");
	msrs->nmsrs = n;
	memcpy(msrs->entries, boot_msrs, sizeof(boot_msrs));
	ret = ioctl(vcpu->fd, KVM_SET_MSRS, msrs);
	if (ret < 0)
		err_set_errno("KVM_SET_MSRS failed for vCPU %d", vcpu->index);
	else if ((size_t)ret != n)	/* KVM stops at the first MSR it refuses */
		err_set("KVM refused MSR %#x on vCPU %d", msrs->entries[ret].index,
			vcpu->index);
	free(msrs);
	return ret >= 0 && (size_t)ret == n ? 0 : -1;
}

/* LINT0 takes the PIC's interrupts (ExtINT), LINT1 the NMI line, as the MADT says. */
static int set_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	uint32_t *lint0 = (uint32_t *)&lapic.regs[APIC_LVT_LINT0];
	uint32_t *lint1 = (uint32_t *)&lapic.regs[APIC_LVT_LINT1];

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic))
		return err_set_errno("KVM_GET_LAPIC failed for vCPU %d", vcpu->index);
	*lint0 = (*lint0 & ~0x700U) | (APIC_MODE_EXTINT << 8);
	*lint1 = (*lint1 & ~0x700U) | (APIC_MODE_NMI << 8);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic))
		return err_set_errno("KVM_SET_LAPIC failed for vCPU %d", vcpu->index);
	return 0;
}

static int set_fpu(struct vcpu *vcpu)
{
	struct kvm_fpu fpu = {
		.fcw = 0x37f,		/* x87 default control word after FNINIT */
		.mxcsr = 0x1f80,	/* SSE: all exceptions masked */
	};

	if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu))
		return err_set_errno("KVM_SET_FPU failed for vCPU %d", vcpu->index);
	return 0;
}

int vcpu_create(struct vm *vm, struct vcpu *vcpu, int index)
{
	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->index = index;
	vcpu->fd = ioctl(vm->fd, KVM_CREATE_VCPU, index);
	if (vcpu->fd < 0)
		return err_set_errno("KVM_CREATE_VCPU %d failed", index);
	vcpu->run = mmap(NULL, vm->kvm.vcpu_mmap_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		return err_set_errno("cannot map the run area of vCPU %d", index);
	}
	if (set_cpuid(vcpu) || set_msrs(vcpu) || set_lapic(vcpu) || set_fpu(vcpu))
		return -1;
	return 0;
}

static void load_segment(struct kvm_segment *dst, const struct boot_segment *src)
{
	*dst = (struct kvm_segment){
		.base = src->base,
		.limit = src->limit,
		.selector = src->selector,
		.type = src->type,
		.present = src->present,
		.dpl = src->dpl,
		.db = src->db,
		.s = src->s,
		.l = src->l,
		.g = src->g,
	};
}

int vcpu_setup_boot(struct vcpu *vcpu, const struct boot_cpu_state *boot)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = boot->rip,
		.rsp = boot->rsp,
		.rbp = boot->rsp,
		.rsi = boot->rsi,
		.rbx = boot->rbx,
		.rflags = boot->rflags,
	};

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs))
		return err_set_errno("KVM_GET_SREGS failed");
	load_segment(&sregs.cs, &boot->cs);
	load_segment(&sregs.ds, &boot->ds);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	load_segment(&sregs.tr, &boot->tr);
	sregs.ldt = (struct kvm_segment){ .type = 2, .unusable = 1 };
	sregs.gdt.base = boot->gdt_base;
	sregs.gdt.limit = boot->gdt_limit;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = boot->cr0;
	sregs.cr3 = boot->cr3;
	sregs.cr4 = boot->cr4;
	sregs.efer = boot->efer;

	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs))
		return err_set_errno("KVM_SET_SREGS failed");
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs))
		return err_set_errno("KVM_SET_REGS failed");
	return 0;
}

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	/* String I/O (rep ins/outs) arrives as @count back-to-back accesses. */
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		iobus_access(&vcpu->vm->pio, run->io.port, data, run->io.size,
			     is_write);
}

static void handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	int len = (int)run->mmio.len;

	/* KVM splits accesses into 1, 2, 4 or 8 bytes; anything else floats high */
	if (len != 1 && len != 2 && len != 4 && len != 8) {
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0xFF, sizeof(run->mmio.data));
		return;
	}
	vm_devices_mmio(vcpu->vm, run->mmio.phys_addr, run->mmio.data, len,
			run->mmio.is_write);
}

static void handle_system_event(struct vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_exit(vcpu->vm, VM_EXIT_POWEROFF, NULL);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_exit(vcpu->vm, VM_EXIT_REBOOT, NULL);
		break;
	default:
		vm_request_exit(vcpu->vm, VM_EXIT_CRASH,
				"guest crashed (KVM system event %u)",
				vcpu->run->system_event.type);
	}
}

/* Handles one exit; false when the vCPU must stop. */
static bool handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(vcpu);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		vm_request_exit(vcpu->vm, VM_EXIT_CRASH,
				"guest triple-faulted on vCPU %d", vcpu->index);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(vcpu);
		return false;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; treat as the guest halting for good. */
		vm_request_exit(vcpu->vm, VM_EXIT_POWEROFF, NULL);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		vm_request_exit(vcpu->vm, VM_EXIT_CRASH,
				"KVM could not enter vCPU %d (hardware reason %#llx)",
				vcpu->index,
				(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		vm_request_exit(vcpu->vm, VM_EXIT_CRASH,
				"KVM internal error on vCPU %d (suberror %u%s)",
				vcpu->index, run->internal.suberror,
				run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
				": instruction emulation failed" : "");
		return false;
	default:
		vm_request_exit(vcpu->vm, VM_EXIT_CRASH,
				"unexpected KVM exit %u on vCPU %d",
				run->exit_reason, vcpu->index);
		return false;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	sigset_t kick;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%d", vcpu->index);
	pthread_setname_np(pthread_self(), name);
	atomic_store(&vcpu->tid, gettid());
	/* pinned alone to its CPU first: KVM gives the direct features only then */
	if (slice_place_vcpu(vm, vcpu->index) ||
	    direct_enable_vcpu(vm->cfg->direct, vcpu->fd, vcpu->index,
			       slice_vcpu_cpu(vm, vcpu->index))) {
		vm_request_exit(vm, VM_EXIT_ERROR, "%s", err_msg());
		vm_gate_wait(vm);
		return NULL;
	}
	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	/* Set-up is done: from here on KVM_RUN and the devices' exits only. */
	if (sandbox_enabled() && sandbox_enter(SANDBOX_VCPU))
		vm_request_exit(vm, VM_EXIT_ERROR, "%s", err_msg());
	/* no vCPU enters the guest before every one got this far */
	vm_gate_wait(vm);

	while (!atomic_load(&vm->stopping)) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vcpu->run->immediate_exit = 0;
				continue;
			}
			vm_request_exit(vm, VM_EXIT_ERROR, "KVM_RUN failed on vCPU %d: %s",
					vcpu->index, strerror(errno));
			break;
		}
		if (!handle_exit(vcpu))
			break;
	}
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	int ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);

	if (ret) {
		errno = ret;
		return err_set_errno("cannot start the thread of vCPU %d", vcpu->index);
	}
	vcpu->thread_started = true;
	return 0;
}

/* Makes the vCPU leave KVM_RUN now, or not enter it again. */
void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->thread_started)
		return;
	vcpu->run->immediate_exit = 1;
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

#define VCPU_STOP_RETRY_MS	50
#define VCPU_STOP_GIVE_UP_S	10

/*
 * Joins a kicked vCPU thread. A thread that was between its checks and a
 * blocking call when the kick landed would sleep through it, so the kick
 * is repeated until the thread has gone. One stuck in the kernel for good
 * (output to a hung network file system) cannot be joined: the VMM then
 * exits without the rest of its teardown, which the kernel does for it.
 */
void vcpu_stop(struct vcpu *vcpu)
{
	struct timespec until;

	if (!vcpu->thread_started)
		return;
	for (int tries = 0;; tries++) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += VCPU_STOP_RETRY_MS * 1000 * 1000;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (pthread_clockjoin_np(vcpu->thread, NULL, CLOCK_MONOTONIC,
					 &until) != ETIMEDOUT)
			break;
		if (tries == VCPU_STOP_GIVE_UP_S * 1000 / VCPU_STOP_RETRY_MS) {
			fprintf(stderr, "slicevm: vCPU %d does not stop (stuck in the kernel); exiting\n",
				vcpu->index);
			_exit(VM_EXIT_ERROR);
		}
		pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
	}
	vcpu->thread_started = false;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	vcpu_stop(vcpu);
	if (vcpu->run)
		munmap(vcpu->run, vcpu->vm->kvm.vcpu_mmap_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}
