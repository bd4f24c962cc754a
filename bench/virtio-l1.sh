#!/bin/sh
# shellcheck shell=dash disable=SC2086
# bench/virtio-l1.sh: the virtio benchmark's part inside the lab's L1
# (busybox sh). bench/virtio.sh puts it at /bench/virtio-l1.sh with Debian's
# QEMU (+ libraries and firmware) and /bench/initrd-virtio.cpio (the lab's
# initrd-fio.cpio.gz plus /virtio-init), and starts it from /lab/boot.
# Boots the same guest with slicevm and with QEMU, each with one virtio-blk
# disk on the same raw image, in rounds whose order alternates; the guest
# runs the jobs of bench/virtio-init (fio; with BENCH_NET=1 also ping and
# iperf3 over a tap). Prints raw "@bench ..." lines;
# bench/virtio-report.awk (on L0) makes the table.
# Environment: BENCH_REPS (rounds, default 3), BENCH_RUNTIME (seconds per
# fio job, default 10), BENCH_DISK_MB (the image, default 256),
# BENCH_QEMU_MACHINE (default microvm with PCIe, see below), BENCH_NET=1
# (also the network rows: a tap, iperf3 in L1 and in the guest; set by
# bench/virtio.sh when slicevm has --net and iperf3 is there).
export PATH=/bin:/sbin:/usr/bin
REPS=${BENCH_REPS:-3}
RT=${BENCH_RUNTIME:-10}
DISK_MB=${BENCH_DISK_MB:-256}
MEM=256M
KERNEL=/guest/bzImage
INITRD=/bench/initrd-virtio.cpio
OUT=/tmp/vbench
IMG=$OUT/disk.img
# microvm as in the other benchmarks (legacy devices slicevm has too), plus
# pcie=on: a PCIe host bridge (ECAM, described in ACPI) for virtio-blk-pci,
# MSI-X as slicevm's virtio-pci has.
QEMU_MACHINE=${BENCH_QEMU_MACHINE:-microvm,isa-serial=on,rtc=on,pit=on,pic=on,acpi=on,pcie=on}
# KVM's per-VM counters sampled around each job (debugfs, the same source
# for both VMMs).
KSTATS="exits io_exits mmio_exits halt_exits irq_exits irq_window_exits irq_injections halt_wakeup signal_exits"
CR=$(printf '\r')
# The network: one tap made here (tunctl) that both VMMs use in turn, with
# L1's end at HOST_IP; the same MAC for both, so L1's neighbour entry stays
# right from one VM to the next; vhost-net for both when L1 has it.
NET=${BENCH_NET:-0}
TAP=vbtap0
HOST_IP=10.0.9.1
MAC=52:54:00:12:34:56
VHOST=on
SV_NET=""
QEMU_NET=""
NET_CL=""

say() { echo "@bench $*"; }

# vmm CFG RT: exec one VMM on the image; the console on stdout.
vmm() {
	local cl="console=ttyS0 reboot=k panic=-1 quiet rdinit=/virtio-init slicevm.vbench=$2$NET_CL"
	case $1 in
	sv)
		exec slicevm run --kernel "$KERNEL" --initrd "$INITRD" --cmdline "$cl" \
			--cpus 1 --memory $MEM --disk "$IMG" $SV_NET ;;
	qemu)
		exec qemu-system-x86_64 -M "$QEMU_MACHINE" -enable-kvm -cpu host -m $MEM -smp 1 \
			-nodefaults -no-user-config -nographic -serial stdio -no-reboot \
			-kernel "$KERNEL" -initrd "$INITRD" -append "$cl" \
			-drive file="$IMG",if=none,id=d0,format=raw,aio=io_uring,cache=none \
			-device virtio-blk-pci,drive=d0 $QEMU_NET ;;
	esac
}

# kstat PID: KS = the KSTATS counters of PID's VM, then the VMM's CPU time
# outside guest mode and in it (clock ticks: /proc/PID/stat utime + stime,
# which include guest time, and guest_time), space-separated. Shell
# builtins only (no fork): it runs while the guest waits, and must be done
# within the half second the guest gives it (bench/virtio-init, mark_s).
kstat() {
	local d f x st
	KS=""
	for d in /sys/kernel/debug/kvm/"$1"-*; do break; done
	for f in $KSTATS; do
		x=0
		read -r x 2>/dev/null <"$d/$f"
		KS="$KS ${x:-0}"
	done
	st=""
	read -r st 2>/dev/null <"/proc/$1/stat"
	# Fields from 3 on (after "(comm) "): utime is field 14, stime 15, guest_time 43.
	set -- ${st#*") "} 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
	KS="$KS $((${12} + ${13} - ${41})) ${41}"
}

# delta "A" "B": NAME=B-A for each counter of kstat.
delta() {
	echo "$1|$2" | awk -F'|' -v names="$KSTATS vmm_host_ticks vmm_guest_ticks" '{
		n = split(names, k, " "); split($1, a, " "); split($2, b, " ")
		for (i = 1; i <= n; i++) printf "%s%s=%d", (i > 1 ? " " : ""), k[i], b[i] - a[i]
	}'
}

# one CFG REP RT: boot, follow the console (a FIFO: reading it blocks, so
# the shell costs nothing while the guest works), sample KVM's counters at
# each job's S and E lines, print one "@bench virtio" line per job.
one() {
	local cfg=$1 rep=$2 rt=$3 log=$OUT/$1-$2.log fifo=$OUT/console pid wd line \
		job a="" ab t0 ex sec ready=""
	sec=$((120 + 3 * (rt + 60)))
	[ -n "$NET_CL" ] && sec=$((sec + 2 * (rt + 60) + 60))
	rm -f "$fifo"
	mkfifo "$fifo"
	: >"$log"
	t0=$(cut -d' ' -f1 /proc/uptime)
	vmm "$cfg" "$rt" <"/dev/null" >"$fifo" 2>&1 &
	pid=$!
	# A guest that hangs must not stop the benchmark.
	(sleep "$sec"; kill -TERM "$pid" 2>/dev/null; sleep 5; kill -KILL "$pid" 2>/dev/null) &
	wd=$!
	while IFS= read -r line; do
		line=${line%"$CR"}
		printf '%s\n' "$line" >>"$log"
		case "$line" in
		SLICEVM-GUEST-READY*)
			ready=$(awk -v t0="$t0" '{ printf "%d", ($1 - t0) * 1000 }' /proc/uptime) ;;
		VBS\ *)
			kstat "$pid"
			a=$KS ;;
		VBE\ *)
			kstat "$pid"
			echo "$a|$KS" >"$OUT/k-${line#VBE }" ;;
		SLICEVM-VBENCH-R\ *)
			job=$(echo "$line" | sed -n 's/.* job=\([^ ]*\).*/\1/p')
			ab=""
			read -r ab 2>/dev/null <"$OUT/k-$job"
			say "virtio cfg=$cfg rep=$rep ready_ms=$ready ${line#SLICEVM-VBENCH-R } $(delta "${ab%%|*}" "${ab#*|}")"
			rm -f "$OUT/k-$job" ;;
		SLICEVM-VBENCH-DISK* | SLICEVM-VBENCH-NET*)
			[ "$rep" = 0 ] && say "note cfg=$cfg ${line#SLICEVM-VBENCH-}" ;;
		SLICEVM-VBENCH-FAIL*)
			say "fail cfg=$cfg rep=$rep ${line#SLICEVM-VBENCH-FAIL }" ;;
		esac
	done <"$fifo"
	wait "$pid"
	ex=$?
	kill "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
	if ! grep -q '^SLICEVM-VBENCH-R ' "$log" || [ "$ex" != 0 ]; then
		say "fail cfg=$cfg rep=$rep exit=$ex"
		tail -n 40 "$log" | sed "s/^/@glog fail-$cfg-$rep /"
	fi
	rm -f "$fifo"
}

mkdir -p $OUT
say "start $(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo) reps=$REPS runtime=$RT disk_mb=$DISK_MB mem=$MEM qemu=\"$(qemu-system-x86_64 --version | head -n 1)\" machine=$QEMU_MACHINE"
[ -c /dev/kvm ] || { say "abort /dev/kvm missing in L1"; exit 1; }
# As bench/l1.sh: khugepaged once soft-locked an emulated L1 CPU.
echo 600000 >/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs 2>/dev/null
echo 600000 >/sys/kernel/mm/transparent_hugepage/khugepaged/alloc_sleep_millisecs 2>/dev/null
# The image: in L1's /tmp (tmpfs, RAM): the benchmark measures the VMMs'
# I/O paths, not a disk. Written in full, so no read hits a hole.
if ! dd if=/dev/zero of="$IMG" bs=1M count="$DISK_MB" 2>$OUT/dd.err; then
	say "abort cannot write the image: $(tail -n 1 $OUT/dd.err)"
	exit 1
fi
say "note image $IMG $(stat -f -c %T "$IMG" 2>/dev/null) $(wc -c <"$IMG") bytes"

# net_setup: the tap with L1's address, and iperf3's server on it.
net_setup() {
	[ -c /dev/vhost-net ] || VHOST=off
	if ! tunctl -t $TAP >$OUT/tunctl.out 2>&1 || ! ip addr add $HOST_IP/24 dev $TAP ||
		! ip link set $TAP up; then
		say "note no network rows: cannot set up tap $TAP: $(tr '\n' ' ' <$OUT/tunctl.out)"
		return 1
	fi
	iperf3 -s -B $HOST_IP >$OUT/iperf3-server.log 2>&1 &
	IPERF_PID=$!
	SV_NET="--net tap=$TAP,mac=$MAC,vhost=$VHOST"
	QEMU_NET="-netdev tap,id=n0,ifname=$TAP,script=no,downscript=no,vhost=$VHOST -device virtio-net-pci,netdev=n0,mac=$MAC,romfile="
	NET_CL=" slicevm.vbnet=$HOST_IP"
	say "note network: tap $TAP, L1 $HOST_IP, guest ${HOST_IP%.*}.2, vhost=$VHOST, iperf3 $(iperf3 --version | head -n 1)"
}
IPERF_PID=""
[ "$NET" = 1 ] && net_setup

# A short warm-up boot of each (rep 0, left out of the table), then rounds
# whose order alternates so drift in L1 hits both alike.
one sv 0 2
one qemu 0 2
rep=1
while [ $rep -le "$REPS" ]; do
	if [ $((rep % 2)) = 1 ]; then
		one sv $rep "$RT"
		one qemu $rep "$RT"
	else
		one qemu $rep "$RT"
		one sv $rep "$RT"
	fi
	rep=$((rep + 1))
done

[ -n "$IPERF_PID" ] && kill "$IPERF_PID" 2>/dev/null
for p in $(pidof qemu-system-x86_64 slicevm 2>/dev/null); do
	say "note killing leftover VMM $p"
	kill -KILL "$p"
done
say "done"
