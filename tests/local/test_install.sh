#!/bin/sh
# `make install` into scratch directories: every file is there, the units
# name the installed binary (never DESTDIR), the man pages format without
# warnings, the bash completion parses, the example configurations are
# accepted by the binary, and (where systemd-analyze exists) the units
# verify. Changes nothing outside its scratch directory: no unit is loaded
# into this machine's systemd, no ledger or run directory is touched.
#   tests/local/test_install.sh SLICEVM_BINARY
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
build=$(dirname "$bin")
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

pass() { echo "ok - install: $1"; }
fail() { echo "not ok - install: $1"; status=1; }
skip() { echo "ok - install: $1 # skip $2"; }

# The binary as built (-o: never rebuilt here), with nothing inherited from
# a make that runs this test.
install_to() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BINDIR -u MANDIR -u DOCDIR \
		-u BASHCOMPDIR -u UNITDIR \
		make --no-print-directory -C "$top" -o "$build/slicevm" BUILD="$build" \
		install "$@" >"$tmp/make.log" 2>&1
}

if ! command -v make >/dev/null 2>&1; then
	skip "make install" "no make"
	exit 0
fi

# --- DESTDIR: the tree a package would hold ---------------------------------
dest=$tmp/dest
if ! install_to PREFIX=/usr/local DESTDIR="$dest"; then
	fail "make install DESTDIR=... PREFIX=/usr/local failed"
	sed 's/^/#   /' "$tmp/make.log" | tail -n 10
	exit 1
fi
p=$dest/usr/local
missing=""
for f in bin/slicevm \
	share/man/man1/slicevm.1 share/man/man1/slicevm-run.1 \
	share/man/man1/slicevm-host.1 share/man/man1/slicevm-ls.1 \
	share/man/man1/slicevm-stop.1 share/man/man1/slicevm-console.1 \
	share/man/man1/slicevm-stats.1 \
	share/bash-completion/completions/slicevm \
	share/doc/slicevm/examples/vm.json \
	share/doc/slicevm/examples/host-critical.json \
	share/doc/slicevm/examples/host-two-slices.json \
	lib/systemd/system/slicevm@.service \
	lib/systemd/system/slicevm-host.service; do
	[ -f "$p/$f" ] || missing="$missing $f"
done
[ -x "$p/bin/slicevm" ] || missing="$missing (bin/slicevm not executable)"
stray=$(cd "$dest" && find . -type f ! -path './usr/local/*' | head -n 3)
if [ -z "$missing" ] && [ -z "$stray" ]; then
	pass "the tree under DESTDIR has the binary, 7 man pages, completion, examples and units"
else
	fail "missing:${missing:- none}; outside PREFIX: ${stray:-none}"
fi

# --- the units name the installed binary ------------------------------------
why=""
for u in slicevm@.service slicevm-host.service; do
	f=$p/lib/systemd/system/$u
	[ -f "$f" ] || continue
	grep -q '@BINDIR@' "$f" && why="$why $u keeps @BINDIR@;"
	grep -q "$dest" "$f" && why="$why $u names DESTDIR;"
	grep '^Exec' "$f" | sed 's/^[^=]*=-\{0,1\}//; s/ .*//' | grep -v -x /usr/local/bin/slicevm |
		sed "s|^|$u runs |; s|\$|;|" >>"$tmp/badexec"
done
[ -s "$tmp/badexec" ] && why="$why $(tr '\n' ' ' <"$tmp/badexec")"
u=$p/lib/systemd/system/slicevm@.service
grep -q -x 'ExecStart=/usr/local/bin/slicevm run /etc/slicevm/%i.json --name %i' "$u" ||
	why="$why slicevm@.service does not run /etc/slicevm/%i.json;"
grep -q -x 'ExecStop=-/usr/local/bin/slicevm stop %i --timeout 60' "$u" ||
	why="$why slicevm@.service does not stop through 'slicevm stop %i --timeout 60';"
if [ -z "$why" ]; then
	pass "the units run /usr/local/bin/slicevm (not DESTDIR's copy)"
else
	fail "units:$why"
fi

# --- man pages -------------------------------------------------------------
if command -v groff >/dev/null 2>&1; then
	why=""
	for m in "$p"/share/man/man1/*.1; do
		out=$(groff -man -z -ww "$m" 2>&1) || why="$why $(basename "$m") (status $?)"
		[ -z "$out" ] || why="$why $(basename "$m"): $(echo "$out" | head -n 1)"
	done
	for c in run host ls stop console stats; do
		grep -q "^\.BR slicevm\\\\-$c (1)" "$p/share/man/man1/slicevm.1" ||
			why="$why slicevm(1) does not refer to slicevm-$c(1);"
	done
	if [ -z "$why" ]; then
		pass "the man pages format without warnings (groff -man -z -ww)"
	else
		fail "man pages:$why"
	fi
else
	skip "the man pages format without warnings" "no groff"
fi

# --- bash completion ---------------------------------------------------------
c=$p/share/bash-completion/completions/slicevm
if ! command -v bash >/dev/null 2>&1; then
	skip "the bash completion" "no bash"
else
	got=$(bash -c '. "$1" || exit 1
		COMP_WORDS=(slicevm host ""); COMP_CWORD=2; _slicevm; echo "${COMPREPLY[*]}"
		COMP_WORDS=(slicevm stop --); COMP_CWORD=2; _slicevm; echo "${COMPREPLY[*]}"
		complete -p slicevm' sh "$c" 2>&1)
	want="probe plan apply release bootargs status check --help
--timeout --force --help
complete -F _slicevm slicevm"
	if [ "$got" = "$want" ]; then
		pass "the bash completion completes host commands and stop's options"
	else
		fail "the bash completion gave: $(echo "$got" | tr '\n' '|')"
	fi
fi

# --- example configurations ---------------------------------------------------
ex=$p/share/doc/slicevm/examples
topo="synthetic:pack:1 [numa(memory=32GiB)] core:8 pu:2"
why=""
for f in host-critical.json host-two-slices.json; do
	"$bin" host plan "$ex/$f" --topology "$topo" >"$tmp/plan.out" 2>&1 ||
		why="$why $f: $(head -n 1 "$tmp/plan.out");"
done
"$bin" host plan "$ex/host-critical.json" --topology "$topo" >"$tmp/plan.out" 2>&1
for b in reserved hugetlb; do
	grep -q "^[a-z][a-z0-9_.-]*  *[0-9][0-9]*  *[0-9][0-9]*  *[0-9][0-9.]*[KMGT]  *$b " \
		"$tmp/plan.out" || why="$why host-critical.json has no $b slice;"
done
# vm.json: parsed, then refused at its first file, the kernel it names
# (input files are checked before the slice; a scratch ledger and run
# directory: nothing under /var or /run is touched).
SLICEVM_LEDGER=$tmp/no-ledger.db SLICEVM_RUN_DIR=$tmp/run \
	SLICEVM_KVM_DEVICE=$tmp/no-kvm "$bin" run "$ex/vm.json" >"$tmp/run.out" 2>&1
rc=$?
if [ "$rc" -ne 1 ] ||
	! grep -q '^slicevm: kernel /var/lib/slicevm/images/vmlinux does not exist' "$tmp/run.out"; then
	why="$why vm.json: status $rc, $(head -n 1 "$tmp/run.out");"
fi
if [ -z "$why" ]; then
	pass "the example configurations are accepted (host plan, run)"
else
	fail "examples:$why"
fi

# --- systemd-analyze verify (units installed under a scratch PREFIX) ---------
if ! command -v systemd-analyze >/dev/null 2>&1; then
	skip "systemd-analyze verify of the units" "no systemd-analyze"
elif ! install_to PREFIX="$tmp/prefix"; then
	fail "make install PREFIX=$tmp/prefix failed"
else
	# An instance of the template, and the man pages of Documentation= from
	# the scratch tree.
	units=$tmp/prefix/lib/systemd/system
	out=$(cd "$units" && MANPATH=$tmp/prefix/share/man \
		systemd-analyze verify ./slicevm-host.service ./slicevm@test.service 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
		pass "systemd-analyze verify accepts slicevm-host.service and slicevm@.service"
	else
		fail "systemd-analyze verify: status $rc: $(echo "$out" | head -n 3 | tr '\n' '|')"
	fi
fi
exit $status
