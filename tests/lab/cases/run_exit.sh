#!/bin/sh
# lab: smp=2 mem=5G
# timeout: 480
# Exit statuses of slicevm run: 0 guest powered off, 2 guest rebooted,
# 128+N stopped by signal N; never a process or VM left behind.
. /lab/lib.sh

vmm_run 180 run --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_REBOOT" --memory 256M
want_rc 2
want_marker
want_no_vmm
report "run: guest 'reboot -f' ends the VMM with exit status 2"

vmm_run 180 run --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_POWEROFF" --cpus 2 --memory 256M
want_rc 0
want_marker
want_no_vmm
report "run: guest 'poweroff -f' ends the VMM with exit status 0"

# A signal while the guest sits at its shell prompt.
for sig in TERM:143 INT:130; do
	name=${sig%:*}
	want=${sig#*:}
	if vmm_start_ready 180 run --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
		--cmdline "$CMDLINE_SHELL" --cpus 2 --memory 256M; then
		sleep 1
		kill -"$name" "$VMM_PID"
	else
		fail "the guest never printed $MARKER before SIG$name"
	fi
	vmm_wait 30
	want_rc "$want"
	want_no_vmm
	report "run: SIG$name to a running VMM exits $want and leaves no process or VM"
done
