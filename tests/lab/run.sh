#!/bin/bash
# Runs the lab: the local tests (tests/local), then every lab case
# (tests/lab/cases/*.sh) inside a QEMU TCG L1 with nested SVM.
#
#   tests/lab/run.sh SLICEVM_BINARY [NAME...]
#
# NAMEs (case file names without .sh, e.g. run_exit or test_run_pvm) select a
# subset. Builds the guest and L1 when missing, boots one L1 per group of
# cases with the same "# lab:" header, and prints TAP lines ("ok - ...",
# "not ok - ...: reason"), "# ..." comments, and "lab-complete" last.
# L1 console logs stay in cache/lab/logs/<run>/.
set -u

if [ $# -lt 1 ]; then
	echo "usage: tests/lab/run.sh SLICEVM_BINARY [CASE...]" >&2
	exit 2
fi
bin=$1
shift
filter=("$@")

. "$(dirname "$0")/l0.sh"

# Seconds an L1 needs besides its cases: boot, module loading, power off.
L1_OVERHEAD=180
DEFAULT_CASE_TIMEOUT=300

tmp=$(mktemp -d)
tail_pid=""
cleanup() {
	lab_kill
	[ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tap=$tmp/tap
: >"$tap"
emit() {
	echo "$*" | tee -a "$tap"
}

selected() {
	[ ${#filter[@]} -eq 0 ] && return 0
	local f
	for f in "${filter[@]}"; do
		[ "$f" = "$1" ] && return 0
	done
	return 1
}

# panic_trace LOG: L1's panic, kept for the end of the run, where a CI
# log's tail shows it: the Oops it ends, if any (its BUG or fault line, RIP
# and call trace come before the panic line), then the panic line and what
# follows (comm and call trace of a panic of its own). Registers and "?"
# frames are left out.
panic_trace() {
	awk -v l1="# L1 $n: " '
		!sub(/^.*\[ *[0-9]+\.[0-9]+\] /, "") { next }
		/^ \? |^Hardware name|^(RSP|RAX|RDX|RBP|R10|R13|FS|CS|DR0|DR3|PKRU|Code):/ { next }
		!on && /^Kernel panic/ { on = 1; for (i = 1; i <= m; i++) print l1 buf[i] }
		on { print l1 $0; if (++k == 16) exit; next }
		# a report begins (its next few lines, "Oops:" after "BUG:", are the same one)
		/^(BUG:|Oops:|general protection fault|kernel BUG at|WARNING:|double fault|stack segment|int3:)/ &&
			(!begun || NR - begun > 3) { begun = NR; m = 0 }
		begun && m < 16 { buf[++m] = $0 }' "$1" >>"$tmp/panics"
}

finish() {
	[ -s "$tmp/panics" ] && cat "$tmp/panics"
	echo "lab-complete"
	grep -q '^not ok ' "$tap" && exit 1
	exit 0
}

t0=$SECONDS
if ! lab_guest >"$tmp/guest.log" 2>&1; then
	sed 's/^/# /' "$tmp/guest.log"
	emit "not ok - lab: building the guest failed (tests/lab/guest.sh)"
	finish
fi

# --- local tests (this machine, no VM of its own) --------------------------
SLICEVM_CACHE=$LAB_CACHE "$LAB_TOP/tests/local/run.sh" "$bin" "${filter[@]}" |
	tee -a "$tap"

# --- which cases, in which L1 ---------------------------------------------
declare -A group_cases group_secs group_ours
groups=()
need_x2apic=0
for f in "$LAB_DIR"/cases/*.sh; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .sh)
	selected "$name" || continue
	header=$(sed -n 's/^# lab:\(.*\)$/\1/p' "$f" | head -n 1)
	smp=$(echo "$header" | sed -n 's/.*smp=\([0-9][0-9]*\).*/\1/p')
	mem=$(echo "$header" | sed -n 's/.*mem=\([0-9][0-9]*[KMGT]\{0,1\}\).*/\1/p')
	append=$(echo "$header" | sed -n 's/.*append="\([^"]*\)".*/\1/p')
	# iommu=nvme (outside append="...", whose intel_iommu= is no key).
	iommu=$(echo "$header" | sed 's/append="[^"]*"//' | sed -n 's/.*\biommu=\([a-z0-9-]*\).*/\1/p')
	# x2apic=1: the x2APIC flavour, booted by QEMU from bookworm-backports
	# (any other value reaches lab_qemu, which refuses it; 0 is the default).
	x2apic=$(echo "$header" | sed 's/append="[^"]*"//' | sed -n 's/.*\bx2apic=\([^ ]*\).*/\1/p')
	[ "$x2apic" = 0 ] && x2apic=""
	[ -n "$x2apic" ] && need_x2apic=1
	secs=$(sed -n 's/^# timeout: *\([0-9][0-9]*\).*/\1/p' "$f" | head -n 1)
	key="${smp:-2}|${mem:-5G}|$append|$iommu|$x2apic"
	if [ -z "${group_cases[$key]+set}" ]; then
		groups+=("$key")
		group_cases[$key]=""
		group_secs[$key]=$L1_OVERHEAD
	fi
	group_cases[$key]+="$name "
	grep -q '^# needs:.*\bkvm-component\b' "$f" && group_ours[$key]=1
	group_secs[$key]=$((group_secs[$key] + ${secs:-$DEFAULT_CASE_TIMEOUT}))
done
[ ${#groups[@]} -eq 0 ] && finish

# slicevm's kernel component, only when a selected case loads it ("# needs:
# kvm-component"): the first build downloads about 170 MB and takes 2-5
# minutes, later ones are cached (scripts/build-kvm.sh).
for f in "$LAB_DIR"/cases/*.sh; do
	selected "$(basename "$f" .sh)" && grep -q '^# needs:.*\bkvm-component\b' "$f" || continue
	k0=$SECONDS
	if lab_kvm_component "$tmp/kvm.log"; then
		echo "# kernel component for L1: $LAB_KVM_DIR ($((SECONDS - k0)) s)"
	else
		echo "# kernel component for L1 not built ($LAB_KVM_MISSING); its cases skip"
		tail -n 20 "$tmp/kvm.log" | sed 's/^/#   /'
	fi
	break
done

# The x2APIC flavour's L0 QEMU (QEMU 10 from bookworm-backports), only when
# a selected case boots it ("x2apic=1"): the first fetch downloads about
# 13 MB (a few seconds), later runs only refresh apt's lists once a day
# (tests/lab/qemu-backports.sh). Without it those cases cannot run and fail.
if [ "$need_x2apic" = 1 ]; then
	q0=$SECONDS
	if lab_qemu_backports "$tmp/qemu-bp.log"; then
		echo "# L0 QEMU for x2apic=1: $LAB_QEMU_BP ($("$LAB_QEMU_BP" --version | head -n 1 | sed 's/^QEMU emulator //'); $((SECONDS - q0)) s)"
	else
		echo "# L0 QEMU for x2apic=1 not available ($LAB_QEMU_BP_MISSING); those cases fail"
		tail -n 20 "$tmp/qemu-bp.log" | sed 's/^/#   /'
	fi
fi

if [ ! -x "$bin" ]; then
	emit "not ok - lab: the slicevm binary '$bin' is missing; build it with make"
	finish
fi

base=$(lab_base) || { emit "not ok - lab: building the L1 base initramfs failed"; finish; }
lab_overlay "$bin" "$tmp/overlay.cpio" ||
	{ emit "not ok - lab: building the L1 overlay failed"; finish; }
# Logs of this run in their own dir (other lab runs may share the cache);
# only the newest few runs are kept.
logdir=$LAB_CACHE/lab/logs/$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$logdir"
ls -1d "$LAB_CACHE"/lab/logs/*/ 2>/dev/null | sort | head -n -10 | xargs -r rm -rf
echo "# lab: guest and L1 ready in $((SECONDS - t0)) s; ${#groups[@]} L1 boot(s)"

# l1_boot CASES: boots this group's L1 to run CASES and streams the TAP
# lines of each case when it ends; those of a case that did not end are
# left in $tmp/pending. Sets qrc, why and panicked; $tmp/log is L1's console.
# L1 itself runs on TCG, which now and then crashes a kernel that patches
# its own code (an int3 Oops) while it boots: an L1 that died before its
# first case began is booted once more.
l1_boot() {
	local attempt
	lab_tail "$tmp/tail.cpio" cases.list "$(printf '%s\n' $1)"
	cat "$base" "$tmp/overlay.cpio" "$tmp/tail.cpio" >"$tmp/l1.cpio"
	for attempt in 1 2; do
		: >"$log"
		LAB_IOMMU=$iommu LAB_X2APIC=$x2apic lab_qemu "$secs" "$smp" "$mem" "$append" "$tmp/l1.cpio" >"$log" 2>&1 &
		qemu_job=$!
		tail -n +1 -F --pid="$qemu_job" "$log" 2>/dev/null | l1_lines "$tmp/pending" | tee -a "$tap" &
		tail_pid=$!
		wait "$qemu_job"
		qrc=$?
		wait "$tail_pid"
		tail_pid=""
		lab_kill

		tr -d '\r' <"$log" >"$tmp/log"
		panicked=""
		if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
			why="L1 timed out after ${secs}s"
		elif grep -q 'Kernel panic' "$tmp/log"; then
			why="L1 kernel panicked ($(grep -m1 -o 'Kernel panic.*' "$tmp/log"))"
			panicked=1
			panic_trace "$tmp/log"
		elif ! grep -q '@lab-ready' "$tmp/log"; then
			why="L1 never reached its init (QEMU status $qrc)"
		else
			why="L1 stopped early (QEMU status $qrc)"
		fi
		grep -q '@lab-begin ' "$tmp/log" && return
		# A timeout already took the group's whole budget: no second one.
		[ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ] || [ "$attempt" -eq 2 ] && return
		cp "$log" "$log.first"
		echo "# L1 $n died before its first case ($why; log $log.first): booting it again"
	done
}

# l1_lines PENDING: L1's console in, the lines it meant for us out: a
# case's TAP lines once it has ended (so a case run again after an L1
# panic is counted once); those of a case that never ended go to PENDING.
l1_lines() {
	awk -v pending="$1" '
		{ sub(/\r$/, "") }
		match($0, /@lab-ready /) { print "# L1 up (Linux " substr($0, RSTART + RLENGTH) ")"; fflush(); next }
		match($0, /@lab-begin /) { incase = 1; held = ""; next }
		match($0, /@lab-end [^ ]* rc=[0-9]* secs=[0-9]*$/) {
			split(substr($0, RSTART), f, /[ =]/)
			printf "%s# case %s: %s s\n", held, f[2], f[6]
			fflush()
			incase = 0
			held = ""
			next
		}
		match($0, /@lab /) {
			line = substr($0, RSTART + RLENGTH)
			if (incase)
				held = held line "\n"
			else {
				print line
				fflush()
			}
		}
		END { printf "%s", held >>pending }'
}

# unfinished CASES: those of CASES that L1 ($tmp/log) did not see end.
unfinished() {
	local name
	for name in $1; do
		grep -q "@lab-end $name " "$tmp/log" || printf '%s ' "$name"
	done
}

# --- one L1 boot per group --------------------------------------------------
n=0
for key in "${groups[@]}"; do
	n=$((n + 1))
	IFS='|' read -r smp mem append iommu x2apic <<<"$key"
	cases=${group_cases[$key]}
	secs=${group_secs[$key]}
	log=$logdir/l1-$n.log
	echo "# L1 $n: smp=$smp mem=$mem append=\"$append\"${iommu:+ iommu=$iommu}${x2apic:+ x2apic=$x2apic} cases: $cases(limit ${secs}s)"
	if [ -n "$x2apic" ] && [ -z "$LAB_QEMU_BP" ]; then
		for name in $cases; do
			emit "not ok - lab case $name: did not run: its L1 (x2apic=$x2apic) needs QEMU from bookworm-backports, $LAB_QEMU_BP_MISSING"
		done
		continue
	fi

	g0=$SECONDS
	: >"$tmp/pending"
	l1_boot "$cases"
	todo=$(unfinished "$cases")
	# An L1 kernel that panicked in the middle of a case is booted once
	# more for the cases left, that one included, unless slicevm's kernel
	# component was loaded in it: README.md, "L1 panics".
	if [ -n "$panicked" ] && [ -n "$todo" ] && [ -z "${group_ours[$key]:-}" ] &&
		grep -q '@lab-begin ' "$tmp/log"; then
		echo "# L1 $n: $why before case $(echo $todo | cut -d' ' -f1) ended (log $log.panic); booting it again for: ${todo% }"
		sed 's/^/#   first attempt: /' "$tmp/pending"
		: >"$tmp/pending"
		mv "$log" "$log.panic"
		cases=$todo
		l1_boot "$cases"
	fi
	tee -a "$tap" <"$tmp/pending"
	failed=0
	for name in $cases; do
		if grep -q "@lab-end $name " "$tmp/log"; then
			continue
		elif grep -q "@lab-begin $name\$" "$tmp/log"; then
			emit "not ok - lab case $name: did not finish: $why"
		else
			emit "not ok - lab case $name: did not run: $why"
		fi
		failed=1
	done
	if [ $failed -eq 1 ] || grep -q '@lab not ok' "$tmp/log"; then
		echo "# L1 console log: $log"
	fi
	echo "# L1 $n took $((SECONDS - g0)) s"
done

echo "# lab took $((SECONDS - t0)) s"
finish
