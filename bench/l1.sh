#!/bin/sh
# shellcheck shell=dash disable=SC2086
# bench/l1.sh: the benchmark's part inside the lab's L1 (busybox sh).
# bench/boot.sh puts it at /bench/l1.sh with /bin/bootwatch, Debian's QEMU
# and its firmware, and starts it from /lab/boot. It prints raw numbers as
# "@bench ..." lines on the console; bench/boot.sh (on L0) turns them into
# the table. Environment: BENCH_REPS (timed boots per configuration),
# BENCH_QUIET=1 (also time "quiet" boots), BENCH_SETTLE and BENCH_WINDOW (seconds before and of the idle sampling).
export PATH=/bin:/sbin:/usr/bin
REPS=${BENCH_REPS:-5}
SETTLE=${BENCH_SETTLE:-2}
WINDOW=${BENCH_WINDOW:-4}
MEM_MB=512
MARK=SLICEVM-GUEST-READY
INITRD=/guest/initrd.cpio.gz
CL_OFF="console=ttyS0 reboot=k panic=-1 slicevm.test=poweroff"
CL_IDLE="console=ttyS0 reboot=k panic=-1"
# microvm with the legacy devices slicevm also offers (8250 UART, RTC,
# PIT + PIC, ACPI so that poweroff ends QEMU); x-option-roms stays on
# because QEMU needs linuxboot_dma.bin / pvh.bin to start -kernel.
MICROVM=microvm,isa-serial=on,rtc=on,pit=on,pic=on,acpi=on
# Timed with the full kernel log on the serial console (as the lead boots
# the guest); with BENCH_QUIET=1 also with "quiet" (-q), to tell VMM
# start-up from console speed (every console byte is an exit).
CONFIGS="sv-bz sv-elf sv-pvh qemu-bz qemu-pvh"
QCONFIGS=""
[ "${BENCH_QUIET:-0}" = 1 ] && QCONFIGS="sv-bz-q sv-elf-q sv-pvh-q qemu-bz-q qemu-pvh-q"
OUT=/tmp/bench

say() { echo "@bench $*"; }

# vmm CFG CMDLINE LOG [bootwatch options]: start one VMM under bootwatch.
# Always called in a subshell ($(...) or &): it execs bootwatch, so the
# background job's pid is bootwatch's own and a TERM reaches it.
# CFG is sv-bz, sv-elf, sv-pvh, qemu-bz or qemu-pvh, with "-q" appended
# for the same boot with "quiet" on the kernel command line.
vmm() {
	local cfg=${1%-q} cl=$2 log=$3 kernel
	[ "$cfg" = "$1" ] || cl="$cl quiet"
	shift 3
	case $cfg in
	*-bz) kernel=/guest/bzImage ;;
	*) kernel=/guest/vmlinux ;;
	esac
	case $cfg in
	sv-pvh)
		exec bootwatch "$@" -l "$log" "$MARK" -- slicevm run --kernel "$kernel" --pvh \
			--initrd "$INITRD" --cmdline "$cl" --cpus 1 --memory ${MEM_MB}M ;;
	sv-*)
		exec bootwatch "$@" -l "$log" "$MARK" -- slicevm run --kernel "$kernel" \
			--initrd "$INITRD" --cmdline "$cl" --cpus 1 --memory ${MEM_MB}M ;;
	qemu-*)
		exec bootwatch "$@" -l "$log" "$MARK" -- qemu-system-x86_64 -M "$MICROVM" \
			-enable-kvm -cpu host -m ${MEM_MB}M -smp 1 \
			-nodefaults -no-user-config -nographic -serial stdio -no-reboot \
			-kernel "$kernel" -initrd "$INITRD" -append "$cl" ;;
	esac
}

# Seconds (guest clock) of the last kernel log line before the marker.
kernel_secs() {
	sed -n "/$MARK/q; s/^\[ *\([0-9]*\.[0-9]*\)\].*/\1/p" "$1" | tail -n 1
}

# boot_run CFG REP: one timed boot to the marker; the guest powers off.
boot_run() {
	local cfg=$1 rep=$2 log=$OUT/boot-$1-$2.log res ready ex
	res=$(vmm "$cfg" "$CL_OFF" "$log" -w 60)
	ready=$(echo "$res" | sed -n 's/^ready \([0-9.]*\) .*/\1/p')
	ex=$(echo "$res" | sed -n 's/^exit //p')
	if [ -z "$ready" ]; then
		say "fail cfg=$cfg rep=$rep exit=\"$ex\" $(tail -n 3 "$log" | tr '\r\n' '  ')"
		tr -d '\r' <"$log" | sed "s/^/@glog fail-$cfg-$rep /"
		return
	fi
	echo "$res" | grep -q '^timeout' && ex="$ex timeout"
	say "boot cfg=$cfg rep=$rep ready_ms=$ready exit_ms_status=\"$ex\" kernel_s=$(kernel_secs "$log")"
}

# mem_of CFG PID: resident memory of the VMM, guest RAM and the rest.
# Guest RAM = anonymous mappings of the guest memory size (up to 4 MiB
# more for alignment/guard pages): slicevm's one mmap, QEMU's RAM block.
mem_of() {
	local cfg=$1 pid=$2
	awk -v cfg="$cfg" -v memkb=$((MEM_MB * 1024)) -v thr="$(awk '/^Threads:/ { print $2 }' /proc/$2/status)" '
	function flush() {
		if (!have)
			return
		total += rss
		if (anon && size >= memkb && size <= memkb + 4096) {
			guest += rss; gmaps++
		} else {
			over += rss; oanon += an; by[name] += rss
		}
	}
	/^[0-9a-f]+-[0-9a-f]+ / {
		flush()
		have = 1; size = rss = an = 0
		name = NF >= 6 ? $6 : "[anon]"
		anon = NF == 5 || name ~ /^\[anon:/
		next
	}
	$1 == "Size:" { size = $2 }
	$1 == "Rss:" { rss = $2 }
	$1 == "Pss:" { pss += $2 }
	$1 == "Anonymous:" { an = $2 }
	END {
		flush()
		printf "@bench mem cfg=%s rss_kb=%d guest_kb=%d guest_maps=%d overhead_kb=%d overhead_anon_kb=%d pss_kb=%d threads=%s\n",
			cfg, total, guest, gmaps, over, oanon, pss, thr
		for (n in by)
			if (by[n] >= 128)
				printf "@bench map cfg=%s kb=%d name=%s\n", cfg, by[n], n
	}' "/proc/$pid/smaps"
}

# kvm_stat DIR: the VM's exit counters (debugfs) on one line.
kvm_stat() {
	local f v line=""
	for f in exits halt_exits irq_exits io_exits mmio_exits halt_wakeup; do
		v=$(cat "$1/$f" 2>/dev/null || echo 0)
		line="$line $f=$v"
	done
	echo "$line"
}

# idle_run CFG: boot without slicevm.test, let the guest sit at its shell
# prompt, then sample memory and VM exits.
idle_run() {
	local cfg=$1 out=$OUT/idle-$1.out pid="" i=0 bw dir a b
	vmm "$cfg" "$CL_IDLE" "$OUT/idle-$cfg.log" -i -w 120 >"$out" &
	bw=$!
	while [ $i -lt 600 ]; do
		pid=$(sed -n 's/^ready [0-9.]* //p' "$out")
		[ -n "$pid" ] && break
		grep -q '^exit' "$out" && break
		sleep 0.1
		i=$((i + 1))
	done
	if [ -z "$pid" ]; then
		say "fail cfg=$cfg idle boot: $(tr '\n' ' ' <"$out") $(tail -n 3 "$OUT/idle-$cfg.log" | tr '\r\n' '  ')"
		tr -d '\r' <"$OUT/idle-$cfg.log" | sed "s/^/@glog fail-idle-$cfg /"
		kill -TERM $bw 2>/dev/null
		wait $bw
		return
	fi
	sleep "$SETTLE"
	for dir in /sys/kernel/debug/kvm/"$pid"-*; do break; done
	a=$(kvm_stat "$dir")
	sleep "$WINDOW"
	b=$(kvm_stat "$dir")
	mem_of "$cfg" "$pid"
	say "idle cfg=$cfg secs=$WINDOW before:$a after:$b"
	kill -TERM $bw
	wait $bw
}

# Guest log lines worth a look, and the longest silences in the kernel log.
log_notes() {
	local cfg=$1 log=$2
	tr -d '\r' <"$log" | grep -iE 'warn|error|fail|bug|unable|invalid|not found|timed out|unknown|spurious|mismatch' |
		head -n 25 | while IFS= read -r l; do say "warn cfg=$cfg $l"; done
	tr -d '\r' <"$log" | sed -n "/$MARK/q; /^\[ *[0-9]*\.[0-9]*\]/p" | awk -v cfg="$cfg" '
	{
		t = substr($0, 2, index($0, "]") - 2) + 0
		if (NR > 1 && t - pt >= 0.02)
			printf "%d\t@bench gap cfg=%s ms=%d after: %s\n", (t - pt) * 1000, cfg, (t - pt) * 1000, prev
		pt = t; prev = $0
	}' | sort -rn | head -n 6 | cut -f 2-
}

mkdir -p $OUT
say "start $(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo) reps=$REPS qemu=\"$(qemu-system-x86_64 --version | head -n 1)\" microvm=$MICROVM"
[ -c /dev/kvm ] || { say "abort /dev/kvm missing in L1"; exit 1; }
# khugepaged once spun for minutes on an L1 CPU (soft lockup) and stopped
# the run; L1 is TCG-emulated, so have it scan rarely. Huge pages at fault
# time (the VMMs' MADV_HUGEPAGE guest RAM) are not affected.
echo 600000 >/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs 2>/dev/null
echo 600000 >/sys/kernel/mm/transparent_hugepage/khugepaged/alloc_sleep_millisecs 2>/dev/null
# L1's init keeps one idle VM open all along (tests/lab/kvm-hold.c says why).
say "slicevm_size=$(wc -c </bin/slicevm) qemu_size=$(wc -c <"$(command -v qemu-system-x86_64)")"

# One untimed boot per VMM warms up (and checks) both. In rounds 1..REPS the
# order rotates so drift in L1 hits all configurations alike.
boot_run sv-bz 0
boot_run qemu-bz 0
set -- $CONFIGS $QCONFIGS
n=$#
rep=1
while [ $rep -le "$REPS" ]; do
	i=0
	while [ $i -lt $n ]; do
		k=$(( (i + rep) % n + 1 ))
		eval "cfg=\${$k}"
		boot_run "$cfg" $rep
		i=$((i + 1))
	done
	rep=$((rep + 1))
done

for cfg in $CONFIGS; do
	idle_run "$cfg"
done

for cfg in $CONFIGS; do
	log_notes "$cfg" "$OUT/boot-$cfg-$REPS.log"
done
# The whole console of each configuration's last timed boot stays in the
# L0 log for a closer look ("@glog CFG" lines; the table ignores them).
for cfg in $CONFIGS; do
	tr -d '\r' <"$OUT/boot-$cfg-$REPS.log" | sed "s/^/@glog $cfg /"
done
# A few lines of the guest's view of the machine, for the report.
for cfg in sv-bz qemu-bz; do
	tr -d '\r' <"$OUT/boot-$cfg-$REPS.log" |
		grep -E 'clocksource|tsc: Refined|Calibrat|Hypervisor detected|ACPI: [A-Z]{4} |smpboot: CPU0|serial8250|ttyS0 at|Run /init' |
		head -n 25 | while IFS= read -r l; do say "info cfg=$cfg $l"; done
done

# Nothing may outlive the benchmark.
for p in $(pidof qemu-system-x86_64 slicevm 2>/dev/null); do
	say "note killing leftover VMM $p"
	kill -KILL "$p"
done
say "done"
