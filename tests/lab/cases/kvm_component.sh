#!/bin/sh
# lab: smp=2 mem=2G
# timeout: 480
# needs: kvm-component
# slicevm's kernel component (kernel/README.md): loading it and saying
# so. run.sh builds kvm.ko and kvm-amd.ko from Debian's source of L1's
# kernel with kernel/patches (scripts/build-kvm.sh --no-vmx) and l0.sh
# ships them as /lab/kvm-component/. Here, as an administrator would:
# Debian's kvm_amd and kvm out, ours in (lib.sh's kvm_swap); the ABI
# version (6) shows in kvm.ko's slicevm_abi parameter (read-only), `host
# check` passes kvm-component and a slice VM says what it gets: this L1
# (QEMU 7.2: no x2APIC, no PMU) can have neither the direct timer nor the
# direct PMU, so both say so;
# guests boot as on stock KVM. Then Debian's modules back, and everything
# says stock KVM again. direct_timer.sh has the direct timer itself.
. /lab/lib.sh

COMP=/lab/kvm-component
STOCK=/lab/modules
PARAM=/sys/module/kvm/parameters/slicevm_abi
slice_conf s 1 256M

component_ready "kernel component: load, host check, run" || exit 0
diag "kernel component: $(head -n 1 "$COMP/stamp")"

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
	[ "$(cat "$PARAM" 2>/dev/null)" = 7 ] || fail "$PARAM reads '$(cat "$PARAM" 2>&1)', expected 7"
	echo 8 >"$PARAM" 2>/dev/null && fail "$PARAM could be written"
	[ "$(cat "$PARAM" 2>/dev/null)" = 7 ] || fail "$PARAM reads '$(cat "$PARAM" 2>&1)' after a write, expected 7"
	grep -q . /sys/module/kvm_amd/parameters/npt 2>/dev/null || fail "kvm_amd has no npt parameter"
fi
report "kernel component: Debian's kvm_amd and kvm swapped for ours; slicevm_abi reads 7 and cannot be written"

host check
want_out '^PASS +kvm-component +slicevm.s kernel component v7 is loaded \(stage 3; this host cannot give the direct timer: its APIC is not in x2APIC mode.*; this host cannot give the direct PMU: its CPU lacks PerfCtrExtCore.*; this host cannot give direct interrupts or IPIs: they need the direct timer'
want_out '^PASS +kvm +/dev/kvm answers KVM API 12 \(kvm_amd\)'
report "kernel component: host check PASSes kvm-component v7, saying this L1 (no x2APIC, no PMU) can give neither the direct timer, the direct PMU nor direct interrupts or IPIs (and kvm)"

vmm_run 180 run --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" --cmdline "$CMDLINE_POWEROFF"
want_rc 0
want_marker
grep -q 'kernel component\|stock KVM' "$VMM_STDERR" && fail "a VM outside a slice spoke of the component: $(cat "$VMM_STDERR")"
report "kernel component: the default guest boots and powers off as on stock KVM"

slice_vm '^slicevm: slice s: kernel component v7 loaded, but this host cannot give the direct timer \(.*\) or the direct PMU \(.*\) or direct interrupts \(.*\) or direct IPIs \(' 7
report "kernel component: a slice VM says it runs on component v7 without the direct timer, PMU, interrupts or IPIs (L1 has no x2APIC, no PMU), ls --json says 7; it boots and stops"

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
