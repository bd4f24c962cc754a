#!/bin/sh
# lab: smp=2 mem=3G x2apic=1 iommu=nvme append="nohz_full=1 isolcpus=managed_irq,1 irqaffinity=0 rcu_nocbs=1 tsc=nowatchdog"
# timeout: 900
# needs: kvm-component
# The kernel component's stage 3 for a passed-through device
# (kernel/README.md, "The guest's devices' interrupts"): an L1 with x2APIC
# and the IOMMU flavour's NVMe (QEMU 10, "x2apic=1 iommu=nvme"), CPU 1
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
# Then Debian's modules come back and host release returns the NVMe to nvme.
. /lab/lib.sh

COMP=/lab/kvm-component
export SLICEVM_LEDGER=/run/slicevm/ledger.db
mkdir -p /run/slicevm

component_ready "direct irq, passthrough: the NVMe's interrupts reach the guest without exits" || exit 0
A=$(nvme_addr)
if [ -z "$A" ]; then
	not_ok "direct irq, passthrough: L1 has an NVMe" "no PCI device of class 0x010802: $(ls "$PCI" | tr '\n' ' ')"
	exit 0
fi
wait_drv "$A" nvme 10 || diag "the NVMe starts on driver $(drv "$A"), not nvme"

CONF=$LAB_TMP/io.json
cat >"$CONF" <<EOF
{"housekeeping": {"cpus": "0"}, "host_reserve": "256M",
 "slices": [{"name": "io", "cpus": "1", "memory": "256M", "devices": ["$A"]}]}
EOF
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

kvm_swap /lab/modules
host release
want_host_rc 0
wait_drv "$A" nvme 10 || fail "after host release the NVMe is on $(drv "$A"), not nvme"
report "direct irq, passthrough: Debian's modules back; host release put the NVMe back on nvme"
