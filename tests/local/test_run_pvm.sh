#!/bin/sh
# On a host whose /dev/kvm is the nested, page-table based kvm_pvm (it cannot
# run a stock Linux guest), `slicevm run` must refuse with one line that
# points at the lab, and start nothing. Skipped on other hosts.
#   tests/local/test_run_pvm.sh SLICEVM_BINARY
set -u
# Absolute paths: the VMM runs in a scratch directory, to see what it leaves.
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
desc="slicevm run on a kvm_pvm host refuses with one line pointing at the lab"
kernel=$(cd "${SLICEVM_CACHE:-cache}" 2>/dev/null && pwd)/guest/bzImage

if [ ! -d /sys/module/kvm_pvm ]; then
	echo "ok - $desc # skip this host has no kvm_pvm"
	exit 0
fi
if [ ! -f "$kernel" ]; then
	echo "not ok - $desc: no guest kernel at $kernel; run tests/lab/guest.sh"
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# timeout: should it boot after all, the guest must not hang the test.
(cd "$tmp" && exec timeout -k 5 60 "$bin" run --kernel "$kernel" \
	--cmdline "console=ttyS0 quiet slicevm.test=poweroff") \
	</dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?

why=""
[ "$rc" -eq 1 ] || why="exit status $rc, expected 1"
lines=$(awk 'END { print NR }' "$tmp/err")
if [ "$lines" -ne 1 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
	why="${why:+$why; }stderr has $lines line(s), expected one"
elif ! grep -q '^slicevm: ' "$tmp/err"; then
	why="${why:+$why; }stderr does not start with 'slicevm: '"
elif ! grep -qi 'lab' "$tmp/err"; then
	why="${why:+$why; }the message does not mention the lab"
fi
left=$(ls -A "$tmp" | grep -v -x -e out -e err)
[ -z "$left" ] || why="${why:+$why; }files left in its working directory: $left"

if [ -z "$why" ]; then
	echo "ok - $desc"
else
	echo "not ok - $desc: $why"
	sed 's/^/#   stderr: /' "$tmp/err" | head -n 5
	exit 1
fi
