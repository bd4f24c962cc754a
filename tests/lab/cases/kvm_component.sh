#!/bin/sh
# lab: smp=2 mem=2G
# timeout: 480
# needs: kvm-component
# slicevm's kernel component (kernel/README.md), stage 1. run.sh builds
# kvm.ko and kvm-amd.ko from Debian's source of L1's kernel with
# kernel/patches (scripts/build-kvm.sh --no-vmx) and l0.sh ships them as
# /lab/kvm-component/. Here, as an administrator would: Debian's kvm_amd
# and kvm out, ours in; the ABI version shows in kvm.ko's slicevm_abi
# parameter (read-only), `host check` passes kvm-component and a slice VM
# says what it gets; guests boot as on stock KVM. Then Debian's modules
# back, and everything says stock KVM again.
#
# kvm-hold's VM pins kvm_amd, so it is stopped for each swap and started
# again after; this case has an L1 of its own (its "# lab:" line), so no
# later case depends on the l1-init's kvm-hold pid. Each swap flips the
# static keys kvm-hold otherwise keeps on (the TCG hazard of
# tests/lab/README.md): a module load that oopses is tried once more.
. /lab/lib.sh

COMP=/lab/kvm-component
STOCK=/lab/modules
PARAM=/sys/module/kvm/parameters/slicevm_abi
export SLICEVM_LEDGER=/run/slicevm/ledger.db
CONF=$LAB_TMP/slices.json
cat >"$CONF" <<'EOF'
{"housekeeping": {"cpus": "0"}, "host_reserve": "256M",
 "slices": [{"name": "s", "cpus": "1", "memory": "256M"}]}
EOF

if [ ! -f "$COMP/kvm.ko" ] || [ ! -f "$COMP/kvm-amd.ko" ]; then
	why=$(cat "$COMP/missing" 2>/dev/null)
	case "$why" in
	"scripts/build-kvm.sh failed"*)
		not_ok "kernel component: built for L1's kernel" "$why" ;;
	*)
		skip "kernel component: load, host check, run" \
			"${why:-the modules were not built (scripts/build-kvm.sh)}" ;;
	esac
	exit 0
fi
diag "kernel component: $(head -n 1 "$COMP/stamp")"

# --- helpers -------------------------------------------------------------------
# hold_stop: end kvm-hold, whose VM holds kvm_amd, and wait until it is gone.
hold_stop() {
	[ -n "${LAB_HOLD_PID:-}" ] || return 0
	kill "$LAB_HOLD_PID" 2>/dev/null
	_end=$(($(uptime_s) + 20))
	while _alive "$LAB_HOLD_PID"; do
		[ "$(uptime_s)" -ge "$_end" ] && return 1
		sleep 0.1
	done
	LAB_HOLD_PID=""
}

# hold_start: kvm-hold again (in a session of its own, as l1-init's), once
# its VM exists.
hold_start() {
	setsid /bin/kvm-hold </dev/null >/dev/null 2>&1 &
	LAB_HOLD_PID=$!
	_end=$(($(uptime_s) + 20))
	until ls -d /sys/kernel/debug/kvm/"$LAB_HOLD_PID"-* >/dev/null 2>&1; do
		[ "$(uptime_s)" -ge "$_end" ] && return 1
		_alive "$LAB_HOLD_PID" || return 1
		sleep 0.1
	done
}

# rmmod_wait NAME: rmmod, retried while the module is still in use (a
# closing VM drops its reference a moment after its process ends).
rmmod_wait() {
	_n=0
	until rmmod "$1" 2>"$LAB_TMP/rmmod.err"; do
		_n=$((_n + 1))
		[ $_n -ge 50 ] && { fail "rmmod $1: $(cat "$LAB_TMP/rmmod.err")"; return 1; }
		sleep 0.2
	done
}

HAZARD_RE='Oops|int3: |BUG: |general protection fault'

# kvm_load DIR: insmod DIR/kvm.ko and DIR/kvm-amd.ko (irqbypass and ccp stay
# loaded). A load that died of the lab's TCG hazard is made once more.
# LOAD_MSGS: what the kernel said meanwhile.
kvm_load() {
	for _try in 1 2; do
		_before=$(dmesg | wc -l)
		insmod "$1/kvm.ko" 2>"$LAB_TMP/insmod.err" &&
			insmod "$1/kvm-amd.ko" 2>>"$LAB_TMP/insmod.err"
		_rc=$?
		LOAD_MSGS=$(dmesg | tail -n +$((_before + 1)))
		if echo "$LOAD_MSGS" | grep -Eq "$HAZARD_RE"; then
			diag "loading $1 met the lab hazard: $(echo "$LOAD_MSGS" | grep -Em 1 "$HAZARD_RE")"
			if [ "$_try" -eq 1 ]; then
				diag "unloading and loading $1 once more"
				[ -d /sys/module/kvm_amd ] && rmmod kvm_amd 2>/dev/null
				[ -d /sys/module/kvm ] && rmmod kvm 2>/dev/null
				continue
			fi
		fi
		[ "$_rc" -eq 0 ] && return 0
		fail "insmod from $1: $(cat "$LAB_TMP/insmod.err") $(echo "$LOAD_MSGS" | tail -n 3 | tr '\n' ' ')"
		return 1
	done
	fail "loading $1 met the lab hazard twice"
	return 1
}

# kvm_swap DIR: Debian's or our kvm and kvm_amd out, DIR's in, kvm-hold back.
kvm_swap() {
	hold_stop || { fail "kvm-hold ($LAB_HOLD_PID) did not end"; return 1; }
	rmmod_wait kvm_amd && rmmod_wait kvm || return 1
	kvm_load "$1" || return 1
	[ -c /dev/kvm ] || { fail "/dev/kvm is missing after loading $1"; return 1; }
	hold_start || { fail "kvm-hold did not start again"; return 1; }
}

# slice_vm WANT_RE: a guest in slice s at its shell; its stderr has one line
# matching WANT_RE, `slicevm ls --json` says "kvm_component": WANT_LS; then
# it is stopped (power button) and must end with 0.
slice_vm() {
	if vmm_start_ready 240 run --slice s --kernel "$GUEST_BZIMAGE" \
		--initrd "$GUEST_INITRD" --cmdline "$CMDLINE_SHELL"; then
		_ls=$("$SLICEVM" ls --json 2>&1 | tr -d ' \t\n' |
			sed -n 's/.*"kvm_component":\([0-9]*\).*/\1/p')
		[ "$_ls" = "$2" ] || fail "slicevm ls --json says kvm_component '$_ls', expected $2"
		"$SLICEVM" stop s --timeout 120 >"$LAB_TMP/stop.out" 2>&1 ||
			fail "slicevm stop s: $(cat "$LAB_TMP/stop.out")"
		vmm_wait 150
		want_rc 0
	else
		fail "the guest in slice s never printed $MARKER"
		kill -KILL "$VMM_PID" 2>/dev/null
		vmm_wait 10
	fi
	_n=$(grep -c 'kernel component\|stock KVM' "$VMM_STDERR")
	[ "$_n" = 1 ] || fail "stderr has $_n lines about the kernel component, expected one"
	grep -Eq -- "$1" "$VMM_STDERR" || fail "stderr lacks /$1/: $(cat "$VMM_STDERR")"
}

# --- stock KVM first -----------------------------------------------------------
mkdir -p /run/slicevm
host apply "$CONF"
want_host_rc 0
report "kernel component: host apply of slice s (CPU 1) for the slice VMs"

want "kvm.ko already has $PARAM (Debian's modules are loaded at boot)" [ ! -e "$PARAM" ]
host check
want_out '^WARN +kvm-component +not loaded, stock KVM .*make kernel'
report "stock KVM: no slicevm_abi parameter; host check WARNs kvm-component with the fix"

# --- our modules -------------------------------------------------------------------
if kvm_swap "$COMP"; then
	diag "kernel said: $(echo "$LOAD_MSGS" | sed 's/^\[[^]]*\] //' | tr '\n' '|')"
	diag "kvm taint flags: $(cat /sys/module/kvm/taint 2>/dev/null), kernel tainted: $(cat /proc/sys/kernel/tainted)"
	[ "$(cat "$PARAM" 2>/dev/null)" = 1 ] || fail "$PARAM reads '$(cat "$PARAM" 2>&1)', expected 1"
	echo 7 >"$PARAM" 2>/dev/null && fail "$PARAM could be written"
	[ "$(cat "$PARAM" 2>/dev/null)" = 1 ] || fail "$PARAM reads '$(cat "$PARAM" 2>&1)' after a write, expected 1"
	grep -q . /sys/module/kvm_amd/parameters/npt 2>/dev/null || fail "kvm_amd has no npt parameter"
fi
report "kernel component: Debian's kvm_amd and kvm swapped for ours; slicevm_abi reads 1 and cannot be written"

host check
want_out '^PASS +kvm-component +slicevm.s kernel component v1 is loaded'
want_out '^PASS +kvm +/dev/kvm answers KVM API 12 \(kvm_amd\)'
report "kernel component: host check PASSes kvm-component v1 (and kvm)"

vmm_run 180 run --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" --cmdline "$CMDLINE_POWEROFF"
want_rc 0
want_marker
grep -q 'kernel component\|stock KVM' "$VMM_STDERR" && fail "a VM outside a slice spoke of the component: $(cat "$VMM_STDERR")"
report "kernel component: the default guest boots and powers off as on stock KVM"

slice_vm '^slicevm: slice s: kernel component v1 loaded: stage 1, nothing yet beyond stock KVM' 1
report "kernel component: a slice VM says it runs on component v1 (stage 1: nothing beyond stock KVM), ls --json says 1; it boots and stops"

# --- back to Debian's ---------------------------------------------------------------
kvm_swap "$STOCK" && want "$PARAM is still there after Debian's kvm came back" [ ! -e "$PARAM" ]
report "stock KVM again: ours unloaded, Debian's kvm and kvm_amd loaded, no slicevm_abi"

host check
want_out '^WARN +kvm-component +not loaded, stock KVM'
want_out '^PASS +kvm +/dev/kvm answers KVM API 12 \(kvm_amd\)'
report "stock KVM again: host check WARNs kvm-component"

slice_vm '^slicevm: slice s: stock KVM \(no kernel component\): the guest.s timer, IPIs and interrupts exit to KVM as usual$' 0
report "stock KVM again: a slice VM says so, ls --json says 0; it boots and stops"

host release
want_host_rc 0
report "kernel component: host release"
