#!/bin/sh
# lab: smp=2 mem=3G x2apic=1 append="nohz_full=1 isolcpus=managed_irq,1 irqaffinity=0 rcu_nocbs=1 tsc=nowatchdog"
# timeout: 900
# needs: kvm-component
# The kernel component's stages 2 and 3 (kernel/README.md): with `run
# --direct timer` a slice VM's guest programs the physical LAPIC timer of
# its CPU; with `--direct timer,irq` its expiries interrupt the guest
# without exits too, and the host reaches CPU 1 only by NMI.
# L1 runs its APIC in x2APIC mode (QEMU 10, "x2apic=1") with CPU 1
# nohz_full (the boot parameters `slicevm host bootargs` gives); slice s is
# CPU 1, isolated by host apply's cpuset partition, its fair server off.
# tsc=nowatchdog: L1's emulated CPU has no invariant TSC or TSC_ADJUST, so
# its kernel would check the TSC with its clocksource watchdog, a timer
# that visits every CPU in turn, CPU 1 once a second; a host CPU with them
# (and at most four sockets) has no watchdog on its TSC, and this gives L1
# that host's timers.
#
# Stock KVM refuses --direct timer with one line. With the component: the
# guest (x2APIC, one-shot LAPIC timer, no TSC-deadline timer in its CPUID)
# sleeps 1 ms at a time; its vCPU's debugfs counters say the timer was on
# the physical one (direct entries, expiries delivered), every sleep ends,
# and the guest's clock agrees with L1's. The same run without --direct
# is stock KVM's emulation (no direct entries). With a host task sleeping
# on CPU 1 beside the vCPU, neither side loses a timer: the host's sleeps
# all end, and the guest had the timer while the host's was pending
# (host_shared; a backup kick ends the guest's run before the host's is
# due). With `--direct timer,irq` the loop's timer interrupts cost no
# INTR exits (and with one of L1's device IRQs moved to CPU 1 it is refused
# with one line naming that IRQ), and under a host storm of IPIs to CPU 1 (TLB shootdowns of
# the VMM's memory through /proc/PID/clear_refs, work queued on every CPU
# through /proc/sys/vm/stat_refresh, the host task's wakeups), every host
# request completes (they wait for CPU 1), the guest's sleeps all end, the
# IPIs went as NMIs and no NMI went unclaimed. A guest whose fio writes
# and verifies a virtio disk (many device interrupts, each needed) ends
# with every block verified with `--direct timer` and with `--direct
# timer,irq`, where its interrupts reach CPU 1 physically (the guest's
# device interrupts, ABI 7); the vCPU's exits over each go to the log as
# "exits during fio (fio-timer|fio-irq): ...". L1's own clock keeps time
# against the RTC (QEMU's, the L0 clock) over the whole case. Exits by
# reason per window go to the log as diag lines "exits while idle (RUN):
# ..." (IDLE_S - 4 s of the guest's IDLE_S s asleep, away from
# its console lines) and "exits in the 1 kHz loop (RUN): ..." (LOOP_S s of
# the loop's middle, its ticks counted by the guest's clock), one pair
# per run (direct, component, direct-load, irq, irq-storm, stock), with
# what reached the idle vCPU (host IPIs to CPU 1 by sender, host timers
# that expired on CPU 1 by function, MSR exits):
# bench/timer.sh makes its table from them.
. /lab/lib.sh

COMP=/lab/kvm-component
STOCK=/lab/modules
slice_conf s 1 256M
PERIOD_US=1000
TICKS=5000
# The loop's exits are counted over LOOP_S s of its middle, the idle
# vCPU's over IDLE_S - 4 s of its sleep (see timer_vm): margins for L1,
# whose TCG may see the guest's lines a second late.
LOOP_S=3
IDLE_S=10

component_ready "direct timer: the guest's LAPIC timer on the physical one" || exit 0
# l1-init cleared the syslog buffer; /dev/kmsg still has the boot messages.
timeout 1 cat /dev/kmsg 2>/dev/null | sed 's/^[^;]*;//' >"$LAB_TMP/boot.log"
if ! grep -qw x2apic /proc/cpuinfo || ! grep -q 'x2apic enabled' "$LAB_TMP/boot.log"; then
	not_ok "direct timer: L1 runs its APIC in x2APIC mode" \
		"flags: $(grep -m1 -o 'x2apic' /proc/cpuinfo), kernel: $(grep -m1 -i x2apic "$LAB_TMP/boot.log")"
	exit 0
fi
rtc0=$(cat /sys/class/rtc/rtc0/since_epoch 2>/dev/null)
clk0=$(date +%s)

# --- helpers ------------------------------------------------------------------
# in_slice_cgroup CMD...: CMD in the VMM's cgroup (slice s's isolated
# partition, the only one whose tasks may run on CPU 1).
in_slice_cgroup() {
	_cg=/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$VMM_PID/task/$(vcpu_tid)/cgroup")
	sh -c 'echo $$ >"$0/cgroup.procs" 2>/dev/null || echo $$ >"$0/cgroup.threads" || exit 9
		shift; exec "$@"' "$_cg" -- "$@"
}
# What still reaches an idle vCPU. Host IPIs
# meant for CPU 1 (the kernel's ipi tracepoints, by sender, call site and
# function), the host's timers that expire on CPU 1 (hrtimers and the
# timer wheel's, by function: what the backup kicks are for) and the MSRs
# the guest's thread exits for, as histograms.
IPI_EV=${KVM_EXIT_TRACE%/kvm/kvm_exit}/ipi
TIMER_EV=${KVM_EXIT_TRACE%/kvm/kvm_exit}/timer
# quiet_hists OP TID: OP "" adds the five histograms, "!" removes them.
quiet_hists() {
	_by="hist:keys=common_pid.execname,callsite.sym,callback.sym:size=256"
	echo "$1$_by if cpu == 1" >"$IPI_EV/ipi_send_cpu/trigger" 2>/dev/null
	echo "$1$_by if cpumask & CPUS{1}" >"$IPI_EV/ipi_send_cpumask/trigger" 2>/dev/null
	echo "$1hist:keys=function.sym:size=256 if common_cpu == 1" >"$TIMER_EV/hrtimer_expire_entry/trigger" 2>/dev/null
	echo "$1hist:keys=function.sym:size=256 if common_cpu == 1" >"$TIMER_EV/timer_expire_entry/trigger" 2>/dev/null
	msr_hist "$1" "$2"
}

# quiet_hist: the histograms' entries, one line each (before they are removed).
quiet_hist() {
	cat "$IPI_EV/ipi_send_cpu/hist" "$IPI_EV/ipi_send_cpumask/hist" \
		"$TIMER_EV/hrtimer_expire_entry/hist" "$TIMER_EV/timer_expire_entry/hist" \
		"$MSR_EV/hist" 2>/dev/null | grep '^{' | tr -s ' \t' ' ' | tr '\n' ';'
}

# storm VMM_PID: host requests that each wait for CPU 1 to answer an IPI:
# 150 TLB shootdowns of the VMM's memory (clearing its soft-dirty bits
# write-protects its pages) and 50 rounds of work on every CPU; their
# output goes to $LAB_TMP/storm.out, "storm done" at the end.
storm() {
	_i=0
	while [ "$_i" -lt 150 ]; do
		echo 4 >"/proc/$1/clear_refs" || { echo "clear_refs failed"; return 1; }
		[ $((_i % 3)) = 0 ] && { echo 1 >/proc/sys/vm/stat_refresh || { echo "stat_refresh failed"; return 1; }; }
		_i=$((_i + 1))
	done
	echo "storm done"
}

# timer_vm RUN DIRECT HOSTLOAD: a slice VM (with `--direct DIRECT` unless
# DIRECT is -) whose guest idles IDLE_S s, then sleeps TICKS x PERIOD_US,
# then powers off. HOSTLOAD 1: a host task sleeps 10 ms x 300 on CPU 1
# meanwhile; 2: and a storm of host IPIs to CPU 1 (storm above). RUN names
# the run in the diag lines. Sets DBG (the vCPU's slicevm_timer line at the
# end, or empty), EXITS_IDLE, EXITS_LOOP and LOOP_TICKS (the ticks in
# EXITS_LOOP's window), and checks what holds for every run.
timer_vm() {
	_run=$1
	shift
	_args="run --slice s --kernel $GUEST_BZIMAGE --initrd $GUEST_INITRD"
	[ "$1" != - ] && _args="$_args --direct $1"
	# (a guest the lab's TCG hazard kills on its way up is started again)
	# shellcheck disable=SC2086 # word splitting wanted
	vmm_start_ready 240 $_args --cmdline "$CMDLINE_BASE slicevm.test=timer:$PERIOD_US:$TICKS:$IDLE_S slicevm.test=poweroff" || true
	DBG="" EXITS_IDLE="" EXITS_LOOP="" LOOP_TICKS=1 QUIET=""
	if ! wait_console 300 '^SLICEVM-TIMER-IDLE'; then
		fail "the guest never started its timer loop"
		kill -KILL "$VMM_PID" 2>/dev/null
		vmm_wait 10
		return
	fi
	_tid=$(vcpu_tid)
	_dir=$(vcpu_debugfs)
	[ -n "$_dir" ] || diag "no vcpu0 debugfs directory for VMM $VMM_PID: kvm/ has $(ls /sys/kernel/debug/kvm | tr '\n' ' ')"
	[ -n "$_tid" ] && vcpus_on "$_tid"
	# The idle window starts a second into the guest's IDLE_S s asleep
	# and ends 3 s before, so the marker lines' console exits are not in it.
	sleep 1
	[ -n "$_tid" ] && quiet_hists "" "$_tid"
	_t0=$(uptime_cs)
	exits_snap >"$LAB_TMP/x0"
	sleep $((IDLE_S - 4))
	exits_snap >"$LAB_TMP/x1"
	_ti=$(uptime_cs)
	QUIET=$(quiet_hist)
	[ -n "$_tid" ] && quiet_hists "!" "$_tid"
	tr -d '\r' <"$VMM_CONSOLE" | grep -q '^SLICEVM-TIMER-START' &&
		diag "the idle window ($_run) ran into the loop: its counts include the loop's start"
	wait_console 60 '^SLICEVM-TIMER-START' || fail "no SLICEVM-TIMER-START"
	_t1=$(uptime_cs)
	_host="" _storm=""
	if [ "$2" -ge 1 ]; then
		in_slice_cgroup taskset -c 1 timerloop 10000 300 >"$LAB_TMP/host-timer.out" 2>&1 &
		_host=$!
	fi
	if [ "$2" = 2 ]; then
		storm "$VMM_PID" >"$LAB_TMP/storm.out" 2>&1 &
		_storm=$!
	fi
	# The loop's window is LOOP_S s of its middle, away from the console
	# lines around it and from what the guest does once it is done (each
	# program it starts on its way to power off runs CPUID): its ticks are
	# the guest's 1000 a second by the guest's clock, which agrees with L1's
	# (checked below). The vCPU's counters are read all along: the guest
	# powers off as soon as it is done, and its debugfs files go with the VM.
	_w1="" _w2=""
	_end=$(($(uptime_s) + 600))
	until tr -d '\r' <"$VMM_CONSOLE" | grep -q '^SLICEVM-TIMER-DONE'; do
		[ -n "$_dir" ] || _dir=$(vcpu_debugfs)
		_d=$(cat "$_dir/slicevm_timer" 2>/dev/null) && [ -n "$_d" ] && DBG=$_d
		_now=$(uptime_cs)
		if [ -z "$_w1" ] && [ $((_now - _t1)) -ge 50 ]; then
			exits_snap >"$LAB_TMP/x1s"
			_w1=$(uptime_cs)
		elif [ -n "$_w1" ] && [ -z "$_w2" ] && [ $((_now - _w1)) -ge $((LOOP_S * 100)) ]; then
			exits_snap >"$LAB_TMP/x2"
			_w2=$(uptime_cs)
			tr -d '\r' <"$VMM_CONSOLE" | grep -q '^SLICEVM-TIMER-DONE' &&
				diag "the loop window ($_run) ran past the loop's end: its counts include the guest's next steps"
		fi
		if [ "$(uptime_s)" -ge "$_end" ] || ! _alive "$VMM_PID"; then
			fail "the guest's $TICKS sleeps did not all end"
			break
		fi
		sleep 0.2
	done
	if [ -z "$_w2" ]; then
		diag "the loop ($_run) ended before its window did: its counts include the guest's next steps"
		[ -n "$_w1" ] || { exits_snap >"$LAB_TMP/x1s"; _w1=$(uptime_cs); }
		exits_snap >"$LAB_TMP/x2"
		_w2=$(uptime_cs)
	fi
	_t2=$(uptime_cs)
	_d=$(cat "$_dir/slicevm_timer" 2>/dev/null) && [ -n "$_d" ] && DBG=$_d
	[ -n "$_tid" ] && vcpus_off "$_tid"
	EXITS_IDLE=$(exits_delta "$LAB_TMP/x0" "$LAB_TMP/x1" $((_ti - _t0)) 0)
	LOOP_TICKS=$(((_w2 - _w1) * 1000000 / PERIOD_US / 100))
	EXITS_LOOP=$(exits_delta "$LAB_TMP/x1s" "$LAB_TMP/x2" $((_w2 - _w1)) "$LOOP_TICKS")
	if [ -n "$_host" ]; then
		_end=$(($(uptime_s) + 120))
		while _alive "$_host" && [ "$(uptime_s)" -lt "$_end" ]; do sleep 0.2; done
		if _alive "$_host"; then
			fail "the host task's sleeps on CPU 1 did not end: $(cat "$LAB_TMP/host-timer.out")"
			kill -KILL "$_host"
		fi
		wait "$_host" 2>/dev/null
		grep -q '^SLICEVM-TIMER-DONE ticks=300 ' "$LAB_TMP/host-timer.out" ||
			fail "the host task: $(cat "$LAB_TMP/host-timer.out")"
	fi
	if [ -n "$_storm" ]; then
		_end=$(($(uptime_s) + 180))
		while _alive "$_storm" && [ "$(uptime_s)" -lt "$_end" ]; do sleep 0.2; done
		if _alive "$_storm"; then
			fail "the host's requests to CPU 1 did not all complete (an IPI lost?): $(tr '\n' ' ' <"$LAB_TMP/storm.out")"
			kill -KILL "$_storm"
		fi
		wait "$_storm" 2>/dev/null
		grep -q '^storm done' "$LAB_TMP/storm.out" ||
			fail "the host's storm of IPIs: $(tr '\n' ' ' <"$LAB_TMP/storm.out")"
	fi
	vmm_wait 120
	want_rc 0
	# The guest's clock against L1's over the loop: within a factor of 2
	# (a timer at the wrong rate or lost ticks would be far off; the lab
	# is too noisy for a closer bound).
	_done=$(console_line SLICEVM-TIMER-DONE)
	_g=$(echo "$_done" | sed -n 's/.* elapsed_us=\([0-9]*\).*/\1/p')
	_h=$(((_t2 - _t1) * 10000))
	if [ -z "$_g" ] || [ "$_g" -lt $((TICKS * PERIOD_US)) ] ||
		[ "$_g" -gt $((_h * 2 + 2000000)) ] || [ $((_g * 2 + 2000000)) -lt "$_h" ]; then
		fail "the guest's loop took ${_g:-?} us by its clock, ${_h} us by L1's"
	fi
	diag "guest: $(console_line SLICEVM-TIMER-APIC); $_done; L1 saw ${_h} us"
	diag "vcpu0 slicevm_timer ($_run): ${DBG:-(none)}"
	diag "exits while idle ($_run): $EXITS_IDLE"
	diag "host IPIs and timers on CPU 1 and the vCPU's MSR exits while idle ($_run): ${QUIET:-none}"
	diag "exits in the 1 kHz loop ($_run): $EXITS_LOOP"
}

# reason_per_tick NAME: the count of exit reason NAME per tick in EXITS_LOOP.
reason_per_tick() {
	echo "$EXITS_LOOP" | awk -v r="$1" -v t="$LOOP_TICKS" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == r) n = kv[2] }
		printf "%.2f\n", t ? n / t : 0 }'
}

# --- stock KVM refuses ----------------------------------------------------------
mkdir -p /run/slicevm
host apply "$CONF"
want_host_rc 0
grep -q '^fair server: off on slice CPUs 1$' "$LAB_TMP/host.out" ||
	fail "apply did not turn CPU 1's fair server off: $(cat "$LAB_TMP/host.out")"
host check "$CONF"
want_out "^PASS +tsc-watchdog +tsc=nowatchdog"
report "direct timer: host apply of slice s (CPU 1, nohz_full, its fair server off); host check sees no TSC watchdog"

BAD_RE='kernel component' expect_bad_input \
	"direct timer: stock KVM refuses run --direct timer with one line naming the component" \
	run --slice s --direct timer --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_POWEROFF"

# --- the component ------------------------------------------------------------------
kvm_swap "$COMP"
report "direct timer: Debian's kvm_amd and kvm swapped for the component's"

# QEMU's TCG has no PMU: the component offers no direct PMU here.
BAD_RE='--direct pmu: this host.s KVM cannot give the guest its CPU.s performance counters \(KVM_CAP_SLICEVM_PMU is 0' \
	expect_bad_input "direct pmu: refused with one line where the CPU has no core performance counters (the component's stage 5, SVM, compiled but not runnable here)" \
	run --slice s --direct pmu --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_POWEROFF"

timer_vm direct timer 0
want "the guest's APIC is not in x2APIC mode: $(console_line SLICEVM-TIMER-APIC)" \
	sh -c "tr -d '\r' <'$VMM_CONSOLE' | grep -q '^SLICEVM-TIMER-APIC x2apic '"
[ "$(field enabled "$DBG")" = 1 ] && [ "$(field cpu "$DBG")" = 1 ] ||
	fail "vcpu0's slicevm_timer is not enabled on CPU 1: '$DBG'"
[ "${DBG:+x}" ] && [ "$(field direct "$DBG")" -gt 0 ] ||
	fail "no entry had the guest's timer on the physical one: '$DBG'"
[ "${DBG:+x}" ] && [ "$(field fired "$DBG")" -gt 0 ] ||
	fail "no physical expiry was delivered to the guest: '$DBG'"
grep -q '^slicevm: slice s: .*direct timer' "$VMM_STDERR" ||
	fail "stderr does not say the slice has the direct timer: $(cat "$VMM_STDERR")"
diag "the component measured: $(dmesg | grep -m1 'slicevm: the APIC timer')"
report "direct timer: the guest programs CPU 1's LAPIC timer; its expiries reach it; all $TICKS sleeps end on time by both clocks"

timer_vm component - 0
[ "$(field enabled "$DBG")" = 0 ] && [ "$(field direct "$DBG")" = 0 ] ||
	fail "without --direct the vCPU's timer was direct: '$DBG'"
report "direct timer: without --direct the same guest runs on KVM's emulated timer (the stock path)"

timer_vm direct-load timer 1
[ "${DBG:+x}" ] && [ "$(field host_shared "$DBG")" -gt 0 ] ||
	fail "the guest never had the timer while the host had one pending: '$DBG'"
report "direct timer: with a host task sleeping on CPU 1 too, no host or guest timer is lost (the guest has the timer while the host's is pending; a backup kick brings the host's back in time)"

# --- stage 3: the timer's interrupts without exits ---------------------------------
BAD_RE='--direct irq needs the direct timer too' expect_bad_input \
	"direct irq: refused without the direct timer, with one line naming the fix" \
	run --slice s --direct irq --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_POWEROFF"

# A device IRQ of L1 routed to CPU 1 (the first that accepts it) makes
# --direct irq refuse: the guest would take its interrupts.
_moved=""
for _d in /proc/irq/[0-9]*; do
	[ -n "$(find "$_d" -mindepth 1 -maxdepth 1 -type d | head -n 1)" ] || continue
	_saved=$(cat "$_d/smp_affinity_list")
	echo 1 >"$_d/smp_affinity_list" 2>/dev/null || continue
	[ "$(cat "$_d/effective_affinity_list" 2>/dev/null)" = 1 ] && { _moved=${_d#/proc/irq/}; break; }
	echo "$_saved" >"$_d/smp_affinity_list"
done
if [ -n "$_moved" ]; then
	BAD_RE="--direct irq: host IRQ $_moved \\(.*\\) is routed to a CPU of slice s \\(1\\), where the guest would take its interrupts: run 'slicevm host apply'" \
		expect_bad_input "direct irq: refused with one line naming the host IRQ routed to the slice's CPU (IRQ $_moved, moved there for the test) and the fix" \
		run --slice s --direct timer,irq --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
		--cmdline "$CMDLINE_POWEROFF"
	echo "$_saved" >"/proc/irq/$_moved/smp_affinity_list" ||
		fail "IRQ $_moved's affinity could not be put back to $_saved"
else
	diag "no device IRQ of L1 could be moved to CPU 1: the refusal of --direct irq is not tried"
fi

dmesg -c >/dev/null
timer_vm irq timer,irq 0
[ "$(field irq "$DBG")" = 1 ] && [ "${DBG:+x}" ] && [ "$(field irq_direct "$DBG")" -gt 0 ] ||
	fail "no entry let the guest take its timer's interrupts: '$DBG'"
_intr=$(reason_per_tick intr)
awk -v n="$_intr" 'BEGIN { exit !(n < 0.5) }' ||
	fail "the guest's timer interrupts still exit: $_intr INTR exits per tick ($EXITS_LOOP)"
grep -q '^slicevm: slice s: .*direct irq' "$VMM_STDERR" ||
	fail "stderr does not say the slice has direct interrupts: $(cat "$VMM_STDERR")"
# With CPU 1's fair server off, its replenishment timer (dl_task_timer,
# once a second on CPU 0) no longer sends CPU 1 IPIs while the guest idles.
case "$QUIET" in
*dl_task_timer*) fail "the fair server's timer reached CPU 1 while the guest idled: $QUIET" ;;
esac
report "direct irq: the guest's timer interrupts reach it without exits ($_intr INTR exits per tick), no fair server timer reaches its idle CPU; all $TICKS sleeps end on time by both clocks"

timer_vm irq-storm timer,irq 2
[ "${DBG:+x}" ] && [ "$(field host_ipis "$DBG")" -gt 0 ] && [ "$(field nmis "$DBG")" -gt 0 ] ||
	fail "no host IPI to CPU 1 went as an NMI: '$DBG'"
kernel_quiet
report "direct irq: under a storm of host IPIs to CPU 1 (TLB shootdowns of the VMM's memory, work on every CPU, a host task's wakeups) each went as an NMI and was handled: every host request completed, no NMI went unclaimed, the guest's sleeps all ended"

# fio_disk RUN DIRECT: fio_vm's guest on a fresh 64M virtio disk.
fio_disk() {
	rm -f "$LAB_TMP/fio.img"
	truncate -s 64M "$LAB_TMP/fio.img"
	fio_vm "$1" "$2" fio-verify --slice s --disk "$LAB_TMP/fio.img"
}

fio_disk fio-timer timer
report "direct irq: fio on a virtio disk with --direct timer verifies every block (the devices' interrupts through KVM: the baseline)"

dmesg -c >/dev/null
fio_disk fio-irq timer,irq
[ "${DBG:+x}" ] && [ "$(field dev_vectors "$DBG")" -gt 0 ] && [ "$(field devs "$DBG")" -gt 0 ] ||
	fail "no device interrupt reached the guest physically: '$DBG'"
kernel_quiet
report "direct irq: fio on a virtio disk with --direct timer,irq verifies every block, its interrupts sent to CPU 1 physically ($(field devs "$DBG"), $(field devs_back "$DBG") of them taken by the host after an exit and handed to KVM)"

# --- back to stock ---------------------------------------------------------------------
kvm_swap "$STOCK"
report "direct timer: the component's modules swapped back for Debian's"

timer_vm stock - 0
[ -z "$DBG" ] || fail "stock KVM has a slicevm_timer file: '$DBG'"
report "direct timer: on stock KVM the same guest's $TICKS sleeps end too (the baseline)"

host release
want_host_rc 0
if [ -n "$rtc0" ]; then
	rtc1=$(cat /sys/class/rtc/rtc0/since_epoch)
	clk1=$(date +%s)
	_drift=$(((clk1 - clk0) - (rtc1 - rtc0)))
	diag "L1's clock against the RTC over $((rtc1 - rtc0)) s: ${_drift} s apart"
	[ "${_drift#-}" -le 2 ] || fail "L1's clock drifted ${_drift} s from the RTC in $((rtc1 - rtc0)) s"
fi
report "direct timer: stock KVM back, slice released; L1's clock kept time against the RTC throughout"
