// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-hold: keep one idle KVM VM open in the lab's L1 for its whole life.
 *
 * Why: creating the first VM and destroying the last one flips static keys
 * (the scheduler's preempt-notifier key; KVM's lapic keys on the first
 * vCPU), which the kernel does by live-patching its text with int3. Under
 * QEMU's multi-threaded TCG another vCPU can run a stale translation of
 * that text and L1 dies with "Oops: int3" in __schedule. With one VM (with
 * an in-kernel irqchip and a never-run vCPU) held open, those keys stay on
 * and the VMs under test never patch kernel text.
 *
 * Runs in the background from tests/lab/l1-init; never returns.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(void)
{
	int kvm, vm;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("kvm-hold: /dev/kvm");
		return 1;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		perror("kvm-hold: KVM_CREATE_VM");
		return 1;
	}
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		perror("kvm-hold: KVM_CREATE_IRQCHIP");
	if (ioctl(vm, KVM_CREATE_VCPU, 0) < 0)
		perror("kvm-hold: KVM_CREATE_VCPU");
	close(kvm);
	for (;;)
		pause();
}
