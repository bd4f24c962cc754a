#!/bin/sh
# lab: smp=2 mem=5G
# timeout: 60
# The lab itself: L1 runs KVM (kvm_amd on QEMU's emulated SVM) and holds the
# guest, so failures of other cases are about slicevm, not the lab.
. /lab/lib.sh

want "/dev/kvm is not a character device" [ -c /dev/kvm ]
want "kvm_amd is not loaded" [ -d /sys/module/kvm_amd ]
want "L1 has no debugfs kvm directory" [ -d /sys/kernel/debug/kvm ]
want "cgroup2 is not mounted" [ -f /sys/fs/cgroup/cgroup.controllers ]
report "lab L1 has KVM (kvm_amd), debugfs and cgroup2"

for f in "$GUEST_BZIMAGE" "$GUEST_VMLINUX" "$GUEST_INITRD" "$SLICEVM"; do
	want "$f is missing" [ -s "$f" ]
done
want "slicevm does not start (missing library?)" sh -c '"$SLICEVM" --version >/dev/null 2>&1'
want "user $LAB_USER cannot run commands" as_user true
report "lab L1 holds the guest, a runnable slicevm and an unprivileged user"
