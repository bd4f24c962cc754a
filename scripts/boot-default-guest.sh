#!/bin/bash
# Boots the default guest (Debian 6.12 kernel + busybox) with slicevm.
#
#   scripts/boot-default-guest.sh SLICEVM_BINARY [ROOTFS_IMAGE]
#                                   (make boot, make boot ROOTFS=IMAGE)
#
# On a host whose KVM can run a stock Linux guest, this is plain
# `slicevm run` on this terminal. Where it cannot (no usable /dev/kvm, or the
# nested page-table-based kvm_pvm), slicevm runs inside the lab instead: a
# QEMU TCG L1 with nested SVM whose init starts slicevm on its console.
# Interactive on a terminal (type `poweroff -f` in the guest to end it);
# without one (stdin not a terminal) the guest powers itself off after its
# banner, so the command ends on its own.
#
# With ROOTFS_IMAGE (a root file system image such as the one `make rootfs`
# builds, scripts/build-rootfs.sh), the same kernel and initramfs boot the
# system on it instead: the image is the VM's first virtio disk (/dev/vda)
# and the command line says root=/dev/vda rw, so the initramfs mounts it and
# hands over to its init (systemd). On a terminal that is a login prompt
# (root, no password; `poweroff` ends it); without one, slicevm.rootfs=poweroff
# makes the system power off once multi-user.target is reached, after it
# printed SLICEVM-ROOTFS-BOOTED. Run directly, the guest writes the image
# itself; in the lab it writes a copy in L1's memory, and the image is
# unchanged.
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: scripts/boot-default-guest.sh SLICEVM_BINARY [ROOTFS_IMAGE]" >&2
	exit 2
fi
bin=$1
rootfs=${2:-}
. "$(dirname "$0")/../tests/lab/l0.sh"

[ -x "$bin" ] || { echo "boot: $bin is missing: run make" >&2; exit 1; }
if [ -n "$rootfs" ]; then
	[ -f "$rootfs" ] || [ -b "$rootfs" ] ||
		{ echo "boot: the root file system image $rootfs is missing: run make rootfs" >&2; exit 1; }
	rootfs=$(realpath "$rootfs")
fi
lab_guest || exit 1
guest=$LAB_CACHE/guest

interactive=no
[ -t 0 ] && [ -t 1 ] && interactive=yes
# slicevm's own default when no --cmdline is given, plus the test hook that
# makes the guest's init power off right after its banner.
cmdline_auto="console=ttyS0 reboot=k panic=-1 slicevm.test=poweroff"
# With a root file system: the interactive command line, and the unattended
# one (the image's slicevm-booted.service powers off once it is up).
cmdline_root="console=ttyS0 reboot=k panic=-1 root=/dev/vda rw"
disk=() cmdline_tty=()
if [ -n "$rootfs" ]; then
	cmdline_auto="$cmdline_root slicevm.rootfs=poweroff"
	disk=(--disk "$rootfs")
	cmdline_tty=(--cmdline "$cmdline_root")
fi

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
		if [ -n "$rootfs" ]; then
			echo "boot: slicevm run, root file system $rootfs; log in as root (no password), 'poweroff' (or Ctrl-A x) ends it" >&2
		else
			echo "boot: slicevm run; type 'poweroff -f' in the guest (or Ctrl-A x) to end it" >&2
		fi
		exec "$bin" run --kernel "$guest/vmlinux" --pvh --initrd "$guest/initrd.cpio.gz" \
			"${disk[@]}" "${cmdline_tty[@]}"
	fi
	exec "$bin" run --kernel "$guest/vmlinux" --pvh --initrd "$guest/initrd.cpio.gz" "${disk[@]}" \
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
boot="BOOT_TTY=$interactive
BOOT_CMDLINE='$cmdline_auto'"
secs=300
rootfs_part=""
if [ -n "$rootfs" ]; then
	# The image travels in L1's initramfs as /guest/rootfs.img (L1's memory
	# holds it: a few hundred MB is fine in the 3G L1). l1-init starts
	# slicevm without disks, so /lab/boot (which it sources first) runs
	# slicevm itself here, with the image as the VM's disk, and ends L1 the
	# way l1-init would.
	[ -f "$rootfs" ] ||
		{ echo "boot: $rootfs is a block device: only an image file can travel into the lab" >&2; exit 1; }
	mkdir -p "$tmp/rootfs/guest"
	ln -s "$rootfs" "$tmp/rootfs/guest/rootfs.img"
	(cd "$tmp/rootfs" && echo guest/rootfs.img | cpio -o -H newc -R 0:0 -L --quiet) \
		>"$tmp/rootfs.cpio" || { echo "boot: cannot pack $rootfs for L1" >&2; exit 1; }
	rootfs_part=$tmp/rootfs.cpio
	boot="$boot
BOOT_CMDLINE_TTY='$cmdline_root'
echo \"lab: L1 is up; starting slicevm run with /guest/rootfs.img as /dev/vda (the guest's console follows)\"
if [ \"\$BOOT_TTY\" = yes ]; then
	setsid cttyhack /bin/slicevm run --kernel /guest/vmlinux --pvh \\
		--initrd /guest/initrd.cpio.gz --disk /guest/rootfs.img --cmdline \"\$BOOT_CMDLINE_TTY\"
else
	/bin/slicevm run --kernel /guest/vmlinux --pvh --initrd /guest/initrd.cpio.gz \\
		--disk /guest/rootfs.img --cmdline \"\$BOOT_CMDLINE\" </dev/null
fi
echo \"lab: slicevm exited with status \$?; powering L1 off\"
poweroff -f"
	# systemd in a nested guest under TCG takes a while.
	secs=900
fi
lab_tail "$tmp/tail.cpio" boot "$boot"
cat "$base" "$tmp/overlay.cpio" ${rootfs_part:+"$rootfs_part"} "$tmp/tail.cpio" >"$tmp/l1.cpio"
rm -f "$tmp/rootfs.cpio"

if [ $interactive = yes ]; then
	if [ -n "$rootfs" ]; then
		echo "boot: log in as root (no password); 'poweroff' in the guest ends it; Ctrl-A x stops QEMU (the whole lab), Ctrl-A Ctrl-A sends Ctrl-A on" >&2
	else
		echo "boot: type 'poweroff -f' in the guest to end it; Ctrl-A x stops QEMU (the whole lab), Ctrl-A Ctrl-A sends Ctrl-A on" >&2
	fi
	lab_qemu 0 2 3G "" "$tmp/l1.cpio" interactive 2>"$tmp/qemu.err"
	rc=$?
else
	lab_qemu $secs 2 3G "" "$tmp/l1.cpio" 2>"$tmp/qemu.err" | tr -d '\r' | tee "$tmp/console"
	rc=${PIPESTATUS[0]}
	# L1 reports how slicevm ended; that is the result of this script.
	vmm=$(sed -n 's/^lab: slicevm exited with status \([0-9]*\);.*/\1/p' "$tmp/console")
	if [ $rc -eq 0 ] && [ -n "$vmm" ]; then
		rc=$vmm
	elif [ $rc -eq 0 ]; then
		echo "boot: L1 ended without running slicevm" >&2
		rc=1
	fi
	if [ $rc -eq 0 ] && [ -n "$rootfs" ] && ! grep -q 'SLICEVM-ROOTFS-BOOTED ' "$tmp/console"; then
		echo "boot: the guest powered off without reaching multi-user.target on $rootfs" >&2
		rc=1
	fi
fi
# QEMU's warnings about CPU features TCG lacks are noise unless it failed.
if [ $rc -ne 0 ]; then
	grep -v "TCG doesn't support requested feature" "$tmp/qemu.err" >&2
	echo "boot: ended with status $rc" >&2
fi
exit $rc
