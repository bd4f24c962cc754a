#!/bin/sh
# lab: smp=4 mem=2G append="isolcpus=managed_irq,1-3 nohz_full=1-3 rcu_nocbs=1-3 irqaffinity=0"
# timeout: 600
# Idle exits. L1 boots with what 'slicevm host bootargs' prints for this
# plan, so the slice's CPU is tickless. A VM in that slice keeps HLT in the
# guest: its idle vCPU makes no halt exits. The same guest outside any slice
# exits on every HLT. Rates are printed for the record; the checks are on
# counts that do not depend on the lab's speed.
. /lab/lib.sh

export SLICEVM_LEDGER=/run/slicevm/ledger.db
CONF=$LAB_TMP/slices.json
cat >"$CONF" <<'JSON'
{"housekeeping": {"cpus": "0"}, "host_reserve": "256M",
 "slices": [{"name": "rt", "cpus": "1-3", "memory": "512M"}]}
JSON
WINDOW=5

# vm_counter PID NAME: one of KVM's per-VM counters (debugfs PID-FD/NAME).
vm_counter() {
	cat "$(ls -d /sys/kernel/debug/kvm/"$1"-* 2>/dev/null | head -n 1)/$2" 2>/dev/null
}

# idle_exits ARGS...: boots an idle 1-vCPU guest with ARGS and sets HALTS and
# EXITS to the counts over WINDOW seconds at its shell prompt.
idle_exits() {
	HALTS=""
	vmm_start run "$@" --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
		--cmdline "$CMDLINE_SHELL" --cpus 1 --memory 256M
	if wait_console 240 "^$MARKER "; then
		sleep 2
		_h0=$(vm_counter "$VMM_PID" halt_exits)
		_e0=$(vm_counter "$VMM_PID" exits)
		sleep "$WINDOW"
		_h1=$(vm_counter "$VMM_PID" halt_exits)
		_e1=$(vm_counter "$VMM_PID" exits)
		HALTS=$((_h1 - _h0))
		EXITS=$((_e1 - _e0))
		diag "$*: $HALTS halt exits, $((EXITS / WINDOW)) exits/s while idle"
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
"$SLICEVM" host apply "$CONF" >"$LAB_TMP/apply.out" 2>&1 ||
	fail "host apply failed: $(head -c 300 "$LAB_TMP/apply.out")"
report "exitless: L1 is tickless on the slice's CPUs and the plan is applied"

idle_exits --slice rt --name rt
[ "$HALTS" = 0 ] || fail "the idle guest in a tickless slice made ${HALTS:-no} halt exits, expected 0"
report "exitless: an idle vCPU in a tickless slice stays in the guest (no halt exits)"

idle_exits --name plain
[ -n "$HALTS" ] && [ "$HALTS" -gt 0 ] ||
	fail "the idle guest outside a slice made ${HALTS:-no} halt exits, expected some"
report "exitless: outside a slice an idle vCPU still exits on HLT"

"$SLICEVM" host release >"$LAB_TMP/release.out" 2>&1 ||
	fail "host release failed: $(head -c 300 "$LAB_TMP/release.out")"
want_no_vmm
report "exitless: release after the runs"
