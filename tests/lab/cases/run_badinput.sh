#!/bin/sh
# lab: smp=2 mem=5G
# timeout: 300
# Bad input to slicevm run: each must exit 1 with exactly one stderr line
# "slicevm: ..." and leave no process, VM or file behind (expect_bad_input).
. /lab/lib.sh

K=$GUEST_BZIMAGE
I=$GUEST_INITRD
C=$CMDLINE_POWEROFF
T=$LAB_TMP

# Files: missing, unreadable, not a kernel, too old a boot protocol.
BAD_RE="/nonexistent/bzImage" expect_bad_input "run rejects a missing kernel file" \
	run --kernel /nonexistent/bzImage --initrd "$I" --cmdline "$C"

cp "$K" "$T/unreadable"
chmod 0000 "$T/unreadable"
VMM_AS=$LAB_USER BAD_RE="$T/unreadable" expect_bad_input \
	"run rejects a kernel file the user cannot read" \
	run --kernel "$T/unreadable" --initrd "$I" --cmdline "$C"

# 64 KiB of text: neither the bzImage "HdrS" header nor an ELF header.
yes "this is not a Linux kernel" | head -c 65536 >"$T/notakernel"
BAD_RE="$T/notakernel" expect_bad_input "run rejects a kernel file that is not a bzImage or ELF" \
	run --kernel "$T/notakernel" --initrd "$I" --cmdline "$C"

# Boot protocol 2.00 (version field at 0x206): no initrd/cmdline support
# that a 64-bit boot needs.
cp "$K" "$T/oldproto"
printf '\000\002' | dd of="$T/oldproto" bs=1 seek=$((0x206)) conv=notrunc 2>/dev/null
want "could not patch the boot protocol version" \
	[ "$(od -An -tx1 -j $((0x206)) -N 2 "$T/oldproto" | tr -d ' ')" = 0002 ]
expect_bad_input "run rejects a bzImage with boot protocol 2.00" \
	run --kernel "$T/oldproto" --initrd "$I" --cmdline "$C"

# 300 MiB initrd (sparse) for a 128 MiB guest.
truncate -s 300M "$T/huge-initrd"
expect_bad_input "run rejects an initrd that does not fit in guest memory" \
	run --kernel "$K" --initrd "$T/huge-initrd" --cmdline "$C" --memory 128M
rm -f "$T/huge-initrd"

# Sizes and counts.
expect_bad_input "run rejects --memory 0" run --kernel "$K" --initrd "$I" --memory 0
expect_bad_input "run rejects --memory 4T (more than the host has)" \
	run --kernel "$K" --initrd "$I" --memory 4T
expect_bad_input "run rejects --memory 12Q (unknown suffix)" \
	run --kernel "$K" --initrd "$I" --memory 12Q
expect_bad_input "run rejects --cpus 0" run --kernel "$K" --initrd "$I" --cpus 0
expect_bad_input "run rejects --cpus 100000" run --kernel "$K" --initrd "$I" --cpus 100000
long=$(yes x | head -n 2500 | tr '\n' ' ')
expect_bad_input "run rejects a 5000-character cmdline (the kernel takes 2047)" \
	run --kernel "$K" --initrd "$I" --cmdline "$long"
expect_bad_input "run rejects an unknown option" run --kernel "$K" --frobnicate

# Config files.
printf '{ "kernel": "%s", "colour": "red" }\n' "$K" >"$T/unknown-key.json"
BAD_RE="colour" expect_bad_input "run rejects an unknown key in VM.json" run "$T/unknown-key.json"
printf '{ "kernel": "%s", "cpus": 2\n' "$K" >"$T/malformed.json"
expect_bad_input "run rejects malformed JSON" run "$T/malformed.json"
expect_bad_input "run rejects a missing VM.json" run "$T/nonexistent.json"

# /dev/kvm missing, then present but not permitted (0600 root) for a user.
kvm_hide
expect_bad_input "run fails cleanly when /dev/kvm is missing" \
	run --kernel "$K" --initrd "$I" --cmdline "$C"
kvm_restore
mode=$(stat -c %a /dev/kvm)
chmod 0600 /dev/kvm
VMM_AS=$LAB_USER expect_bad_input "run fails cleanly when /dev/kvm is not permitted" \
	run --kernel "$K" --initrd "$I" --cmdline "$C"
chmod "$mode" /dev/kvm
