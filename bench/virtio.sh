#!/bin/bash
# bench/virtio.sh SLICEVM: the virtio device benchmark, slicevm against
# QEMU, same guest kernel and initrd, in ONE run of the nested lab
# (make bench-virtio). See bench/README.md, "Virtio devices".
#
# Disk rows: fio in the guest (Debian's fio, from the lab's
# initrd-fio.cpio.gz) on a virtio-blk disk backed by the same raw image in
# L1, slicevm --disk against QEMU's virtio-blk-pci with aio=io_uring,
# cache=none: 4k random reads at queue depth 1 (latency mean and p99) and
# 32 (IOPS), 1M sequential writes (MB/s), and VM exits per I/O from KVM's
# debugfs counters (the same source for both VMMs). Network rows, when
# slicevm has --net and iperf3 is installed: ping RTT and iperf3 TCP
# throughput both ways between the guest and L1 over one tap, slicevm --net
# against QEMU's virtio-net-pci, vhost-net for both; else they are printed
# as "not measured yet".
#
# Builds an L1 initramfs from the lab's parts (tests/lab/l0.sh) plus a bench
# part (bench/virtio-l1.sh, Debian's QEMU with libraries and firmware, the
# guest's initrd-fio with bench/virtio-init appended), boots L1 and prints
# the table made by bench/virtio-report.awk.
#
# Environment: BENCH_REPS (rounds, default 3), BENCH_RUNTIME (seconds per
# fio job, default 10), BENCH_DISK_MB (image size, default 256),
# BENCH_QEMU_MACHINE (QEMU's -M, default microvm,...,pcie=on), BENCH_LOG
# (where to keep the console log), BENCH_TIMEOUT (seconds for L1),
# BENCH_NET=0 (leave the network out).
# Exit status: 0 when the benchmark ran (whatever the numbers say), 1 when
# it could not run.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
bin=${1:-}
die() { echo "bench-virtio: $*" >&2; exit 1; }
[ -n "$bin" ] || die "usage: bench/virtio.sh SLICEVM_BINARY"
[ -x "$bin" ] || die "$bin is not an executable: run make first"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

# shellcheck source=../tests/lab/l0.sh
. "$top/tests/lab/l0.sh"

reps=${BENCH_REPS:-3}
runtime=${BENCH_RUNTIME:-10}
disk_mb=${BENCH_DISK_MB:-256}
export LAB_TCG_THREAD=${LAB_TCG_THREAD:-multi}
log=${BENCH_LOG:-$(dirname "$bin")/bench-virtio.log}
qemu=$(command -v qemu-system-x86_64) ||
	die "qemu-system-x86_64 is missing: run scripts/install-deps.sh (as root)"
# The network rows need slicevm's --net and iperf3 (Debian's, in L1 and in
# the guest).
net=${BENCH_NET:-1}
iperf3=$(command -v iperf3 || true)
if [ "$net" = 1 ] && ! "$bin" run --help 2>&1 | grep -q -- '--net'; then
	echo "bench-virtio: $bin has no --net: network rows not measured" >&2
	net=0
fi
if [ "$net" = 1 ] && [ -z "$iperf3" ]; then
	echo "bench-virtio: iperf3 is missing (scripts/install-deps.sh): network rows not measured" >&2
	net=0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/slicevm-bench-virtio.XXXXXX")
cleanup() {
	lab_kill
	rm -rf "$work"
}
trap cleanup EXIT
trap 'lab_kill; exit 130' INT TERM

# guest_initrd OUT: the lab's initrd-fio (gzip), padded with zeros to a
# 512-byte boundary, then an uncompressed archive with /virtio-init and,
# for the network rows, /bin/iperf3 with the libraries initrd-fio lacks.
# The kernel unpacks concatenated archives in order.
guest_initrd() {
	local root=$work/guest-extra size lib
	mkdir -p "$root/bin"
	cp "$here/virtio-init" "$root/virtio-init"
	if [ "$net" = 1 ]; then
		cp -L "$iperf3" "$root/bin/iperf3"
		zcat "$LAB_CACHE/guest/initrd-fio.cpio.gz" | cpio -t --quiet >"$work/fio-files"
		for lib in $(ldd "$iperf3" | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p'); do
			grep -qx "${lib#/}" "$work/fio-files" && continue
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		done
	fi
	find "$root" -type d -exec chmod 0755 {} +
	chmod 0755 "$root/virtio-init"
	cp "$LAB_CACHE/guest/initrd-fio.cpio.gz" "$1" || return 1
	size=$(stat -c %s "$1")
	head -c $(( (512 - size % 512) % 512 )) /dev/zero >>"$1"
	_lab_cpio "$root" "$work/extra.cpio" && cat "$work/extra.cpio" >>"$1"
}

# The bench part of L1: /bench/virtio-l1.sh, the guest's initrd, QEMU with
# its libraries and the firmware it loads (microvm: qboot as
# bios-microvm.bin and the -kernel option ROMs; SeaBIOS too, should
# BENCH_QEMU_MACHINE name q35 or pc).
bench_part() {
	local root=$work/bench f
	mkdir -p "$root/bench" "$root/bin" "$root/usr/share/qemu" "$root/usr/share/seabios"
	cp "$here/virtio-l1.sh" "$root/bench/virtio-l1.sh"
	guest_initrd "$root/bench/initrd-virtio.cpio" || return 1
	lab_copy_with_libs "$qemu" "$root" || return 1
	if [ "$net" = 1 ]; then
		lab_copy_with_libs "$iperf3" "$root" || return 1
	fi
	for f in bios-microvm.bin qboot.rom linuxboot.bin linuxboot_dma.bin pvh.bin \
		kvmvapic.bin multiboot.bin multiboot_dma.bin; do
		[ -e "/usr/share/qemu/$f" ] && cp -L "/usr/share/qemu/$f" "$root/usr/share/qemu/"
	done
	[ -f "$root/usr/share/qemu/bios-microvm.bin" ] ||
		{ echo "bench-virtio: /usr/share/qemu/bios-microvm.bin is missing" >&2; return 1; }
	[ -e /usr/share/seabios/bios-256k.bin ] &&
		cp -L /usr/share/seabios/bios-256k.bin "$root/usr/share/seabios/"
	find "$root" -type d -exec chmod 0755 {} +
	chmod 0755 "$root/bench/virtio-l1.sh"
	chmod 0644 "$root/bench/initrd-virtio.cpio"
	_lab_cpio "$root" "$work/bench.cpio"
}

lab_guest || die "cannot build the guest (tests/lab/guest.sh)"
[ -f "$LAB_CACHE/guest/initrd-fio.cpio.gz" ] || die "tests/lab/guest.sh made no initrd-fio.cpio.gz"
base=$(lab_base) || die "cannot build the lab's base archive"
lab_overlay "$bin" "$work/overlay.cpio" || die "cannot build the lab overlay"
bench_part || die "cannot build the bench part of L1"
lab_tail "$work/tail.cpio" boot "BENCH_REPS=$reps BENCH_RUNTIME=$runtime BENCH_DISK_MB=$disk_mb BENCH_NET=$net ${BENCH_QEMU_MACHINE:+BENCH_QEMU_MACHINE=$BENCH_QEMU_MACHINE} sh /bench/virtio-l1.sh
poweroff -f" || die "cannot build the tail archive"
cat "$base" "$work/overlay.cpio" "$work/bench.cpio" "$work/tail.cpio" >"$work/l1.cpio" ||
	die "cannot write the L1 initramfs"

echo "bench-virtio: booting L1 (QEMU TCG thread=$LAB_TCG_THREAD, 2 CPUs, 3 GiB); warm-up + $reps rounds, fio jobs of $runtime s" >&2
start=$SECONDS
# Progress on stderr; the whole console (minus CRs) goes to the log.
lab_qemu "${BENCH_TIMEOUT:-1800}" 2 3G "" "$work/l1.cpio" | sed -u 's/\r$//' | tee "$log" |
	grep --line-buffered -E '^@bench (start|virtio|fail|abort|note)' |
	sed -u 's/^@bench /bench-virtio: /' >&2 &
wait $!
echo "bench-virtio: L1 ran $((SECONDS - start)) s; console log: $log" >&2

grep -q '^@bench virtio ' "$log" || die "no fio job was measured: see $log"
awk -f "$here/virtio-report.awk" "$log"
