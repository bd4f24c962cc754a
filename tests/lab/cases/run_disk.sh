#!/bin/sh
# lab: smp=2 mem=5G
# timeout: 600
# virtio-pci devices of slicevm run: a --disk ext4 image the guest checks
# (SHA256SUMS) and writes, read back in L1 with debugfs once the VM is gone;
# the guest's virtio-rng; a readonly=on disk the guest cannot write and that
# stays unchanged, also from a read-only file system; bad --disk input
# (missing image, a directory, a read-only file system asked writable, an
# unknown key, a bad readonly value, an image in use by another VM): exit 1,
# one stderr line, nothing left running, the image unchanged.
# The guest side is tests/lab/guest-init (slicevm.test=disk / disk-ro), the
# image $GUEST_DISK is built on L0 by l0.sh's lab_disk.
. /lab/lib.sh

K=$GUEST_BZIMAGE
I=$GUEST_INITRD
T=$LAB_TMP
SERIAL=slicevm-lab0
# The image's size in 512-byte sectors, as /sys/block/vda/size shows it.
SECTORS=$(($(wc -c <"$GUEST_DISK") / 512))

# fresh NAME: a new copy of the lab's image at $T/NAME.
fresh() {
	cp "$GUEST_DISK" "$T/$1" && chmod 0644 "$T/$1"
}

# sum FILE: its sha256; state_of PATH: what "unchanged" compares.
sum() {
	sha256sum <"$1" | cut -d' ' -f1
}
state_of() {
	if [ -f "$1" ]; then
		echo "file $(sum "$1")"
	elif [ -d "$1" ]; then
		echo "dir $(ls -A "$1" | tr '\n' ' ')"
	elif [ -e "$1" ]; then
		echo "other"
	else
		echo "missing"
	fi
}

# guest SECS ARGS...: vmm_run of the default guest with 256 MiB and ARGS
# (--disk, --cmdline); guest_start ARGS...: the same with vmm_start.
guest() {
	_secs=$1
	shift
	vmm_run "$_secs" run --kernel "$K" --initrd "$I" --memory 256M "$@"
}
guest_start() {
	vmm_start run --kernel "$K" --initrd "$I" --memory 256M "$@"
}

# bad_disk DESC RE IMG ARGS...: like expect_bad_input (exit 1, one stderr
# line "slicevm: ..." matching RE, no process, VM or file left) and IMG as
# it was; the stderr line is shown.
bad_disk() {
	_desc=$1
	_re=$2
	_img=$3
	shift 3
	_was=$(state_of "$_img")
	lab_state >"$T/state"
	guest 60 --cmdline "$CMDLINE_POWEROFF" "$@"
	want_rc 1
	want_error_line "$_re"
	want_no_vmm
	want_same_state "$T/state"
	[ "$(state_of "$_img")" = "$_was" ] || fail "$_img changed: $_was, now $(state_of "$_img")"
	_line=$(head -n 1 "$VMM_STDERR")
	report "$_desc"
	diag "stderr: $_line"
}

# --- a. read, write, read back in L1 ---------------------------------------
fresh rw.img
guest 240 --disk "$T/rw.img" --cmdline "$CMDLINE_BASE slicevm.test=disk"
A_DIR=$VMM_DIR
want_rc 0
want_marker
disks=$(console_line SLICEVM-DISKS)
case "$disks" in
"SLICEVM-DISKS vda:size=$SECTORS:ro=0:serial="*) ;;
*) fail "the guest sees '${disks:-no SLICEVM-DISKS line}', expected one writable vda of $SECTORS sectors" ;;
esac
want_line SLICEVM-DISK-VERIFIED SLICEVM-DISK-BAD
wrote=$(console_line SLICEVM-DISK-WROTE | sed -n 's/^SLICEVM-DISK-WROTE \([0-9a-f]\{64\}\)$/\1/p')
if [ -z "$wrote" ]; then
	want_line SLICEVM-DISK-WROTE SLICEVM-DISK-BAD
else
	debugfs -R 'cat /guest-wrote.txt' "$T/rw.img" >"$T/back.txt" 2>"$T/debugfs.err"
	back=$(sum "$T/back.txt")
	diag "guest wrote sha256 $wrote ($(wc -c <"$T/back.txt") bytes read back in L1)"
	[ "$back" = "$wrote" ] ||
		fail "debugfs reads guest-wrote.txt with sha256 $back, the guest wrote $wrote ($(tail -n 1 "$T/debugfs.err"))"
	[ "$(head -n 1 "$T/back.txt")" = "written by the guest" ] ||
		fail "guest-wrote.txt starts with '$(head -c 40 "$T/back.txt")'"
	# The guest's clock is not L1's: mount times are no damage here.
	printf '[options]\n\tbroken_system_clock = 1\n' >"$T/e2fsck.conf"
	E2FSCK_CONFIG=$T/e2fsck.conf e2fsck -fn "$T/rw.img" >"$T/fsck.out" 2>&1 ||
		fail "e2fsck -fn finds the image damaged: $(tail -n 3 "$T/fsck.out" | tr '\n' ' ')"
fi
want_no_vmm
report "run --disk: the guest sees vda, checks every file of its ext4 and writes one; L1 reads it back (debugfs) with the guest's sha256, e2fsck clean"

VMM_DIR=$A_DIR
want_line SLICEVM-RNG-OK SLICEVM-RNG-BAD
report "run: the guest's hardware RNG is virtio-rng and /dev/hwrng gives bytes"

# --- a2. what the guest synced survives a SIGKILL of the VMM -----------------
fresh kill.img
guest_start --disk "$T/kill.img" --cmdline "$CMDLINE_BASE slicevm.test=disk-hold"
if wait_console 240 '^SLICEVM-DISK-WROTE [0-9a-f]{64}$'; then
	kill -KILL "$VMM_PID"
	vmm_wait 30
	want_rc 137
	wrote=$(console_line SLICEVM-DISK-WROTE | sed -n 's/^SLICEVM-DISK-WROTE //p')
	debugfs -R 'cat /guest-wrote.txt' "$T/kill.img" >"$T/killed.txt" 2>/dev/null
	back=$(sum "$T/killed.txt")
	[ "$back" = "$wrote" ] ||
		fail "after SIGKILL debugfs reads guest-wrote.txt with sha256 ${back:-nothing}, the guest wrote $wrote"
else
	vmm_wait 5
	want_line SLICEVM-DISK-WROTE SLICEVM-DISK-BAD
fi
want_no_vmm
report "run --disk: a file the guest synced is in the image after SIGKILL of the VMM"

# --- b. readonly=on --------------------------------------------------------
fresh ro.img
was=$(sum "$T/ro.img")
guest 240 --disk "$T/ro.img,readonly=on,serial=$SERIAL" --cmdline "$CMDLINE_BASE slicevm.test=disk-ro"
B_DIR=$VMM_DIR
want_rc 0
want_marker
want_line SLICEVM-DISK-RO-OK SLICEVM-DISK-RO-BAD
[ "$(sum "$T/ro.img")" = "$was" ] || fail "the read-only image changed"
want_no_vmm
report "run --disk PATH,readonly=on: the guest reads a read-only disk and cannot write it; the image is unchanged"

VMM_DIR=$B_DIR
disks=$(console_line SLICEVM-DISKS)
[ "$disks" = "SLICEVM-DISKS vda:size=$SECTORS:ro=1:serial=$SERIAL" ] ||
	fail "the guest sees '${disks:-no SLICEVM-DISKS line}', expected vda:size=$SECTORS:ro=1:serial=$SERIAL"
report "run --disk PATH,readonly=on,serial=S: the guest's vda is read-only and has serial S"

# --- c. bad input ----------------------------------------------------------
bad_disk "run rejects a missing --disk image" '[Nn]o such|[Nn]ot found|does not exist|[Mm]issing' \
	"$T/nonexistent.img" --disk "$T/nonexistent.img"

mkdir -p "$T/adir"
bad_disk "run rejects a directory as --disk image" '[Dd]irector' "$T/adir" --disk "$T/adir"

fresh keys.img
bad_disk "run rejects an unknown --disk key" \
	'(foo.*([Uu]nknown|[Ii]nvalid|[Uu]nsupported))|(([Uu]nknown|[Ii]nvalid|[Uu]nsupported).*foo)' \
	"$T/keys.img" --disk "$T/keys.img,foo=1"
bad_disk "run rejects --disk ...,readonly=maybe" 'maybe' "$T/keys.img" \
	--disk "$T/keys.img,readonly=maybe"

# A read-only file system (root ignores file modes): a read-only bind mount.
mkdir -p "$T/rosrc" "$T/ro"
fresh rosrc/disk.img
trap 'umount "$T/ro" 2>/dev/null' EXIT
if mount -o bind "$T/rosrc" "$T/ro" && mount -o remount,ro,bind "$T/ro" &&
	! touch "$T/ro/probe" 2>/dev/null; then
	bad_disk "run rejects an image on a read-only file system asked writable" \
		'[Rr]ead-only|[Rr]eadonly|EROFS|read only' "$T/ro/disk.img" --disk "$T/ro/disk.img"

	guest 240 --disk "$T/ro/disk.img,readonly=on" --cmdline "$CMDLINE_BASE slicevm.test=disk-ro"
	want_rc 0
	want_marker
	want_line SLICEVM-DISK-RO-OK SLICEVM-DISK-RO-BAD
	want_no_vmm
	report "run --disk PATH,readonly=on works for an image on a read-only file system"
else
	rm -f "$T/ro/probe"
	skip "run rejects an image on a read-only file system asked writable" "no read-only bind mount"
	skip "run --disk PATH,readonly=on works for an image on a read-only file system" "no read-only bind mount"
fi
umount "$T/ro" 2>/dev/null
trap - EXIT

# An image in use: a first VM holds it (at its shell), a second is refused.
fresh lock.img
guest_start --disk "$T/lock.img" --cmdline "$CMDLINE_SHELL"
FIRST=$VMM_PID
FIRST_DIR=$VMM_DIR
if wait_console 240 "^$MARKER "; then
	was=$(sum "$T/lock.img")
	vms_before=$(kvm_vms | tr '\n' ' ')
	guest 60 --disk "$T/lock.img" --cmdline "$CMDLINE_POWEROFF"
	want_rc 1
	want_error_line '[Ll]ock|[Ii]n use|[Bb]usy'
	[ "$(vmm_pids)" = "$FIRST" ] || fail "slicevm processes now: $(vmm_pids), expected only $FIRST"
	[ "$(kvm_vms | tr '\n' ' ')" = "$vms_before" ] ||
		fail "KVM VMs before: $vms_before, after: $(kvm_vms | tr '\n' ' ')"
	_alive "$FIRST" || fail "the first VM died"
	[ "$(sum "$T/lock.img")" = "$was" ] || fail "the image changed"
	line=$(head -n 1 "$VMM_STDERR")
	report "run rejects a --disk image in use by another VM; that VM runs on"
	diag "stderr: $line"
else
	fail "the VM holding the image never printed $MARKER"
	report "run rejects a --disk image in use by another VM; that VM runs on"
fi

kill -TERM "$FIRST" 2>/dev/null
VMM_PID=$FIRST
VMM_DIR=$FIRST_DIR
vmm_wait 60
want_rc 143
want_no_vmm
guest 240 --disk "$T/lock.img" --cmdline "$CMDLINE_POWEROFF"
want_rc 0
want_marker
want_no_vmm
report "run --disk: once the VM holding an image ends (SIGTERM, 143), the image can be used again"
