#!/bin/bash
# bench/boot.sh SLICEVM: boot-time and memory benchmark, slicevm vs QEMU
# microvm, in ONE run of the nested lab (make bench). See bench/README.md.
#
# Builds an L1 initramfs from the lab's parts (tests/lab/l0.sh) plus a
# bench part (bench/l1.sh, a static bootwatch, Debian's QEMU with its
# libraries and firmware), boots it under QEMU TCG on this machine and lets
# bench/l1.sh time the guests inside L1. Prints the table made by
# bench/report.awk; the whole console log is kept (path printed at the end).
#
# Environment: BENCH_REPS (timed boots per configuration, default 5),
# BENCH_QUIET=1 (also time boots with "quiet": ten configurations, twice
# as long),
# BENCH_LOG (where to keep the console log), BENCH_TIMEOUT (seconds for L1).
# Exit status: 0 when the benchmark ran (whatever the numbers say), 1 when
# it could not run.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
bin=${1:-}
die() { echo "bench: $*" >&2; exit 1; }
[ -n "$bin" ] || die "usage: bench/boot.sh SLICEVM_BINARY"
[ -x "$bin" ] || die "$bin is not an executable: run make first"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

# shellcheck source=../tests/lab/l0.sh
. "$top/tests/lab/l0.sh"

reps=${BENCH_REPS:-5}
# L1 runs on multi-threaded TCG (the lab's default; the lab's kvm-hold,
# started by L1's init, keeps it from crashing). thread=single made L2
# boots hang here.
export LAB_TCG_THREAD=${LAB_TCG_THREAD:-multi}
log=${BENCH_LOG:-$(dirname "$bin")/bench.log}
qemu=$(command -v qemu-system-x86_64) ||
	die "qemu-system-x86_64 is missing: run scripts/install-deps.sh (as root)"
command -v gcc >/dev/null || die "gcc is missing: it builds bench/bootwatch.c"

work=$(mktemp -d "${TMPDIR:-/tmp}/slicevm-bench.XXXXXX")
cleanup() {
	lab_kill
	rm -rf "$work"
}
trap cleanup EXIT
trap 'lab_kill; exit 130' INT TERM

# The bench part of L1: /bench/l1.sh, /bin/bootwatch, QEMU + libs + the
# firmware microvm loads (qboot as bios-microvm.bin, option ROMs for -kernel).
bench_part() {
	local root=$work/bench f
	mkdir -p "$root/bench" "$root/bin" "$root/usr/share/qemu"
	cp "$here/l1.sh" "$root/bench/l1.sh"
	gcc -static -O2 -Wall -Wextra -o "$root/bin/bootwatch" "$here/bootwatch.c" || return 1
	lab_copy_with_libs "$qemu" "$root" || return 1
	for f in bios-microvm.bin qboot.rom linuxboot.bin linuxboot_dma.bin pvh.bin \
		kvmvapic.bin multiboot.bin multiboot_dma.bin; do
		[ -e "/usr/share/qemu/$f" ] && cp -L "/usr/share/qemu/$f" "$root/usr/share/qemu/"
	done
	[ -f "$root/usr/share/qemu/bios-microvm.bin" ] ||
		{ echo "bench: /usr/share/qemu/bios-microvm.bin is missing" >&2; return 1; }
	find "$root" -type d -exec chmod 0755 {} +
	chmod 0755 "$root/bench/l1.sh"
	_lab_cpio "$root" "$work/bench.cpio"
}

lab_guest || die "cannot build the guest (tests/lab/guest.sh)"
base=$(lab_base) || die "cannot build the lab's base archive"
lab_overlay "$bin" "$work/overlay.cpio" || die "cannot build the lab overlay"
bench_part || die "cannot build the bench part of L1"
lab_tail "$work/tail.cpio" boot "BENCH_REPS=$reps BENCH_QUIET=${BENCH_QUIET:-0} sh /bench/l1.sh
poweroff -f" || die "cannot build the tail archive"
cat "$base" "$work/overlay.cpio" "$work/bench.cpio" "$work/tail.cpio" >"$work/l1.cpio" ||
	die "cannot write the L1 initramfs"

echo "bench: booting L1 (QEMU TCG thread=$LAB_TCG_THREAD, 2 CPUs, 3 GiB); $reps timed boots per configuration" >&2
start=$SECONDS
# Progress on stderr; the whole console (minus CRs) goes to the log.
# In the background, so that a signal reaches the trap at once.
lab_qemu "${BENCH_TIMEOUT:-900}" 2 3G "" "$work/l1.cpio" | sed -u 's/\r$//' | tee "$log" |
	grep --line-buffered -E '^@bench (start|boot|fail|abort|mem|idle|note)' |
	sed -u 's/^@bench /bench: /' >&2 &
wait $!
echo "bench: L1 ran $((SECONDS - start)) s; console log: $log" >&2

grep -q '^@bench boot ' "$log" || die "no guest boot was timed: see $log"
awk -f "$here/report.awk" "$log"
