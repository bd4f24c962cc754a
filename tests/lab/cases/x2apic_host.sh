#!/bin/sh
# lab: smp=2 mem=5G x2apic=1 append="nohz_full=1 isolcpus=domain,managed_irq,1 irqaffinity=0 rcu_nocbs=1"
# timeout: 400
# The x2APIC flavour of L1 (l0.sh's lab_qemu with LAB_X2APIC=1: QEMU 10
# from bookworm-backports, -cpu EPYC,+svm,+npt,+x2apic, q35 with
# intel-iommu,intremap=on,eim=on, intel_iommu=on), CPU 1 tickless and
# isolated at boot. L1's CPUs have x2apic, its kernel runs the APIC in
# x2APIC mode (which needs interrupt remapping), CPU 1 is nohz_full, and
# slicevm boots the default guest there, once more with the VMM pinned to
# CPU 1 (not in a slice: see below). L1's timers (clock event and tick
# devices, TSC deadline or not) are printed for the record, not checked.
. /lab/lib.sh

# --- L1's CPU and APIC ------------------------------------------------------------
flags=$(grep -m 1 '^flags' /proc/cpuinfo | sed 's/^flags[[:space:]]*:[[:space:]]*//')
echo "L1 cpuinfo flags: $flags"
diag "L1 cpuinfo flags: $flags"
case " $flags " in
*" x2apic "*) ;;
*) fail "L1's /proc/cpuinfo flags lack x2apic" ;;
esac
case " $flags " in
*" tsc_deadline_timer "*) diag "L1 has tsc_deadline_timer" ;;
*) diag "L1 has no tsc_deadline_timer (QEMU's TCG does not emulate it)" ;;
esac
report "x2apic: L1's CPUs have the x2apic flag"

# The boot messages: l1-init cleared the syslog buffer (dmesg -c) before the
# first case, but /dev/kmsg still gives every record the ring holds. It
# blocks at the end: read it for a second.
timeout 1 cat /dev/kmsg >"$LAB_TMP/kmsg" 2>/dev/null
sed 's/^[^;]*;//' "$LAB_TMP/kmsg" >"$LAB_TMP/boot.log"
grep -iE 'x2apic|remapping|APIC routing|DMAR: IOMMU' "$LAB_TMP/boot.log" | head -n 8 |
	while read -r line; do diag "L1 kernel: $line"; done
grep -q 'x2apic enabled' "$LAB_TMP/boot.log" ||
	fail "L1's kernel log has no 'x2apic enabled' ($(wc -l <"$LAB_TMP/boot.log") lines read from /dev/kmsg)"
grep -q 'Enabled IRQ remapping in x2apic mode' "$LAB_TMP/boot.log" ||
	fail "L1's kernel log has no 'Enabled IRQ remapping in x2apic mode'"
report "x2apic: L1's kernel runs its APIC in x2APIC mode, with interrupt remapping"

nohz=$(cat /sys/devices/system/cpu/nohz_full 2>/dev/null)
[ "$nohz" = 1 ] || fail "L1 has nohz_full '$nohz', expected 1"
report "x2apic: CPU 1 of L1 is nohz_full"

# For the record: L1's clock event devices and tick devices.
for d in /sys/devices/system/clockevents/*/current_device; do
	diag "L1 ${d#/sys/devices/system/clockevents/}: $(cat "$d" 2>/dev/null)"
done
diag "L1 clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
awk '/^Tick Device/ { if (l != "") print l; l = $0; next }
	/^(Broadcast device|Per CPU device|Clock Event Device)/ { l = l " | " $0 }
	END { if (l != "") print l }' /proc/timer_list 2>/dev/null |
	while read -r line; do diag "L1 timer_list: $line"; done

# --- slicevm on it --------------------------------------------------------------------
vmm_run 180 run --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" --cmdline "$CMDLINE_POWEROFF"
want_rc 0
want_marker
want_no_vmm
report "x2apic: slicevm boots the default guest, which powers off (status 0)"

# A VM on CPU 1 alone. Not in a slice: 'slicevm host apply' cannot make
# one on this L1, whose isolcpus=domain already took CPU 1 from the
# scheduler (Linux refuses an isolated cpuset partition over it, "partition
# config conflicts with housekeeping setup"; src/host/bootargs.c leaves
# domain out for that). taskset pins the whole VMM instead, as an
# administrator would on such a host.
# loc_cpu1: CPU 1's count of local timer interrupts (/proc/interrupts LOC).
loc_cpu1() {
	awk '$1 == "LOC:" { print $3 }' /proc/interrupts
}
printf '#!/bin/sh\nexec taskset 2 /bin/slicevm "$@"\n' >"$LAB_TMP/slicevm-cpu1"
chmod 0755 "$LAB_TMP/slicevm-cpu1"
# (lib.sh's vmm_start runs $SLICEVM.)
SLICEVM=$LAB_TMP/slicevm-cpu1
if vmm_start_ready 240 run --name cpu1 --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_SHELL"; then
	n=0
	for t in /proc/"$VMM_PID"/task/*; do
		allowed=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$t/status")
		[ "$allowed" = 1 ] || fail "thread ${t##*/} ($(cat "$t/comm")) is allowed on CPUs '$allowed', expected 1"
		n=$((n + 1))
	done
	grep -qx vcpu0 /proc/"$VMM_PID"/task/*/comm || fail "the VMM has no vcpu0 thread"
	l0=$(loc_cpu1)
	sleep 3
	l1=$(loc_cpu1)
	diag "local timer interrupts on CPU 1 with the idle guest's VMM ($n threads) there: $((l1 - l0)) in 3 s"
	/bin/slicevm stop cpu1 --timeout 120 >"$LAB_TMP/stop.out" 2>&1 ||
		fail "slicevm stop cpu1: $(cat "$LAB_TMP/stop.out")"
	vmm_wait 150
	want_rc 0
else
	fail "the guest pinned to CPU 1 never printed $MARKER"
	kill -KILL "$VMM_PID" 2>/dev/null
	vmm_wait 10
fi
# shellcheck disable=SC2034
SLICEVM=/bin/slicevm
want_no_vmm
report "x2apic: a guest whose VMM is pinned to CPU 1 (nohz_full) boots and stops with status 0"
