#!/bin/sh
# lab: smp=4 mem=2G
# timeout: 400
# slicevm host apply / status / bootargs / release on a real kernel (L1, 4
# CPUs): partitions read back "isolated", movable IRQs and unbound
# workqueues end up on the housekeeping CPU, the slice CPUs' fair server
# is off, apply is idempotent, a different plan is refused, a failure half
# way (a partition the kernel declares invalid) is rolled back, and
# release restores every value.
. /lab/lib.sh

export SLICEVM_LEDGER=/run/slicevm/ledger.db
CG=/sys/fs/cgroup
FS=/sys/kernel/debug/sched/fair_server
CONF=$LAB_TMP/slices.json
cat >"$CONF" <<'EOF'
{"housekeeping": {"cpus": "0"}, "host_reserve": "256M",
 "slices": [{"name": "db", "cpus": "1-2", "memory": "512M"},
            {"name": "web", "cpus": "3", "memory": "256M"}]}
EOF
OTHER=$LAB_TMP/other.json
cat >"$OTHER" <<'EOF'
{"housekeeping": {"cpus": "0"}, "host_reserve": "256M",
 "slices": [{"name": "db", "cpus": "1", "memory": "512M"}]}
EOF

want_err() {
	[ "$(wc -l <"$LAB_TMP/host.err")" -eq 1 ] || fail "stderr is not one line: $(cat "$LAB_TMP/host.err")"
	grep -Eq -- "^slicevm: .*$1" "$LAB_TMP/host.err" || fail "stderr lacks /$1/: $(cat "$LAB_TMP/host.err")"
}

# Everything apply may change, one line per value.
host_values() {
	echo "default $(cat /proc/irq/default_smp_affinity)"
	for f in /proc/irq/[0-9]*/smp_affinity; do
		echo "$f $(cat "$f")"
	done
	echo "wq $(cat /sys/devices/virtual/workqueue/cpumask)"
	for f in $FS/cpu*/runtime; do
		echo "$f $(cat "$f")"
	done
	echo "subtree [$(cat $CG/cgroup.subtree_control)]"
	echo "root cpus $(cat $CG/cpuset.cpus.effective)"
	ls -d $CG/slicevm-* 2>/dev/null
}

# --- host check on a host booted without the plan's parameters ------------------
host check "$CONF"
want_host_rc 0
want_out "^PASS +kvm "
want_out "^PASS +cgroup2 "
want_out "^WARN +boot-nohz_full +nohz_full= is not on the kernel command line: boot with nohz_full=1-3"
# L1's emulated CPU has no invariant TSC: its kernel watches the TSC
want_out "^WARN +tsc-watchdog +the clocksource watchdog checks the TSC from every CPU in turn.*boot with tsc=nowatchdog"
report "host check: a KVM host without the plan's boot parameters passes KVM and cgroups, warns with the parameters to add (and of the TSC watchdog)"

# --- bad input: one error line, nothing changed -------------------------------
mkdir -p /run/slicevm
BAD_RE="nonexistent" expect_bad_input "host apply: a missing configuration changes nothing" \
	host apply /nonexistent.json
echo '{"housekeeping": {"cpus": "0"}, "slices": [{"name": "db", "cpus": "0-1"}]}' >"$LAB_TMP/bad.json"
expect_bad_input "host apply: a slice overlapping housekeeping changes nothing" \
	host apply "$LAB_TMP/bad.json"
BAD_RE="unknown option" expect_bad_input "host apply: an unknown option changes nothing" \
	host apply "$CONF" --bogus
BAD_RE="unexpected argument" expect_bad_input "host release: an extra argument is refused" \
	host release extra
BAD_RE="option --ledger needs a value: see 'slicevm host release --help'" \
	expect_bad_input "host release: an option without its value is refused" \
	host release --ledger
BAD_RE="unknown option '-x': see 'slicevm host status --help'" \
	expect_bad_input "host status: an unknown short option is named as given" \
	host status -xh
BAD_RE="option --json takes no value" expect_bad_input "host probe: a flag given a value is refused" \
	host probe --json=yes
BAD_RE="option --topology needs a value" expect_bad_input "host plan: --topology without a value is refused" \
	host plan "$CONF" --topology
BAD_RE="no plan is applied \(no ledger at $SLICEVM_LEDGER\): give CONFIG" \
	expect_bad_input "host bootargs: without a plan, no ledger is created" \
	host bootargs

# Nothing applied yet: status and release say so, and leave no ledger behind.
host status
want_host_rc 0
want_out "no plan is applied \(no ledger at $SLICEVM_LEDGER\)"
host release
want_host_rc 0
want_out "nothing is applied"
[ ! -e "$SLICEVM_LEDGER" ] || fail "status or release created $SLICEVM_LEDGER"
report "host status, release: nothing applied, no ledger created"

# Without cgroup v2 at /sys/fs/cgroup (nothing lives there in L1 yet).
before=$(host_values | grep -v -e '^subtree' -e '^root cpus')
if umount $CG; then
	host apply "$CONF"
	want_host_rc 1
	want_err "apply needs cgroup v2 mounted at /sys/fs/cgroup"
	[ ! -e "$SLICEVM_LEDGER" ] || fail "the refused apply created $SLICEVM_LEDGER"
	mount -t cgroup2 cgroup2 $CG
	after=$(host_values | grep -v -e '^subtree' -e '^root cpus')
	[ "$before" = "$after" ] || fail "values changed: $(echo "$after" | head -c 200)"
	host status
	want_out "no plan is applied"
else
	fail "cannot unmount $CG to test a host without cgroup v2"
fi
report "host apply: refused without cgroup v2, nothing changed"

# --- apply ------------------------------------------------------------------
before=$(host_values)
warnings=$(kernel_warnings)
host apply "$CONF"
want_host_rc 0
cp "$LAB_TMP/host.out" "$LAB_TMP/apply.out"
for s in db web; do
	p=$(cat $CG/slicevm-$s/cpuset.cpus.partition 2>&1)
	[ "$p" = isolated ] || fail "slice $s partition reads '$p'"
	[ "$(cat $CG/slicevm-$s/cgroup.type 2>&1)" = threaded ] || fail "slice $s cgroup is not threaded"
done
[ "$(cat $CG/slicevm-db/cpuset.cpus.effective)" = 1-2 ] || fail "db effective CPUs: $(cat $CG/slicevm-db/cpuset.cpus.effective)"
[ "$(cat $CG/slicevm-web/cpuset.cpus.effective)" = 3 ] || fail "web effective CPUs: $(cat $CG/slicevm-web/cpuset.cpus.effective)"
[ "$(cat $CG/cpuset.cpus.effective)" = 0 ] || fail "root cgroup keeps CPUs $(cat $CG/cpuset.cpus.effective)"
[ "$(cat $CG/cpuset.cpus.isolated 2>/dev/null)" = 1-3 ] || fail "cpuset.cpus.isolated is '$(cat $CG/cpuset.cpus.isolated 2>&1)'"
report "host apply: each slice is an isolated partition with its CPUs"

# Housekeeping is CPU 0: mask 1. Every IRQ is on it, or apply listed it.
[ $((0x$(cat /proc/irq/default_smp_affinity) & ~1)) -eq 0 ] ||
	fail "default_smp_affinity is $(cat /proc/irq/default_smp_affinity)"
moved=0
for f in /proc/irq/[0-9]*/smp_affinity; do
	irq=${f#/proc/irq/}
	irq=${irq%/smp_affinity}
	m=$(tr -d ',' <"$f")
	if [ $((0x$m & ~1)) -eq 0 ]; then
		moved=$((moved + 1))
	elif ! grep -q "^note: irq $irq: stays on" "$LAB_TMP/apply.out"; then
		fail "irq $irq has affinity $m and apply did not list it"
	fi
done
[ "$moved" -gt 0 ] || fail "no IRQ is on the housekeeping CPU"
diag "$moved IRQs on housekeeping; refused: $(grep -c '^note: irq' "$LAB_TMP/apply.out")"
[ "$(cat /sys/devices/virtual/workqueue/cpumask)" = 1 ] ||
	fail "workqueue cpumask is $(cat /sys/devices/virtual/workqueue/cpumask)"
report "host apply: IRQs and unbound workqueues moved to housekeeping (refusals listed)"

# Linux 6.12's fair server restarts a busy CPU's tick once a second: off
# on the slice CPUs, set before the partitions (which Linux 6.12 refuses,
# with a warning).
for c in 1 2 3; do
	[ "$(cat $FS/cpu$c/runtime)" = 0 ] || fail "CPU $c's fair server runtime is $(cat $FS/cpu$c/runtime)"
done
[ "$(cat $FS/cpu0/runtime)" != 0 ] || fail "the housekeeping CPU's fair server is off"
grep -q '^fair server: off on slice CPUs 1-3$' "$LAB_TMP/apply.out" ||
	fail "apply did not say so: $(grep -i 'fair' "$LAB_TMP/apply.out")"
no_new_warning "$warnings"
report "host apply: the scheduler's fair server off on slice CPUs 1-3 (kept on CPU 0), without a kernel warning"

host status
want_host_rc 0
want_out "state: applied"
want_out "db +cpus 1-2 +partition isolated +memory anon +free"
want_out "web +cpus 3 +partition isolated +memory anon +free"
want_out "interrupts on its CPUs since apply: [0-9]+"
host status --json
want_host_rc 0
want_out '"state": ?"applied"'
want_out '"interrupts_since_apply": ?[0-9]+'
report "host status: slices, partitions, holders, interrupts since apply"

# --- idempotent; a different plan is refused ------------------------------
applied=$(host_values)
host apply "$CONF"
want_host_rc 0
want_out "already applied: nothing changed"
[ "$(host_values)" = "$applied" ] || fail "the second apply changed host values"
report "host apply: applying the same plan again changes nothing"

host apply "$OTHER"
want_host_rc 1
want_err "a different plan is applied: run 'slicevm host release' first"
[ "$(host_values)" = "$applied" ] || fail "the refused apply changed host values"
report "host apply: a different plan is refused until release"

# --- bootargs ---------------------------------------------------------------
host bootargs
want_host_rc 0
want_out "^isolcpus=managed_irq,1-3 nohz_full=1-3 rcu_nocbs=1-3 irqaffinity=0$"
host bootargs "$CONF" --grub-dropin "$LAB_TMP/slicevm.cfg"
want_host_rc 0
want_out "update-grub"
grep -q '^GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX isolcpus=managed_irq,1-3 ' "$LAB_TMP/slicevm.cfg" ||
	fail "the drop-in lacks the GRUB_CMDLINE_LINUX line"
report "host bootargs: parameters from the ledger and CONFIG, GRUB drop-in"

# --- release --------------------------------------------------------------
host release
want_host_rc 0
want_out "released: [0-9]+ changes undone"
after=$(host_values)
[ "$before" = "$after" ] || fail "not restored: $(echo "$before" >"$LAB_TMP/b"; echo "$after" >"$LAB_TMP/a"; diff "$LAB_TMP/b" "$LAB_TMP/a" | grep '^[-+][^-+]' | head -n 4 | tr '\n' ' ')"
host release
want_host_rc 0
want_out "nothing is applied"
report "host release: every recorded value restored, cgroups removed; again: nothing to do"

# --- a failure half way is rolled back ----------------------------------------
# Another cgroup claims CPU 3 exclusively: slice web's partition cannot be
# valid, after the IRQs, workqueues and slice db were already done.
mkdir $CG/other
echo 3 >$CG/other/cpuset.cpus
if echo 3 >$CG/other/cpuset.cpus.exclusive 2>/dev/null; then
	before=$(host_values)
	host apply "$CONF"
	want_host_rc 1
	want_err "web.*apply undone: nothing changed"
	[ "$(host_values)" = "$before" ] || fail "the failed apply left changes behind"
	host status
	want_out "no plan is applied"
else
	fail "cannot set cpuset.cpus.exclusive to make a conflicting cgroup"
fi
rmdir $CG/other
report "host apply: a partition the kernel refuses rolls everything back"
