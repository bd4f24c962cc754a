#!/bin/sh
# lab: smp=2 mem=5G
# timeout: 600
# Operating VMs like services: detached runs with names and control
# sockets, 'slicevm ls', 'stats' (KVM's binary statistics, compared with
# debugfs), 'console' (attach, type, detach), 'stop' by the ACPI power
# button (the guest shuts itself down), 'stop' of a guest that ignores it,
# names in use refused, and the socket a killed VMM leaves cleaned up.
. /lab/lib.sh

RUN_DIR=/run/slicevm
S=$SLICEVM

# detached NAME [ARGS...]: starts VM NAME in the background, its console in $LAB_TMP/NAME.log.
detached() {
	_n=$1
	shift
	"$S" run --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" --memory 256M \
		--name "$_n" --detach --log "$LAB_TMP/$_n.log" "$@" \
		>"$LAB_TMP/$_n.out" 2>"$LAB_TMP/$_n.err"
}

# wait_log NAME SECS RE: the VM's console log has a line matching RE.
# Gives up at once when the VM's VMM has ended, and then shows what it said.
wait_log() {
	_deadline=$(($(uptime_s) + $2))
	_pid=$(pid_of "$1")
	while ! tr -d '\r' <"$LAB_TMP/$1.log" 2>/dev/null | grep -Eq -- "$3"; do
		if [ "$(uptime_s)" -ge "$_deadline" ] ||
			{ [ -n "$_pid" ] && ! kill -0 "$_pid" 2>/dev/null; }; then
			vm_said "$1"
			return 1
		fi
		sleep 0.3
	done
}

# vm_said NAME: what VM NAME's run printed, the end of its console and of L1's log.
vm_said() {
	diag "$1: VMM pid '$(pid_of "$1")'"
	diag_file "$1 run stdout" "$LAB_TMP/$1.out"
	diag_file "$1 run stderr" "$LAB_TMP/$1.err"
	diag_file "$1 console" "$LAB_TMP/$1.log" 10
	dmesg | tail -n 10 >"$LAB_TMP/dmesg.tail"
	diag_file "L1 dmesg" "$LAB_TMP/dmesg.tail" 10
}

# start_ready NAME ARGS...: starts VM NAME (detached) with a fresh log and
# waits for its marker. A guest the lab's hazard killed on its way up
# (lib.sh: tcg_hazard_in) is started again, up to LAB_HAZARD_RETRIES times.
# Earlier logs of NAME are kept as NAME.log.N.
OLD_LOGS=0
start_ready() {
	_tries=0
	while :; do
		if [ -e "$LAB_TMP/$1.log" ]; then
			OLD_LOGS=$((OLD_LOGS + 1))
			mv "$LAB_TMP/$1.log" "$LAB_TMP/$1.log.$OLD_LOGS"
		fi
		detached "$@" || { diag "run --detach $1 exited $?: $(cat "$LAB_TMP/$1.err")"; return 1; }
		wait_log "$1" 240 "^$MARKER " && return 0
		[ $_tries -lt "$LAB_HAZARD_RETRIES" ] && tcg_hazard_in "$LAB_TMP/$1.log" || return 1
		_tries=$((_tries + 1))
		diag "$1's guest died of a lab hazard (lib.sh: tcg_hazard_in); starting it again"
		"$S" stop "$1" --force >/dev/null 2>&1
	done
}

# pid_of NAME: the VMM's pid from 'slicevm ls --json'.
pid_of() {
	"$S" ls --json | tr -d ' \n' | sed 's/},{/}\n{/g' | grep "\"name\":\"$1\"" |
		sed -n 's/.*"pid":\([0-9]*\).*/\1/p'
}

start_ready alpha --cmdline "$CMDLINE_SHELL" --cpus 2 || fail "alpha never printed $MARKER in its log"
grep -q "^VM alpha runs (pid [0-9]*): 'slicevm console alpha' attaches" "$LAB_TMP/alpha.out" ||
	fail "run --detach said: $(cat "$LAB_TMP/alpha.out")"
start_ready beta --cmdline "$CMDLINE_SHELL" || fail "beta never printed $MARKER in its log"
[ -S "$RUN_DIR/alpha.sock" ] || fail "no control socket $RUN_DIR/alpha.sock"
[ "$(stat -c %a "$RUN_DIR/alpha.sock")" = 600 ] || fail "the control socket's mode is $(stat -c %a "$RUN_DIR/alpha.sock")"
report "run --detach: two named VMs run in the background, consoles in their logs, sockets root-only"

"$S" ls >"$LAB_TMP/ls.out" 2>&1 || fail "ls failed: $(cat "$LAB_TMP/ls.out")"
grep -Eq '^alpha +[0-9]+ +- +0:[0-9]+,1:[0-9]+ +256M +anon +running' "$LAB_TMP/ls.out" ||
	fail "ls lacks alpha: $(cat "$LAB_TMP/ls.out")"
grep -Eq '^beta ' "$LAB_TMP/ls.out" || fail "ls lacks beta: $(cat "$LAB_TMP/ls.out")"
PID_A=$(pid_of alpha)
[ -n "$PID_A" ] && [ -d "/proc/$PID_A" ] || fail "ls --json gives alpha pid '$PID_A'"
report "ls: both VMs with pid, vCPUs on host CPUs, memory, backing and state; --json has name and pid"

# A name in use is refused and changes nothing.
before=$(ls "$RUN_DIR")
detached alpha --cmdline "$CMDLINE_SHELL"
[ $? = 1 ] || fail "a second VM named alpha was not refused"
grep -q "a VM named alpha is already running (pid $PID_A): give another --name" "$LAB_TMP/alpha.err" ||
	fail "refusal said: $(cat "$LAB_TMP/alpha.err")"
[ "$(ls "$RUN_DIR")" = "$before" ] || fail "the refused run changed $RUN_DIR: $(ls "$RUN_DIR")"
report "run: a name in use is refused in one line, nothing changed"

# stats: KVM's own counters, growing, and equal to debugfs for the same VM.
"$S" stats alpha --json >"$LAB_TMP/s1" || fail "stats failed: $(cat "$LAB_TMP/s1")"
sleep 2
"$S" stats alpha --json >"$LAB_TMP/s2" || fail "stats failed"
e1=$(tr -d ' \n' <"$LAB_TMP/s1" | sed -n 's/.*"vm":{[^}]*"exits":\([0-9]*\).*/\1/p')
e2=$(tr -d ' \n' <"$LAB_TMP/s2" | sed -n 's/.*"vm":{[^}]*"exits":\([0-9]*\).*/\1/p')
dbg=$(cat /sys/kernel/debug/kvm/"$PID_A"-*/exits 2>/dev/null | head -n 1)
e3=$("$S" stats alpha --json | tr -d ' \n' | sed -n 's/.*"vm":{[^}]*"exits":\([0-9]*\).*/\1/p')
diag "alpha exits: $e1, 2 s later $e2; debugfs $dbg, stats again $e3"
[ -n "$e1" ] && [ -n "$e2" ] && [ "$e2" -gt "$e1" ] || fail "exits did not grow: '$e1' then '$e2'"
[ -n "$dbg" ] && [ "$dbg" -ge "$e2" ] && [ "$dbg" -le "$e3" ] ||
	fail "debugfs exits $dbg not between the stats before ($e2) and after ($e3)"
grep -q '"pages_4k"' "$LAB_TMP/s1" && grep -q '"halt_exits"' "$LAB_TMP/s1" ||
	fail "stats --json lacks pages_4k or halt_exits"
"$S" stats alpha >"$LAB_TMP/st.txt" || fail "stats (table) failed"
grep -q '^exits ' "$LAB_TMP/st.txt" || fail "the stats table lacks exits: $(head -5 "$LAB_TMP/st.txt")"
"$S" stats alpha --vcpus >"$LAB_TMP/stv.txt" || fail "stats --vcpus failed"
grep -q '^Event .* vcpu0 .* vcpu1$' "$LAB_TMP/stv.txt" || fail "stats --vcpus has no vCPU columns: $(head -3 "$LAB_TMP/stv.txt")"
report "stats: KVM's binary statistics per VM grow and match debugfs"

# console: recent output first, typed input reaches the guest, Ctrl-A d detaches.
mkfifo "$LAB_TMP/in"
"$S" console beta <"$LAB_TMP/in" >"$LAB_TMP/con.out" 2>"$LAB_TMP/con.err" &
CON=$!
exec 7>"$LAB_TMP/in"
sleep 1
printf 'echo typed-$((6*7))\r' >&7
sleep 3
printf '\001d' >&7
exec 7>&-
_deadline=$(($(uptime_s) + 20))
while kill -0 "$CON" 2>/dev/null && [ "$(uptime_s)" -lt "$_deadline" ]; do sleep 0.2; done
kill -0 "$CON" 2>/dev/null && { kill "$CON"; fail "console did not detach on Ctrl-A d"; }
wait "$CON"
grep -q "$MARKER" "$LAB_TMP/con.out" || fail "console did not replay recent output"
grep -q "typed-42" "$LAB_TMP/con.out" || fail "typed input did not reach the guest: $(tail -c 300 "$LAB_TMP/con.out")"
grep -q "detached from beta" "$LAB_TMP/con.err" || fail "no detach message: $(cat "$LAB_TMP/con.err")"
[ -n "$(pid_of beta)" ] || fail "beta stopped when its console detached"
report "console: attach shows recent output, input reaches the guest, Ctrl-A d detaches and the VM runs on"

# stop: the power button; the guest shuts itself down.
"$S" stop alpha --timeout 120 >"$LAB_TMP/stop.out" 2>&1
rc=$?
[ "$rc" = 0 ] || fail "stop exited $rc: $(cat "$LAB_TMP/stop.out")"
grep -q "SLICEVM-GUEST-POWERBUTTON" "$LAB_TMP/alpha.log" || fail "the guest never saw its power button"
grep -q "^VM alpha: ended with status 0" "$LAB_TMP/stop.out" || fail "stop said: $(cat "$LAB_TMP/stop.out")"
[ ! -e "$RUN_DIR/alpha.sock" ] || fail "alpha's socket is left"
[ -d "/proc/$PID_A" ] && fail "alpha's VMM still runs"
report "stop: the ACPI power button makes the guest shut down; the exit status is recorded"

# stop of a guest that ignores the power button: killed after the timeout.
start_ready gamma --cmdline "$CMDLINE_SHELL slicevm.test=ignore-power-button" ||
	fail "gamma never printed $MARKER"
"$S" stop gamma --timeout 5 >"$LAB_TMP/stop2.out" 2>&1 || fail "stop gamma failed"
grep -q "did not shut down within 5 s: killing it" "$LAB_TMP/stop2.out" &&
	grep -q "^VM gamma: killed" "$LAB_TMP/stop2.out" || fail "stop said: $(cat "$LAB_TMP/stop2.out")"
[ -z "$(pid_of gamma)" ] || fail "gamma still listed"
report "stop: a guest that ignores the power button is killed after --timeout"

# The socket a killed VMM left is cleaned up by the next VM of that name.
[ -S "$RUN_DIR/gamma.sock" ] || diag "no stale socket after SIGKILL (unexpected)"
"$S" ls >"$LAB_TMP/ls2.out" 2>&1
grep -q '^gamma ' "$LAB_TMP/ls2.out" && fail "ls shows the killed gamma"
start_ready gamma --cmdline "$CMDLINE_SHELL" || fail "the new gamma never printed $MARKER"
"$S" stop gamma --force >"$LAB_TMP/stop3.out" 2>&1 || fail "stop --force failed: $(cat "$LAB_TMP/stop3.out")"
grep -q "^VM gamma: killed" "$LAB_TMP/stop3.out" || fail "stop --force said: $(cat "$LAB_TMP/stop3.out")"
report "stop --force kills at once; a killed VMM's socket does not block the name"

"$S" stop beta --timeout 120 >/dev/null 2>&1 || fail "stop beta failed"
"$S" stop nosuch >"$LAB_TMP/ns.out" 2>&1
[ $? = 1 ] && grep -q "no VM named nosuch is running: see 'slicevm ls'" "$LAB_TMP/ns.out" ||
	fail "stop of an unknown VM said: $(cat "$LAB_TMP/ns.out")"
want_no_vmm
report "stop: an unknown name is one line; nothing is left running"
