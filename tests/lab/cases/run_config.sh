#!/bin/sh
# lab: smp=2 mem=5G
# timeout: 420
# slicevm run VM.json: a config file with kernel, initrd, cmdline, cpus and
# memory boots like the same options; options on the command line win.
. /lab/lib.sh

cat >"$LAB_TMP/vm.json" <<JSON
{
	"kernel": "$GUEST_BZIMAGE",
	"initrd": "$GUEST_INITRD",
	"cmdline": "$CMDLINE_POWEROFF",
	"cpus": 2,
	"memory": "2G"
}
JSON

vmm_run 180 run "$LAB_TMP/vm.json"
want_rc 0
want_cpus 2
want_memtotal 2048 5
want_no_vmm
report "run: VM.json with kernel, initrd, cmdline, cpus, memory boots as configured"

# Every key overridden: the vmlinux kernel, 1 CPU, 512 MiB, reboot.
vmm_run 180 run --kernel "$GUEST_VMLINUX" --cpus 1 --memory 512M \
	--cmdline "$CMDLINE_REBOOT" "$LAB_TMP/vm.json"
want_rc 2
want_cpus 1
# 512 MiB minus the guest's reservations; certainly not the file's 2 GiB.
want_memtotal 512 15
want_no_vmm
report "run: command line options override the VM.json values"

# The file's initrd is used when the command line gives none.
cat >"$LAB_TMP/vm-noinitrd.json" <<JSON
{ "kernel": "$GUEST_BZIMAGE", "cmdline": "$CMDLINE_POWEROFF", "memory": "256M" }
JSON
vmm_run 180 run --initrd "$GUEST_INITRD" "$LAB_TMP/vm-noinitrd.json"
want_rc 0
want_marker
want_no_vmm
report "run: VM.json without initrd takes --initrd from the command line"
