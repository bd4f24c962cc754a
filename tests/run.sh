#!/bin/sh
# Runs the test suites and ends with one line "N passed, N failed".
#   tests/run.sh [--unit "BINARY... | DIR"] [--lab SLICEVM_BINARY]
# Unit tests are cmocka binaries (given, or every test_* in DIR), run with TAP
# output and a time limit each; the lab runner (tests/lab/run.sh) prints TAP
# lines too. Every "ok" and "not ok" counts, and a binary that dies or hangs
# without reporting a failure counts as one failure.
set -u

unit=""
unit_timeout=${SLICEVM_UNIT_TIMEOUT:-300}
lab_bin=""
while [ $# -gt 0 ]; do
	case "$1" in
	--unit) unit=$2; shift 2 ;;
	--lab) lab_bin=$2; shift 2 ;;
	*) echo "usage: tests/run.sh [--unit \"BINARY...|DIR\"] [--lab BINARY]" >&2; exit 2 ;;
	esac
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
passed=0
failed=0
skipped=0

count() {	# count OUTPUT-FILE EXIT-STATUS NAME
	p=$(grep -c '^ok ' "$1")
	f=$(grep -c '^not ok ' "$1")
	# cmocka's TAP writes a skipped test as "not ok N # SKIP": not a failure.
	s=$(grep -ci '^\(not \)\{0,1\}ok .*# skip' "$1")
	f=$((f - $(grep -ci '^not ok .*# skip' "$1")))
	p=$((p - $(grep -ci '^ok .*# skip' "$1")))
	if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $3 exited with status $2"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
}

if [ -d "$unit" ]; then
	unit=$(ls "$unit"/test_* 2>/dev/null)
fi
for t in $unit; do
	[ -x "$t" ] || continue
	echo "# unit: $(basename "$t")"
	CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 5 "$unit_timeout" "$t" >"$log" 2>&1 </dev/null
	rc=$?
	[ "$rc" -eq 124 ] &&
		echo "not ok - $(basename "$t") hung: killed after ${unit_timeout}s" >>"$log"
	sed 's/^/  /; s/^  \(ok \|not ok \)/\1/' "$log"
	count "$log" "$rc" "$(basename "$t")"
done

if [ -n "$lab_bin" ]; then
	echo "# lab"
	tests/lab/run.sh "$lab_bin" 2>&1 | tee "$log"
	count "$log" 0 "lab"
	grep -q '^lab-complete$' "$log" || {
		echo "not ok - the lab run did not complete"
		failed=$((failed + 1))
	}
fi

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
