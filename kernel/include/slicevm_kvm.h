/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef SLICEVM_KVM_H
#define SLICEVM_KVM_H

/*
 * The ABI between slicevm's kernel component (KVM built from Debian's
 * source with kernel/patches applied) and user space. This one header is
 * included by both sides: the patched arch/x86/kvm through the include
 * path its Makefile sets, the VMM and `slicevm host check` through
 * -Ikernel/include. It must stay self-contained and valid in the kernel
 * and in user space alike: nothing but <linux/...> UAPI headers (for
 * __u32 and _IOW when ioctls and structures arrive), never anything of
 * src/ or of libc.
 *
 * Versioning: SLICEVM_KVM_ABI_VERSION counts ABI revisions. A KVM with the
 * component answers KVM_CHECK_EXTENSION(KVM_CAP_SLICEVM), on /dev/kvm or a
 * VM fd, with the version it implements; stock KVM answers 0. Each version
 * only adds to the previous one (new capabilities, new ioctls, new fields
 * at the end of structures with a size or flags member), so user space
 * that wants a feature of version N checks "version >= N". A change that
 * cannot be made that way takes a new capability number, never a new
 * meaning for an old one.
 *
 *   1  stage 1: the component is loaded and says so; guests run exactly
 *      as on stock KVM.
 */
#define SLICEVM_KVM_ABI_VERSION		1

/*
 * Capability numbers: a block of 16 far above upstream's (which count up
 * from 0 and were near 240 in Linux 6.12), starting at 0x534c ("SL").
 * Upstream never hands these out, so a stock KVM answers 0 for each.
 *
 *   0x534c            KVM_CAP_SLICEVM: KVM_CHECK_EXTENSION returns the ABI
 *                     version (>= 1) when the component is loaded.
 *   0x534d - 0x535b   reserved for the per-VM capabilities of later stages,
 *                     turned on with KVM_ENABLE_CAP on the VM fd before any
 *                     vCPU exists and answered by KVM_CHECK_EXTENSION with
 *                     what this host supports (0: not at all): the guest's
 *                     LAPIC timer on the physical timer, device interrupts
 *                     and IPIs posted without exits, NMIs kept for the host,
 *                     the PMU handed to the guest. Each is named here with
 *                     the ABI version that introduces it.
 */
#define SLICEVM_KVM_CAP_FIRST		0x534c
#define SLICEVM_KVM_CAP_LAST		0x535b

#define KVM_CAP_SLICEVM			0x534c

/*
 * The same version as a read-only module parameter of kvm.ko, so a tool
 * can tell the component is loaded without opening /dev/kvm (absent on
 * stock KVM; cannot be set, also not at load time).
 */
#define SLICEVM_KVM_ABI_PARAM		"/sys/module/kvm/parameters/slicevm_abi"

#endif /* SLICEVM_KVM_H */
