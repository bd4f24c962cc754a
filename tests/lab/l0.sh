# shellcheck shell=bash
# l0.sh: building and booting the lab's L1, on the development machine (L0).
# Sourced by tests/lab/run.sh and scripts/boot-default-guest.sh.
#
# The L1 initramfs is uncompressed cpio (QEMU copies it, the L1 kernel only
# memcpys it: no slow decompression under TCG) made of concatenated parts:
#   cache/lab/l1-base.cpio  busybox, kvm modules, /guest (cached, ~90 MB),
#                           debugfs and e2fsck with their libraries in /bin
#   overlay                 /init, /bin/slicevm + its libraries, /lab/lib.sh,
#                           /lab/cases/*.sh, /lab/kvm-component/ (rebuilt
#                           every run, small)
#   tail                    /lab/cases.list or /lab/boot (what this boot does)
# The kernel unpacks concatenated archives in order, later files win.

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_TOP=$(cd "$LAB_DIR/../.." && pwd)
LAB_CACHE=$(realpath -m "${SLICEVM_CACHE:-$LAB_TOP/cache}")
# Known before QEMU starts, so lab_kill works even when lab_qemu ran in a
# subshell (a pipeline or a background job) of the caller.
LAB_QEMU_PIDFILE=${TMPDIR:-/tmp}/slicevm-lab-qemu.$$.pid

lab_say() { echo "lab: $*" >&2; }

# lab_guest: build (or check) the default guest and the L1 kernel + modules.
lab_guest() {
	"$LAB_DIR/guest.sh"
}

# _lab_cpio DIR OUT: an uncompressed newc archive of DIR, owned by root.
_lab_cpio() {
	(cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$2"
}

# _lab_sbin NAME: the path of an e2fsprogs program (in /sbin or /usr/sbin,
# which a user's PATH may lack).
_lab_sbin() {
	local p
	p=$(PATH=$PATH:/usr/sbin:/sbin command -v "$1") && [ -x "$p" ] && echo "$p" && return 0
	lab_say "$1 is missing: run scripts/install-deps.sh (as root) for e2fsprogs"
	return 1
}

# lab_disk: print the path of the cached ext4 image for the disk cases
# (cache/lab/disk.img, 8 MiB), building it when missing or when this
# function changed. It holds files of random content (some block-sized,
# some not, one in a subdirectory) and SHA256SUMS listing them with paths
# relative to its root, as the guest's slicevm.test=disk checks them. Made
# unprivileged by mkfs.ext4 -d (e2fsprogs); in L1 it is /guest/disk.img.
lab_disk() {
	local img=$LAB_CACHE/lab/disk.img mkfs stamp dir
	mkfs=$(_lab_sbin mkfs.ext4) || return 1
	stamp="$(declare -f lab_disk | cksum) $("$mkfs" -V 2>&1 | head -n 1)"
	if [ -f "$img" ] && [ "$(cat "$img.stamp" 2>/dev/null)" = "$stamp" ]; then
		echo "$img"
		return 0
	fi
	mkdir -p "$LAB_CACHE/lab"
	dir=$(mktemp -d "$LAB_CACHE/lab/disk.XXXXXX")
	mkdir -p "$dir/sub/dir"
	head -c 4096 /dev/urandom >"$dir/block.bin" &&
		head -c 12345 /dev/urandom >"$dir/odd.bin" &&
		head -c 1048576 /dev/urandom >"$dir/big.bin" &&
		head -c 200001 /dev/urandom >"$dir/sub/dir/nested.bin" &&
		(cd "$dir" && sha256sum block.bin odd.bin big.bin sub/dir/nested.bin >SHA256SUMS) &&
		chmod -R a+rX "$dir" &&
		"$mkfs" -q -F -t ext4 -b 4096 -L slicevm-lab -E root_owner=0:0 -d "$dir" \
			"$img.new.$$" 8M >&2 &&
		mv "$img.new.$$" "$img" && printf '%s\n' "$stamp" >"$img.stamp"
	local rc=$?
	rm -rf "$dir" "$img.new.$$"
	[ $rc -eq 0 ] || { lab_say "building the disk image $img failed"; return 1; }
	echo "$img"
}

# lab_base: print the path of the cached base archive, rebuilding it when
# the guest, busybox or the disk image changed.
lab_base() {
	local base=$LAB_CACHE/lab/l1-base.cpio busybox stamp root disk debugfs e2fsck
	busybox=$(dpkg -L busybox-static 2>/dev/null | grep '/busybox$' | head -n 1)
	[ -x "$busybox" ] || { lab_say "busybox-static is not installed"; return 1; }
	disk=$(lab_disk) || return 1
	debugfs=$(_lab_sbin debugfs) || return 1
	e2fsck=$(_lab_sbin e2fsck) || return 1
	stamp="$(cat "$LAB_CACHE/guest/stamp")
l0=$(cksum <"$LAB_DIR/l0.sh")
disk=$(cksum <"$disk")"
	if [ -f "$base" ] && [ "$(cat "$base.stamp" 2>/dev/null)" = "$stamp" ]; then
		echo "$base"
		return 0
	fi
	mkdir -p "$LAB_CACHE/lab"
	root=$(mktemp -d "$LAB_CACHE/lab/base.XXXXXX")
	mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,root,mnt,guest,lab/modules,home/lab}
	cp "$busybox" "$root/bin/busybox"
	local a
	for a in $("$busybox" --list); do
		[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
	done
	cp "$LAB_CACHE"/guest/{bzImage,vmlinux,initrd.cpio.gz} "$root/guest/"
	# The same initrd with fio (guest.sh): the fio disk check, bench/virtio.sh.
	cp "$LAB_CACHE/guest/initrd-fio.cpio.gz" "$root/guest/"
	cp "$LAB_CACHE"/guest/modules/* "$root/lab/modules/"
	# The disk cases' image, and what reads it back once the VM is gone.
	cp "$disk" "$root/guest/disk.img"
	# (Not through a busybox applet link of the same name, should there be one.)
	rm -f "$root/bin/debugfs" "$root/bin/e2fsck"
	cp -L "$debugfs" "$root/bin/debugfs" && lab_copy_libs "$debugfs" "$root" &&
		cp -L "$e2fsck" "$root/bin/e2fsck" && lab_copy_libs "$e2fsck" "$root" ||
		{ lab_say "cannot copy debugfs and e2fsck into L1"; rm -rf "$root"; return 1; }
	# root, and an unprivileged user for the permission cases.
	printf 'root:x:0:0:root:/root:/bin/sh\nlab:x:1000:1000:lab:/home/lab:/bin/sh\n' \
		>"$root/etc/passwd"
	printf 'root:x:0:\nkvm:x:100:\nlab:x:1000:\n' >"$root/etc/group"
	printf '/bin/sh\n' >"$root/etc/shells"
	chmod 0755 "$root" "$root"/{guest,lab,home}
	chmod 0644 "$root"/guest/*
	chown 1000:1000 "$root/home/lab"
	_lab_cpio "$root" "$base.new.$$" && mv "$base.new.$$" "$base" &&
		printf '%s\n' "$stamp" >"$base.stamp"
	local rc=$?
	rm -rf "$root"
	[ $rc -eq 0 ] && echo "$base"
}

# slicevm's kernel component for L1 (kernel/README.md): lab_kvm_component
# builds it, lab_overlay ships it as /lab/kvm-component/{kvm,kvm-amd}.ko, or
# /lab/kvm-component/missing with the reason it is not there (a case skips
# with it, or fails when the build failed).
LAB_KVM_DIR=""
LAB_KVM_MISSING="not built: run.sh builds it only for a case with '# needs: kvm-component'"

# lab_kvm_component LOG: build (or find cached) kvm.ko and kvm-amd.ko for
# L1's kernel with scripts/build-kvm.sh --no-vmx (L1 is AMD: kvm-intel.ko
# would only cost time); the build's messages go to LOG. Sets LAB_KVM_DIR,
# or LAB_KVM_MISSING and returns 1.
lab_kvm_component() {
	local ver dir
	ver=$(cat "$LAB_CACHE/guest/version" 2>/dev/null) ||
		{ LAB_KVM_MISSING="no guest built (tests/lab/guest.sh)"; return 1; }
	if dir=$(SLICEVM_CACHE=$LAB_CACHE "$LAB_TOP/scripts/build-kvm.sh" --no-vmx \
		--kernel "$ver" 2>"$1") && [ -f "$dir/kvm.ko" ] && [ -f "$dir/kvm-amd.ko" ]; then
		LAB_KVM_DIR=$dir
		return 0
	fi
	LAB_KVM_MISSING="scripts/build-kvm.sh failed: $(grep '^build-kvm: ' "$1" | tail -n 1)"
	return 1
}

# The x2APIC flavour's L0 QEMU (LAB_X2APIC=1, "# lab: x2apic=1"): QEMU 10
# from bookworm-backports (tests/lab/qemu-backports.sh, cache/qemu-backports/;
# Debian 12's QEMU 7.2 gives L1 no x2APIC under TCG). lab_qemu_backports
# sets LAB_QEMU_BP to its binary, or LAB_QEMU_BP_MISSING to why there is none.
LAB_QEMU_BP=""
LAB_QEMU_BP_MISSING="not fetched: run.sh fetches it only for a case with 'x2apic=1'"

# lab_qemu_backports LOG: fetch (or find cached) that QEMU; the script's
# messages go to LOG. Sets LAB_QEMU_BP, or LAB_QEMU_BP_MISSING and returns 1.
lab_qemu_backports() {
	local bin
	if bin=$(SLICEVM_CACHE=$LAB_CACHE "$LAB_DIR/qemu-backports.sh" 2>"$1") && [ -x "$bin" ]; then
		LAB_QEMU_BP=$bin
		return 0
	fi
	LAB_QEMU_BP_MISSING="tests/lab/qemu-backports.sh failed: $(sed -n 's/^qemu-backports: //p' "$1" | tail -n 1)"
	return 1
}

# lab_overlay SLICEVM OUT: /init, the binary with every library ldd lists,
# the lab lib, all cases and the kernel component (see LAB_KVM_DIR).
lab_overlay() {
	local bin=$1 out=$2 root
	root=$(mktemp -d)
	mkdir -p "$root/bin" "$root/lab/cases" "$root/lib64"
	cp "$LAB_DIR/l1-init" "$root/init"
	cp "$bin" "$root/bin/slicevm"
	lab_copy_libs "$bin" "$root"
	[ -e "$root/lib64/ld-linux-x86-64.so.2" ] ||
		cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
	cp "$LAB_DIR/lib.sh" "$root/lab/"
	lab_tool kvm-hold "$root/bin/kvm-hold" || { rm -rf "$root"; return 1; }
	lab_tool memhog "$root/bin/memhog" || { rm -rf "$root"; return 1; }
	lab_tool daxpeek "$root/bin/daxpeek" || { rm -rf "$root"; return 1; }
	lab_tool vfio-peek "$root/bin/vfio-peek" || { rm -rf "$root"; return 1; }
	lab_tool timerloop "$root/bin/timerloop" || { rm -rf "$root"; return 1; }
	cp "$LAB_DIR"/cases/*.sh "$root/lab/cases/" 2>/dev/null
	mkdir -p "$root/lab/kvm-component"
	if [ -n "$LAB_KVM_DIR" ]; then
		cp "$LAB_KVM_DIR/kvm.ko" "$LAB_KVM_DIR/kvm-amd.ko" "$LAB_KVM_DIR/stamp" \
			"$root/lab/kvm-component/"
	else
		printf '%s\n' "$LAB_KVM_MISSING" >"$root/lab/kvm-component/missing"
	fi
	# The archive's "." entry sets the mode of / in L1: mktemp made it 0700.
	chmod 0755 "$root" "$root/init" "$root/bin/slicevm" "$root/lab" "$root/lab/cases"
	find "$root" -type d -exec chmod 0755 {} +
	_lab_cpio "$root" "$out"
	local rc=$?
	rm -rf "$root"
	return $rc
}

# lab_copy_libs BIN ROOT: every library ldd lists for BIN, at its own path
# under ROOT (the absolute paths of ldd's output: "=> /path" and the loader).
lab_copy_libs() {
	local lib
	for lib in $(ldd "$1" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
		mkdir -p "$2$(dirname "$lib")"
		cp -L "$lib" "$2$lib"
	done
}

# lab_copy_with_libs FILE ROOT: FILE at its own path under ROOT, and its libraries.
lab_copy_with_libs() {
	mkdir -p "$2$(dirname "$1")"
	cp -L "$1" "$2$1" && lab_copy_libs "$1" "$2"
}

# lab_tool NAME OUT: compile tests/lab/NAME.c (static: L1 has no compiler
# and a tool must not depend on what ldd finds for slicevm), cached by
# source checksum.
lab_tool() {
	local bin=$LAB_CACHE/lab/$1 sum
	sum=$(cksum <"$LAB_DIR/$1.c")
	if [ ! -x "$bin" ] || [ "$(cat "$bin.sum" 2>/dev/null)" != "$sum" ]; then
		mkdir -p "$LAB_CACHE/lab"
		${CC:-cc} -O2 -Wall -Wextra -Werror -static -o "$bin.$$" "$LAB_DIR/$1.c" ||
			{ lab_say "cannot compile tests/lab/$1.c"; return 1; }
		mv "$bin.$$" "$bin"
		echo "$sum" >"$bin.sum"
	fi
	cp "$bin" "$2"
}

# lab_tail OUT NAME CONTENT: a one-file archive holding /lab/NAME.
lab_tail() {
	local root
	root=$(mktemp -d)
	mkdir -p "$root/lab"
	chmod 0755 "$root" "$root/lab"
	printf '%s\n' "$3" >"$root/lab/$2"
	_lab_cpio "$root" "$1"
	rm -rf "$root"
}

# The IOMMU flavour's NVMe image (LAB_IOMMU=nvme), fresh for every L1 boot.
LAB_NVME_IMG=${TMPDIR:-/tmp}/slicevm-lab-nvme.$$.img
# Its layout: an ext4 file system (label slicevm-nvme, 4 KiB blocks) in the
# first 16 MiB, so L1 can mount the device; the rest is zeros (the guest's
# slicevm.test=nvme writes its pattern at 32 MiB). 64 MiB, sparse.
LAB_NVME_MIB=64
LAB_NVME_FS_MIB=16

# lab_nvme_image: make $LAB_NVME_IMG (mkfs.ext4, unprivileged, as lab_disk).
lab_nvme_image() {
	local mkfs
	mkfs=$(_lab_sbin mkfs.ext4) || return 1
	rm -f "$LAB_NVME_IMG"
	# (The file exists first, so mkfs does not announce creating it.)
	truncate -s "${LAB_NVME_MIB}M" "$LAB_NVME_IMG" &&
		"$mkfs" -q -F -t ext4 -b 4096 -L slicevm-nvme -E root_owner=0:0 \
			"$LAB_NVME_IMG" "${LAB_NVME_FS_MIB}M" >&2 ||
		{ lab_say "cannot make the NVMe image $LAB_NVME_IMG"; rm -f "$LAB_NVME_IMG"; return 1; }
}

# lab_qemu SECS SMP MEM APPEND INITRD [interactive]: boot L1; console on
# stdout. LAB_TCG_THREAD=single makes QEMU's TCG round-robin (default multi;
# the benchmarks print which). LAB_IOMMU=nvme boots the IOMMU flavour of L1
# ("# lab: iommu=nvme"): a q35 machine with an emulated Intel IOMMU (DMA
# remapping and interrupt remapping), L1 booted with intel_iommu=on (and
# lab.iommu=nvme, which makes l1-init load the nvme and vfio modules), and an
# emulated NVMe (serial slicevm-nvme) on a fresh $LAB_NVME_IMG, removed when
# QEMU ends (and by lab_kill). LAB_IOMMU=nvme-cmb gives that NVMe a 1 GiB
# controller memory buffer: a 64-bit prefetchable BAR 2 of 1 GiB, larger
# than the guest's whole 32-bit PCI window. LAB_X2APIC=1 boots the x2APIC
# flavour ("# lab: x2apic=1"): QEMU 10 from bookworm-backports
# (LAB_QEMU_BP, fetched here when lab_qemu_backports has not run) with
# -cpu EPYC,+svm,+npt,+x2apic, and the same q35 and intel-iommu with
# extended interrupt mode (eim=on), L1 booted with intel_iommu=on: Linux
# runs the APIC in x2APIC mode only with interrupt remapping. It combines
# with LAB_IOMMU (one intel-iommu, eim=on, and the NVMe). Without either the
# machine is QEMU's default (i440fx, no IOMMU). Without "interactive" stdin
# is /dev/null. Returns qemu's status (124 when timeout stopped it). The pid
# file lets lab_kill stop it.
lab_qemu() {
	local secs=$1 smp=$2 mem=$3 append=$4 initrd=$5 mode=${6:-}
	local machine=() rc cmb="" qemu=(qemu-system-x86_64) cpu=EPYC,+svm,+npt x2apic="" bp log kparams=""
	rm -f "$LAB_QEMU_PIDFILE"
	case "${LAB_X2APIC:-}" in
	"" | 0) ;;
	1)
		x2apic=1
		if [ -z "$LAB_QEMU_BP" ]; then
			log=$(mktemp)
			lab_qemu_backports "$log"
			cat "$log" >&2
			rm -f "$log"
			[ -n "$LAB_QEMU_BP" ] ||
				{ lab_say "LAB_X2APIC=1: no QEMU from bookworm-backports ($LAB_QEMU_BP_MISSING)"; return 1; }
		fi
		# Its firmware and modules, not the ones of Debian 12's QEMU 7.2
		# in the paths it was built with (tests/lab/qemu-backports.sh).
		bp=${LAB_QEMU_BP%/usr/bin/qemu-system-x86_64}
		qemu=(env "QEMU_MODULE_DIR=$bp/usr/lib/x86_64-linux-gnu/qemu" "$LAB_QEMU_BP"
			-L "$bp/usr/share/qemu" -L "$bp/usr/share/seabios")
		cpu=$cpu,+x2apic
		;;
	*)
		lab_say "LAB_X2APIC=$LAB_X2APIC: unknown (the lab knows x2apic=1)"
		return 1
		;;
	esac
	case "${LAB_IOMMU:-}" in
	"" | nvme | nvme-cmb) ;;
	*)
		lab_say "LAB_IOMMU=$LAB_IOMMU: unknown (the lab knows iommu=nvme and iommu=nvme-cmb)"
		return 1
		;;
	esac
	if [ -n "${LAB_IOMMU:-}" ] || [ -n "$x2apic" ]; then
		# intel-iommu before any other -device (QEMU wants it first).
		# intremap=on needs no kernel-irqchip=split under TCG (that is a
		# KVM accelerator option); eim=on (x2APIC destinations) neither.
		machine=(-M q35 -device "intel-iommu,intremap=on${x2apic:+,eim=on}")
		kparams="intel_iommu=on"
	fi
	if [ -n "${LAB_IOMMU:-}" ]; then
		lab_nvme_image || return 1
		[ "$LAB_IOMMU" = nvme-cmb ] && cmb=,cmb_size_mb=1024
		machine+=(-drive "if=none,id=nv,file=$LAB_NVME_IMG,format=raw,cache=unsafe"
			-device "nvme,serial=slicevm-nvme,drive=nv$cmb")
		kparams="$kparams lab.iommu=nvme"
	fi
	[ -n "$kparams" ] && append="$kparams${append:+ $append}"
	local cmd=("${qemu[@]}"
		-accel "tcg,thread=${LAB_TCG_THREAD:-multi}" -cpu "$cpu" -smp "$smp" -m "$mem"
		"${machine[@]}"
		-nographic -no-reboot -nic none -pidfile "$LAB_QEMU_PIDFILE"
		-kernel "$LAB_CACHE/guest/bzImage" -initrd "$initrd"
		-append "console=ttyS0 panic=-1 quiet $append")
	if [ "$mode" = interactive ]; then
		# A person at the console: no time limit, and QEMU must stay in the
		# terminal's foreground process group (timeout would move it out).
		"${cmd[@]}"
	else
		timeout -k 10 "$secs" "${cmd[@]}" </dev/null
	fi
	rc=$?
	rm -f "$LAB_NVME_IMG"
	return $rc
}

# lab_kill: stop the L1 QEMU started by lab_qemu, if it still runs (and
# remove its NVMe image).
lab_kill() {
	local pid
	[ -s "$LAB_QEMU_PIDFILE" ] || { rm -f "$LAB_NVME_IMG"; return 0; }
	pid=$(cat "$LAB_QEMU_PIDFILE")
	# Only if that pid is still a QEMU (comm is cut to 15 characters).
	if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = qemu-system-x86 ]; then
		kill -TERM "$pid" 2>/dev/null
		sleep 1
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = qemu-system-x86 ] &&
			kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$LAB_QEMU_PIDFILE" "$LAB_NVME_IMG"
}
