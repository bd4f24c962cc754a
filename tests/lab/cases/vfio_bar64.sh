#!/bin/sh
# lab: smp=2 mem=2G iommu=nvme-cmb
# timeout: 600
# A passed-through function with a BAR larger than the guest's whole 32-bit
# PCI window: the lab's NVMe with a 1 GiB controller memory buffer (BAR 2,
# 64-bit, prefetchable). slicevm places 64-bit BARs in the 64-bit window
# above guest RAM (the DSDT's QWordMemory), maps the whole CMB into the
# guest as one memory slot, and the guest's nvme driver (which may put its
# submission queues in the CMB) writes and reads back its pattern.
. /lab/lib.sh

export SLICEVM_LEDGER=/run/slicevm/ledger.db
mkdir -p /run/slicevm
A=$(nvme_addr)
[ -n "$A" ] || { not_ok "L1 (IOMMU flavour) has an NVMe" "no PCI device of class 0x010802"; exit 0; }
wait_drv "$A" nvme 10 || fail "the NVMe is on $(drv "$A"), not nvme"
# /sys/.../resource: one "start end flags" line per BAR
bar2=$(sed -n 3p "$PCI/$A/resource")
set -- $bar2
size=$(( $2 - $1 + 1 ))
diag "L1: the NVMe's BAR 2: $bar2 ($size bytes)"
[ "$size" = 1073741824 ] || fail "the NVMe's BAR 2 is $size bytes, not 1 GiB (cmb_size_mb=1024)"
report "L1: the NVMe has a 1 GiB CMB in BAR 2"
CONF=$LAB_TMP/io.json
cat >"$CONF" <<JSON
{"housekeeping": {"cpus": "0"}, "host_reserve": "256M",
 "slices": [{"name": "io", "cpus": "1", "memory": "256M", "devices": ["$A"]}]}
JSON
host apply "$CONF"
want_host_rc 0
wait_drv "$A" vfio-pci 10 || fail "after apply the NVMe is on $(drv "$A"), not vfio-pci"

vmm_run 300 run --slice io --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_BASE slicevm.test=nvme"
want_rc 0
want_marker
want_line SLICEVM-NVME-OK SLICEVM-NVME-BAD
diag "guest: $(console_line SLICEVM-NVME)"
report "run --slice io: the guest drives the NVMe with its 1 GiB BAR and checks its data"

"$SLICEVM" run --slice io --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_SHELL" --detach --log "$LAB_TMP/io.log" \
	>"$LAB_TMP/io.out" 2>"$LAB_TMP/io.err" || fail "run --detach: $(cat "$LAB_TMP/io.err")"
"$SLICEVM" ls --json >"$LAB_TMP/ls.json" 2>&1
js=$(tr -d ' \n' <"$LAB_TMP/ls.json")
b2=$(echo "$js" | grep -o '{"bar":2,[^}]*}')
diag "ls --json BAR 2: ${b2:-none}; $(echo "$js" | grep -o '"bar_bytes_mapped":[0-9]*')"
addr=$(echo "$b2" | sed -n 's/.*"address":\([0-9]*\).*/\1/p')
case "$b2" in
*'"size":1073741824'*'"bits":64'*) ;;
*) fail "ls --json shows no 64-bit 1 GiB BAR 2: '${b2:-none}'" ;;
esac
[ -n "$addr" ] && [ "$addr" -ge $((64 << 30)) ] ||
	fail "BAR 2 is at '${addr:-?}', not in the 64-bit window (64 GiB up)"
mapped=$(echo "$js" | sed -n 's/.*"bar_bytes_mapped":\([0-9]*\).*/\1/p')
[ -n "$mapped" ] && [ "$mapped" -ge 1073741824 ] ||
	fail "only ${mapped:-?} BAR bytes are mapped into the guest (the CMB is 1 GiB)"
"$SLICEVM" stop io --timeout 120 >"$LAB_TMP/stop.out" 2>&1 || fail "stop: $(cat "$LAB_TMP/stop.out")"
want_no_vmm
report "ls --json: BAR 2 (1 GiB, 64-bit) sits in the 64-bit window above RAM and is mapped into the guest whole"

host release
want_host_rc 0
wait_drv "$A" nvme 10 || fail "after release the NVMe is on $(drv "$A"), not nvme"
report "release: the NVMe is back on nvme"
