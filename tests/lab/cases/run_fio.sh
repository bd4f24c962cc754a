#!/bin/sh
# lab: smp=2 mem=5G
# timeout: 300
# fio in the guest against a slicevm --disk: a fresh 64M raw image (truncate,
# all holes) that the guest's fio writes and reads back with crc32c
# verification, direct I/O through libaio: 32M of 4k random writes at queue
# depth 4, then 32M of 4k-256k sequential writes at depth 8
# (tests/lab/guest-init, slicevm.test=fio-verify; fio is in the guest's
# initrd-fio.cpio.gz, built by tests/lab/guest.sh). The VMM must exit 0 after
# the guest's power off, and the image must hold what was written (not all
# zeros any more, same size).
. /lab/lib.sh

IMG=$LAB_TMP/fio.img
INITRD_FIO=${GUEST_INITRD_FIO:-/guest/initrd-fio.cpio.gz}
SIZE=$((64 * 1048576))

rm -f "$IMG"
truncate -s "$SIZE" "$IMG"
vmm_run 240 run --kernel "$GUEST_BZIMAGE" --initrd "$INITRD_FIO" --memory 256M \
	--disk "$IMG" --cmdline "$CMDLINE_BASE slicevm.test=fio-verify"
want_rc 0
want_marker
ok_line=$(tr -d '\r' <"$VMM_CONSOLE" | grep '^SLICEVM-FIO-OK' | tail -n 1)
if [ -z "$ok_line" ]; then
	bad=$(tr -d '\r' <"$VMM_CONSOLE" | grep '^SLICEVM-FIO-BAD' | head -n 2 | tr '\n' ' ')
	fail "the guest printed no SLICEVM-FIO-OK${bad:+: $bad}"
fi
[ "$(wc -c <"$IMG" | tr -d ' ')" = "$SIZE" ] || fail "the image is $(wc -c <"$IMG") bytes now, not $SIZE"
# fio wrote the first 32M: the holes are gone.
[ "$(head -c 33554432 "$IMG" | tr -d '\000' | head -c 1 | wc -c)" -gt 0 ] ||
	fail "the image's first 32M are still all zeros"
want_no_vmm
report "run --disk: fio in the guest writes a 64M raw image (4k random, 4k-256k sequential, direct, libaio) and verifies every block (crc32c)"
[ -n "$ok_line" ] && diag "guest: $ok_line"
exit 0
