#!/bin/sh
# lab: smp=2 mem=2G iommu=nvme append="memmap=256M!0x40000000"
# timeout: 600
# A critical VM with a passed-through NVMe: its memory is the reserved range
# (legacy pmem given through device-dax) at guest-physical == host-physical,
# and its DMA is mapped at IOVA == guest-physical, so the IOMMU maps each
# address of the range to itself while still confining the device to it.
# apply makes the range device-dax and binds the NVMe; the guest writes and
# reads back its pattern by DMA into the identity range; release gives the
# NVMe back and L1 finds the data on it.
. /lab/lib.sh

export SLICEVM_LEDGER=/run/slicevm/ledger.db
mkdir -p /run/slicevm
A=$(nvme_addr)
[ -n "$A" ] || { not_ok "L1 (IOMMU flavour) has an NVMe" "no PCI device of class 0x010802"; exit 0; }
wait_drv "$A" nvme 10 || fail "the NVMe is on $(drv "$A"), not nvme"
CONF=$LAB_TMP/crit.json
cat >"$CONF" <<JSON
{"housekeeping": {"cpus": "0"}, "host_reserve": "256M",
 "slices": [{"name": "crit", "cpus": "1", "memory": "256M", "backing": "reserved",
             "phys_start": "0x40000000", "reserve_as": "pmem", "devices": ["$A"]}]}
JSON

host apply "$CONF"
want_host_rc 0
want_out "device-dax"
wait_drv "$A" vfio-pci 10 || fail "after apply the NVMe is on $(drv "$A"), not vfio-pci"
report "apply: the critical slice's range is device-dax and its NVMe on vfio-pci"

vmm_run 300 run --slice crit --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_BASE slicevm.test=nvme"
want_rc 0
want_marker
want_line SLICEVM-NVME-OK SLICEVM-NVME-BAD
SUM=$(console_line SLICEVM-NVME-OK | sed -n 's/^SLICEVM-NVME-OK sha256=\([0-9a-f]\{64\}\) .*/\1/p')
dma=$(grep 'guest RAM mapped for DMA' "$VMM_STDERR")
ram=$(console_line SLICEVM-GUEST-RAM)
diag "${dma:-no DMA line}"
diag "guest: $ram"
# the boot region at 0 and the range (past device-dax's 2M info block) at its host address
case "$dma" in
"slicevm: guest RAM mapped for DMA: 2 IOMMU mappings of "*" in all, pages up to 2M, IOVA = guest-physical (= host-physical for the reserved range)") ;;
*) fail "the VMM's DMA line is '${dma:-missing}'" ;;
esac
case "$ram" in
*"40200000-4fffffff"*) ;;
*) fail "the guest's RAM is not the identity range 0x40200000-0x4fffffff: '$ram'" ;;
esac
report "a critical VM (identity range) drives the passed-through NVMe: DMA at IOVA == guest-physical == host-physical"

# Detached: 'slicevm ls --json' shows the passed-through function and its DMA maps.
"$SLICEVM" run --slice crit --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_SHELL" --detach --log "$LAB_TMP/crit.log" \
	>"$LAB_TMP/crit.out" 2>"$LAB_TMP/crit.err" || fail "run --detach: $(cat "$LAB_TMP/crit.err")"
"$SLICEVM" ls --json >"$LAB_TMP/ls.json" 2>&1
js=$(tr -d ' \n' <"$LAB_TMP/ls.json")
diag "ls --json devices: $(echo "$js" | grep -o '"type":"vfio-pci"[^}]*')"
for want in '"type":"vfio-pci"' "\"host\":\"$A\"" '"iommu_group":' '"dma_maps":2' \
	'"dma_max_page":2097152' '"bar_bytes_mapped":'; do
	case "$js" in
	*"$want"*) ;;
	*) fail "ls --json lacks $want: $(head -c 600 "$LAB_TMP/ls.json")" ;;
	esac
done
case "$js" in
*'"bar_bytes_mapped":0,'*) fail "no BAR page is mapped into the guest: every MMIO access exits" ;;
esac
"$SLICEVM" stop crit --timeout 120 >"$LAB_TMP/stop.out" 2>&1 || fail "stop: $(cat "$LAB_TMP/stop.out")"
want_no_vmm
report "ls --json shows the passed-through NVMe (host address, IOMMU group, BAR bytes mapped, DMA maps); stop ends the VM"

host release
want_host_rc 0
wait_drv "$A" nvme 10 || fail "after release the NVMe is on $(drv "$A"), not nvme"
wait_nvme_block 15 || fail "no /dev/nvme0n1 after release"
if [ -n "$SUM" ]; then
	back=$(dd if=/dev/nvme0n1 bs=1M skip=32 count=4 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
	[ "$back" = "$SUM" ] || fail "L1 reads sha256 $back, the guest wrote $SUM"
else
	fail "the guest wrote no pattern"
fi
report "release: the NVMe is back on nvme and holds what the critical VM wrote"
[ "$(drv "$A")" = nvme ] || bind_to "$A" nvme
