#!/bin/bash
# bench/timer.sh SLICEVM: the direct-timer and direct-interrupt benchmark
# (issue 10, stages 2 and 3, and stage 4's baseline: exits per IPI between
# two vCPUs), in ONE run of the nested lab (make bench-timer). See
# bench/README.md, "Direct timer".
#
# It runs the lab case tests/lab/cases/direct_timer.sh (its own L1: QEMU 10
# with x2APIC, CPU 1 nohz_full and isolated, slice s on CPU 1), whose guest
# idles 10 s and then sleeps 5000 x 1 ms (tests/lab/timerloop.c) in six
# runs: with the kernel component and `--direct timer`; with the component
# but without it; with it and a host task sleeping on CPU 1 as well; with
# `--direct timer,irq`; with that, the host task and a storm of host IPIs
# to CPU 1; and on Debian's stock KVM. KVM's kvm_exit events of the vCPU
# thread are counted by exit reason in a kernel histogram for each window;
# the case logs them and this script tabulates them
# (bench/timer-report.awk): exits per second idle, per second and per guest
# timer tick in the loop, by reason, with the direct features against stock
# KVM measured in the same run; and two runs whose guest writes and
# verifies 64M of a virtio disk with fio, with `--direct timer` and with
# `--direct timer,irq` (the guest's device interrupts, ABI 7): the vCPU's
# exits over each, by reason. Then tests/lab/cases/direct_irq_smp.sh
# (its own L1: 4 CPUs, slice s on CPUs 1-2): a 2-vCPU guest sends 3000
# IPIs from vCPU 0 to vCPU 1, each waited for (tests/lab/ipiping.c),
# without --direct, with the timer, with timer,irq and with timer,irq,ipi;
# both vCPUs' exits over them per IPI, by reason. Then a 3-vCPU guest on
# CPUs 1-3 sends each IPI to both others, with timer,irq and twice with
# timer,irq,ipi (the all-but-self shorthand; the PV IPI hypercall). Then
# tests/lab/cases/direct_irq_vfio.sh (its own L1: x2APIC and the IOMMU
# flavour's NVMe, passed through): the guest's fio on the NVMe with
# `--direct timer` and with `--direct timer,irq`, the vCPU's exits over
# each.
#
# Environment: BENCH_LOG (where to keep the lab's output; default beside the
# binary). Exit status: 0 when the benchmark ran (whatever the numbers say),
# 1 when it could not run.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
bin=${1:-}
die() { echo "bench-timer: $*" >&2; exit 1; }
[ -n "$bin" ] || die "usage: bench/timer.sh SLICEVM_BINARY"
[ -x "$bin" ] || die "$bin is not an executable: run make first"
log=${BENCH_LOG:-$(dirname "$bin")/bench-timer.log}

"$top/tests/lab/run.sh" "$bin" direct_timer direct_irq_smp direct_irq_vfio 2>&1 | tee "$log" |
	grep -E '^(ok|not ok|# )' >&2
grep -q '^ok .*direct timer: on stock KVM' "$log" ||
	die "the lab case direct_timer did not complete its six runs (log: $log)"
[ "$(grep -c '^# exits during fio (fio-' "$log")" = 2 ] ||
	die "the lab case direct_timer did not count its two fio runs (log: $log)"
[ "$(grep -c '^# exits during fio (nvme-' "$log")" = 2 ] ||
	die "the lab case direct_irq_vfio did not count its two fio runs (log: $log)"
[ "$(grep -c '^# exits per IPI (' "$log")" = 4 ] ||
	die "the lab case direct_irq_smp did not count the IPIs of its four runs (log: $log)"
[ "$(grep -c '^# exits per IPI to two vCPUs (' "$log")" = 3 ] ||
	die "the lab case direct_irq_smp did not count the IPIs of its three 3-vCPU runs (log: $log)"
echo
echo "## Direct timer and interrupts (issue 10, stages 2 and 3): VM exits of one vCPU, one lab run"
echo
echo "$(grep -m1 'kernel component for L1' "$log" | sed 's/^# //')"
echo
awk -f "$here/timer-report.awk" "$log"
