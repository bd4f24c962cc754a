#!/bin/sh
# Runs the libFuzzer harnesses (build/fuzz/fuzz_NAME, from `make fuzz-build`)
# one after the other and prints a table: executions, exec/s, coverage
# (libFuzzer's cov: edges and ft: features), corpus size, time, crashes.
#
#   bench/fuzz.sh HARNESS...                  each for FUZZ_TIME seconds
#   FUZZ_TIME=900 FUZZ_RUNS=10000000 bench/fuzz.sh build/fuzz/fuzz_plan
#   bench/fuzz.sh --merge HARNESS...          add what the runs found to
#                                             tests/fuzz/corpus/NAME: the
#                                             fewest inputs reaching new
#                                             edges (hit counts ignored)
#
# Each harness starts from its seeds in tests/fuzz/corpus/NAME/ (read only)
# plus what earlier runs found in build/fuzz/corpus-NAME/, where new inputs
# go. A crash, leak, timeout or out-of-memory stops that harness and leaves
# the input in build/fuzz/crashes/NAME-*; the script then exits 1.
#
# FUZZ_TIME    seconds per harness (default 60)
# FUZZ_RUNS    stop a harness after this many executions (default: no limit)
# FUZZ_NICE    nice level (default 19: the machine is shared)
# FUZZ_OUT     where corpora, crashes and logs go (default build/fuzz)
# FUZZ_ARGS    more libFuzzer options, e.g. "-max_len=8192"
set -u

time_limit=${FUZZ_TIME:-60}
runs=${FUZZ_RUNS:-0}
nice_level=${FUZZ_NICE:-19}
out=${FUZZ_OUT:-build/fuzz}
seeds=tests/fuzz/corpus
merge=0

if [ "${1:-}" = "--merge" ]; then
	merge=1
	shift
fi
if [ $# -eq 0 ]; then
	echo "usage: bench/fuzz.sh [--merge] build/fuzz/fuzz_NAME..." >&2
	exit 2
fi
mkdir -p "$out/crashes" || exit 1

name_of() {
	n=$(basename "$1")
	echo "${n#fuzz_}"
}

if [ "$merge" -eq 1 ]; then
	status=0
	for h in "$@"; do
		name=$(name_of "$h")
		[ -d "$out/corpus-$name" ] || continue
		before=$(find "$seeds/$name" -type f | wc -l)
		"$h" -merge=1 -use_counters=0 "$seeds/$name" "$out/corpus-$name" \
			>"$out/merge-$name.log" 2>&1 ||
			{ echo "fuzz merge $name failed: see $out/merge-$name.log" >&2; status=1; }
		after=$(find "$seeds/$name" -type f | wc -l)
		echo "$name: $before -> $after inputs in $seeds/$name"
	done
	exit $status
fi

# The last libFuzzer status line's value for KEY ("cov:", "ft:", "corp:").
last_value() {	# last_value LOG KEY
	grep -a "^#[0-9].* $2 " "$1" | tail -n 1 |
		sed "s/.* $2 \\([0-9]*\\).*/\\1/"
}

stat_value() {	# stat_value LOG NAME: from -print_final_stats
	grep -a "^stat::$2:" "$1" | tail -n 1 | sed 's/.*: *//'
}

table="| harness | executions | exec/s | cov | ft | corpus | time (s) | crashes |
|---|---|---|---|---|---|---|---|"
failed=0
for h in "$@"; do
	name=$(name_of "$h")
	log=$out/$name.log
	if [ ! -x "$h" ]; then
		echo "fuzz: no harness $h: run make fuzz-build (needs clang and libFuzzer)" >&2
		table="$table
| $name | – | – | – | – | – | – | not built |"
		failed=1
		continue
	fi
	mkdir -p "$out/corpus-$name"
	set -- -max_total_time="$time_limit" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$out/crashes/$name-"
	[ "$runs" -gt 0 ] && set -- "$@" -runs="$runs"
	limits="up to ${time_limit}s"
	[ "$runs" -gt 0 ] && limits="$limits or $runs runs"
	echo "# fuzz $name: $limits, log $log" >&2
	start=$(date +%s)
	# shellcheck disable=SC2086
	nice -n "$nice_level" "$h" "$@" ${FUZZ_ARGS:-} "$out/corpus-$name" \
		"$seeds/$name" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	# libFuzzer stops at the first crash, leak, timeout or OOM and exits non-zero.
	crashes=0
	[ "$rc" -ne 0 ] && crashes=1
	execs=$(stat_value "$log" number_of_executed_units)
	rate=$(stat_value "$log" average_exec_per_sec)
	cov=$(last_value "$log" cov:)
	ft=$(last_value "$log" ft:)
	corp=$(last_value "$log" corp:)
	verdict=$crashes
	if [ "$crashes" -gt 0 ]; then
		failed=1
		art=$(sed -n 's/.*Test unit written to //p' "$log" | head -n 1)
		verdict="$crashes (exit $rc${art:+, $art})"
		echo "fuzz $name: crashed; see $log" >&2
		grep -a -m 3 '^\(==[0-9]*==ERROR\|SUMMARY\|fuzz: \)' "$log" >&2
	fi
	table="$table
| $name | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | $secs | $verdict |"
done
echo "$table"
exit $failed
