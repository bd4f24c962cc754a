#!/bin/sh
# lab: smp=4 mem=2G
# timeout: 400
# A stand-in for systemd running slicevm@NAME.service (L1 has no systemd):
# what the unit relies on, done the way systemd does it. The "manager" (this
# shell) starts the VMM as its child inside the unit's cgroup
# (system.slice/slicevm@db.service); run --slice moves the process to the
# root cgroup and its vCPUs into the slice's partition, yet the VMM stays
# the manager's child, so its exit status is still collected. ExecStop
# ('slicevm stop db') shuts the guest down through its power button; a
# second run shows SIGTERM to the main PID (systemctl kill) ends it with
# 143, which the unit lists in SuccessExitStatus=. Starts go through
# start_ready, which starts a guest the lab's hazard killed once more.
. /lab/lib.sh

export SLICEVM_LEDGER=/run/slicevm/ledger.db
CG=/sys/fs/cgroup
UNIT=$CG/system.slice/slicevm@db.service
CONF=$LAB_TMP/slices.json
cat >"$CONF" <<'JSON'
{"housekeeping": {"cpus": "0"}, "host_reserve": "256M",
 "slices": [{"name": "db", "cpus": "1-2", "memory": "256M"}]}
JSON

mkdir -p /run/slicevm
host apply "$CONF"
want_host_rc 0
mkdir -p "$UNIT"

# unit_start: as systemd forks a service: the child joins the unit's cgroup,
# then execs the VMM (so the VMM is this shell's child, in that cgroup).
unit_start() {
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' unit "$UNIT" \
		"$SLICEVM" run --slice db --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
		--cmdline "$CMDLINE_SHELL" </dev/null >"$LAB_TMP/unit.console" 2>"$LAB_TMP/unit.err" &
	VMM_PID=$!
	VMM_CONSOLE=$LAB_TMP/unit.console
	VMM_STDERR=$LAB_TMP/unit.err
}

if start_ready 240 unit_start; then
	cg=$(sed -n 's/^0:://p' "/proc/$VMM_PID/cgroup")
	ppid=$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$VMM_PID/status")
	diag "VMM $VMM_PID: cgroup '$cg', parent $ppid (the manager is $$)"
	[ "$ppid" = "$$" ] || fail "the VMM's parent is $ppid, not the manager ($$)"
	[ "$cg" = / ] || fail "the VMM is in cgroup '$cg', expected / (the slices' threaded domain)"
	for t in /proc/$VMM_PID/task/*; do
		[ "$(cat "$t/comm")" = vcpu0 ] || continue
		[ "$(sed -n 's/^0:://p' "$t/cgroup")" = /slicevm-db ] || fail "vcpu0 is not in the slice's partition"
	done
	# ExecStop=-slicevm stop %i --timeout 60
	"$SLICEVM" stop db --timeout 120 >"$LAB_TMP/stop.out" 2>&1 || fail "ExecStop failed: $(cat "$LAB_TMP/stop.out")"
	wait "$VMM_PID"
	rc=$?
	[ "$rc" = 0 ] || fail "the manager collected exit status $rc, expected 0 (power button)"
	grep -q SLICEVM-GUEST-POWERBUTTON "$LAB_TMP/unit.console" || fail "the guest never saw its power button"
else
	fail "the unit's VM never printed $MARKER: $(cat "$LAB_TMP/unit.err")"
	diag_file console "$VMM_CONSOLE" 10
fi
report "systemd stand-in: a slice VM leaves its unit's cgroup but stays the manager's child; ExecStop's power button ends it with 0"

if start_ready 240 unit_start; then
	kill -TERM "$VMM_PID"	# systemctl kill / the stop job's SIGTERM to the main PID
	wait "$VMM_PID"
	rc=$?
	[ "$rc" = 143 ] || fail "SIGTERM to the main PID gave $rc, expected 143"
else
	fail "the unit's VM never printed $MARKER (second start): $(cat "$LAB_TMP/unit.err")"
	diag_file console "$VMM_CONSOLE" 10
fi
report "systemd stand-in: SIGTERM to the main PID ends the VM with 143 (SuccessExitStatus=)"

rmdir "$UNIT" "$CG/system.slice" 2>/dev/null
host release
want_host_rc 0
want_no_vmm
