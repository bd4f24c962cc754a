#!/bin/bash
# bench/mem.sh SLICEVM: the memory-backing benchmark (issue 6), slicevm's
# anon, hugetlb and reserved slices (pmem through device-dax, identity; memmap
# through /dev/mem, identity and not) against QEMU's
# memory-backend-ram and memory-backend-file on hugetlbfs, same guest, in
# ONE run of the nested lab (make bench-mem). See bench/README.md,
# "Memory backings".
#
# Builds an L1 initramfs from the lab's parts (tests/lab/l0.sh) plus a bench
# part (bench/mem-l1.sh, a static bootwatch, Debian's QEMU with libraries and
# firmware, and the guest's initrd with bench/membench-init and a static
# bench/memprobe appended), boots L1 with three reserved ranges and 2M
# hugepages, and prints the table made by bench/mem-report.awk.
#
# Environment: BENCH_REPS (rounds, default 3), BENCH_PROBE_MIB (the probe's
# buffer, default 128), BENCH_LOG (where to keep the console log),
# BENCH_TIMEOUT (seconds for L1, default 1500).
# Exit status: 0 when the benchmark ran (whatever the numbers say), 1 when
# it could not run.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
bin=${1:-}
die() { echo "bench-mem: $*" >&2; exit 1; }
[ -n "$bin" ] || die "usage: bench/mem.sh SLICEVM_BINARY"
[ -x "$bin" ] || die "$bin is not an executable: run make first"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

# shellcheck source=../tests/lab/l0.sh
. "$top/tests/lab/l0.sh"

reps=${BENCH_REPS:-3}
probe_mib=${BENCH_PROBE_MIB:-128}
export LAB_TCG_THREAD=${LAB_TCG_THREAD:-multi}
log=${BENCH_LOG:-$(dirname "$bin")/bench-mem.log}
qemu=$(command -v qemu-system-x86_64) ||
	die "qemu-system-x86_64 is missing: run scripts/install-deps.sh (as root)"
command -v gcc >/dev/null || die "gcc is missing: it builds bench/bootwatch.c and bench/memprobe.c"
# L1: housekeeping CPU 0 and one CPU per slicevm variant's slice (1-5);
# three 256M reserved ranges with gaps between them (adjacent memmap= ranges
# would merge into one entry), all in L1's RAM below 3G: two "$" ranges
# (Reserved, mapped through /dev/mem) and one "!" range (legacy pmem, put in
# device-dax mode by host apply); 2M hugepages for the hugetlb slice and
# QEMU's hugetlbfs backend (which never run at the same time).
l1_smp=6
l1_mem=3G
l1_append='memmap=256M$0x40000000 memmap=256M$0x60000000 memmap=256M!0x80000000 hugepagesz=2M hugepages=0:160'

work=$(mktemp -d "${TMPDIR:-/tmp}/slicevm-bench-mem.XXXXXX")
cleanup() {
	lab_kill
	rm -rf "$work"
}
trap cleanup EXIT
trap 'lab_kill; exit 130' INT TERM

# guest_initrd OUT: the default guest's initrd (gzip), padded with zeros to
# a 512-byte boundary, then an uncompressed archive with /membench-init and
# /bin/memprobe. The kernel unpacks concatenated archives in order.
guest_initrd() {
	local root=$work/guest-extra size
	mkdir -p "$root/bin"
	gcc -static -O2 -Wall -Wextra -Werror -o "$root/bin/memprobe" "$here/memprobe.c" || return 1
	cp "$here/membench-init" "$root/membench-init"
	chmod 0755 "$root" "$root/bin" "$root/bin/memprobe" "$root/membench-init"
	cp "$LAB_CACHE/guest/initrd.cpio.gz" "$1" || return 1
	size=$(stat -c %s "$1")
	head -c $(( (512 - size % 512) % 512 )) /dev/zero >>"$1"
	_lab_cpio "$root" "$work/extra.cpio" && cat "$work/extra.cpio" >>"$1"
}

bench_part() {
	local root=$work/bench f
	mkdir -p "$root/bench" "$root/bin" "$root/usr/share/qemu"
	cp "$here/mem-l1.sh" "$root/bench/mem-l1.sh"
	gcc -static -O2 -Wall -Wextra -o "$root/bin/bootwatch" "$here/bootwatch.c" || return 1
	guest_initrd "$root/bench/initrd-mem.cpio" || return 1
	lab_copy_with_libs "$qemu" "$root" || return 1
	for f in bios-microvm.bin qboot.rom linuxboot.bin linuxboot_dma.bin pvh.bin \
		kvmvapic.bin multiboot.bin multiboot_dma.bin; do
		[ -e "/usr/share/qemu/$f" ] && cp -L "/usr/share/qemu/$f" "$root/usr/share/qemu/"
	done
	[ -f "$root/usr/share/qemu/bios-microvm.bin" ] ||
		{ echo "bench-mem: /usr/share/qemu/bios-microvm.bin is missing" >&2; return 1; }
	find "$root" -type d -exec chmod 0755 {} +
	chmod 0755 "$root/bench/mem-l1.sh"
	chmod 0644 "$root/bench/initrd-mem.cpio"
	_lab_cpio "$root" "$work/bench.cpio"
}

lab_guest || die "cannot build the guest (tests/lab/guest.sh)"
base=$(lab_base) || die "cannot build the lab's base archive"
lab_overlay "$bin" "$work/overlay.cpio" || die "cannot build the lab overlay"
bench_part || die "cannot build the bench part of L1"
lab_tail "$work/tail.cpio" boot "BENCH_REPS=$reps BENCH_PROBE_MIB=$probe_mib sh /bench/mem-l1.sh
poweroff -f" || die "cannot build the tail archive"
cat "$base" "$work/overlay.cpio" "$work/bench.cpio" "$work/tail.cpio" >"$work/l1.cpio" ||
	die "cannot write the L1 initramfs"

echo "bench-mem: booting L1 (QEMU TCG thread=$LAB_TCG_THREAD, $l1_smp CPUs, $l1_mem, $l1_append); $reps rounds of 7 variants" >&2
start=$SECONDS
lab_qemu "${BENCH_TIMEOUT:-1500}" "$l1_smp" "$l1_mem" "$l1_append" "$work/l1.cpio" |
	sed -u 's/\r$//' | tee "$log" |
	grep --line-buffered -E '^@bench (start|mem|fail|abort|note)' |
	sed -u 's/^@bench /bench-mem: /' >&2 &
wait $!
echo "bench-mem: L1 ran $((SECONDS - start)) s; console log: $log" >&2

grep -q '^@bench mem ' "$log" || die "no variant was measured: see $log"
awk -f "$here/mem-report.awk" "$log"
