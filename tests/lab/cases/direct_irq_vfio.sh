#!/bin/sh
# lab: smp=3 mem=3G x2apic=1 iommu=nvme append="nohz_full=1 isolcpus=managed_irq,1 irqaffinity=0 rcu_nocbs=1 tsc=nowatchdog"
# timeout: 900
# needs: kvm-component
# The kernel component's stage 3 for a passed-through device
# (kernel/README.md, "The guest's devices' interrupts"): an L1 with x2APIC
# and the IOMMU flavour's NVMe (QEMU 10, "x2apic=1 iommu=nvme"), 3 CPUs, CPU 1
# nohz_full as in direct_timer.sh. Slice io is CPU 1 and the NVMe, which
# host apply puts on vfio-pci. The guest runs fio on it (guest-init's
# slicevm.test=fio-nvme: 64M written and verified, past the lab's ext4)
# with `--direct timer` (the device's MSI-X through VFIO's eventfd and
# KVM's irqfd, which kicks the vCPU: the baseline) and with `--direct
# timer,irq`, where KVM sends them to CPU 1 physically and the guest takes
# them without an exit: every block verified both times, the NVMe's
# interrupts counted by the guest, most of them sent physically, L1's
# kernel quiet. The vCPU's exits over each fio go to the log as "exits
# during fio (nvme-timer|nvme-irq): ..." (bench/timer.sh tabulates them).
# Then CPU 1 goes offline and back while the guest's fio runs on a virtio
# disk: every block verified, no interrupt dropped (patch 0020). Last,
# Debian's modules come back and host release returns the NVMe to nvme.
. /lab/lib.sh

COMP=/lab/kvm-component
mkdir -p /run/slicevm

component_ready "direct irq, passthrough: the NVMe's interrupts reach the guest without exits" || exit 0
A=$(nvme_addr)
if [ -z "$A" ]; then
	not_ok "direct irq, passthrough: L1 has an NVMe" "no PCI device of class 0x010802: $(ls "$PCI" | tr '\n' ' ')"
	exit 0
fi
wait_drv "$A" nvme 10 || diag "the NVMe starts on driver $(drv "$A"), not nvme"

slice_conf io 1 256M "$A" 0,2
host apply "$CONF"
want_host_rc 0
wait_drv "$A" vfio-pci 10 || fail "after host apply the NVMe is on $(drv "$A"), not vfio-pci"
report "direct irq, passthrough: host apply of slice io (CPU 1, nohz_full; the NVMe $A on vfio-pci)"

kvm_swap "$COMP"
report "direct irq, passthrough: Debian's kvm_amd and kvm swapped for the component's"

# nvme_irqs: the guest's "SLICEVM-NVME-IRQS before=B after=A ..." as the
# NVMe's interrupts over fio (A - B), or empty.
nvme_irqs() {
	console_line SLICEVM-NVME-IRQS | sed -n 's/.* before=\([0-9]*\) after=\([0-9]*\).*/\2 \1/p' |
		awk '{ print $1 - $2 }'
}

fio_vm nvme-timer timer fio-nvme --slice io
_base=$(nvme_irqs)
diag "guest (nvme-timer): $(console_line SLICEVM-NVME-IRQS)"
[ "${_base:-0}" -gt 0 ] || fail "the guest counted no NVMe interrupt over fio: $(console_line SLICEVM-NVME-IRQS)"
report "direct irq, passthrough: fio on the passed-through NVMe with --direct timer verifies every block (${_base:-0} MSI-X interrupts, through KVM: the baseline)"

dmesg -c >/dev/null
fio_vm nvme-irq timer,irq fio-nvme --slice io
_irqs=$(nvme_irqs)
diag "guest (nvme-irq): $(console_line SLICEVM-NVME-IRQS)"
_devs=$(field devs "$DBG")
[ "${DBG:+x}" ] && [ "$(field irq "$DBG")" = 1 ] && [ "$(field dev_vectors "$DBG")" -gt 0 ] ||
	fail "the vCPU had no direct interrupts or held no device vector: '$DBG'"
# One that finds the vCPU out (an exit of its own) is KVM's to deliver:
# at least half must have gone physically.
[ "${_irqs:-0}" -gt 0 ] && [ "${_devs:-0}" -ge $((_irqs / 2)) ] ||
	fail "of the NVMe's ${_irqs:-0} interrupts only ${_devs:-0} were sent to CPU 1 physically: '$DBG'"
kernel_quiet
report "direct irq, passthrough: fio on the passed-through NVMe with --direct timer,irq verifies every block; the guest counted ${_irqs:-0} NVMe interrupts over it, and ${_devs:-0} device interrupts went to CPU 1 physically over the VM's life ($(field devs_back "$DBG") taken by the host after an exit and handed to KVM)"

# CPU 1 offline and back during fio (patch 0020): the held vectors' IRQs
# are never started, so the host's vector table comes back without them;
# the component stops the vCPU's physical device interrupts when its CPU
# goes down, and KVM delivers them from then on. Without that, one that
# reached CPU 1 after an exit would be dropped ("No irq handler") and the
# guest's disk would stall. The guest's fio runs on a virtio disk this
# time: the vCPU exits for each of its queue notifications, so some of its
# interrupts reach CPU 1 after an exit (the NVMe's hardly ever do: its
# doorbells do not exit). (x86 refuses to offline a CPU whose allocated
# vectors the other online CPUs cannot take, ENOSPC: with 2 CPUs the 169
# held ones could not go, hence this L1's third CPU.)
cpu1_bounce() {
	sleep 1
	echo 0 >/sys/devices/system/cpu/cpu1/online || { echo "offline failed"; return 1; }
	echo "offline: online CPUs $(cat /sys/devices/system/cpu/online)"
	sleep 2
	echo 1 >/sys/devices/system/cpu/cpu1/online || { echo "online failed"; return 1; }
	echo "online: online CPUs $(cat /sys/devices/system/cpu/online)"
	sleep 2
	_t=$(vcpu_tid)
	echo "vcpu0 after: $(grep Cpus_allowed_list "/proc/$VMM_PID/task/$_t/status" | tr -s '\t ' ' '), last on CPU $(cut -d' ' -f39 "/proc/$VMM_PID/task/$_t/stat")"
}
dmesg -c >/dev/null
rm -f "$LAB_TMP/fio.img"
truncate -s 64M "$LAB_TMP/fio.img"
FIO_HOOK=cpu1_bounce
fio_vm virtio-hotplug timer,irq fio-verify --slice io --disk "$LAB_TMP/fio.img"
FIO_HOOK=""
diag "CPU 1's bounce: $(tr '\n' ';' <"$LAB_TMP/fio-hook.out")"
grep -q '^online:' "$LAB_TMP/fio-hook.out" || fail "CPU 1 did not go offline and back: $(cat "$LAB_TMP/fio-hook.out")"
dmesg | grep -q 'slicevm: CPU 1 goes offline' ||
	fail "the component did not stop the physical device interrupts at CPU 1's offline: $(dmesg | grep slicevm | tail -n 3 | tr '\n' ' ')"
_lost=$(dmesg | grep -m1 'No irq handler')
[ -z "$_lost" ] || fail "an interrupt was dropped: $_lost"
[ "$(field dev_vectors "$DBG")" = 0 ] ||
	fail "device interrupts still went physically after CPU 1's offline: '$DBG'"
kernel_quiet
report "direct irq: CPU 1 taken offline and back during fio on a virtio disk: the component stopped sending the guest's device interrupts physically, none was dropped, every block verified"

kvm_swap /lab/modules
host release
want_host_rc 0
wait_drv "$A" nvme 10 || fail "after host release the NVMe is on $(drv "$A"), not nvme"
report "direct irq, passthrough: Debian's modules back; host release put the NVMe back on nvme"
