#!/bin/sh
# lab: smp=4 mem=3G x2apic=1 append="nohz_full=1-3 isolcpus=managed_irq,1-3 irqaffinity=0 rcu_nocbs=1-3 tsc=nowatchdog"
# timeout: 1200
# needs: kvm-component
# The kernel component's stages 3 and 4 (kernel/README.md) with two vCPUs:
# slice s is CPUs 1 and 2 of an x2APIC L1 (QEMU 10, "x2apic=1"), both
# nohz_full (then 1 to 3, for three vCPUs); tsc=nowatchdog as in
# direct_timer.sh.
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
# Then the slice grows to three CPUs, and a 3-vCPU guest's vCPU 0 sends
# each IPI to both others at once ("exits per IPI to two vCPUs (RUN)"):
# with `--direct timer,irq`, then with ipi as Linux's all-but-self ICR
# shorthand and, with no_ipi_broadcast=1, as its PV IPI hypercall; with
# ipi each receiver must exit fewer than 0.5 times per IPI.
. /lab/lib.sh

COMP=/lab/kvm-component
slice_conf s 1-2 256M
ROUNDS=200
PINGS=3000

# per_ipi BEFORE AFTER COUNT TID...: the exits between two snapshots per
# IPI, all and by vCPU (vcpuN, the Nth TID from 0) and SVM exit reason.
per_ipi() {
	_b=$1 _a=$2 _n=$3
	shift 3
	awk -v tids="$*" -v n="$_n" '
		BEGIN { '"$SVM_EXIT_NAMES"'; k = split(tids, t, " ")
			for (i = 1; i <= k; i++) who[t[i]] = "vcpu" (i - 1) }
		FNR == NR { b[$1 " " $2] = $3; next }
		{ d = $3 - b[$1 " " $2]; if (d <= 0) next; all += d
		  out = out sprintf(" %s.%s=%d", who[$1], ($2 in svm) ? svm[$2] : "r" $2, d) }
		END { printf "%d exits for %d IPIs (%.2f per IPI):%s\n", all, n, all / n, out }' "$_b" "$_a"
}

# per_ipi_of WHAT: the exits per IPI in PER_IPI (a per_ipi line) of a
# vCPU ("vcpu1.") or of one reason of it ("vcpu0.vmmcall=").
per_ipi_of() {
	echo "$PER_IPI" | awk -v w="$1" '{ n = $4; s = 0
		for (i = 1; i <= NF; i++) if (index($i, w) == 1) { split($i, kv, "="); s += kv[2] }
		if (n > 0) printf "%.2f\n", s / n }'
}

component_ready "direct irq, two vCPUs: the guest's timer interrupts without exits on both CPUs" || exit 0
# Why the sender's ICR write stays an exit (kernel/README.md, stage 4):
# without IPI virtualization (AMD's AVIC and x2AVIC) no guest may have the
# physical ICR. What L1's CPU offers:
diag "L1's CPU: IPI virtualization flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'avic|x2avic' | tr '\n' ' ' | grep . || echo none)"

mkdir -p /run/slicevm
host apply "$CONF"
want_host_rc 0
report "direct irq, two vCPUs: host apply of slice s (CPUs 1-2, nohz_full)"

kvm_swap "$COMP"
report "direct irq, two vCPUs: Debian's kvm_amd and kvm swapped for the component's"

# ipi_vm DIRECT [CMDLINE [RUN]]: the guest's rounds on slice s (NV vCPUs,
# one per CPU), with `--direct DIRECT` unless DIRECT is -, and CMDLINE
# added to the guest's; ipiping's IPIs go from vCPU 0 to all the others,
# and their exits are logged for bench/timer.sh as run RUN (DIRECT, or
# component for -). Sets D0, D1, D2 (the vCPUs' slicevm_timer lines; D2
# with three), PER_IPI (a per_ipi line) and DONE (the guest's
# SLICEVM-IPI-DONE line), empty when missing.
NV=2
ipi_vm() {
	_args=""
	[ "$1" != - ] && _args="--direct $1"
	# (a guest the lab's TCG hazard kills on its way up is started again)
	# shellcheck disable=SC2086 # word splitting wanted
	vmm_start_ready 150 run --slice s $_args --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
		--cmdline "$CMDLINE_BASE ${2:-}slicevm.test=ipi:$ROUNDS slicevm.test=ipiping:$PINGS:2:$((NV - 1)) slicevm.test=poweroff" || true
	# The counters are read while the guest works: they go with the VM.
	# Once ipiping is armed (2 s asleep before and after its IPIs), the
	# vCPUs' exits are counted from 1 s later to its last line.
	D0="" D1="" D2="" PER_IPI="" _end=$(($(uptime_s) + 200)) _tids=""
	until tr -d '\r' <"$VMM_CONSOLE" | grep -Eq '^SLICEVM-(IPIPING-(DONE|BAD)|IPI-BAD)'; do
		_d=$(cat "$(vcpu_debugfs 0)/slicevm_timer" 2>/dev/null) && [ -n "$_d" ] && D0=$_d
		_d=$(cat "$(vcpu_debugfs 1)/slicevm_timer" 2>/dev/null) && [ -n "$_d" ] && D1=$_d
		if [ "$NV" -gt 2 ]; then
			_d=$(cat "$(vcpu_debugfs 2)/slicevm_timer" 2>/dev/null) && [ -n "$_d" ] && D2=$_d
		fi
		if [ -z "$_tids" ] && tr -d '\r' <"$VMM_CONSOLE" | grep -q '^SLICEVM-IPIPING-ARMED'; then
			_i=0
			while [ $_i -lt "$NV" ]; do
				_tids="$_tids $(vcpu_tid $_i)"
				_i=$((_i + 1))
			done
			# shellcheck disable=SC2086 # one word per thread
			vcpus_on $_tids
			sleep 1
			vcpus_snap >"$LAB_TMP/p0"
		fi
		if [ "$(uptime_s)" -ge "$_end" ] || ! _alive "$VMM_PID"; then
			fail "--direct $1: the guest's IPI rounds did not end: $(tail -c 300 "$VMM_CONSOLE" | tr -d '\r' | tr '\n' '|')"
			break
		fi
		sleep 0.2
	done
	if [ -n "$_tids" ]; then
		vcpus_snap >"$LAB_TMP/p1"
		# shellcheck disable=SC2086 # one word per thread
		vcpus_off $_tids
		# Per IPI the fewest a target took. A barrier sends none
		# while the spinner is off its CPU, and is then quick: one
		# time off it for 1 ms made 385 quick barriers and as many
		# IPIs fewer (quick= of SLICEVM-IPIPING-BARRIERS; 1129 to
		# 3000 IPIs of 3000 seen). Enough to count per IPI.
		_ipis=$(console_line SLICEVM-IPIPING-DONE | sed -n 's/.* ipis=\([0-9]*\) .*/\1/p')
		if [ -n "$_ipis" ] && [ "$_ipis" -ge $((PINGS / 3)) ]; then
			# shellcheck disable=SC2086 # one word per thread
			PER_IPI=$(per_ipi "$LAB_TMP/p0" "$LAB_TMP/p1" "$_ipis" $_tids)
		else
			fail "--direct $1: a target vCPU took ${_ipis:-?} of the $PINGS IPIs"
		fi
	fi
	vmm_wait 120
	want_rc 0
	DONE=$(console_line SLICEVM-IPI-DONE)
	[ -n "$DONE" ] || fail "--direct $1: the guest: $(console_line SLICEVM-IPI-BAD)"
	echo "$DONE" | grep -q "cpus=$NV " || fail "--direct $1: the guest did not have $NV CPUs: $DONE"
	diag "--direct $1: guest: $DONE"
	diag "--direct $1: vcpu0 slicevm_timer: $D0"
	diag "--direct $1: vcpu1 slicevm_timer: $D1"
	[ "$NV" -gt 2 ] && diag "--direct $1: vcpu2 slicevm_timer: $D2"
	_ping=$(console_line SLICEVM-IPIPING-DONE)
	[ -n "$_ping" ] && [ -n "$PER_IPI" ] ||
		fail "--direct $1: no IPIs counted from vCPU 0 to the others: $(console_line SLICEVM-IPIPING-BAD)"
	diag "--direct $1: guest: $_ping"
	diag "--direct $1: guest: $(console_line SLICEVM-IPIPING-BARRIERS)"
	_run=${3:-$1}
	[ "$_run" = - ] && _run=component
	if [ "$NV" = 2 ]; then
		diag "exits per IPI ($_run): ${PER_IPI:-none}"
	else
		diag "exits per IPI to two vCPUs ($_run): ${PER_IPI:-none}"
	fi
}

# direct_ipis_taken: after an ipi_vm with ipi, every vCPU has direct IPIs,
# and each receiver took IPIs physically and exited fewer than 0.5 times
# per IPI; sets RECV ("vcpuN=X ..." per IPI).
direct_ipis_taken() {
	RECV=""
	for _v in 0 1 2; do
		[ "$_v" -lt "$NV" ] || break
		case $_v in
		0) _d=$D0 ;;
		1) _d=$D1 ;;
		*) _d=$D2 ;;
		esac
		[ "$(field ipi "$_d")" = 1 ] || fail "vCPU $_v does not have direct IPIs: '$_d'"
		[ "$_v" = 0 ] && continue
		_q=$(field ipis "$_d")
		[ "${_q:-0}" -gt 0 ] || fail "no IPI reached vCPU $_v physically: '$_d'"
		_r=$(per_ipi_of "vcpu$_v.")
		RECV="$RECV${RECV:+ }vcpu$_v=${_r:-?}"
		awk -v r="${_r:-9}" 'BEGIN { exit !(r < 0.5) }' ||
			fail "vCPU $_v still exits for the IPIs it takes: ${_r:-?} exits per IPI ($PER_IPI)"
	done
	diag "--direct timer,irq,ipi: the receivers' exits per IPI they took: $RECV"
	grep -q '^slicevm: slice s: .*direct ipi' "$VMM_STDERR" ||
		fail "stderr does not say the slice's vCPUs have direct IPIs: $(cat "$VMM_STDERR")"
	kernel_quiet
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
direct_ipis_taken
report "direct ipi, two vCPUs: with --direct timer,irq,ipi the same rounds end, and vCPU 0's IPIs reach vCPU 1 without exits there ($RECV per IPI; the sender's ICR write still exits)"

# --- stage 4 with three vCPUs: each IPI to both others -----------------------------
host release
want_host_rc 0
slice_conf s 1-3 256M
host apply "$CONF"
want_host_rc 0
NV=3
ipi_vm timer,irq
report "direct ipi, three vCPUs: slice s on CPUs 1-3; with --direct timer,irq the guest's rounds on three CPUs and its IPIs to two of them end (the baseline)"

dmesg -c >/dev/null
ipi_vm timer,irq,ipi
direct_ipis_taken
# the way the guest sent them: ICR writes (MSR exits), no hypercall
_h=$(per_ipi_of vcpu0.vmmcall=) _m=$(per_ipi_of vcpu0.msr=)
awk -v h="${_h:-0}" -v m="${_m:-0}" 'BEGIN { exit !(h < 0.1 && m >= 0.9) }' ||
	fail "vCPU 0 did not send its IPIs with the ICR (per IPI: ${_m:-0} MSR exits, ${_h:-0} hypercalls): $PER_IPI"
report "direct ipi, three vCPUs: IPIs to all but the sender (the ICR's shorthand) reach both others without exits there ($RECV per IPI)"

dmesg -c >/dev/null
ipi_vm timer,irq,ipi "no_ipi_broadcast=1 " timer,irq,ipi,pv
direct_ipis_taken
_h=$(per_ipi_of vcpu0.vmmcall=)
awk -v h="${_h:-0}" 'BEGIN { exit !(h >= 0.9) }' ||
	fail "vCPU 0 did not send its IPIs with the PV IPI hypercall (${_h:-0} per IPI): $PER_IPI"
report "direct ipi, three vCPUs: with no_ipi_broadcast=1, IPIs to a set of CPUs (Linux's PV IPI hypercall) reach both others without exits there ($RECV per IPI)"

kvm_swap /lab/modules
host release
want_host_rc 0
report "direct irq: Debian's modules back, slice released"
