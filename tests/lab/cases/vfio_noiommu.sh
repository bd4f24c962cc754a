#!/bin/sh
# lab: smp=4 mem=2G
# timeout: 120
# A slice with a PCI device on a host without an IOMMU (this L1: QEMU's
# default machine, no intel-iommu, no intel_iommu=on): plan and apply refuse
# it with one line naming the boot parameter to add, changing nothing; check
# warns on its iommu line with the parameter. (The passthrough itself, on the
# IOMMU flavour of L1: cases/vfio_passthrough.sh.)
. /lab/lib.sh

export SLICEVM_LEDGER=/run/slicevm/ledger.db
mkdir -p /run/slicevm

# The first PCI device that is no bridge (class 0x06....).
DEV=""
for d in /sys/bus/pci/devices/*; do
	case "$(cat "$d/class")" in
	0x06*) ;;
	*) DEV=${d##*/}; break ;;
	esac
done
if [ -z "$DEV" ] || ls /sys/kernel/iommu_groups/* >/dev/null 2>&1; then
	not_ok "a host without an IOMMU" "L1 has IOMMU groups or no PCI device (${DEV:-none})"
	exit 0
fi
diag "device $DEV (class $(cat "/sys/bus/pci/devices/$DEV/class")), no IOMMU groups"
CONF=$LAB_TMP/dev.json
cat >"$CONF" <<JSON
{"housekeeping": {"cpus": "0"}, "host_reserve": "256M",
 "slices": [{"name": "io", "cpus": "1", "memory": "256M", "devices": ["$DEV"]}]}
JSON

BAD_RE="$DEV has no IOMMU group.*(intel_iommu=on|amd_iommu=on)" \
	expect_bad_input "host plan: a device without an IOMMU group is refused, naming the boot parameter" \
	host plan "$CONF"
drv_before=$(readlink "/sys/bus/pci/devices/$DEV/driver")
BAD_RE="$DEV has no IOMMU group.*(intel_iommu=on|amd_iommu=on)" \
	expect_bad_input "host apply: a device without an IOMMU group is refused, naming the boot parameter" \
	host apply "$CONF"
[ "$(readlink "/sys/bus/pci/devices/$DEV/driver")" = "$drv_before" ] ||
	not_ok "host apply without an IOMMU leaves the device's driver" "$drv_before -> $(readlink "/sys/bus/pci/devices/$DEV/driver")"

# (check of that plan stops where plan does; without one it warns.)
host check
grep -Eq "^WARN +iommu " "$LAB_TMP/host.out" ||
	diag "host check exited $HOST_RC: $(head -c 400 "$LAB_TMP/host.err")"
want_out "^WARN +iommu +no IOMMU groups.*(intel_iommu=on|amd_iommu=on)"
report "host check: a host without an IOMMU warns on its iommu line, naming the boot parameter"
"$SLICEVM" host release --force >/dev/null 2>&1
