#!/bin/sh
# Runs the test suites and ends with one line "N passed, N failed".
#   tests/run.sh [--unit "BINARY... | DIR"] [--fuzz "HARNESS..."]
#                [--lab SLICEVM_BINARY]
# Unit tests are cmocka binaries (given, or every test_* in DIR), run with TAP
# output and a time limit each. Each fuzz harness (build/fuzz/fuzz_NAME) runs
# every file of tests/fuzz/corpus/NAME/ once, as a regression test: one TAP
# line per harness; a missing harness (no clang libFuzzer) fails. The lab
# runner (tests/lab/run.sh) prints TAP lines too.
# Every "ok" and "not ok" counts, and a binary that dies or hangs
# without reporting a failure counts as one failure.
set -u

unit=""
unit_timeout=${SLICEVM_UNIT_TIMEOUT:-300}
fuzz=""
fuzz_corpus=${SLICEVM_FUZZ_CORPUS:-tests/fuzz/corpus}
lab_bin=""
while [ $# -gt 0 ]; do
	case "$1" in
	--unit) unit=$2; shift 2 ;;
	--fuzz) fuzz=$2; shift 2 ;;
	--lab) lab_bin=$2; shift 2 ;;
	*) echo "usage: tests/run.sh [--unit \"BINARY...|DIR\"] [--fuzz \"HARNESS...\"] [--lab BINARY]" >&2; exit 2 ;;
	esac
done

log=$(mktemp)
failures=$(mktemp)
trap 'rm -f "$log" "$failures"' EXIT
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
		echo "not ok - $3 exited with status $2" | tee -a "$failures"
		f=1
	fi
	grep '^not ok ' "$1" | grep -vi '# skip' | sed "s|^|$3: |" >>"$failures"
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

# One fuzz harness over its corpus, each file once: "ok N - fuzz NAME corpus (K inputs)".
fuzz_n=0
run_corpus() {	# run_corpus HARNESS
	name=$(basename "$1")
	name=${name#fuzz_}
	dir=$fuzz_corpus/$name
	fuzz_n=$((fuzz_n + 1))
	k=$(find "$dir" -maxdepth 1 -type f 2>/dev/null | wc -l)
	if [ ! -x "$1" ]; then
		echo "not ok $fuzz_n - fuzz $name corpus: no harness $1 (make fuzz-build needs clang and libFuzzer: scripts/install-deps.sh)"
		return 1
	fi
	if [ "$k" -eq 0 ]; then
		echo "not ok $fuzz_n - fuzz $name corpus: $dir has no inputs"
		return 1
	fi
	# Every file by name: libFuzzer runs each once and stops at the first crash.
	find "$dir" -maxdepth 1 -type f -print0 | sort -z |
		xargs -0 -r timeout -k 5 "$unit_timeout" "$1" >"$log" 2>&1
	rc=$?
	ran=$(grep -c '^Executed ' "$log")
	if [ "$rc" -eq 0 ] && [ "$ran" -eq "$k" ]; then
		echo "ok $fuzz_n - fuzz $name corpus ($k inputs)"
		return 0
	fi
	grep -v '^\(Running: \|Executed \|INFO: \)' "$log" | tail -n 40 | sed 's/^/  /'
	echo "not ok $fuzz_n - fuzz $name corpus ($k inputs, $ran ran, exit status $rc)"
	return 1
}

for h in $fuzz; do
	echo "# fuzz: $(basename "$h")"
	if run_corpus "$h"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "fuzz: $(basename "$h") corpus failed" >>"$failures"
	fi
done

if [ -n "$lab_bin" ]; then
	echo "# lab"
	tests/lab/run.sh "$lab_bin" 2>&1 | tee "$log"
	count "$log" 0 "lab"
	grep -q '^lab-complete$' "$log" || {
		echo "not ok - the lab run did not complete" | tee -a "$failures"
		failed=$((failed + 1))
	}
fi

# The failures again, last, where a truncated log still shows them.
if [ -s "$failures" ]; then
	echo "# failures:"
	sed 's/^/#   /' "$failures"
fi
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
