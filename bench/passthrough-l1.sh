#!/bin/sh
# shellcheck shell=dash disable=SC2086
# bench/passthrough-l1.sh: the PCI passthrough benchmark's part inside the
# lab's L1 of the IOMMU flavour (busybox sh; q35, intel-iommu, an emulated
# NVMe, nvme and vfio loaded by l1-init). bench/passthrough.sh puts it at
# /bench/passthrough-l1.sh with Debian's QEMU (+ libraries and firmware) and
# /bench/initrd-pt.cpio (the lab's initrd-fio.cpio.gz plus
# /passthrough-init), and starts it from /lab/boot.
#
# Configurations (the same guest kernel, initrd, 1 vCPU, 256 MiB):
#   sv-pt      slicevm run --slice io: the NVMe passed through (slice plan
#              "pt", which holds it: apply binds it to vfio-pci); fio on the
#              guest's /dev/nvme0n1
#   sv-vb      slicevm run --slice io --disk /dev/nvme0n1: virtio-blk over the
#              same namespace (plan "vb": the same slice without the device,
#              so the NVMe is on L1's nvme driver); fio on /dev/vda
#   qemu-vfio  QEMU -device vfio-pci,host=ADDR (plan "pt" applied: the NVMe
#              on vfio-pci); fio on /dev/nvme0n1
#   qemu-vb    QEMU virtio-blk-pci over /dev/nvme0n1 (aio=io_uring,
#              cache=none, as bench/virtio.sh); plan "vb"; fio on /dev/vda
# Every VM runs as a VM in the slice does: the vCPU thread alone on the
# slice's CPU 1 (its isolated cpuset partition), every other thread on the
# housekeeping CPU 0. slicevm does that itself; QEMU is started with
# taskset -c 0 and its vCPU thread ("CPU 0/KVM") is then moved into the
# slice's cgroup and pinned to CPU 1, so placement is no difference between
# the VMMs.
#
# Rounds alternate their order (the plan is applied twice per round);
# the guest runs the jobs of bench/passthrough-init. Prints raw "@bench ..."
# lines; bench/passthrough-report.awk (on L0) makes the table.
# Environment: BENCH_REPS (rounds, default 3), BENCH_RUNTIME (seconds per fio
# job, default 8), BENCH_CONFIGS (default "sv-pt sv-vb qemu-vfio qemu-vb"),
# BENCH_WARMUP (seconds per fio job of the warm-up boots, 0 = none; default 1),
# BENCH_QEMU_MACHINE (default microvm with PCIe, see below).
export PATH=/bin:/sbin:/usr/bin
REPS=${BENCH_REPS:-3}
RT=${BENCH_RUNTIME:-8}
CONFIGS=${BENCH_CONFIGS:-sv-pt sv-vb qemu-vfio qemu-vb}
WARMUP=${BENCH_WARMUP:-1}
MEM=256M
KERNEL=/guest/bzImage
INITRD=/bench/initrd-pt.cpio
OUT=/tmp/pbench
PCI=/sys/bus/pci/devices
SLICE=io
CG=/sys/fs/cgroup/slicevm-$SLICE
export SLICEVM_LEDGER=/run/slicevm/ledger.db
# microvm as in the other benchmarks (legacy devices slicevm has too), plus
# pcie=on: a PCIe host bridge (ECAM, in ACPI) for virtio-blk-pci and
# vfio-pci, with MSI-X as slicevm gives its devices.
QEMU_MACHINE=${BENCH_QEMU_MACHINE:-microvm,isa-serial=on,rtc=on,pit=on,pic=on,acpi=on,pcie=on}
# KVM's per-VM counters sampled around each job (debugfs, the same source
# for both VMMs). io_exits and mmio_exits count the exits KVM hands to the
# VMM in user space (KVM_EXIT_IO, KVM_EXIT_MMIO); an ioeventfd write or
# an access to a BAR mapped into the guest counts in neither.
KSTATS="exits io_exits mmio_exits halt_exits irq_exits irq_window_exits irq_injections signal_exits insn_emulation"
CR=$(printf '\r')

say() { echo "@bench $*"; }

# --- the NVMe and the plans --------------------------------------------------
drv() {
	_l=$(readlink "$PCI/$1/driver" 2>/dev/null)
	if [ -n "$_l" ]; then echo "${_l##*/}"; else echo none; fi
}
# wait_for SECS TEST...: TEST succeeds now or within SECS seconds.
wait_for() {
	_n=$(($1 * 5))
	shift
	until "$@"; do
		_n=$((_n - 1))
		[ $_n -le 0 ] && return 1
		sleep 0.2
	done
}
on_drv() { [ "$(drv "$1")" = "$2" ]; }
nvme_blk() { [ -b /dev/nvme0n1 ]; }
# bind_to ADDR DRIVER: by hand, as tests/lab/lib.sh does (should apply or
# release not do its part; said in a note).
bind_to() {
	if [ "$2" = vfio-pci ]; then
		echo vfio-pci >"$PCI/$1/driver_override"
	else
		echo >"$PCI/$1/driver_override"
	fi
	[ -e "$PCI/$1/driver" ] && echo "$1" >"$PCI/$1/driver/unbind"
	echo "$1" >/sys/bus/pci/drivers_probe 2>/dev/null
	wait_for 10 on_drv "$1" "$2"
}

PLAN=""
# plan NAME: apply plan NAME (pt or vb) unless it is applied; the NVMe on
# vfio-pci (pt) or on nvme with /dev/nvme0n1 (vb) afterwards.
plan() {
	[ "$PLAN" = "$1" ] && return 0
	if [ -n "$PLAN" ]; then
		slicevm host release >$OUT/release.out 2>&1 ||
			say "note host release failed: $(tail -n 1 $OUT/release.out)"
		PLAN=""
	fi
	if ! slicevm host apply "$OUT/$1.json" >$OUT/apply.out 2>&1; then
		say "note host apply $1 failed: $(tail -n 2 $OUT/apply.out | tr '\n' ' ')"
		return 1
	fi
	PLAN=$1
	if [ "$1" = pt ]; then
		wait_for 10 on_drv "$NVME" vfio-pci ||
			{ say "note after apply the NVMe is on $(drv "$NVME"): binding vfio-pci by hand"; bind_to "$NVME" vfio-pci; }
	else
		wait_for 10 on_drv "$NVME" nvme ||
			{ say "note after apply the NVMe is on $(drv "$NVME"): binding nvme by hand"; bind_to "$NVME" nvme; }
		wait_for 10 nvme_blk || say "note no /dev/nvme0n1 in L1"
	fi
}

# --- the VMMs ------------------------------------------------------------------
# vmm CFG RT: exec one VMM; the console on stdout.
vmm() {
	local dev=nvme0n1 cl
	case $1 in *-vb) dev=vda ;; esac
	cl="console=ttyS0 reboot=k panic=-1 quiet rdinit=/passthrough-init slicevm.pbench=$2 slicevm.pbdev=$dev"
	case $1 in
	sv-pt)
		exec slicevm run --slice $SLICE --name pt --kernel "$KERNEL" --initrd "$INITRD" \
			--cmdline "$cl" --cpus 1 --memory $MEM ;;
	sv-vb)
		exec slicevm run --slice $SLICE --name vb --kernel "$KERNEL" --initrd "$INITRD" \
			--cmdline "$cl" --cpus 1 --memory $MEM --disk /dev/nvme0n1 ;;
	qemu-*)
		local dv
		if [ "$1" = qemu-vfio ]; then
			# rombar=0: no expansion ROM, as slicevm hides it.
			dv="-device vfio-pci,host=$NVME,rombar=0"
		else
			dv="-drive file=/dev/nvme0n1,if=none,id=d0,format=raw,aio=io_uring,cache=none -device virtio-blk-pci,drive=d0"
		fi
		# debug-threads=on names the vCPU thread "CPU 0/KVM" (place_qemu).
		exec taskset -c 0 qemu-system-x86_64 -M "$QEMU_MACHINE" -enable-kvm -cpu host \
			-name pbench,debug-threads=on -m $MEM -smp 1 -nodefaults -no-user-config -nographic -serial stdio -no-reboot \
			-kernel "$KERNEL" -initrd "$INITRD" -append "$cl" $dv ;;
	esac
}

# place_qemu PID: move QEMU's vCPU thread into the slice (as slicevm places
# its own): into the slice cgroup's cgroup.threads and onto CPU 1. Waits up
# to 20 s for the thread; prints the result to $OUT/place.
place_qemu() {
	local t c n=0
	while [ $n -lt 100 ]; do
		for t in "/proc/$1"/task/*; do
			read -r c 2>/dev/null <"$t/comm"
			case "$c" in
			"CPU 0/KVM")
				if echo "${t##*/}" >"$CG/cgroup.threads" 2>$OUT/place.err &&
					taskset -p -c 1 "${t##*/}" >/dev/null 2>>$OUT/place.err; then
					echo "ok tid=${t##*/} cpus=$(sed -n 's/^Cpus_allowed_list:\t*//p' "$t/status")" >$OUT/place
				else
					echo "failed: $(tr '\n' ' ' <$OUT/place.err)" >$OUT/place
				fi
				return 0 ;;
			esac
		done
		n=$((n + 1))
		sleep 0.2
	done
	echo "failed: no thread 'CPU 0/KVM'" >$OUT/place
}

# kstat PID: KS = the KSTATS counters of PID's VM, then the VMM's CPU time
# outside guest mode and in it (clock ticks, /proc/PID/stat), space-separated.
# Shell builtins only (no fork): it must be done within the half second the
# guest gives it (bench/passthrough-init, mark_s).
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

# Exit reasons and user-space exits by reason, per job window, from
# in-kernel histograms on KVM's tracepoints (hist triggers: counted in L1's
# kernel, nothing is logged per event): kvm_exit by exit_reason (SVM exit
# codes), kvm_exit of nested page faults (exit code 0x400) by guest-physical
# address, kvm_userspace_exit by reason (KVM_EXIT_*: every return of KVM_RUN
# to the VMM), kvm_msr by MSR and direction (an MSR exit's MSR). Cleared and resumed at VBS, paused at VBE, read once the
# job's result line is in (outside the window). The kvm-hold VM never runs,
# so only the benchmark's VM adds to them. BENCH_TRACE=0 leaves them out.
TRACE=${BENCH_TRACE:-1}
TR=""
for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
	[ -e $d/events/kvm/kvm_exit/trigger ] && { TR=$d/events/kvm; break; }
done
H_EXIT="hist:keys=exit_reason:vals=hitcount:sort=hitcount.descending:size=256"
H_NPF="hist:keys=info2.hex:vals=hitcount:sort=hitcount.descending:size=2048"
F_NPF="if exit_reason == 1024"
H_USER="hist:keys=reason:vals=hitcount:sort=hitcount.descending:size=128"
H_MSR="hist:keys=ecx.hex,write:vals=hitcount:sort=hitcount.descending:size=256"
# trace_cmd SUFFIX: SUFFIX (:pause, :cont, :clear, or "" to create) to each
# histogram (builtins only: inside the window).
trace_cmd() {
	echo "$H_EXIT$1" >>$TR/kvm_exit/trigger
	echo "$H_NPF$1 $F_NPF" >>$TR/kvm_exit/trigger
	echo "$H_USER$1" >>$TR/kvm_userspace_exit/trigger
	echo "$H_MSR$1" >>$TR/kvm_msr/trigger
}
trace_setup() {
	[ "$TRACE" = 1 ] || return 0
	if [ -z "$TR" ]; then
		say "note no KVM tracepoints in L1: exit reasons not counted"
		TRACE=0
		return 0
	fi
	if ! trace_cmd "" 2>$OUT/trace.err || ! trace_cmd :pause 2>>$OUT/trace.err; then
		say "note cannot set up hist triggers on $TR: $(tr '\n' ' ' <$OUT/trace.err): exit reasons not counted"
		TRACE=0
		return 0
	fi
	say "note exit reasons counted by hist triggers on $TR"
}
# trace_save: the three histograms of the last window into $OUT/*.hist
# (the two on kvm_exit share one hist file: split by their trigger lines).
trace_save() {
	[ "$TRACE" = 1 ] || return 0
	awk -v o=$OUT '/^# trigger info: / { f = /keys=info2/ ? o "/npf.hist" : o "/exit.hist" }
		/^\{/ && f != "" { print >f }' $TR/kvm_exit/hist
	grep '^{' $TR/kvm_userspace_exit/hist >$OUT/user.hist
	grep '^{' $TR/kvm_msr/hist >$OUT/msr.hist
}
# trace_read: "ex=CODE:N,... npf=GPA:N,... ue=REASON:N,... msr=MSR/W:N,..."
# of the last window (npf and msr: the 6 hit most; W is 1 for a write).
trace_read() {
	[ "$TRACE" = 1 ] || return 0
	local f
	for f in exit npf user msr; do
		: >>$OUT/$f.hist
	done
	awk '{ f = FILENAME; sub(/.*\//, "", f); sub(/\.hist$/, "", f) }
		{ gsub(/[{}:,]/, " ") }
		f == "msr" { k = $2 "/" $4; v = $6 }
		f != "msr" { k = $2; v = $4 }
		(f == "npf" || f == "msr") && ++n[f] > 6 { next }
		{ s[f] = s[f] (s[f] == "" ? "" : ",") k ":" v }
		END { printf "ex=%s npf=%s ue=%s msr=%s", s["exit"], s["npf"], s["user"], s["msr"] }' \
		$OUT/exit.hist $OUT/npf.hist $OUT/user.hist $OUT/msr.hist
	rm -f $OUT/exit.hist $OUT/npf.hist $OUT/user.hist $OUT/msr.hist
}

# irq_note: L1's interrupts of the NVMe (nvme or vfio) per CPU, as
# "NAME:CPU0/CPU1/..." for each line with any, space-separated, and how
# many lines (vectors) there are in all (where the device's interrupts land
# in L1 decides whether they interrupt the vCPU's CPU).
irq_note() {
	awk '$NF ~ /^(nvme|vfio)/ {
		n++; s = $NF ":"; t = 0
		for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) { s = s (i > 2 ? "/" : "") $i; t += $i }
		if (t) out = out s " "
	} END { printf "%s(%d vectors)", out, n }' /proc/interrupts
}

# one CFG REP RT: apply its plan, boot, follow the console (a FIFO), sample
# KVM's counters at each job's VBS and VBE lines, print one "@bench pt"
# line per job.
one() {
	local cfg=$1 rep=$2 rt=$3 log=$OUT/$1-$2.log fifo=$OUT/console pid wd line \
		job a="" ab ex sec placed="" irqs=""
	case $cfg in *-vfio | *-pt) plan pt ;; *) plan vb ;; esac || {
		say "fail cfg=$cfg rep=$rep plan"
		return 1
	}
	sec=$((150 + 3 * (rt + 30)))
	rm -f "$fifo" $OUT/place
	mkfifo "$fifo"
	: >"$log"
	vmm "$cfg" "$rt" <"/dev/null" >"$fifo" 2>&1 &
	pid=$!
	case $cfg in qemu-*) place_qemu "$pid" & ;; esac
	# A guest that hangs must not stop the benchmark.
	(sleep "$sec"; kill -TERM "$pid" 2>/dev/null; sleep 5; kill -KILL "$pid" 2>/dev/null) &
	wd=$!
	while IFS= read -r line; do
		line=${line%"$CR"}
		printf '%s\n' "$line" >>"$log"
		case "$line" in
		VBS\ *)
			kstat "$pid"
			a=$KS
			[ "$TRACE" = 1 ] && trace_cmd :clear && trace_cmd :cont ;;
		VBE\ *)
			[ "$TRACE" = 1 ] && trace_cmd :pause
			kstat "$pid"
			echo "$a|$KS" >"$OUT/k-${line#VBE }" ;;
		SLICEVM-VBENCH-R\ *)
			job=$(echo "$line" | sed -n 's/.* job=\([^ ]*\).*/\1/p')
			ab=""
			read -r ab 2>/dev/null <"$OUT/k-$job"
			if [ -z "$placed" ]; then
				placed="vcpu-on=$(for t in "/proc/$pid"/task/*; do
					case "$(cat $t/comm)" in "CPU 0/KVM" | vcpu*) sed -n 's/^Cpus_allowed_list:\t*//p' $t/status ;; esac
				done | head -n 1) vmm-on=$(sed -n 's/^Cpus_allowed_list:\t*//p' /proc/$pid/status)"
				[ "$rep" -le 1 ] && say "note cfg=$cfg $placed $(cat $OUT/place 2>/dev/null)"
			fi
			trace_save
			# (while the VM runs: vfio's interrupts go when it ends)
			[ "$rep" -le 1 ] && irqs=$(irq_note)
			say "pt cfg=$cfg rep=$rep ${line#SLICEVM-VBENCH-R } $(delta "${ab%%|*}" "${ab#*|}") $(trace_read)"
			rm -f "$OUT/k-$job" ;;
		SLICEVM-PBENCH-DISK*)
			[ "$rep" -le 1 ] && say "note cfg=$cfg ${line#SLICEVM-PBENCH-}" ;;
		slicevm:\ guest\ RAM\ mapped*)
			[ "$rep" -le 1 ] && say "note cfg=$cfg ${line#slicevm: }" ;;
		SLICEVM-VBENCH-FAIL*)
			say "fail cfg=$cfg rep=$rep ${line#SLICEVM-VBENCH-FAIL }" ;;
		esac
	done <"$fifo"
	wait "$pid"
	ex=$?
	[ -n "$irqs" ] && say "note cfg=$cfg L1's interrupts of the NVMe (count per CPU, boot to last job): $irqs"
	kill "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
	if ! grep -q '^SLICEVM-VBENCH-R ' "$log" || [ "$ex" != 0 ]; then
		say "fail cfg=$cfg rep=$rep exit=$ex"
		tail -n 40 "$log" | sed "s/^/@glog fail-$cfg-$rep /"
	fi
	rm -f "$fifo"
}

# --- main -----------------------------------------------------------------------
mkdir -p $OUT /run/slicevm
say "start $(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo) reps=$REPS runtime=$RT mem=$MEM configs=\"$CONFIGS\" qemu=\"$(qemu-system-x86_64 --version | head -n 1)\" machine=$QEMU_MACHINE"
[ -c /dev/kvm ] || { say "abort /dev/kvm missing in L1"; exit 1; }
[ -c /dev/vfio/vfio ] || { say "abort no /dev/vfio/vfio: not the IOMMU flavour of L1?"; exit 1; }
NVME=""
for d in "$PCI"/*; do
	[ "$(cat "$d/class")" = 0x010802 ] && { NVME=${d##*/}; break; }
done
[ -n "$NVME" ] || { say "abort no NVMe (class 0x010802) in L1"; exit 1; }
G=$(readlink "$PCI/$NVME/iommu_group")
G=${G##*/}
wait_for 10 nvme_blk || { say "abort no /dev/nvme0n1 in L1 (NVMe $NVME on $(drv "$NVME"))"; exit 1; }
say "note NVMe $NVME $(cat $PCI/$NVME/vendor):$(cat $PCI/$NVME/device) IOMMU group $G ($(ls /sys/kernel/iommu_groups/$G/devices | tr '\n' ' ')) $(cat /sys/block/nvme0n1/size) sectors, L1 driver $(drv "$NVME")"
# As bench/l1.sh: khugepaged once soft-locked an emulated L1 CPU.
echo 600000 >/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs 2>/dev/null
echo 600000 >/sys/kernel/mm/transparent_hugepage/khugepaged/alloc_sleep_millisecs 2>/dev/null
# Written in full once (the ext4 at its start included), so no read hits a
# hole of the image L0's QEMU keeps.
if ! dd if=/dev/zero of=/dev/nvme0n1 bs=1M oflag=direct 2>$OUT/dd.err; then
	grep -q 'No space' $OUT/dd.err || say "note writing /dev/nvme0n1: $(tail -n 1 $OUT/dd.err)"
fi
cat >$OUT/pt.json <<EOF
{"housekeeping": {"cpus": "0"}, "host_reserve": "256M",
 "slices": [{"name": "$SLICE", "cpus": "1", "memory": "$MEM", "devices": ["$NVME"]}]}
EOF
cat >$OUT/vb.json <<EOF
{"housekeeping": {"cpus": "0"}, "host_reserve": "256M",
 "slices": [{"name": "$SLICE", "cpus": "1", "memory": "$MEM", "devices": []}]}
EOF

trace_setup

# The order of a round: the configurations of one plan together (the plan
# is applied once for them), plans and configurations reversed every other
# round.
order() {
	local c pt="" vb=""
	for c in $CONFIGS; do
		case $c in *-vfio | *-pt) pt="$pt $c" ;; *) vb="$vb $c" ;; esac
	done
	if [ $(($1 % 2)) = 1 ]; then
		echo $pt $vb
	else
		echo $pt $vb | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }'
	fi
}

if [ "$WARMUP" != 0 ]; then
	for c in $(order 1); do
		one "$c" 0 "$WARMUP"
	done
fi
rep=1
while [ $rep -le "$REPS" ]; do
	for c in $(order $rep); do
		one "$c" $rep "$RT"
	done
	rep=$((rep + 1))
done

[ -n "$PLAN" ] && slicevm host release >$OUT/release.out 2>&1
for p in $(pidof qemu-system-x86_64 slicevm 2>/dev/null); do
	say "note killing leftover VMM $p"
	kill -KILL "$p"
done
say "done"
