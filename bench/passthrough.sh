#!/bin/bash
# bench/passthrough.sh SLICEVM: the PCI passthrough benchmark (issue 9), in
# ONE run of the nested lab (make bench-passthrough). See bench/README.md,
# "PCI passthrough".
#
# One L1 of the IOMMU flavour (tests/lab/l0.sh's lab_qemu with
# LAB_IOMMU=nvme: q35, an emulated Intel IOMMU, an emulated NVMe on a fresh
# image), in which the same guest runs fio (Debian's, from the lab's
# initrd-fio.cpio.gz, with bench/passthrough-init) in rounds whose order
# alternates:
#   slicevm with the NVMe passed through (slicevm host apply, run --slice),
#   slicevm with virtio-blk over the same NVMe namespace (/dev/nvme0n1 in L1),
#   QEMU with -device vfio-pci on the NVMe,
#   QEMU with virtio-blk-pci over /dev/nvme0n1,
# 4k random reads at queue depth 1 (IOPS, latency mean and p99) and 32, and
# 128k sequential writes, each with KVM's exit counters (debugfs) around the
# job: user-space exits (io_exits + mmio_exits) and all exits per I/O.
# The table (bench/passthrough-report.awk) gives slicevm's passthrough
# against QEMU's vfio-pci measured in the same run.
#
# Environment: BENCH_REPS (rounds, default 3), BENCH_RUNTIME (seconds per
# fio job, default 8), BENCH_CONFIGS (default "sv-pt sv-vb qemu-vfio
# qemu-vb"), BENCH_WARMUP (seconds per job of one warm-up boot of each
# configuration, 0 = none; default 1), BENCH_NVME_MIB (the NVMe's size,
# default the lab's 64), BENCH_QEMU_MACHINE (QEMU's -M, default
# microvm,...,pcie=on), BENCH_LOG (where to keep the console log),
# BENCH_TIMEOUT (seconds for L1, default 1500).
# Exit status: 0 when the benchmark ran (whatever the numbers say), 1 when
# it could not run.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
bin=${1:-}
die() { echo "bench-passthrough: $*" >&2; exit 1; }
[ -n "$bin" ] || die "usage: bench/passthrough.sh SLICEVM_BINARY"
[ -x "$bin" ] || die "$bin is not an executable: run make first"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

# shellcheck source=../tests/lab/l0.sh
. "$top/tests/lab/l0.sh"

reps=${BENCH_REPS:-3}
runtime=${BENCH_RUNTIME:-8}
warmup=${BENCH_WARMUP:-1}
configs=${BENCH_CONFIGS:-sv-pt sv-vb qemu-vfio qemu-vb}
[ -n "${BENCH_NVME_MIB:-}" ] && LAB_NVME_MIB=$BENCH_NVME_MIB
export LAB_TCG_THREAD=${LAB_TCG_THREAD:-multi}
export LAB_IOMMU=nvme
log=${BENCH_LOG:-$(dirname "$bin")/bench-passthrough.log}
qemu=$(command -v qemu-system-x86_64) ||
	die "qemu-system-x86_64 is missing: run scripts/install-deps.sh (as root)"
"$bin" run --help 2>&1 | grep -q -- '--device' ||
	die "$bin has no --device (PCI passthrough): nothing to measure"

work=$(mktemp -d "${TMPDIR:-/tmp}/slicevm-bench-pt.XXXXXX")
cleanup() {
	lab_kill
	rm -rf "$work"
}
trap cleanup EXIT
trap 'lab_kill; exit 130' INT TERM

# guest_initrd OUT: the lab's initrd-fio (gzip), padded with zeros to a
# 512-byte boundary, then an uncompressed archive with /passthrough-init.
# The kernel unpacks concatenated archives in order.
guest_initrd() {
	local root=$work/guest-extra size
	mkdir -p "$root"
	cp "$here/passthrough-init" "$root/passthrough-init"
	chmod 0755 "$root" "$root/passthrough-init"
	cp "$LAB_CACHE/guest/initrd-fio.cpio.gz" "$1" || return 1
	size=$(stat -c %s "$1")
	head -c $(( (512 - size % 512) % 512 )) /dev/zero >>"$1"
	_lab_cpio "$root" "$work/extra.cpio" && cat "$work/extra.cpio" >>"$1"
}

# The bench part of L1: /bench/passthrough-l1.sh, the guest's initrd, QEMU
# with its libraries and the firmware it loads (microvm: qboot as
# bios-microvm.bin and the -kernel option ROMs; SeaBIOS too, should
# BENCH_QEMU_MACHINE name q35 or pc). vfio-pci needs nothing more.
bench_part() {
	local root=$work/bench f
	mkdir -p "$root/bench" "$root/bin" "$root/usr/share/qemu" "$root/usr/share/seabios"
	cp "$here/passthrough-l1.sh" "$root/bench/passthrough-l1.sh"
	guest_initrd "$root/bench/initrd-pt.cpio" || return 1
	lab_copy_with_libs "$qemu" "$root" || return 1
	for f in bios-microvm.bin qboot.rom linuxboot.bin linuxboot_dma.bin pvh.bin \
		kvmvapic.bin multiboot.bin multiboot_dma.bin; do
		[ -e "/usr/share/qemu/$f" ] && cp -L "/usr/share/qemu/$f" "$root/usr/share/qemu/"
	done
	[ -f "$root/usr/share/qemu/bios-microvm.bin" ] ||
		{ echo "bench-passthrough: /usr/share/qemu/bios-microvm.bin is missing" >&2; return 1; }
	[ -e /usr/share/seabios/bios-256k.bin ] &&
		cp -L /usr/share/seabios/bios-256k.bin "$root/usr/share/seabios/"
	find "$root" -type d -exec chmod 0755 {} +
	chmod 0755 "$root/bench/passthrough-l1.sh"
	chmod 0644 "$root/bench/initrd-pt.cpio"
	_lab_cpio "$root" "$work/bench.cpio"
}

lab_guest || die "cannot build the guest (tests/lab/guest.sh)"
[ -f "$LAB_CACHE/guest/initrd-fio.cpio.gz" ] || die "tests/lab/guest.sh made no initrd-fio.cpio.gz"
base=$(lab_base) || die "cannot build the lab's base archive"
lab_overlay "$bin" "$work/overlay.cpio" || die "cannot build the lab overlay"
bench_part || die "cannot build the bench part of L1"
lab_tail "$work/tail.cpio" boot "BENCH_REPS=$reps BENCH_RUNTIME=$runtime BENCH_WARMUP=$warmup BENCH_CONFIGS='$configs' ${BENCH_QEMU_MACHINE:+BENCH_QEMU_MACHINE=$BENCH_QEMU_MACHINE} sh /bench/passthrough-l1.sh
poweroff -f" || die "cannot build the tail archive"
cat "$base" "$work/overlay.cpio" "$work/bench.cpio" "$work/tail.cpio" >"$work/l1.cpio" ||
	die "cannot write the L1 initramfs"

echo "bench-passthrough: booting L1 (IOMMU flavour: q35, intel-iommu, NVMe of $LAB_NVME_MIB MiB; QEMU TCG thread=$LAB_TCG_THREAD, 2 CPUs, 3 GiB); configurations $configs; $([ "$warmup" = 0 ] && echo "no warm-up" || echo "warm-up ($warmup s jobs)") + $reps rounds, fio jobs of $runtime s" >&2
start=$SECONDS
# Progress on stderr; the whole console (minus CRs) goes to the log.
lab_qemu "${BENCH_TIMEOUT:-1500}" 2 3G "" "$work/l1.cpio" | sed -u 's/\r$//' | tee "$log" |
	grep --line-buffered -E '^@bench (start|pt|fail|abort|note)' |
	sed -u 's/^@bench /bench-passthrough: /' >&2 &
wait $!
echo "bench-passthrough: L1 ran $((SECONDS - start)) s; console log: $log" >&2

grep -q '^@bench pt ' "$log" || die "no fio job was measured: see $log"
awk -f "$here/passthrough-report.awk" "$log"
