#!/bin/sh
# lab: smp=2 mem=5G
# timeout: 300
# The sandbox (docs/slicevm-run.md, SANDBOX): a guest boots with its vCPU
# threads confined; a forbidden system call in a confined thread ends the
# VMM with status 159 and one line naming the call and the thread.
. /lab/lib.sh

vmm_run 180 run --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_POWEROFF" --cpus 2 --memory 256M
want_rc 0
want_marker
report "sandbox: a guest boots and powers off with its vCPU threads confined"

# The test-only trigger: each vCPU thread calls execve once confined.
export SLICEVM_SANDBOX_SELFTEST=vcpu
vmm_run 180 run --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_POWEROFF" --memory 256M
want_rc 159
want_error_line '^slicevm: sandbox: forbidden system call 59 \(execve\) in the vCPU thread \(vcpu0\): this is a slicevm bug, please report it$'
want_no_vmm
report "sandbox: a forbidden call in a vCPU thread ends the VMM with 159 and one line"

# The main thread enters its class once its event loop is set up.
export SLICEVM_SANDBOX_SELFTEST=main
vmm_run 180 run --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_POWEROFF" --memory 256M
want_rc 159
want_error_line '^slicevm: sandbox: forbidden system call 59 \(execve\) in the main thread'
want_no_vmm
report "sandbox: a forbidden call in the main thread ends the VMM with 159 and one line"

# SLICEVM_NO_SANDBOX=1 turns it off: the trigger is never reached.
export SLICEVM_NO_SANDBOX=1
vmm_run 180 run --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_POWEROFF" --memory 256M
want_rc 0
want_marker
report "sandbox: SLICEVM_NO_SANDBOX=1 runs unconfined"
unset SLICEVM_SANDBOX_SELFTEST SLICEVM_NO_SANDBOX
