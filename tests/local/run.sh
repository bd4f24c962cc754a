#!/bin/sh
# Runs the tests meant for this machine itself (tests/local/test_*.sh): they
# run the binary with arguments that must not change the host, and print TAP
# lines. tests/lab/run.sh calls this first.
#
#   tests/local/run.sh SLICEVM_BINARY [NAME...]
# NAMEs (file names without .sh) select a subset; other names are ignored.
set -u
[ $# -ge 1 ] || { echo "usage: tests/local/run.sh SLICEVM_BINARY [NAME...]" >&2; exit 2; }
bin=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export SLICEVM_CACHE="${SLICEVM_CACHE:-$top/cache}"

status=0
for t in "$here"/test_*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	if [ $# -gt 0 ]; then
		case " $* " in *" $name "*) ;; *) continue ;; esac
	fi
	out=$(sh "$t" "$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^not ok '; then
		echo "not ok - local $name: exited with status $rc"
	fi
	[ $rc -eq 0 ] || status=1
done
exit $status
