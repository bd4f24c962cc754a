/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_SANDBOX_H
#define SLICEVM_VMM_SANDBOX_H

#include <stdbool.h>

/*
 * The VMM's sandbox: once set-up is done, each thread confines itself with
 * a seccomp filter for its class, no_new_privs and no capabilities.
 *
 * Threat model. The guest is hostile. Guest-controlled data is parsed by
 * the device emulation, which runs in the vCPU threads (port I/O, MMIO)
 * and, later, the I/O threads (virtio queues); a bug there must not give
 * the guest the host. A confined thread cannot start programs (execve,
 * execveat), processes (fork, vfork, clone without CLONE_THREAD), trace or
 * read other processes (ptrace, process_vm_*), change mounts, namespaces or
 * credentials, load kernel code (init_module, finit_module, kexec_*, bpf),
 * map memory executable (mmap/mprotect with PROT_EXEC), signal other
 * processes, or push input into the user's terminal (TIOCSTI). A vCPU
 * thread cannot open files or sockets either, and may issue only KVM
 * and VFIO ioctls (and TCGETS; VFIO for a passed-through device's MSI-X,
 * with pread/pwrite for its config space and trapped BAR pages); an I/O thread may not open files or create threads.
 * The main thread keeps what its run-time and teardown need: openat for
 * SQLite (the ledger) and any ioctl but TIOCSTI/TIOCLINUX; with its
 * capabilities gone, a root VMM still has root's file permissions there.
 * io_uring work is not seen by seccomp: rings made for I/O threads must be
 * restricted at set-up (IORING_REGISTER_RESTRICTIONS).
 *
 * A forbidden system call ends the whole VMM at once with exit status
 * SANDBOX_EXIT_STATUS (128 + SIGSYS) after one line on standard error:
 *   slicevm: sandbox: forbidden system call 59 (execve) in the vCPU thread
 *   (vcpu0): this is a slicevm bug, please report it
 * No teardown runs (as after SIGKILL): the kernel frees the VM, a slice
 * claim is taken over by the next VM, and the terminal is restored only if
 * a violation hook was set (sandbox_set_violation_hook). A forbidden call
 * made with SIGSYS blocked (glibc blocks every signal around clone() in
 * pthread_create) is killed by the kernel with SIGSYS, without the line;
 * the kernel log has an audit record of every violation.
 *
 * Capabilities are dropped from every set (effective, permitted,
 * inheritable, ambient, and the bounding set when CAP_SETPCAP allows):
 * after set-up nothing needs one. The ledger claim is released at teardown
 * through the ledger's already open SQLite connection; its files are
 * root's, so root's owner permissions suffice without CAP_DAC_OVERRIDE.
 *
 * Filters are per thread: each thread calls sandbox_enter() for itself.
 * A thread created after its creator entered inherits the creator's filter
 * and its own stacks on top, so it gets the intersection. The vCPU and I/O
 * classes are subsets of the main class, so any order works; the order to
 * use is: create the vCPU and I/O threads (each enters its own class when
 * its set-up is done), then the main thread enters SANDBOX_MAIN. That
 * keeps the main filter off the vCPUs' KVM_RUN path. Threads the main
 * thread creates afterwards (zeroing reserved memory at teardown) run
 * under the main filter.
 */

enum sandbox_class {
	SANDBOX_MAIN,	/* event loop, control socket, teardown */
	SANDBOX_VCPU,	/* KVM_RUN and the device emulation it calls */
	SANDBOX_IO,	/* device back ends (virtio queues, disks, taps) */
	SANDBOX_NR
};

/* The exit status after a forbidden system call: 128 + SIGSYS. */
#define SANDBOX_EXIT_STATUS	159

/*
 * Confines the calling thread for good: no_new_privs, no capabilities,
 * the filter of class @c. Returns -1 with err_msg() set when the kernel
 * cannot (no seccomp): the caller ends the VM.
 *
 * Test-only: with SLICEVM_SANDBOX_SELFTEST set to the class's name
 * ("main", "vcpu", "io"), the thread makes a forbidden system call
 * (execve of a path that does not exist) right after entering.
 */
int sandbox_enter(enum sandbox_class c);

/* False when SLICEVM_NO_SANDBOX=1 asks to run unconfined (for debugging). */
bool sandbox_enabled(void);

/* "main", "vcpu" or "io": the names SLICEVM_SANDBOX_SELFTEST takes. */
const char *sandbox_class_name(enum sandbox_class c);

/*
 * @fn runs in the signal handler after the violation line is written and
 * before the process exits (e.g. to restore the terminal with tcsetattr):
 * it must be async-signal-safe and may only make system calls every class
 * allows (write, ioctl for the main thread, ...). NULL removes it.
 */
void sandbox_set_violation_hook(void (*fn)(void));

#endif
