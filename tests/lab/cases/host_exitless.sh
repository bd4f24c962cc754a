#!/bin/sh
# lab: smp=4 mem=2G append="isolcpus=managed_irq,1-3 nohz_full=1-3 rcu_nocbs=1-3 irqaffinity=0"
# timeout: 600
# Idle exits. L1 boots with what 'slicevm host bootargs' prints for this
# plan, so the slice's CPU is tickless. A VM in that slice keeps HLT in the
# guest: its idle vCPU makes no halt exits. The same guest outside any slice
# exits on every HLT. Rates are printed for the record; the checks are on
# counts that do not depend on the lab's speed.
. /lab/lib.sh

slice_conf rt 1-3 512M
WINDOW=5

# vm_counter PID NAME: one of KVM's per-VM counters (debugfs PID-FD/NAME).
vm_counter() {
	cat "$(ls -d /sys/kernel/debug/kvm/"$1"-* 2>/dev/null | head -n 1)/$2" 2>/dev/null
}

# idle_exits ARGS...: boots an idle 1-vCPU guest with ARGS and sets HALTS and
# EXITS to the counts over WINDOW seconds at its shell prompt.
idle_exits() {
	HALTS=""
	if vmm_start_ready 240 run "$@" --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
		--cmdline "$CMDLINE_SHELL" --cpus 1 --memory 256M; then
		sleep 2
		_h0=$(vm_counter "$VMM_PID" halt_exits)
		_e0=$(vm_counter "$VMM_PID" exits)
		sleep "$WINDOW"
		_h1=$(vm_counter "$VMM_PID" halt_exits)
		_e1=$(vm_counter "$VMM_PID" exits)
		# Empty is not 0: a missing counter must not pass as "no exits".
		if [ -z "$_h0" ] || [ -z "$_e0" ] || [ -z "$_h1" ] || [ -z "$_e1" ]; then
			fail "KVM's debugfs counters for pid $VMM_PID read empty (halt_exits '$_h0' '$_h1', exits '$_e0' '$_e1'): is debugfs mounted?"
		else
			HALTS=$((_h1 - _h0))
			EXITS=$((_e1 - _e0))
			diag "$*: $HALTS halt exits, $((EXITS / WINDOW)) exits/s while idle"
		fi
	else
		fail "the guest ($*) never printed $MARKER"
	fi
	kill -TERM "$VMM_PID"
	vmm_wait 60
	want_rc 143
}

mkdir -p /run/slicevm
nohz=$(cat /sys/devices/system/cpu/nohz_full)
[ "$nohz" = 1-3 ] || fail "L1 has nohz_full '$nohz', expected 1-3"
# The '# lab:' header hard-codes L1's parameters: each one 'host bootargs'
# prints for this plan on L1's real topology must be among them, so a
# change in bootargs (isolcpus=domain coming back) fails here until the
# header is updated (and proved to work) with it.
host bootargs "$CONF"
want_host_rc 0
params=$(grep -v '^#' "$LAB_TMP/host.out" | tail -n 1)
[ -n "$params" ] || fail "host bootargs printed no parameters"
for p in $params; do
	case " $(cat /proc/cmdline) " in
	*" $p "*) ;;
	*) fail "host bootargs prints '$p', which L1 was not booted with ($(cat /proc/cmdline)): update the '# lab:' header" ;;
	esac
done
host check "$CONF"
want_host_rc 0
for item in kvm cpu-virt cgroup2 boot-isolcpus boot-nohz_full boot-rcu_nocbs boot-irqaffinity nohz_full; do
	want_out "^PASS +$item "
done
diag "host check: $(tail -n 1 "$LAB_TMP/host.out")"
host apply "$CONF"
want_host_rc 0
report "exitless: L1 booted with what host bootargs prints, is tickless on the slice's CPUs (host check passes it), and the plan is applied"

idle_exits --slice rt --name rt
[ "$HALTS" = 0 ] || fail "the idle guest in a tickless slice made ${HALTS:-no} halt exits, expected 0"
report "exitless: an idle vCPU in a tickless slice stays in the guest (no halt exits)"

idle_exits --name plain
[ -n "$HALTS" ] && [ "$HALTS" -gt 0 ] ||
	fail "the idle guest outside a slice made ${HALTS:-no} halt exits, expected some"
report "exitless: outside a slice an idle vCPU still exits on HLT"

host release
want_host_rc 0
want_no_vmm
report "exitless: release after the runs"
