#!/bin/sh
# lab: smp=3 mem=3G append="memmap=256M$0x40000000 hugepagesz=2M hugepages=0:128"
# timeout: 900
# Real slice memory. L1 boots with what 'slicevm host bootargs' prints for
# a critical (reserved, identity) slice and a hugetlb slice. The critical
# VM's RAM is the reserved range at its own physical addresses: a word the
# guest writes at guest-physical X is read by L1 at host-physical X; the
# host's memory pressure (the OOM killer) does not touch it; a killed VMM's
# data never reaches the next VM. The hugetlb VM's RAM comes from the
# node's hugepages. KVM's own page-size counters say how guest RAM is mapped.
. /lab/lib.sh

export SLICEVM_LEDGER=/run/slicevm/ledger.db
S=$SLICEVM
CONF=$LAB_TMP/slices.json
cat >"$CONF" <<'JSON'
{"housekeeping": {"cpus": "0"}, "host_reserve": "256M",
 "slices": [{"name": "crit", "cpus": "1", "memory": "256M", "backing": "reserved",
             "phys_start": "0x40000000", "reserve_as": "memmap"},
            {"name": "huge", "cpus": "2", "memory": "256M", "backing": "hugetlb"}]}
JSON
MARK_ADDR=0x4fff0000	# the last 64K of the range: the guest keeps that page out of its RAM
GUEST_MARK="memmap=4K\$$MARK_ADDR"

# kvm_counter NAME: VM counter NAME of the running VMM $VMM_PID (KVM's stats via debugfs).
kvm_counter() {
	cat "$(ls -d /sys/kernel/debug/kvm/"$VMM_PID"-* 2>/dev/null | head -n 1)/$1" 2>/dev/null
}

# big_pages_pct: PCT = share of the guest RAM KVM maps (pages_4k/2m/1g) in 2M or 1G pages.
big_pages_pct() {
	_p4=$(kvm_counter pages_4k)
	_p2=$(kvm_counter pages_2m)
	_p1=$(kvm_counter pages_1g)
	diag "KVM maps $_p4 4K, $_p2 2M and $_p1 1G pages"
	PCT=$(( (_p2 * 512 + _p1 * 262144) * 100 / (_p4 + _p2 * 512 + _p1 * 262144 + 1) ))
}

# phys_word ADDR: the 32-bit word at host-physical ADDR, as 0xXXXXXXXX. Read
# with read(2) on /dev/mem: busybox devmem maps it uncached (O_SYNC), which
# PAT refuses while the VMM maps the range write-back.
phys_word() {
	printf '0x%s' "$(dd if=/dev/mem bs=4096 skip=$(($1 / 4096)) count=1 2>/dev/null |
		od -An -tx4 -j $(($1 % 4096)) -N 4 | tr -d ' ' | tr a-f A-F)"
}

mkdir -p /run/slicevm
host bootargs "$CONF"
want_host_rc 0
params=$(grep -v '^#' "$LAB_TMP/host.out" | tail -n 1)
for p in memmap=256M\$0x40000000 hugepagesz=2M hugepages=0:128; do
	case " $params " in
	*" $p "*) ;;
	*) fail "host bootargs does not print '$p': $params" ;;
	esac
	case " $(cat /proc/cmdline) " in
	*" $p "*) ;;
	*) fail "L1 was not booted with '$p' ($(cat /proc/cmdline))" ;;
	esac
done
grep -q '^40000000-4fffffff : Reserved' /proc/iomem || fail "/proc/iomem lacks the reserved range: $(grep -i reserved /proc/iomem | head -5)"
fw_kb=0
for d in /sys/firmware/memmap/*; do
	[ "$(cat "$d/type")" = "System RAM" ] || continue
	fw_kb=$((fw_kb + ( $(($(cat "$d/end") - $(cat "$d/start") + 1)) ) / 1024))
done
mem_kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
diag "firmware RAM $fw_kb kB, MemTotal $mem_kb kB"
[ "$mem_kb" -le $((fw_kb - 262144)) ] || fail "MemTotal $mem_kb kB does not exclude the 256M range (firmware RAM $fw_kb kB)"
host apply "$CONF"
want_host_rc 0
grep -q '"start": *1073741824' /run/slicevm/memory.json && grep -q '"end": *1342177279' /run/slicevm/memory.json ||
	fail "the range file is wrong: $(cat /run/slicevm/memory.json)"
report "reserved memory: bootargs print memmap= and hugepages=, L1 keeps the range out of its RAM, apply finds it and writes the range file"

# --- the critical VM ---------------------------------------------------------
# a start retried for the TCG hazard has a new pid: take it after
vmm_start_ready 300 run --slice crit --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_SHELL $GUEST_MARK slicevm.devmem=$MARK_ADDR:0x5a1ce0ff slicevm.test=checksum"
crit_ready=$?
CRIT_PID=$VMM_PID
if [ "$crit_ready" -eq 0 ]; then
	tr -d '\r' <"$VMM_CONSOLE" | grep -q "^SLICEVM-DEVMEM-BEFORE $MARK_ADDR 0x00000000$" ||
		fail "the range was not zero when the guest first saw it: $(grep DEVMEM "$VMM_CONSOLE")"
	ram=$(tr -d '\r' <"$VMM_CONSOLE" | sed -n 's/^SLICEVM-GUEST-RAM //p')
	diag "guest RAM: $ram"
	case " $ram " in
	*" 40000000-"*) ;;
	*) fail "the guest's RAM does not start at 0x40000000, the range's host address: $ram" ;;
	esac
	seen=$(phys_word "$MARK_ADDR")
	[ "$seen" = 0x5A1CE0FF ] || fail "L1 reads $seen at host-physical $MARK_ADDR, not the guest's 0x5A1CE0FF"
	big_pages_pct
	diag "reserved VM: $PCT% of mapped guest RAM in 2M/1G pages"
	grep -q "zeroed 256M of reserved memory before the guest starts in" "$VMM_STDERR" ||
		fail "no zeroing report: $(cat "$VMM_STDERR")"
	diag "$(grep zeroed "$VMM_STDERR")"
else
	fail "the critical VM never printed $MARKER"
fi
report "critical VM: guest-physical == host-physical (a guest word read by L1 at the same address), zeroed first, e820 shows the range"

# A second VM on the held slice is refused (by its name first, the slice's;
# under another name by the slice's claim).
vmm_run 60 run --slice crit --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" --cmdline "$CMDLINE_POWEROFF"
want_rc 1
want_error_line "a VM named crit is already running"
vmm_run 60 run --slice crit --name other --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_POWEROFF"
want_rc 1
want_error_line "slice crit is held by VM crit \\(pid $CRIT_PID\\): stop that VM first \\('slicevm stop crit'\\)"
VMM_PID=$CRIT_PID
report "critical VM: a second VM on the same slice is refused"

# Memory pressure in L1 up to the OOM killer: the critical VM's data holds.
_deadline=$(($(uptime_s) + 120))
while ! grep -q '^SLICEVM-SUM ' "$LAB_TMP/vm.1/console" && [ "$(uptime_s)" -lt "$_deadline" ]; do
	sleep 1
done
sum0=$(tr -d '\r' <"$LAB_TMP/vm.1/console" | sed -n 's/^SLICEVM-SUM //p' | head -n 1)
memhog &
HOG=$!
_deadline=$(($(uptime_s) + 240))
while kill -0 "$HOG" 2>/dev/null && [ "$(uptime_s)" -lt "$_deadline" ]; do sleep 1; done
kill -9 "$HOG" 2>/dev/null
wait "$HOG" 2>/dev/null
dmesg | grep -q "Out of memory: Killed process $HOG" || diag "the hog ended without the OOM killer (timeout?)"
sleep 7
sums=$(tr -d '\r' <"$LAB_TMP/vm.1/console" | sed -n 's/^SLICEVM-SUM //p' | sort -u)
diag "checksums seen: $(echo $sums)"
[ -n "$sum0" ] && [ "$sums" = "$sum0" ] || fail "the guest's buffer changed under memory pressure: $(echo $sums)"
_alive "$CRIT_PID" || fail "the critical VM died under memory pressure"
report "critical VM: L1 driven into the OOM killer; the VM lives and its 64M buffer is unchanged"

# SIGKILL: the VMM cannot clean up; the next VM must still find the range zeroed.
kill -KILL "$CRIT_PID"
wait "$CRIT_PID" 2>/dev/null
seen=$(phys_word "$MARK_ADDR")
[ "$seen" = 0x5A1CE0FF ] || diag "after SIGKILL L1 reads $seen (the guest's word was expected: nothing cleaned it)"
vmm_start run --slice crit --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_POWEROFF $GUEST_MARK slicevm.devmem=$MARK_ADDR:0x12345678"
vmm_wait 300
want_rc 0
tr -d '\r' <"$VMM_CONSOLE" | grep -q "^SLICEVM-DEVMEM-BEFORE $MARK_ADDR 0x00000000$" ||
	fail "after a killed VMM the next guest found $(grep DEVMEM-BEFORE "$VMM_CONSOLE")"
grep -q "slice crit was held by VM crit (pid $CRIT_PID), which is gone: taking it over" "$VMM_STDERR" ||
	fail "no takeover note: $(cat "$VMM_STDERR")"
seen=$(phys_word "$MARK_ADDR")
[ "$seen" = 0x00000000 ] || fail "after the VM ended L1 reads $seen: the range was not zeroed"
report "critical VM: after SIGKILL of its VMM the next VM finds the range zeroed, and it is zeroed again at the end"

# --- the hugetlb VM ------------------------------------------------------------
free0=$(sed -n 's/^HugePages_Free: *//p' /proc/meminfo)
if vmm_start_ready 300 run --slice huge --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_SHELL"; then
	free1=$(sed -n 's/^HugePages_Free: *//p' /proc/meminfo)
	diag "HugePages_Free $free0 -> $free1"
	[ "$((free0 - free1))" -eq 128 ] || fail "the hugetlb VM took $((free0 - free1)) hugepages, not 128"
	node0=$(cat /sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages)
	[ "$node0" -eq "$free1" ] || fail "node 0 has $node0 free hugepages, the host $free1"
	big_pages_pct
	diag "hugetlb VM: $PCT% of mapped guest RAM in 2M/1G pages"
	[ "$PCT" -ge 99 ] || fail "only $PCT% of the hugetlb VM's mapped RAM is in 2M/1G pages"
else
	fail "the hugetlb VM never printed $MARKER"
fi
kill -TERM "$VMM_PID"
vmm_wait 60
want_rc 143
free2=$(sed -n 's/^HugePages_Free: *//p' /proc/meminfo)
[ "$free2" = "$free0" ] || fail "the hugepages were not given back ($free2 of $free0 free)"
report "hugetlb VM: its RAM is 128 hugepages of the slice's node, mapped by KVM in 2M pages, given back at exit"

# --- bad input -------------------------------------------------------------------
cat >"$LAB_TMP/bad.json" <<'JSON'
{"housekeeping": {"cpus": "0"}, "slices": [{"name": "x", "cpus": "1", "memory": "512M",
  "backing": "reserved", "phys_start": "0x80000000", "reserve_as": "memmap"}]}
JSON
host release
want_host_rc 0
host apply "$LAB_TMP/bad.json"
want_host_rc 1
grep -q 'memmap=512M\$0x80000000' "$LAB_TMP/host.err" || fail "apply without the range did not name the parameter: $(cat "$LAB_TMP/host.err")"
[ ! -e /run/slicevm/memory.json ] || fail "a refused apply left the range file"
report "reserved memory: apply of a range the host was not booted with names the memmap= to add, changes nothing"
want_no_vmm
