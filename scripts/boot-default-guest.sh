#!/bin/bash
# Boots the default guest (Debian 6.12 kernel + busybox) with slicevm.
#
#   scripts/boot-default-guest.sh SLICEVM_BINARY      (make boot)
#
# On a host whose KVM can run a stock Linux guest, this is plain
# `slicevm run` on this terminal. Where it cannot (no usable /dev/kvm, or the
# nested page-table-based kvm_pvm), slicevm runs inside the lab instead: a
# QEMU TCG L1 with nested SVM whose init starts slicevm on its console.
# Interactive on a terminal (type `poweroff -f` in the guest to end it);
# without one (stdin not a terminal) the guest powers itself off after its
# banner, so the command ends on its own.
set -u

if [ $# -ne 1 ]; then
	echo "usage: scripts/boot-default-guest.sh SLICEVM_BINARY" >&2
	exit 2
fi
bin=$1
. "$(dirname "$0")/../tests/lab/l0.sh"

[ -x "$bin" ] || { echo "boot: $bin is missing: run make" >&2; exit 1; }
lab_guest || exit 1
guest=$LAB_CACHE/guest

interactive=no
[ -t 0 ] && [ -t 1 ] && interactive=yes
# slicevm's own default when no --cmdline is given, plus the test hook that
# makes the guest's init power off right after its banner.
cmdline_auto="console=ttyS0 reboot=k panic=-1 slicevm.test=poweroff"

# --- directly, when this host's KVM can run the guest ----------------------
if [ -d /sys/module/kvm_pvm ]; then
	why="this host's KVM is kvm_pvm (nested, page-table based), which cannot run a stock Linux guest"
elif [ ! -c /dev/kvm ]; then
	why="this host has no /dev/kvm"
elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	why="/dev/kvm is not usable by $(id -un)"
else
	# The uncompressed vmlinux through its PVH entry boots fastest (bench/):
	# no decompression inside the guest.
	if [ $interactive = yes ]; then
		echo "boot: slicevm run; type 'poweroff -f' in the guest (or Ctrl-A x) to end it" >&2
		exec "$bin" run --kernel "$guest/vmlinux" --pvh --initrd "$guest/initrd.cpio.gz"
	fi
	exec "$bin" run --kernel "$guest/vmlinux" --pvh --initrd "$guest/initrd.cpio.gz" \
		--cmdline "$cmdline_auto" </dev/null
fi

# --- otherwise inside the lab ----------------------------------------------
echo "boot: $why; booting the guest inside the lab (QEMU TCG L1 with nested SVM, slower)" >&2

tmp=$(mktemp -d)
cleanup() {
	lab_kill
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

base=$(lab_base) || exit 1
lab_overlay "$bin" "$tmp/overlay.cpio" || exit 1
lab_tail "$tmp/tail.cpio" boot "BOOT_TTY=$interactive
BOOT_CMDLINE='$cmdline_auto'"
cat "$base" "$tmp/overlay.cpio" "$tmp/tail.cpio" >"$tmp/l1.cpio"

if [ $interactive = yes ]; then
	echo "boot: type 'poweroff -f' in the guest to end it; Ctrl-A x stops QEMU (the whole lab), Ctrl-A Ctrl-A sends Ctrl-A on" >&2
	lab_qemu 0 2 3G "" "$tmp/l1.cpio" interactive 2>"$tmp/qemu.err"
	rc=$?
else
	lab_qemu 300 2 3G "" "$tmp/l1.cpio" 2>"$tmp/qemu.err" | tr -d '\r' | tee "$tmp/console"
	rc=${PIPESTATUS[0]}
	# L1 reports how slicevm ended; that is the result of this script.
	vmm=$(sed -n 's/^lab: slicevm exited with status \([0-9]*\);.*/\1/p' "$tmp/console")
	if [ $rc -eq 0 ] && [ -n "$vmm" ]; then
		rc=$vmm
	elif [ $rc -eq 0 ]; then
		echo "boot: L1 ended without running slicevm" >&2
		rc=1
	fi
fi
# QEMU's warnings about CPU features TCG lacks are noise unless it failed.
if [ $rc -ne 0 ]; then
	grep -v "TCG doesn't support requested feature" "$tmp/qemu.err" >&2
	echo "boot: ended with status $rc" >&2
fi
exit $rc
