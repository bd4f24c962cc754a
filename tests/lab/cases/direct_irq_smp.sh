#!/bin/sh
# lab: smp=3 mem=3G x2apic=1 append="nohz_full=1-2 isolcpus=managed_irq,1-2 irqaffinity=0 rcu_nocbs=1-2"
# timeout: 900
# needs: kvm-component
# The kernel component's stages 3 and 4 (kernel/README.md) with two vCPUs:
# slice s is CPUs 1 and 2 of an x2APIC L1 (QEMU 10, "x2apic=1"), both
# nohz_full.
# Its 2-vCPU guest queues work on both of its CPUs and waits for it, over
# and over (stat_refresh: IPIs between its vCPUs, which KVM delivers, and
# KVM's kicks of a vCPU in the guest), beside a 1 kHz timer loop: first
# without --direct (the baseline), then with `--direct timer`, then with
# `--direct timer,irq`, where both vCPUs must have had entries that took
# interrupts directly, KVM's kicks must have reached their CPUs as NMIs,
# nothing may hang, and L1 must log no unknown NMI, warning or BUG; last
# with `--direct timer,irq,ipi`, where vCPU 1 must take vCPU 0's IPIs
# physically. Each run then sends PINGS IPIs from vCPU 0 to vCPU 1, each
# waited for (tests/lab/ipiping.c), and logs both vCPU threads' exits over
# them as "exits per IPI (RUN): ...", by reason (bench/timer.sh tabulates
# them); with ipi, vCPU 1 must exit fewer than 0.5 times per IPI.
. /lab/lib.sh

COMP=/lab/kvm-component
slice_conf s 1-2 256M
ROUNDS=200
PINGS=3000

# pair_on T0 T1 / pair_off T0 T1: count kvm_exit by thread and exit reason
# for two threads (a histogram in the kernel: nothing is logged per exit).
pair_on() {
	echo "hist:keys=common_pid,exit_reason:vals=hitcount:size=512 if common_pid == $1 || common_pid == $2" >"$KVM_EXIT_TRACE/trigger"
}

pair_off() {
	echo "!hist:keys=common_pid,exit_reason:vals=hitcount:size=512 if common_pid == $1 || common_pid == $2" >"$KVM_EXIT_TRACE/trigger" 2>/dev/null
}

# pair_snap: "tid reason count" lines, cumulative.
pair_snap() {
	sed -n 's/^{ common_pid: *\([0-9]*\), exit_reason: *\([0-9]*\) *} hitcount: *\([0-9]*\).*/\1 \2 \3/p' "$KVM_EXIT_TRACE/hist"
}

# per_ipi BEFORE AFTER T0 T1 COUNT: the exits between two snapshots per
# IPI, all and by vCPU and SVM exit reason.
per_ipi() {
	awk -v t0="$3" -v t1="$4" -v n="$5" '
		BEGIN { '"$SVM_EXIT_NAMES"' }
		FNR == NR { b[$1 " " $2] = $3; next }
		{ d = $3 - b[$1 " " $2]; if (d <= 0) next; all += d
		  who = ($1 == t0) ? "vcpu0" : "vcpu1"
		  out = out sprintf(" %s.%s=%d", who, ($2 in svm) ? svm[$2] : "r" $2, d) }
		END { printf "%d exits for %d IPIs (%.2f per IPI):%s\n", all, n, all / n, out }' "$1" "$2"
}

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
		--cmdline "$CMDLINE_BASE slicevm.test=ipi:$ROUNDS slicevm.test=ipiping:$PINGS:2 slicevm.test=poweroff"
	# The counters are read while the guest works: they go with the VM.
	# Once ipiping is armed (2 s asleep before and after its IPIs), the
	# vCPUs' exits are counted from 1 s later to its last line.
	D0="" D1="" PER_IPI="" _end=$(($(uptime_s) + 200)) _t0="" _t1=""
	until tr -d '\r' <"$VMM_CONSOLE" | grep -Eq '^SLICEVM-(IPIPING-(DONE|BAD)|IPI-BAD)'; do
		_d=$(cat "$(vcpu_debugfs 0)/slicevm_timer" 2>/dev/null) && [ -n "$_d" ] && D0=$_d
		_d=$(cat "$(vcpu_debugfs 1)/slicevm_timer" 2>/dev/null) && [ -n "$_d" ] && D1=$_d
		if [ -z "$_t0" ] && tr -d '\r' <"$VMM_CONSOLE" | grep -q '^SLICEVM-IPIPING-ARMED'; then
			_t0=$(vcpu_tid 0) _t1=$(vcpu_tid 1)
			pair_on "$_t0" "$_t1"
			sleep 1
			pair_snap >"$LAB_TMP/p0"
		fi
		if [ "$(uptime_s)" -ge "$_end" ] || ! _alive "$VMM_PID"; then
			fail "--direct $1: the guest's IPI rounds did not end: $(tail -c 300 "$VMM_CONSOLE" | tr -d '\r' | tr '\n' '|')"
			break
		fi
		sleep 0.2
	done
	if [ -n "$_t0" ]; then
		pair_snap >"$LAB_TMP/p1"
		pair_off "$_t0" "$_t1"
		# per IPI vCPU 1 took (a barrier while its spinner was off it sends none)
		_ipis=$(console_line SLICEVM-IPIPING-DONE | sed -n 's/.* ipis=\([0-9]*\) .*/\1/p')
		if [ -n "$_ipis" ] && [ "$_ipis" -ge $((PINGS / 2)) ]; then
			PER_IPI=$(per_ipi "$LAB_TMP/p0" "$LAB_TMP/p1" "$_t0" "$_t1" "$_ipis")
		else
			fail "--direct $1: vCPU 1 took ${_ipis:-?} of the $PINGS IPIs"
		fi
	fi
	vmm_wait 120
	want_rc 0
	DONE=$(console_line SLICEVM-IPI-DONE)
	[ -n "$DONE" ] || fail "--direct $1: the guest: $(console_line SLICEVM-IPI-BAD)"
	echo "$DONE" | grep -q "cpus=2 " || fail "--direct $1: the guest did not have two CPUs: $DONE"
	diag "--direct $1: guest: $DONE"
	diag "--direct $1: vcpu0 slicevm_timer: $D0"
	diag "--direct $1: vcpu1 slicevm_timer: $D1"
	_ping=$(console_line SLICEVM-IPIPING-DONE)
	[ -n "$_ping" ] && [ -n "$PER_IPI" ] ||
		fail "--direct $1: no IPIs counted from vCPU 0 to vCPU 1: $(console_line SLICEVM-IPIPING-BAD)"
	diag "--direct $1: guest: $_ping"
	_run=$1
	[ "$_run" = - ] && _run=component
	diag "exits per IPI ($_run): ${PER_IPI:-none}"
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
_n0=$(field nmis "$D0") _n1=$(field nmis "$D1")
[ $((${_n0:-0} + ${_n1:-0})) -gt 0 ] ||
	fail "no IPI to the slice's CPUs went as an NMI: '$D0' '$D1'"
grep -q '^slicevm: slice s: .*each vCPU.s LAPIC timer.*direct irq' "$VMM_STDERR" ||
	fail "stderr does not say the slice's vCPUs have direct interrupts: $(cat "$VMM_STDERR")"
kernel_quiet
report "direct irq, two vCPUs: with --direct timer,irq the same rounds end; both vCPUs took interrupts directly, KVM's kicks reached their CPUs as NMIs, no NMI went unclaimed"

# --- stage 4: the IPIs between the vCPUs -------------------------------------------
dmesg -c >/dev/null
ipi_vm timer,irq,ipi
for _d in "$D0" "$D1"; do
	[ "$(field ipi "$_d")" = 1 ] || fail "a vCPU does not have direct IPIs: '$_d'"
done
_q=$(field ipis "$D1")
[ "${_q:-0}" -gt 0 ] || fail "no IPI reached vCPU 1 physically: '$D1'"
# the receiver's exits per IPI it took, from the counted window
_recv=$(echo "$PER_IPI" | awk '{ n = $4; s = 0
	for (i = 1; i <= NF; i++) if ($i ~ /^vcpu1\./) { split($i, kv, "="); s += kv[2] }
	if (n > 0) printf "%.2f\n", s / n }')
diag "--direct timer,irq,ipi: vCPU 1's exits per IPI it took: ${_recv:-?}"
awk -v r="${_recv:-9}" 'BEGIN { exit !(r < 0.5) }' ||
	fail "vCPU 1 still exits for the IPIs it takes: ${_recv:-?} exits per IPI ($PER_IPI)"
grep -q '^slicevm: slice s: .*direct ipi' "$VMM_STDERR" ||
	fail "stderr does not say the slice's vCPUs have direct IPIs: $(cat "$VMM_STDERR")"
kernel_quiet
report "direct ipi, two vCPUs: with --direct timer,irq,ipi the same rounds end, and vCPU 0's IPIs reach vCPU 1 without exits there (${_recv:-?} per IPI; the sender's ICR write still exits)"

kvm_swap /lab/modules
host release
want_host_rc 0
report "direct irq, two vCPUs: Debian's modules back, slice released"
