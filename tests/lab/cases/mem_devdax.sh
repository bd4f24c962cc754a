#!/bin/sh
# lab: smp=2 mem=3G append="memmap=256M!0x40000000"
# timeout: 600
# A critical VM whose range is kept from the host as legacy pmem
# (memmap=SIZE!START, "reserve_as": "pmem", the default) and given to the VMM through
# device-dax: mappings of the device's alignment (2M), which KVM follows,
# where /dev/mem gives only 4K page-table entries. The namespace is put in
# devdax mode here through sysfs, as 'ndctl create-namespace -m devdax
# -e namespace0.0 -a 2M -M mem' does.
. /lab/lib.sh

export SLICEVM_LEDGER=/run/slicevm/ledger.db
CONF=$LAB_TMP/slices.json
cat >"$CONF" <<'JSON'
{"housekeeping": {"cpus": "0"}, "host_reserve": "256M",
 "slices": [{"name": "crit", "cpus": "1", "memory": "256M", "backing": "reserved",
             "phys_start": "0x40000000", "reserve_as": "pmem"}]}
JSON
MARK_ADDR=0x4fff0000

kvm_counter() {
	cat "$(ls -d /sys/kernel/debug/kvm/"$VMM_PID"-* 2>/dev/null | head -n 1)/$1" 2>/dev/null
}


mkdir -p /run/slicevm
host bootargs "$CONF"
grep -q 'memmap=256M!0x40000000' "$LAB_TMP/host.out" || fail "bootargs lack memmap=256M!0x40000000: $(cat "$LAB_TMP/host.out")"
grep -q '^40000000-4fffffff : Persistent Memory (legacy)' /proc/iomem ||
	fail "no legacy pmem range in /proc/iomem: $(grep -i persist /proc/iomem)"
ls /sys/bus/nd/devices/ >"$LAB_TMP/nd.txt" 2>&1
diag "nd devices: $(tr '\n' ' ' <"$LAB_TMP/nd.txt")"

host apply "$CONF"
want_host_rc 0
want_out "slice crit: pmem range 0x40000000-0x4fffffff is now device-dax /dev/dax0.0"
for f in /sys/bus/dax/devices/dax*/; do
	diag "$f resource $(cat "$f/resource" 2>&1) size $(cat "$f/size" 2>&1) align $(cat "$f/align" 2>&1)"
done
DAX_BASE=$(cat /sys/bus/dax/devices/dax0.0/resource)
[ -c /dev/dax0.0 ] || fail "no /dev/dax0.0 after apply"
grep -q '"reserve_as": *"pmem"' /run/slicevm/memory.json || fail "range file: $(cat /run/slicevm/memory.json)"
report "devdax: apply puts the pmem range in device-dax mode (through sysfs, as ndctl would)"

if vmm_start_ready 300 run --slice crit --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_SHELL memmap=4K\$$MARK_ADDR slicevm.devmem=$MARK_ADDR:0x0dd0a0ed"; then
	diag "guest RAM: $(tr -d '\r' <"$VMM_CONSOLE" | sed -n 's/^SLICEVM-GUEST-RAM //p')"
	diag "$(grep zeroed "$VMM_STDERR")"
	p4=$(kvm_counter pages_4k); p2=$(kvm_counter pages_2m); p1=$(kvm_counter pages_1g)
	pct=$(( (p2 * 512 + p1 * 262144) * 100 / (p4 + p2 * 512 + p1 * 262144 + 1) ))
	diag "KVM maps $p4 4K, $p2 2M, $p1 1G pages: $pct% in 2M/1G"
	[ "$pct" -ge 99 ] || fail "only $pct% of the critical VM's mapped RAM is in 2M/1G pages"
	seen=$(daxpeek /dev/dax0.0 "$DAX_BASE" "$MARK_ADDR")
	[ "$seen" = 0x0DD0A0ED ] || fail "L1 reads $seen at host-physical $MARK_ADDR, not the guest's 0x0DD0A0ED"
else
	fail "the critical VM on device-dax never printed $MARKER"
fi
kill -TERM "$VMM_PID"
vmm_wait 60
want_rc 143
report "devdax: a critical VM on device-dax is identity-mapped and KVM maps it in 2M pages"
host release
want_host_rc 0
want_no_vmm
