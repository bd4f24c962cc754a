#!/bin/sh
# lab: smp=2 mem=5G
# timeout: 600
# slicevm run boots the default guest: 1 and 2 vCPUs, bzImage and ELF
# vmlinux, MemTotal close to --memory, and the console in both directions.
. /lab/lib.sh

# One vCPU, bzImage: the guest's init runs and sees one CPU.
vmm_run 180 run --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_POWEROFF" --cpus 1 --memory 256M
want_rc 0
want_cpus 1
want_no_vmm
report "run: 1 vCPU bzImage guest reaches its init (cpus=1) and powers off"

# Two vCPUs and 2 GiB. MemTotal lacks the guest kernel's own reservations
# (image, struct pages: about 4% at 2 GiB, more in proportion on smaller
# guests), so 2 GiB is a size where "within 5%" is a fair demand.
for kernel in bzImage vmlinux; do
	[ $kernel = bzImage ] && file=$GUEST_BZIMAGE || file=$GUEST_VMLINUX
	vmm_run 180 run --kernel "$file" --initrd "$GUEST_INITRD" \
		--cmdline "$CMDLINE_POWEROFF" --cpus 2 --memory 2G
	want_rc 0
	want_cpus 2
	want_memtotal 2048 5
	want_no_vmm
	report "run: 2 vCPU $kernel guest sees 2 CPUs and MemTotal within 5% of 2 GiB"
done

# No --cmdline: the default one gives the guest an interactive shell on the
# console. Type into the VMM's stdin until the guest powers off.
mkfifo "$LAB_TMP/in"
exec 3<>"$LAB_TMP/in"	# held open (read-write, so it cannot block) for the VMMs' stdin
if VMM_STDIN=$LAB_TMP/in vmm_start_ready 180 run --kernel "$GUEST_BZIMAGE" \
	--initrd "$GUEST_INITRD" --memory 256M; then
	wait_console 30 "Type 'poweroff -f'"
	# The shell may not be reading yet: repeat until the guest is gone.
	tries=0
	while _alive "$VMM_PID" && [ $tries -lt 30 ]; do
		echo "echo typed-\$((6*7)); poweroff -f" >&3
		sleep 2
		tries=$((tries + 1))
	done
fi
vmm_wait 60
exec 3>&-
want_rc 0
want_marker
want "the guest shell did not run what was typed" grep -q 'typed-42' "$VMM_CONSOLE"
want "the default command line lacks console=ttyS0 (no kernel messages)" \
	grep -q 'Linux version' "$VMM_CONSOLE"
want_no_vmm
report "run: default cmdline gives a console shell that reads stdin; 'poweroff -f' exits 0"

# Ctrl-A x on stdin ends the VMM with status 0 while the guest still runs.
VMM_STDIN=$LAB_TMP/in vmm_start run --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_SHELL" --memory 256M
exec 3>"$LAB_TMP/in"
wait_console 180 "^$MARKER " && printf '\001x' >&3
vmm_wait 60
exec 3>&-
want_rc 0
want_marker
want_no_vmm
report "run: Ctrl-A x on the console ends the VMM with status 0"
