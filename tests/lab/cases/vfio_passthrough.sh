#!/bin/sh
# lab: smp=3 mem=2G iommu=nvme
# timeout: 900
# VFIO PCI passthrough of an emulated NVMe. L1 is the IOMMU flavour (l0.sh's
# lab_qemu with LAB_IOMMU=nvme): q35, intel-iommu with interrupt remapping,
# intel_iommu=on, an NVMe (serial slicevm-nvme, 64 MiB, an ext4 in its first
# 16 MiB) that starts on L1's nvme driver, and the vfio modules loaded.
# 'slicevm host apply' of a slice holding the NVMe binds it (its whole IOMMU
# group) to vfio-pci; 'slicevm run --slice io' gives it to the guest, whose
# slicevm.test=nvme (guest-init) writes 4 MiB at 32 MiB and reads them back,
# with its nvme MSI-X interrupt counts; 'slicevm host release' puts it back
# on nvme and L1 reads the guest's data from it. Bad input, each refused with
# one stderr line and every device left on its driver: VFIO modules missing,
# the NVMe mounted in L1, a group with a bridge on a host driver (the ICH9
# LPC on lpc_ich: the group is not viable), the NVMe rebound to nvme after
# apply, a --device not in the slice; in the plan: an unknown device, a group
# split between two slices. (No IOMMU at all: cases/vfio_noiommu.sh.)
# Where apply or release does not do its part, the case binds the device by
# hand (and says so), so the run checks still test 'slicevm run'.
. /lab/lib.sh

export SLICEVM_LEDGER=/run/slicevm/ledger.db
mkdir -p /run/slicevm
T=$LAB_TMP
K=$GUEST_BZIMAGE
I=$GUEST_INITRD
# The guest's pattern (guest-init's nvme_test): 4 MiB at byte 32 MiB.
PAT_AT_MIB=32
PAT_MIB=4

# --- helpers (and lib.sh's PCI ones) -----------------------------------------
VFIO_MODS="vfio vfio_iommu_type1 vfio-pci-core vfio-pci"
vfio_unload() {
	for _m in vfio_pci vfio_pci_core vfio_iommu_type1 vfio; do
		[ -d "/sys/module/$_m" ] || continue
		rmmod "$_m" 2>"$T/rmmod.err" || { diag "rmmod $_m: $(cat "$T/rmmod.err")"; return 1; }
	done
}
vfio_load() {
	for _m in $VFIO_MODS; do
		[ -d "/sys/module/$(echo "$_m" | tr - _)" ] && continue
		insmod "/lab/modules/$_m.ko" || return 1
	done
}
# (ext4 to mount the NVMe's file system; lpc_ich for the ICH9 LPC bridge)
case_modules() {
	for _m in $(cat /lab/modules/load-order.case); do
		[ -d "/sys/module/$(echo "$_m" | tr - _)" ] || insmod "/lab/modules/$_m.ko" || return 1
	done
}

# released: no plan applied any more (after a command that should have
# been refused but applied one).
released() {
	"$SLICEVM" host release --force >/dev/null 2>&1
}

# refused DESC RE ARGS...: slicevm ARGS exits 1 with one stderr line
# "slicevm: ..." matching RE, leaves no process, VM or file behind and every
# PCI device on the driver (and driver_override) it had.
refused() {
	_desc=$1
	_re=$2
	shift 2
	drivers >"$T/state.drv.before"
	lab_state >"$T/state"
	vmm_run 120 "$@"
	want_rc 1
	want_error_line "$_re"
	want_no_vmm
	want_same_state "$T/state"
	drivers >"$T/state.drv.after"
	cmp -s "$T/state.drv.before" "$T/state.drv.after" ||
		fail "device bindings changed: $(diff "$T/state.drv.before" "$T/state.drv.after" |
			grep '^[-+]0' | tr '\n' ' ')"
	_line=$(head -n 1 "$VMM_STDERR")
	_rc=$VMM_RC
	report "$_desc"
	diag "stderr: ${_line:-(none)}"
	[ "$_rc" = 0 ] && [ "$1" = host ] && released
	return 0
}

# --- 1. the lab: an NVMe alone in an IOMMU group, on nvme ------------------------
A=$(nvme_addr)
if [ -z "$A" ]; then
	not_ok "L1 (IOMMU flavour) has an NVMe" "no PCI device of class 0x010802: $(ls "$PCI" | tr '\n' ' ')"
	exit 0
fi
G=$(group_of "$A")
diag "NVMe $A ($(cat "$PCI/$A/vendor"):$(cat "$PCI/$A/device")), IOMMU group ${G:-none}, driver $(drv "$A")"
diag "IOMMU groups: $(for g in /sys/kernel/iommu_groups/*; do echo "${g##*/}=[$(ls "$g/devices" | tr '\n' ' ' | sed 's/ $//')]"; done | tr '\n' ' ')"
[ -n "$G" ] || fail "the NVMe has no IOMMU group"
[ "$(ls "/sys/kernel/iommu_groups/$G/devices" 2>/dev/null)" = "$A" ] ||
	fail "the NVMe's group $G holds $(ls "/sys/kernel/iommu_groups/$G/devices" | tr '\n' ' ')"
wait_drv "$A" nvme 10 || fail "the NVMe is on driver $(drv "$A"), not nvme"
wait_nvme_block 10 || fail "no /dev/nvme0n1"
[ "$(cat /sys/block/nvme0n1/size 2>/dev/null)" = 131072 ] ||
	fail "/dev/nvme0n1 has $(cat /sys/block/nvme0n1/size 2>/dev/null) sectors, not 131072 (64 MiB)"
[ "$(tr -d ' ' </sys/class/nvme/nvme0/serial 2>/dev/null)" = slicevm-nvme ] ||
	fail "nvme0's serial is '$(cat /sys/class/nvme/nvme0/serial 2>/dev/null)'"
# ext4's magic 0xef53 at byte 1080
magic=$(dd if=/dev/nvme0n1 bs=1024 skip=1 count=1 2>/dev/null | od -An -tx1 -j 56 -N 2 | tr -d ' ')
[ "$magic" = 53ef ] || fail "no ext4 at the start of /dev/nvme0n1 (magic '$magic')"
chip=$(grep nvme0q /proc/interrupts | awk -v n="$(grep -c ^processor /proc/cpuinfo)" '{ print $(n + 2) }' | sort -u | tr '\n' ' ')
diag "L1's nvme interrupts: $chip"
case "$chip" in
IR-PCI-MSIX*) ;;
*) fail "L1's nvme interrupts are on '$chip', not IR-PCI-MSIX (interrupt remapping)" ;;
esac
[ -c /dev/vfio/vfio ] || fail "no /dev/vfio/vfio (vfio not loaded)"
report "L1 (IOMMU flavour): the NVMe $A is alone in IOMMU group $G, on nvme (/dev/nvme0n1, 64 MiB, ext4 first), its MSI-X through interrupt remapping; vfio loaded"

# By hand, as LAB.md says: driver_override + drivers_probe. Then what a VMM
# does with it, without a VM (vfio-peek.c).
if bind_to "$A" vfio-pci; then
	[ -c "/dev/vfio/$G" ] || fail "/dev/vfio/$G did not appear"
	[ -b /dev/nvme0n1 ] && fail "/dev/nvme0n1 is still there"
	peek=$(vfio-peek "$G" "$A" 2>&1)
	diag "$peek"
	case "$peek" in
	"vfio-peek: group $G viable type1"*" dma-map=ok device=$A id=1b36:0010 "*) ;;
	*) fail "VFIO in L1: $peek" ;;
	esac
else
	fail "the NVMe went to $(drv "$A"), not vfio-pci"
fi
bind_to "$A" nvme || fail "the NVMe went back to $(drv "$A"), not nvme"
wait_nvme_block 10 || fail "no /dev/nvme0n1 after binding nvme again"
[ -e "/dev/vfio/$G" ] && fail "/dev/vfio/$G is still there"
report "L1: driver_override + drivers_probe move the NVMe to vfio-pci (/dev/vfio/$G appears; VFIO: viable, type1 container, DMA map, config space, MSI-X) and back to nvme"

CONF=$T/io.json
cat >"$CONF" <<EOF
{"housekeeping": {"cpus": "0"}, "host_reserve": "256M",
 "slices": [{"name": "io", "cpus": "1", "memory": "256M", "devices": ["$A"]}]}
EOF

host probe
want_host_rc 0
want_out "^$A +1b36:0010 +010802 +[-0-9]+ +$G\$"
host plan "$CONF"
want_host_rc 0
want_out "$A"
host check "$CONF"
want_out "^PASS +iommu "
report "host probe lists the NVMe in IOMMU group $G; plan takes a slice with it; check passes the IOMMU"

# --- 2. the plan refuses ---------------------------------------------------------
cat >"$T/unknown.json" <<'EOF'
{"housekeeping": {"cpus": "0"}, "slices": [{"name": "io", "cpus": "1", "memory": "256M", "devices": ["0000:00:07.0"]}]}
EOF
refused "host plan: a device that does not exist is refused" "0000:00:07.0" \
	host plan "$T/unknown.json"

# The ICH9 functions (LPC bridge 1f.0, SATA 1f.2, SMBus 1f.3) share a group.
LPC=0000:00:1f.0
SATA=0000:00:1f.2
SMBUS=0000:00:1f.3
IG=$(group_of "$SATA")
case_modules || fail "insmod of $(cat /lab/modules/load-order.case | tr '\n' ' ') failed"
[ "$(drv "$LPC")" = lpc_ich ] || fail "lpc_ich did not take $LPC (on $(drv "$LPC"))"
# What VFIO says of that group with SATA and SMBus on vfio-pci: not viable
# while the LPC bridge is on lpc_ich, viable once it is on no driver.
if bind_to "$SATA" vfio-pci && bind_to "$SMBUS" vfio-pci; then
	peek=$(vfio-peek "$IG" 2>&1)
	[ "$peek" = "vfio-peek: group $IG not viable" ] || fail "with $LPC on lpc_ich: $peek"
	echo "$LPC" >"$PCI/$LPC/driver/unbind"
	peek2=$(vfio-peek "$IG" "$SATA" 2>&1)
	case "$peek2" in
	"vfio-peek: group $IG viable "*) ;;
	*) fail "with $LPC on no driver: $peek2" ;;
	esac
	diag "$peek / $peek2"
	echo "$LPC" >/sys/bus/pci/drivers_probe
	wait_drv "$LPC" lpc_ich 5 || fail "$LPC did not go back to lpc_ich"
else
	fail "cannot bind $SATA and $SMBUS to vfio-pci"
fi
bind_to "$SATA" none || fail "$SATA stays on $(drv "$SATA")"
bind_to "$SMBUS" none || fail "$SMBUS stays on $(drv "$SMBUS")"
report "L1: VFIO calls the ICH9 group $IG not viable while its LPC bridge $LPC is on lpc_ich, viable when it is on no driver"
# (L1 has 3 CPUs for this: housekeeping 0, slices on 1 and 2.)
cat >"$T/split.json" <<EOF
{"housekeeping": {"cpus": "0"}, "slices": [
  {"name": "a", "cpus": "1", "memory": "256M", "devices": ["$SATA"]},
  {"name": "b", "cpus": "2", "memory": "256M", "devices": ["$SMBUS"]}]}
EOF
if [ -n "$IG" ] && [ "$IG" = "$(group_of "$SMBUS")" ]; then
	refused "host plan: an IOMMU group (ICH9, group $IG) split between two slices is refused" \
		"IOMMU group $IG" host plan "$T/split.json"
else
	not_ok "host plan: a device whose IOMMU group is not wholly in its slice is refused" \
		"the lab's ICH9 functions are not in one group ($SATA: ${IG:-none}, $SMBUS: $(group_of "$SMBUS"))"
fi

# --- 3. apply refuses -----------------------------------------------------------------
# VFIO modules missing: apply would have no vfio-pci to bind to.
if vfio_unload; then
	refused "host apply: with the VFIO modules missing it is refused, naming modprobe; the NVMe stays on nvme" \
		"modprobe" host apply "$CONF"
	vfio_load || fail "insmod of the vfio modules failed"
	[ -c /dev/vfio/vfio ] || fail "no /dev/vfio/vfio after loading vfio again"
	report "the vfio modules load again"
else
	not_ok "host apply: with the VFIO modules missing it is refused" "rmmod of the vfio modules failed"
	vfio_load
fi

# The NVMe's file system mounted in L1.
if mkdir -p /mnt && mount -t ext4 /dev/nvme0n1 /mnt 2>"$T/mount.err"; then
	refused "host apply: a device whose disk is mounted (/dev/nvme0n1 on /mnt) is refused, naming the mount" \
		"/mnt|nvme0n1|[Mm]ounted" host apply "$CONF"
	umount /mnt || fail "umount /mnt failed"
else
	not_ok "host apply: a device whose disk is mounted is refused" \
		"cannot mount the NVMe's ext4 in L1: $(cat "$T/mount.err" 2>/dev/null)"
fi

# A group that cannot be viable: its bridge (the LPC, which the plan lets
# stay out of the slice) on a host driver (lpc_ich). VFIO refuses to open
# such a group; apply, or at the latest run, must say so.
SATA_CONF=$T/sata.json
cat >"$SATA_CONF" <<EOF
{"housekeeping": {"cpus": "0"}, "host_reserve": "256M",
 "slices": [{"name": "sata", "cpus": "1", "memory": "256M", "devices": ["$SATA", "$SMBUS"]}]}
EOF
if [ "$(drv "$LPC")" = lpc_ich ] && [ "$(group_of "$LPC")" = "$IG" ]; then
	drivers >"$T/state.drv.before"
	host apply "$SATA_CONF"
	if [ "$HOST_RC" = 1 ]; then
		grep -Eq 'viable|lpc_ich|00:1f\.0' "$LAB_TMP/host.err" ||
			fail "apply's line names neither the group's viability nor $LPC/lpc_ich: $(cat "$LAB_TMP/host.err")"
		[ "$(wc -l <"$LAB_TMP/host.err")" -eq 1 ] || fail "stderr is not one line: $(cat "$LAB_TMP/host.err")"
		drivers >"$T/state.drv.after"
		cmp -s "$T/state.drv.before" "$T/state.drv.after" || fail "apply changed device bindings"
		diag "apply: $(cat "$LAB_TMP/host.err")"
	elif [ "$(drv "$LPC")" != lpc_ich ]; then
		fail "apply took the bridge $LPC from its host driver lpc_ich (now $(drv "$LPC"))"
		released
	else
		# Applied: then run must refuse.
		vmm_run 120 run --slice sata --name sata --kernel "$K" --initrd "$I" --cpus 1 \
			--memory 256M --cmdline "$CMDLINE_POWEROFF"
		want_rc 1
		want_error_line 'viable|lpc_ich|00:1f\.0'
		want_no_vmm
		diag "apply took it; run: $(head -n 1 "$VMM_STDERR")"
		released
	fi
	report "a slice whose IOMMU group is not viable ($LPC on lpc_ich) is refused by apply or run, naming it"
else
	not_ok "a slice whose IOMMU group is not viable is refused" \
		"$LPC is on $(drv "$LPC") in group $(group_of "$LPC"), expected lpc_ich in group $IG"
fi
rmmod lpc_ich 2>/dev/null

# --- 4. apply: the NVMe on vfio-pci ----------------------------------------------------------
host apply "$CONF"
want_host_rc 0
APPLIED=$HOST_RC
wait_drv "$A" vfio-pci 10 || fail "after apply the NVMe is on $(drv "$A"), not vfio-pci"
[ -c "/dev/vfio/$G" ] || fail "no /dev/vfio/$G after apply"
[ -b /dev/nvme0n1 ] && fail "/dev/nvme0n1 is still there after apply"
report "host apply: the slice's NVMe is on vfio-pci, /dev/vfio/$G exists, L1's /dev/nvme0n1 is gone"
if [ "$APPLIED" != 0 ]; then
	# Without a plan run --slice has nothing to test.
	diag "apply failed: the run checks below will fail for want of a plan"
fi
if [ "$(drv "$A")" != vfio-pci ]; then
	diag "binding the NVMe to vfio-pci by hand, so the run checks test slicevm run"
	bind_to "$A" vfio-pci || diag "binding by hand failed too: on $(drv "$A")"
fi

# --- 5. run refuses ------------------------------------------------------------------------
# The NVMe rebound to its host driver after apply.
if bind_to "$A" nvme; then
	refused "run --slice io: the NVMe back on its host driver nvme is refused, naming the driver" \
		"nvme" run --slice io --name io --kernel "$K" --initrd "$I" --cpus 1 --memory 256M \
		--cmdline "$CMDLINE_POWEROFF"
else
	not_ok "run --slice io: the NVMe on its host driver is refused" "cannot bind it to nvme by hand"
fi
bind_to "$A" vfio-pci || diag "cannot bind the NVMe to vfio-pci again: on $(drv "$A")"

refused "run --slice io --device $SATA (not in the slice) is refused, naming it" \
	"$SATA" run --slice io --name io --device "$SATA" --kernel "$K" --initrd "$I" --cpus 1 \
	--memory 256M --cmdline "$CMDLINE_POWEROFF"

# VFIO modules missing: rmmod vfio_pci unbinds the NVMe (no driver then).
if vfio_unload; then
	refused "run --slice io: with the VFIO modules missing it is refused, naming modprobe" \
		"modprobe" run --slice io --name io --kernel "$K" --initrd "$I" --cpus 1 --memory 256M \
		--cmdline "$CMDLINE_POWEROFF"
	vfio_load || fail "insmod of the vfio modules failed"
	# driver_override (vfio-pci) stays: loading vfio-pci takes the device again.
	wait_drv "$A" vfio-pci 5 || bind_to "$A" vfio-pci ||
		fail "the NVMe is on $(drv "$A") once vfio is back, not vfio-pci"
	report "the vfio modules load again and the NVMe is on vfio-pci"
else
	not_ok "run --slice io: with the VFIO modules missing it is refused" "rmmod of the vfio modules failed"
	vfio_load
fi

# --- 6. the guest uses the NVMe ----------------------------------------------------------
vmm_run 300 run --slice io --name io --kernel "$K" --initrd "$I" --cpus 1 --memory 256M \
	--cmdline "$CMDLINE_BASE slicevm.test=nvme"
RUN_DIR=$VMM_DIR
want_rc 0
want_marker
nv=$(console_line SLICEVM-NVME)
diag "guest: ${nv:-no SLICEVM-NVME line}"
case "$nv" in
"SLICEVM-NVME pci="*" vendor=0x1b36 device=0x0010 driver=nvme msix="*) ;;
*) fail "the guest does not see one NVMe 1b36:0010 on nvme: '${nv:-no SLICEVM-NVME line}'" ;;
esac
[ "$(echo "$nv" | grep -o 'pci=' | wc -l)" -le 1 ] || fail "the guest sees more than one NVMe"
want_line SLICEVM-NVME-OK SLICEVM-NVME-BAD
# anon RAM below the 3G hole: one region, one map at IOVA == guest-physical
dma=$(grep 'guest RAM mapped for DMA' "$VMM_STDERR")
diag "${dma:-no DMA line}"
case "$dma" in
"slicevm: guest RAM mapped for DMA: 1 IOMMU mapping of 256M in all, pages up to "*", IOVA = guest-physical") ;;
*) fail "the VMM's DMA line is '${dma:-missing}'" ;;
esac
GUEST_SUM=$(console_line SLICEVM-NVME-OK | sed -n 's/^SLICEVM-NVME-OK sha256=\([0-9a-f]\{64\}\) .*/\1/p')
want_no_vmm
report "run --slice io: the guest sees the NVMe (1b36:0010) on its nvme driver, writes 4 MiB at 32 MiB (O_DIRECT) and reads them back"

VMM_DIR=$RUN_DIR
irqs=$(console_line SLICEVM-NVME-IRQS)
diag "guest: ${irqs:-no SLICEVM-NVME-IRQS line}"
before=$(echo "$irqs" | sed -n 's/.* before=\([0-9]*\) .*/\1/p')
after=$(echo "$irqs" | sed -n 's/.* after=\([0-9]*\) .*/\1/p')
gchip=$(echo "$irqs" | sed -n 's/.* chip=\([^ ]*\).*/\1/p')
msix=$(echo "$nv" | sed -n 's/.* msix=\([0-9]*\).*/\1/p')
if [ -z "$before" ] || [ -z "$after" ]; then
	fail "no interrupt counts from the guest"
else
	[ "$after" -gt "$before" ] || fail "the nvme interrupts did not grow with the I/O ($before -> $after)"
	case "$gchip" in
	*PCI-MSI*) ;;
	*) fail "the guest's nvme interrupts are on '$gchip', not PCI-MSI(X)" ;;
	esac
	[ "${msix:-0}" -ge 2 ] || fail "the guest's NVMe has ${msix:-no} MSI(-X) vectors (admin + I/O queue expected)"
fi
report "run --slice io: the guest's nvme MSI-X interrupt counts grow with its I/O"

# INTx: a guest without MSI (pci=nomsi) drives the NVMe through its pin: the
# _PRT's IOAPIC line, a resampling irqfd, VFIO's INTx. (Its virtio-rng has
# no interrupt then; the NVMe does not need it.)
vmm_run 300 run --slice io --name io --kernel "$K" --initrd "$I" --cpus 1 --memory 256M \
	--cmdline "$CMDLINE_BASE pci=nomsi slicevm.test=nvme"
want_rc 0
want_marker
want_line SLICEVM-NVME-OK SLICEVM-NVME-BAD
nv=$(console_line SLICEVM-NVME)
irqs=$(console_line SLICEVM-NVME-IRQS)
diag "guest (pci=nomsi): $nv / $irqs"
case "$nv" in
*" driver=nvme msix=0"*) ;;
*) fail "the guest's NVMe is not on nvme without MSI vectors: '$nv'" ;;
esac
before=$(echo "$irqs" | sed -n 's/.* before=\([0-9]*\) .*/\1/p')
after=$(echo "$irqs" | sed -n 's/.* after=\([0-9]*\) .*/\1/p')
case "$irqs" in
*chip=IO-APIC*) ;;
*) fail "the guest's nvme interrupt is not an IO-APIC line: '$irqs'" ;;
esac
[ -n "$before" ] && [ -n "$after" ] && [ "$after" -gt "$before" ] ||
	fail "the nvme INTx count did not grow with the I/O ($before -> $after)"
sum=$(console_line SLICEVM-NVME-OK | sed -n 's/^SLICEVM-NVME-OK sha256=\([0-9a-f]\{64\}\) .*/\1/p')
[ -n "$sum" ] && GUEST_SUM=$sum
want_no_vmm
report "run --slice io, guest with pci=nomsi: the NVMe interrupts through INTx (IOAPIC line, resampling irqfd) and its I/O checks"

# --- 7. release: back on nvme, the data in L1 -----------------------------------------
host release
want_host_rc 0
wait_drv "$A" nvme 10 || fail "after release the NVMe is on $(drv "$A"), not nvme"
ov=$(cat "$PCI/$A/driver_override")
[ "$ov" = "(null)" ] || fail "driver_override is still '$ov'"
wait_nvme_block 15 || fail "no /dev/nvme0n1 after release"
[ -e "/dev/vfio/$G" ] && fail "/dev/vfio/$G is still there"
ls -d /sys/fs/cgroup/slicevm-* >/dev/null 2>&1 && fail "slice cgroups left: $(ls -d /sys/fs/cgroup/slicevm-*)"
report "host release: the NVMe is back on nvme in L1 (/dev/nvme0n1), driver_override cleared, /dev/vfio/$G gone"
if [ "$(drv "$A")" != nvme ]; then
	diag "binding the NVMe to nvme by hand to read the guest's data"
	bind_to "$A" nvme && wait_nvme_block 15 || diag "cannot: on $(drv "$A")"
fi

if [ -z "$GUEST_SUM" ]; then
	not_ok "L1 reads the guest's data from the NVMe after release" "the guest wrote no pattern (no SLICEVM-NVME-OK)"
else
	back=$(dd if=/dev/nvme0n1 bs=1M skip=$PAT_AT_MIB count=$PAT_MIB iflag=direct 2>"$T/dd.err" |
		sha256sum | cut -d' ' -f1)
	[ "$back" = "$GUEST_SUM" ] ||
		fail "L1 reads sha256 $back at $PAT_AT_MIB MiB, the guest wrote $GUEST_SUM ($(tail -n 1 "$T/dd.err"))"
	if mount -t ext4 -o ro /dev/nvme0n1 /mnt 2>"$T/mount.err"; then
		umount /mnt
	else
		fail "the NVMe's ext4 no longer mounts: $(cat "$T/mount.err")"
	fi
	report "L1 reads the guest's 4 MiB from the NVMe after the VM powered off and release (sha256 equal); its ext4 is intact"
fi

# Leave L1 as found: no plan, the NVMe on nvme, vfio loaded.
released
[ "$(drv "$A")" = nvme ] || bind_to "$A" nvme
vfio_load
