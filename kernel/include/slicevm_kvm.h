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
 *   2  stage 2: KVM_CAP_SLICEVM_TIMER, the guest's LAPIC timer on the
 *      physical LAPIC timer of its CPU (see below).
 *   3  stage 5, SVM: KVM_CAP_SLICEVM_PMU, the guest's performance counters
 *      on the physical ones of its CPU (see below).
 *   4  stage 3, SVM: KVM_CAP_SLICEVM_IRQ, physical interrupts delivered to
 *      the guest without exits, the host's IPIs to its CPU sent as NMIs
 *      (see below).
 *   5  stage 4: KVM_CAP_SLICEVM_IPI, the IPIs between a VM's vCPUs taken
 *      by the receiving vCPU without an exit (see below).
 *   6  stage 5, VMX: KVM_CAP_SLICEVM_PMU on Intel's architectural PMU;
 *      its answer counts fixed counters in bits 15:8 (see below).
 *   7  stage 3: KVM_CAP_SLICEVM_IRQ also takes the guest's device
 *      interrupts (MSIs, edge IOAPIC pins) without exits (see below).
 */
#define SLICEVM_KVM_ABI_VERSION		7

/*
 * Capability numbers: a block of 16 far above upstream's (which count up
 * from 0 and were near 240 in Linux 6.12), starting at 0x534c ("SL").
 * Upstream never hands these out, so a stock KVM answers 0 for each.
 *
 *   0x534c            KVM_CAP_SLICEVM: KVM_CHECK_EXTENSION returns the ABI
 *                     version (>= 1) when the component is loaded.
 *   0x534d            KVM_CAP_SLICEVM_TIMER (ABI 2, below).
 *   0x534e            KVM_CAP_SLICEVM_PMU (ABI 3, below).
 *   0x534f            KVM_CAP_SLICEVM_IRQ (ABI 4, below).
 *   0x5350            KVM_CAP_SLICEVM_IPI (ABI 5, below).
 *   0x5351 - 0x535b   reserved for the capabilities of later stages,
 *                     answered by KVM_CHECK_EXTENSION with what this host
 *                     supports (0: not at all) and turned on with
 *                     KVM_ENABLE_CAP: device interrupts and IPIs without
 *                     exits, NMIs kept for the host, the PMU handed to the
 *                     guest. Each is named here with the ABI version that
 *                     introduces it.
 */
#define SLICEVM_KVM_CAP_FIRST		0x534c
#define SLICEVM_KVM_CAP_LAST		0x535b

#define KVM_CAP_SLICEVM			0x534c

/*
 * KVM_CAP_SLICEVM_TIMER (ABI 2): the guest's LAPIC timer on the physical
 * LAPIC timer of the one CPU its vCPU is pinned to, so that the guest
 * programs it (x2APIC TMICT, TMCCT, TDCR: one-shot mode) without exits.
 *
 * KVM_CHECK_EXTENSION on a VM fd (or /dev/kvm) returns the period of the
 * host's APIC timer clock in nanoseconds (>= 1; measured once against the
 * host clock) when this host supports it, 0 when not: no component, AVIC
 * or APICv on, a host APIC not in x2APIC mode, or a period that is not a
 * whole number of ns.
 *
 * The VMM then, before creating vCPUs, sets KVM_CAP_X86_APIC_BUS_CYCLES_NS
 * on the VM to exactly that period (the guest's timer counts at the
 * physical rate, in KVM's emulation too), and from each vCPU's own thread,
 * once it is pinned, calls KVM_ENABLE_CAP(KVM_CAP_SLICEVM_TIMER) on the
 * vCPU fd with args[0] = 0 and flags = 0. That call fails with
 *   EINVAL  args or flags not 0;
 *   ENXIO   the host cannot (as for a 0 answer above), or the vCPU has no
 *           in-kernel LAPIC;
 *   EDOM    the VM's APIC bus period is not the host's (set
 *           KVM_CAP_X86_APIC_BUS_CYCLES_NS first);
 *   EPERM   the calling thread may run on more than one CPU, its CPU is
 *           not nohz_full (the host's tick would need the timer), or no
 *           housekeeping CPU is left to keep the host's timers due;
 *   EBUSY   another vCPU already has that CPU's timer.
 * On success the guest's timer is on the physical one whenever the vCPU
 * enters the guest on that CPU with its LAPIC in x2APIC mode and the timer
 * in one-shot mode; otherwise KVM emulates it as stock KVM does, for that
 * entry. A host timer pending on the CPU stays due: a housekeeping CPU
 * kicks the vCPU out just before it, and the exit gives it back. The guest
 * should be shown no TSC-deadline timer (CPUID.1:ECX[24]), so it uses the
 * one-shot mode that is passed through.
 */
#define KVM_CAP_SLICEVM_TIMER		0x534d

/*
 * Per-vCPU counters of the direct timer, in KVM's debugfs directory of each
 * vCPU (/sys/kernel/debug/kvm/<pid>-<vm fd>/vcpu<N>/), one line:
 *   "enabled E cpu C direct D stock S host_busy H fired F host_shared X
 *    kicks K irq I irq_direct J irq_busy B in_service V host_ipis N nmis M
 *    nmis_late L stray R ipi P ipis Q ipis_again A"
 * E 0/1; C the CPU (-1 until enabled); D entries with the guest's timer on
 * the physical one, X of those while the host's own timer was pending
 * there (a backup kick, K of them so far, ends the guest's run just before
 * the host's is due); S entries with KVM's emulation, H of those because
 * the host's timer could not wait (periodic, or due at once); F expiries
 * of the physical timer delivered to the guest. The rest is stage 3's
 * (KVM_CAP_SLICEVM_IRQ, below): I 0/1; J of the direct entries, those with
 * physical interrupts delivered to the guest, B those without because an
 * interrupt of KVM's was pending or in service; V exits taken while the
 * guest was in its physical timer interrupt's handler (KVM then keeps it
 * in service until the guest's EOI); N host IPIs to the CPU sent as NMIs,
 * in M NMIs (several IPIs can share one), L of those claimed late (another
 * NMI took the claim first); R host vectors the guest took (an APIC error,
 * an interrupt routed to its CPU by mistake), raised again for the host.
 * Then stage 4's (KVM_CAP_SLICEVM_IPI, below): P 0/1; Q IPIs of the VM's
 * other vCPUs sent to this one's CPU physically, A of those delivered by
 * KVM again at an exit (not seen taken). From ABI 7, the device
 * interrupts': " dev_vectors G devs T devs_back U dev_in_service W": G
 * vectors of the CPU held for the guest (0: none, its device interrupts
 * go through KVM); T device interrupts sent to the CPU physically, U of
 * those taken by the host after an exit and delivered by KVM; W exits
 * taken while the guest was in the handler of one.
 */
#define SLICEVM_KVM_TIMER_DEBUGFS	"slicevm_timer"

/*
 * KVM_CAP_SLICEVM_IRQ (ABI 4): on top of the direct timer, the
 * guest's physical interrupts are not intercepted: its timer's expiry
 * interrupts it and it ends the interrupt with its EOI on the physical
 * x2APIC, without an exit. The host reaches that CPU only by NMI: its
 * IPIs there (reschedule, call-function; TLB shootdowns, KVM's kicks, the
 * direct timer's backup kick) become an NMI, which exits the guest, and
 * the NMI's handler raises each IPI's vector again as a self-IPI, handled
 * as soon as the host enables interrupts.
 *
 * KVM_CHECK_EXTENSION answers 1 when this host can, 0 when not: no
 * component, or no direct timer (its answer is 0).
 *
 * From each vCPU's own thread, after KVM_ENABLE_CAP(KVM_CAP_SLICEVM_TIMER):
 * KVM_ENABLE_CAP(KVM_CAP_SLICEVM_IRQ) on the vCPU fd with args and flags 0.
 * It fails with
 *   EINVAL  args or flags not 0;
 *   ENXIO   the host cannot (as for a 0 answer above);
 *   ENOENT  the vCPU does not have the direct timer (enable it first);
 *   EPERM   the calling thread is not pinned to the direct timer's CPU.
 * An entry gets it only when it has the direct timer loaded, the guest's
 * timer vector is the one Linux uses (0xec, LOCAL_TIMER_VECTOR: the host,
 * which shares it, takes a stray one as a harmless early tick) and its TPR
 * lets it through, no interrupt is pending or in service in KVM's emulated
 * LAPIC nor pending in the physical one, the guest ends interrupts only
 * with the EOI register (no KVM paravirtual EOI, which the VMM must hide
 * from it, nor Hyper-V's), and it has not enabled SVM or VMX for guests of
 * its own; otherwise the entry intercepts interrupts as before. The
 * guest's IPIs stay KVM's (stage 4 below takes them): they make the entries
 * that follow intercept until the guest's EOI of them. Up to ABI 6 so did
 * its devices' interrupts. From ABI 7, while the vCPU has it, the host
 * holds the device vectors its CPU has free but 32; an edge interrupt with fixed
 * or lowest-priority delivery that KVM would deliver to the vCPU (an MSI
 * through irqfd or KVM_SIGNAL_MSI, an edge IOAPIC pin) with one of those
 * vectors goes to the CPU as a physical interrupt while an entry takes
 * them: the guest takes it and ends it without an exit. One that reaches
 * the CPU after the exit is taken by the host and delivered by KVM,
 * exactly once. A vector the host keeps there (its own system vectors) and
 * one KVM's IOAPIC must see ended go through KVM as before.
 */
#define KVM_CAP_SLICEVM_IRQ		0x534f

/*
 * KVM_CAP_SLICEVM_IPI (ABI 5): on top of KVM_CAP_SLICEVM_IRQ, the IPIs
 * between the VM's vCPUs that have it reach the receiving vCPU without
 * an exit there. The sender's x2APIC ICR write still exits, and KVM checks
 * the destinations: only vCPUs of the same VM (one, several of a logical
 * cluster, or all but the sender; KVM's PV_SEND_IPI hypercall names them
 * too) with their APIC enabled, fixed delivery, edge, one of the vectors
 * Linux sends its IPIs to other CPUs with (0xfd reschedule, 0xfc and 0xfb
 * call-function). When a receiving vCPU is in an entry that takes
 * physical interrupts (stage 3's), the vector goes to its CPU as a
 * physical IPI; the guest takes it through its own IDT and ends it
 * with its physical EOI. Anything else is delivered by KVM as before. An
 * exit of the receiver delivers again, through KVM, each such IPI it did
 * not leave in service (the APIC cannot tell one taken from one still on
 * its way): the guest may take one twice, never none, which Linux's
 * handlers for these vectors allow. An IPI that reaches the CPU after the
 * exit is taken by the host's handler for that vector, harmless when
 * nothing was asked of it. For Linux guests only: a guest OS that gives
 * these vectors other meanings, or counts its IPIs, would see duplicates.
 *
 * KVM_CHECK_EXTENSION answers as for KVM_CAP_SLICEVM_IRQ.
 *
 * From each vCPU's own thread, after KVM_ENABLE_CAP(KVM_CAP_SLICEVM_IRQ):
 * KVM_ENABLE_CAP(KVM_CAP_SLICEVM_IPI) on the vCPU fd with args and flags 0.
 * It fails with
 *   EINVAL  args or flags not 0;
 *   ENXIO   the host cannot (as for a 0 answer);
 *   ENOENT  the vCPU does not have direct interrupts (enable them first);
 *   EPERM   the calling thread is not pinned to the direct timer's CPU.
 */
#define KVM_CAP_SLICEVM_IPI		0x5350

/*
 * KVM_CAP_SLICEVM_PMU (ABI 3; VMX from ABI 6): the guest's performance
 * counters on the physical core counters of the one CPU its vCPU is pinned
 * to: the guest programs and reads them (their MSRs) without exits, and a
 * counter's overflow reaches it as its LVTPC interrupt. RDPMC exits and is
 * answered from the counts the last exit saved. The host's own counters on
 * that CPU are saved at each entry and restored at each exit: host perf
 * events there do not count while the guest runs (as with exclude_guest),
 * and are never disturbed.
 *
 * KVM_CHECK_EXTENSION answers, when this host can, the general-purpose
 * counters the guest may use in bits 7:0 and its fixed counters in bits
 * 15:8: 6 on AMD (its core performance counters, MSRs
 * 0xc0010200-0xc001020b); on Intel those of KVM's own CPUID leaf 0xA
 * (architectural PMU version 2, at most 8 general-purpose and 3 fixed),
 * which the VMM passes on as it is. 0 when not: no component, no
 * PerfCtrExtCore (QEMU's TCG has no PMU at all), or on Intel a hybrid CPU,
 * KVM loaded with enable_pmu=0, no VM-entry/exit control for
 * IA32_PERF_GLOBAL_CTRL or no full-width counter writes. Before ABI 6 a
 * VMX host answered 0.
 *
 * The VMM, before creating vCPUs, turns KVM's own PMU emulation off for the
 * VM (KVM_CAP_PMU_CAPABILITY with KVM_PMU_CAP_DISABLE) and shows the guest
 * on AMD PerfCtrExtCore (CPUID 8000_0001h ECX[23]) without PerfMonV2
 * (8000_0022h EAX[0]); on Intel KVM's leaf 0xA, without PDCM
 * (CPUID.1:ECX[15]: no IA32_PERF_CAPABILITIES, so no full-width writes,
 * PEBS or LBR format) and without DS (CPUID.1:EDX[21], ECX[2] and [4]: no
 * PEBS or BTS, which stay KVM's and are off). Then from each vCPU's own
 * thread, once pinned, it calls KVM_ENABLE_CAP(KVM_CAP_SLICEVM_PMU) on the
 * vCPU fd with args 0 and flags 0. That call fails with
 *   EINVAL      args or flags not 0;
 *   ENXIO       the host cannot (as for a 0 answer above), or the vCPU has
 *               no in-kernel LAPIC;
 *   EOPNOTSUPP  KVM's own PMU is still on for the VM;
 *   EPERM       the thread may run on more than one CPU, or its CPU is not
 *               nohz_full;
 *   EBUSY       another vCPU already has that CPU's counters, or this one
 *               has another CPU's (its thread moved).
 * An entry on another CPU (the thread was moved) leaves the guest's
 * counters saved and its accesses to KVM, which answers as for a VM
 * without a PMU.
 *
 * Per-vCPU counters in debugfs, beside slicevm_timer: "slicevm_pmu",
 *   "enabled E cpu C loads L pmis P"
 * L entries with the guest's counters loaded, P overflow interrupts
 * delivered to the guest.
 */
#define KVM_CAP_SLICEVM_PMU		0x534e
#define SLICEVM_KVM_PMU_GP(answer)	((answer) & 0xff)
#define SLICEVM_KVM_PMU_FIXED(answer)	(((answer) >> 8) & 0xff)
#define SLICEVM_KVM_PMU_DEBUGFS		"slicevm_pmu"

/*
 * The same version as a read-only module parameter of kvm.ko, so a tool
 * can tell the component is loaded without opening /dev/kvm (absent on
 * stock KVM; cannot be set, also not at load time).
 */
#define SLICEVM_KVM_ABI_PARAM		"/sys/module/kvm/parameters/slicevm_abi"

#endif /* SLICEVM_KVM_H */
