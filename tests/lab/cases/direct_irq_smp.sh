#!/bin/sh
# lab: smp=3 mem=3G x2apic=1 append="nohz_full=1-2 isolcpus=managed_irq,1-2 irqaffinity=0 rcu_nocbs=1-2"
# timeout: 900
# needs: kvm-component
# The kernel component's stage 3 (kernel/README.md) with two vCPUs: slice s
# is CPUs 1 and 2 of an x2APIC L1 (QEMU 10, "x2apic=1"), both nohz_full.
# Its 2-vCPU guest queues work on both of its CPUs and waits for it, over
# and over (stat_refresh: IPIs between its vCPUs, which KVM delivers, and
# KVM's kicks of a vCPU in the guest), beside a 1 kHz timer loop: first
# without --direct (the baseline), then with `--direct timer`, then with
# `--direct timer,irq`, where both vCPUs must have had entries that took
# interrupts directly, KVM's kicks must have reached their CPUs as NMIs,
# nothing may hang, and L1 must log no unknown NMI, warning or BUG. The
# guest's IPIs still exit (stage 4).
. /lab/lib.sh

COMP=/lab/kvm-component
slice_conf s 1-2 256M
ROUNDS=200

component_ready "direct irq, two vCPUs: the guest's timer interrupts without exits on both CPUs" || exit 0

mkdir -p /run/slicevm
host apply "$CONF"
want_host_rc 0
report "direct irq, two vCPUs: host apply of slice s (CPUs 1-2, nohz_full)"

kvm_swap "$COMP"
report "direct irq, two vCPUs: Debian's kvm_amd and kvm swapped for the component's"

# ipi_vm DIRECT: the 2-vCPU guest's rounds, with `--direct DIRECT` unless
# DIRECT is -; sets D0 and D1 (the vCPUs' slicevm_timer lines) and DONE (the
# guest's SLICEVM-IPI-DONE line), empty when missing.
ipi_vm() {
	_args=""
	[ "$1" != - ] && _args="--direct $1"
	# shellcheck disable=SC2086 # word splitting wanted
	vmm_start run --slice s $_args --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
		--cmdline "$CMDLINE_BASE slicevm.test=ipi:$ROUNDS slicevm.test=poweroff"
	# The counters are read while the guest works: they go with the VM.
	D0="" D1="" _end=$(($(uptime_s) + 150))
	until tr -d '\r' <"$VMM_CONSOLE" | grep -Eq '^SLICEVM-IPI-(DONE|BAD)'; do
		_d=$(cat "$(vcpu_debugfs 0)/slicevm_timer" 2>/dev/null) && [ -n "$_d" ] && D0=$_d
		_d=$(cat "$(vcpu_debugfs 1)/slicevm_timer" 2>/dev/null) && [ -n "$_d" ] && D1=$_d
		if [ "$(uptime_s)" -ge "$_end" ] || ! _alive "$VMM_PID"; then
			fail "--direct $1: the guest's IPI rounds did not end: $(tail -c 300 "$VMM_CONSOLE" | tr -d '\r' | tr '\n' '|')"
			break
		fi
		sleep 0.2
	done
	vmm_wait 120
	want_rc 0
	DONE=$(console_line SLICEVM-IPI-DONE)
	[ -n "$DONE" ] || fail "--direct $1: the guest: $(console_line SLICEVM-IPI-BAD)"
	echo "$DONE" | grep -q "cpus=2 " || fail "--direct $1: the guest did not have two CPUs: $DONE"
	diag "--direct $1: guest: $DONE"
	diag "--direct $1: vcpu0 slicevm_timer: $D0"
	diag "--direct $1: vcpu1 slicevm_timer: $D1"
}

ipi_vm -
report "direct irq, two vCPUs: without --direct the guest's $ROUNDS rounds of work on both CPUs and its 1 kHz loop end (the baseline)"

ipi_vm timer
for _d in "$D0" "$D1"; do
	[ "$(field enabled "$_d")" = 1 ] && [ "$(field direct "$_d")" -gt 0 ] ||
		fail "a vCPU never had its timer on the physical one: '$_d'"
done
report "direct irq, two vCPUs: with --direct timer the same rounds end, both vCPUs' timers on their CPUs' own"

dmesg -c >/dev/null
ipi_vm timer,irq
for _d in "$D0" "$D1"; do
	[ "$(field irq "$_d")" = 1 ] && [ "$(field irq_direct "$_d")" -gt 0 ] ||
		fail "a vCPU had no entry that took interrupts directly: '$_d'"
done
[ "$(field cpu "$D0")" != "$(field cpu "$D1")" ] || fail "both vCPUs on one CPU: '$D0' '$D1'"
[ $(($(field nmis "$D0") + $(field nmis "$D1"))) -gt 0 ] ||
	fail "no IPI to the slice's CPUs went as an NMI: '$D0' '$D1'"
grep -q '^slicevm: slice s: .*each vCPU.s LAPIC timer.*direct irq' "$VMM_STDERR" ||
	fail "stderr does not say the slice's vCPUs have direct interrupts: $(cat "$VMM_STDERR")"
_bad=$(dmesg | grep -m3 -iE 'NMI received for unknown reason|Dazed and confused|WARNING:|BUG:')
[ -z "$_bad" ] || fail "L1's kernel: $_bad"
report "direct irq, two vCPUs: with --direct timer,irq the same rounds end; both vCPUs took interrupts directly, KVM's kicks reached their CPUs as NMIs, no NMI went unclaimed"

kvm_swap /lab/modules
host release
want_host_rc 0
report "direct irq, two vCPUs: Debian's modules back, slice released"
