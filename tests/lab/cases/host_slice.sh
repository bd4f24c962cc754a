#!/bin/sh
# lab: smp=4 mem=2G
# timeout: 600
# A VM in a slice (slicevm run --slice NAME): each vCPU thread is allowed
# only on its own slice CPU (the i-th) and sits in the slice's cgroup; every
# other VMM thread stays on the housekeeping CPU. A second VM on the same
# slice is refused; release is refused while the VM runs; after SIGKILL of
# the VMM the slice can be claimed again; a forced release under a VM keeps
# what it must and the next release finishes.
. /lab/lib.sh

export SLICEVM_LEDGER=/run/slicevm/ledger.db
CG=/sys/fs/cgroup
CONF=$LAB_TMP/slices.json
cat >"$CONF" <<'EOF'
{"housekeeping": {"cpus": "0"}, "host_reserve": "256M",
 "slices": [{"name": "db", "cpus": "1-2", "memory": "512M"},
            {"name": "web", "cpus": "3", "memory": "256M"}]}
EOF

# check_threads PID: vcpuI on the slice's I-th CPU (1, 2) in slicevm-db;
# every other thread on CPU 0 in the root cgroup.
check_threads() {
	_vcpus=0
	_others=0
	for _t in /proc/$1/task/*; do
		_comm=$(cat "$_t/comm" 2>/dev/null) || continue
		_allowed=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$_t/status")
		_cg=$(sed -n 's/^0:://p' "$_t/cgroup")
		case "$_comm" in
		vcpu0) _want=1 ;;
		vcpu1) _want=2 ;;
		vcpu*) fail "unexpected vCPU thread $_comm"; continue ;;
		*) _want=0 ;;
		esac
		[ "$_allowed" = "$_want" ] ||
			fail "thread ${_t##*/} ($_comm) is allowed on CPUs $_allowed, expected $_want"
		case "$_comm" in
		vcpu*)
			_vcpus=$((_vcpus + 1))
			[ "$_cg" = /slicevm-db ] || fail "thread $_comm is in cgroup '$_cg'" ;;
		*)
			_others=$((_others + 1))
			[ "$_cg" = / ] || fail "VMM thread $_comm is in cgroup '$_cg'" ;;
		esac
	done
	[ "$_vcpus" -eq 2 ] || fail "$_vcpus vCPU threads, expected 2"
	diag "VMM $1: $_vcpus vCPU threads, $_others other threads"
}

start_vm() {	# start_vm NAME: a VM with 2 vCPUs in slice db, at its shell (0) or not
	vmm_start_ready 240 run --slice db --name "$1" --kernel "$GUEST_BZIMAGE" \
		--initrd "$GUEST_INITRD" --cmdline "$CMDLINE_SHELL" --cpus 2 --memory 256M
}

mkdir -p /run/slicevm
host apply "$CONF"
want_host_rc 0
report "host apply for the slice cases"

# --- the VM in its slice -----------------------------------------------------
if start_vm first; then
	want_cpus 2
	check_threads "$VMM_PID"
else
	fail "the guest in slice db never printed $MARKER"
fi
FIRST=$VMM_PID
FIRST_DIR=$VMM_DIR
report "run --slice: vCPU i pinned to the slice's i-th CPU, other threads on housekeeping"

host status
want_out "db +cpus 1-2 +partition isolated +memory anon +held by VM first \(pid $FIRST, running\)"
want_out "web +cpus 3 +partition isolated +memory anon +free"
report "host status shows the VM holding its slice"

# --- a second VM on the same slice is refused ---------------------------------
# (expect_bad_input would count the first VM as left behind: check by hand.)
vms_before=$(ls /sys/kernel/debug/kvm 2>/dev/null | grep -- '-' | tr '\n' ' ')
vmm_run 60 run --slice db --name second --kernel "$GUEST_BZIMAGE" \
	--initrd "$GUEST_INITRD" --cmdline "$CMDLINE_POWEROFF" --cpus 1 --memory 128M
want_rc 1
want_error_line "^slicevm: slice db is held by VM first \\(pid $FIRST\\): stop that VM first \\('slicevm stop first'\\)$"
[ "$(vmm_pids)" = "$FIRST" ] || fail "slicevm processes now: $(vmm_pids), expected only $FIRST"
# debugfs has a directory per KVM VM: the refused run must not add one.
vms_after=$(ls /sys/kernel/debug/kvm 2>/dev/null | grep -- '-' | tr '\n' ' ')
[ "$vms_before" = "$vms_after" ] || fail "KVM VMs before: $vms_before, after: $vms_after"
_alive "$FIRST" || fail "the first VM died"
report "run --slice: a second VM on a held slice is refused; the first runs on"

host release
want_host_rc 1
grep -q "slice db is held by VM first (pid $FIRST): stop it first ('slicevm stop first'), or give --force" \
	"$LAB_TMP/host.err" || fail "release was not refused: $(cat "$LAB_TMP/host.err")"
[ "$(cat $CG/slicevm-db/cpuset.cpus.partition)" = isolated ] || fail "release touched the partition"
report "host release is refused while a VM holds a slice"

# --- SIGKILL: the holder is dead, the slice can be claimed again ---------------
kill -KILL "$FIRST"
VMM_PID=$FIRST
VMM_DIR=$FIRST_DIR
vmm_wait 30
want_no_vmm
host status
want_out "held by VM first \(pid $FIRST, gone: stale\)"
report "after SIGKILL of the VMM, status shows the holder as stale"

if start_vm again; then
	check_threads "$VMM_PID"
	grep -q "which is gone" "$VMM_STDERR" || diag "no takeover note on stderr"
else
	fail "the guest never started in the taken-over slice"
fi
kill -TERM "$VMM_PID"
vmm_wait 60
want_rc 143
want_no_vmm
report "run --slice: a slice whose VMM was killed is claimed again"

host status
want_out "db +cpus 1-2 +partition isolated +memory anon +free"

# --- release --force under a running VM ------------------------------------------
# The held slice's cgroup stays (its vCPU threads are in it), and so do the
# fair servers apply turned off, which Linux 6.12 would refuse, warning,
# for a CPU inside an isolated partition; the next release finishes.
FS=/sys/kernel/debug/sched/fair_server
if start_vm forced; then
	warnings=$(kernel_warnings)
	host release --force
	want_host_rc 1
	grep -q "^kept: .*fair_server/cpu1/runtime (fair server of CPU 1): restored once the slices' cgroups are gone" \
		"$LAB_TMP/host.out" || fail "release did not keep CPU 1's fair server: $(cat "$LAB_TMP/host.out")"
	[ -d $CG/slicevm-db ] || fail "slice db's cgroup was removed under its VM"
	[ "$(cat $FS/cpu1/runtime)" = 0 ] || fail "CPU 1's fair server was restored inside its partition"
	no_new_warning "$warnings"
	kill -TERM "$VMM_PID"
	vmm_wait 60
else
	fail "the guest in slice db never printed $MARKER"
fi
report "host release --force under a VM keeps its slice's cgroup and the fair servers, without a kernel warning"

host release
want_host_rc 0
[ -d $CG/slicevm-db ] && fail "slice db's cgroup is still there"
for c in 1 2 3; do
	[ "$(cat $FS/cpu$c/runtime)" != 0 ] || fail "CPU $c's fair server is still off"
done
report "host release after the VMs: the slice is free and removed, the fair servers back"
