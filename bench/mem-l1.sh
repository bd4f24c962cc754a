#!/bin/sh
# shellcheck shell=dash disable=SC2086
# bench/mem-l1.sh: the memory-backing benchmark's part inside the lab's L1
# (busybox sh). bench/mem.sh puts it at /bench/mem-l1.sh with /bin/bootwatch,
# Debian's QEMU, and /bench/initrd-mem.cpio (the default guest's initrd plus
# /membench-init and /bin/memprobe), and boots L1 with the reserved ranges
# and hugepages below. Prints raw "@bench ..." lines; bench/mem-report.awk
# (on L0) makes the table. Environment: BENCH_REPS (rounds, default 3),
# BENCH_PROBE_MIB (the probe's buffer, default 128).
export PATH=/bin:/sbin:/usr/bin
export SLICEVM_LEDGER=/run/slicevm/ledger.db
REPS=${BENCH_REPS:-3}
PROBE_MIB=${BENCH_PROBE_MIB:-128}
MEM=256M
INITRD=/bench/initrd-mem.cpio
KERNEL=/guest/bzImage
# bootwatch times the VMM's start to this line, the first thing
# /membench-init prints (the guest's init has started).
MARK=SLICEVM-MEMBENCH-INIT
# No slicevm.test=: after the probe the default /init prints its marker
# and waits at a shell, so KVM's page counters can be read while the VM runs.
CL="console=ttyS0 reboot=k panic=-1 rdinit=/membench-init slicevm.memprobe=$PROBE_MIB"
MICROVM=microvm,isa-serial=on,rtc=on,pit=on,pic=on,acpi=on
CONFIGS="sv-anon sv-huge sv-pmem-id sv-resv-id sv-resv-flat qemu-ram qemu-hugetlbfs"
OUT=/tmp/bench-mem
CONF=$OUT/slices.json

say() { echo "@bench $*"; }

# vmm CFG LOG: start one VMM under bootwatch (idle mode: it runs until
# bootwatch gets SIGTERM). Called in a background subshell: it execs.
vmm() {
	local cfg=$1 log=$2 slice
	case $cfg in
	sv-*)
		case $cfg in
		sv-anon) slice=anon ;;
		sv-huge) slice=huge ;;
		sv-pmem-id) slice=dax ;;
		sv-resv-id) slice=crit ;;
		sv-resv-flat) slice=flat ;;
		esac
		exec bootwatch -i -w 400 -l "$log" "$MARK" -- slicevm run --slice $slice \
			--kernel "$KERNEL" --initrd "$INITRD" --cmdline "$CL" ;;
	qemu-ram)
		exec bootwatch -i -w 400 -l "$log" "$MARK" -- qemu-system-x86_64 -M "$MICROVM" \
			-enable-kvm -cpu host -m $MEM -smp 1 \
			-nodefaults -no-user-config -nographic -serial stdio -no-reboot \
			-kernel "$KERNEL" -initrd "$INITRD" -append "$CL" ;;
	qemu-hugetlbfs)
		exec bootwatch -i -w 400 -l "$log" "$MARK" -- qemu-system-x86_64 \
			-M "$MICROVM,memory-backend=mem" \
			-object memory-backend-file,id=mem,size=$MEM,mem-path=/dev/hugepages,prealloc=on,share=on \
			-enable-kvm -cpu host -m $MEM -smp 1 \
			-nodefaults -no-user-config -nographic -serial stdio -no-reboot \
			-kernel "$KERNEL" -initrd "$INITRD" -append "$CL" ;;
	esac
}

# kv DIR NAME: one KVM debugfs counter of the VM in DIR.
kv() { cat "$1/$2" 2>/dev/null || echo 0; }

# one CFG REP: boot, wait for the probe's line and the default init's
# marker, read KVM's page-size counters, stop the VM.
one() {
	local cfg=$1 rep=$2 log=$OUT/$1-$2.log out=$OUT/$1-$2.out bw pid="" i=0 dir ms \
		probe zero p4 p2 p1 free0 free1
	free0=$(sed -n 's/^HugePages_Free: *//p' /proc/meminfo)
	vmm "$cfg" "$log" >"$out" &
	bw=$!
	# Up to 300 s for the init marker, the probe and the default marker.
	while [ $i -lt 3000 ]; do
		[ -z "$pid" ] && pid=$(sed -n 's/^ready [0-9.]* //p' "$out")
		[ -n "$pid" ] && grep -q SLICEVM-GUEST-READY "$log" && break
		grep -q '^exit' "$out" && break
		sleep 0.1
		i=$((i + 1))
	done
	ms=$(sed -n 's/^ready \([0-9.]*\) .*/\1/p' "$out")
	probe=$(tr -d '\r' <"$log" | sed -n 's/^SLICEVM-MEMPROBE //p' | head -n 1)
	if [ -z "$pid" ] || [ -z "$probe" ]; then
		say "fail cfg=$cfg rep=$rep out=\"$(tr '\n' ' ' <"$out")\" $(tail -n 4 "$log" | tr '\r\n' '  ')"
		tr -d '\r' <"$log" | tail -n 60 | sed "s/^/@glog fail-$cfg-$rep /"
		kill -TERM $bw 2>/dev/null
		wait $bw
		return
	fi
	dir=""
	for d in /sys/kernel/debug/kvm/"$pid"-*; do [ -d "$d" ] && dir=$d && break; done
	p4=$(kv "$dir" pages_4k)
	p2=$(kv "$dir" pages_2m)
	p1=$(kv "$dir" pages_1g)
	free1=$(sed -n 's/^HugePages_Free: *//p' /proc/meminfo)
	# "slicevm: zeroed 256M of reserved memory before the guest starts in X s (R GiB/s, N threads)"
	zero=$(tr -d '\r' <"$log" | sed -n 's/^slicevm: zeroed \([^ ]*\) of reserved memory before the guest starts in \([0-9.]*\) s (\([0-9.]*\) GiB\/s, \([0-9]*\) thread.*/zero_size=\1 zero_s=\2 zero_gibs=\3 zero_threads=\4/p' | head -n 1)
	say "mem cfg=$cfg rep=$rep init_ms=$ms pages_4k=$p4 pages_2m=$p2 pages_1g=$p1 hugepages_taken=$((free0 - free1)) $probe $zero memtotal_kb=$(tr -d '\r' <"$log" | sed -n 's/.*SLICEVM-GUEST-READY .*memtotal_kb=\([0-9]*\).*/\1/p')"
	kill -TERM $bw
	wait $bw
}

mkdir -p $OUT /run/slicevm /dev/hugepages
say "start $(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo) reps=$REPS mem=$MEM probe_mib=$PROBE_MIB thp=\"$(cat /sys/kernel/mm/transparent_hugepage/enabled)\" qemu=\"$(qemu-system-x86_64 --version | head -n 1)\" cmdline=\"$(cat /proc/cmdline)\""
[ -c /dev/kvm ] || { say "abort /dev/kvm missing in L1"; exit 1; }
# As bench/l1.sh: khugepaged once soft-locked an emulated L1 CPU.
echo 600000 >/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs 2>/dev/null
echo 600000 >/sys/kernel/mm/transparent_hugepage/khugepaged/alloc_sleep_millisecs 2>/dev/null
mount -t hugetlbfs -o pagesize=2M none /dev/hugepages || say "note cannot mount hugetlbfs"

# One slice per slicevm variant, so no slice is re-applied between boots.
cat >"$CONF" <<'JSON'
{"housekeeping": {"cpus": "0"}, "host_reserve": "256M",
 "slices": [{"name": "anon", "cpus": "1", "memory": "256M", "backing": "anon"},
            {"name": "huge", "cpus": "2", "memory": "256M", "backing": "hugetlb"},
            {"name": "crit", "cpus": "3", "memory": "256M", "backing": "reserved",
             "phys_start": "0x40000000", "reserve_as": "memmap"},
            {"name": "flat", "cpus": "4", "memory": "256M", "backing": "reserved",
             "phys_start": "0x60000000", "identity": false, "reserve_as": "memmap"},
            {"name": "dax", "cpus": "5", "memory": "256M", "backing": "reserved",
             "phys_start": "0x80000000", "reserve_as": "pmem"}]}
JSON
if ! slicevm host apply "$CONF" >$OUT/apply.out 2>&1; then
	say "abort slicevm host apply failed: $(tr '\n' ' ' <$OUT/apply.out)"
	exit 1
fi
say "note range file: $(tr '\n' ' ' </run/slicevm/memory.json)"
say "note iomem: $(grep -E 'Reserved|Persistent' /proc/iomem | grep -v '^ ' | tr '\n' ';')"
say "note apply: $(tr '\n' ' ' <$OUT/apply.out)"
for d in /sys/bus/dax/devices/dax*; do
	[ -d "$d" ] && say "note $(basename "$d"): resource $(cat "$d/resource") size $(cat "$d/size") align $(cat "$d/align" 2>/dev/null)"
done
say "note hugepages free: $(sed -n 's/^HugePages_Free: *//p' /proc/meminfo)"

# Rounds 1..REPS boot every variant once, in an order rotated each round
# so drift in L1 hits all variants alike.
set -- $CONFIGS
n=$#
rep=1
while [ $rep -le "$REPS" ]; do
	i=0
	while [ $i -lt $n ]; do
		k=$(( (i + rep) % n + 1 ))
		eval "cfg=\${$k}"
		one "$cfg" $rep
		i=$((i + 1))
	done
	rep=$((rep + 1))
done

# The guest's view of its RAM under each variant (last round), for the report.
for cfg in $CONFIGS; do
	f=$OUT/$cfg-$REPS.log
	[ -f "$f" ] && tr -d '\r' <"$f" | grep -E '^SLICEVM-GUEST-RAM|BIOS-e820|zeroed' | head -n 12 |
		while IFS= read -r l; do say "info cfg=$cfg $l"; done
done

for p in $(pidof qemu-system-x86_64 slicevm 2>/dev/null); do
	say "note killing leftover VMM $p"
	kill -KILL "$p"
done
slicevm host release >$OUT/release.out 2>&1 || say "note release: $(tr '\n' ' ' <$OUT/release.out)"
say "done"
