#!/bin/sh
# lab: smp=2 mem=5G
# timeout: 500
# virtio-net of slicevm run (--net tap=NAME[,mac=MAC][,vhost=on|off]), against
# L1's network stack over a tap:
# a. for the default data path (vhost-net, since L1 has /dev/vhost-net) and
#    vhost=off: the VMM creates the tap, L1 gives it 10.0.2.1/24, the guest
#    (10.0.2.2, its eth0 a virtio_net) pings L1 and L1 pings it, then sends
#    100 MiB of random data over TCP (busybox nc) that L1 receives with the
#    guest's sha256; the VM powers off (0), the tap is gone with it; which
#    data path ran is seen from the vhost worker thread the kernel adds to the
#    VMM (comm vhost-TID) and in slicevm ls --json ("vhost"); the default MAC
#    is the same for the same --name, locally administered, and ls shows it;
# b. a tap made beforehand (busybox tunctl) with mac= and vhost=on: the guest
#    has that MAC and reaches L1, a second VM on the same tap is refused, the
#    tap stays after the VM;
# c. bad --net input (a multicast or malformed MAC, an unknown key,
#    vhost=maybe, a tap name too long, a tap given twice, no tap=, an
#    interface that is no tap, a tap an unprivileged user cannot create,
#    vhost=on without /dev/vhost-net): exit 1, one stderr line, nothing left
#    (no process, VM, file or interface); and without /dev/vhost-net the
#    default falls back to the user-space data path.
# The guest side is tests/lab/guest-init (slicevm.net=, slicevm.test=net-ping,
# net-tcp). Speeds are printed, not tested: TCG makes them meaningless.
. /lab/lib.sh

K=$GUEST_BZIMAGE
I=$GUEST_INITRD
T=$LAB_TMP
TAP=slvm0
HOST_IP=10.0.2.1
GUEST_IP=10.0.2.2
PORT=5001
MB=100
# Seconds L1's listener lives, from before the VM starts to the end of the
# transfer: boot, ping, 100 MiB from /dev/urandom and its sha256 in the
# guest, the transfer. Measured in the lab (6 runs): 22-57 s, the transfer
# itself 4-18 s (5-24 MiB/s, either data path); about 3 times the slowest.
XFER_SECS=180
NAME=netvm

# --- helpers ---------------------------------------------------------------
netdev() {
	[ -e "/sys/class/net/$1" ]
}

# nets: L1's network interfaces, one line.
nets() {
	ls /sys/class/net | tr '\n' ' '
}

# wait_netdev NAME SECS: interface NAME appears within SECS seconds (and
# the VMM still runs).
wait_netdev() {
	_end=$(($(uptime_s) + $2))
	until netdev "$1"; do
		[ "$(uptime_s)" -ge "$_end" ] && return 1
		_alive "$VMM_PID" || return 1
		sleep 0.1
	done
}

# gone_netdev NAME SECS: interface NAME is gone within SECS seconds.
gone_netdev() {
	_end=$(($(uptime_s) + $2))
	while netdev "$1"; do
		[ "$(uptime_s)" -ge "$_end" ] && return 1
		sleep 0.1
	done
}

# vhost_threads PID: the vhost workers serving process PID. Since Linux 6.4
# they are threads of the process that set up vhost (comm vhost-<tid>);
# before, kernel threads named vhost-<pid>.
vhost_threads() {
	{
		for _t in /proc/"$1"/task/*; do
			case "$(cat "$_t/comm" 2>/dev/null)" in
			vhost-[0-9]*) echo "${_t##*/}" ;;
			esac
		done
		for _d in /proc/[0-9]*; do
			[ "$(cat "$_d/comm" 2>/dev/null)" = "vhost-$1" ] && echo "${_d#/proc/}"
		done
	} | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# ls_net KEY: what `slicevm ls --json` says of the (only) running VM's
# virtio-net: KEY is vhost (true or false), mac or tap; nothing if absent.
ls_net() {
	"$SLICEVM" ls --json 2>/dev/null | tr -d ' \t\n' |
		grep -Eo "\"$1\":(true|false|\"[^\"]*\")" | head -n 1 | cut -d: -f2- | tr -d '"'
}

# lladdr MAC: 0 if MAC is unicast and locally administered (first octet: bit
# 0 clear, bit 1 set).
lladdr() {
	_o=$((0x${1%%:*}))
	[ $((_o & 1)) -eq 0 ] && [ $((_o & 2)) -eq 2 ]
}

# mac_of: the MAC of eth0 in the guest's SLICEVM-NETS line.
mac_of() {
	console_line SLICEVM-NETS |
		sed -n 's/.* eth0:mac=\([0-9a-f]\{2\}\(:[0-9a-f]\{2\}\)\{5\}\):.*/\1/p'
}

# guest_cmdline IP PEER [TEST...]: the guest's network and tests.
guest_cmdline() {
	_c="$CMDLINE_BASE slicevm.net=$1/24 slicevm.test=net-ping:$2"
	shift 2
	for _x in "$@"; do
		_c="$_c slicevm.test=$_x"
	done
	echo "$_c"
}

# Whatever happens, L1 is left as found: devices back, modes back, no tap.
KVM_MODE=$(stat -c %a /dev/kvm)
TUN_MODE=$(stat -c %a /dev/net/tun)
restore() {
	[ -e /dev/.vhost-net-hidden ] && mv /dev/.vhost-net-hidden /dev/vhost-net
	chmod "$KVM_MODE" /dev/kvm 2>/dev/null
	chmod "$TUN_MODE" /dev/net/tun 2>/dev/null
	netdev slvmx && tunctl -d slvmx >/dev/null 2>&1
	rm -f "$T/recv"
	[ -n "${RUNDIR_MADE:-}" ] && rm -rf /tmp/slicevm-1000
	return 0
}
trap restore EXIT

mkfifo "$T/nc.in"
MODES=""

# --- a. created tap, 100 MiB guest -> L1, each data path ---------------------
# Within one net_run the TAP lines wait in $T/reports until the run is
# judged: a run whose guest kernel died of the lab's hazard is run again
# (lib.sh: tcg_patch_hazard; seen in about one run in four,
# mid-transfer); a fault that comes every time still fails.
# Fields apart by \037 (unit separator): not IFS whitespace, so an empty
# WHY stays a field of its own.
US=$(printf '\037')

held_report() {	# held_report DESC: as report, printed by flush_reports
	printf '%s%s%s%s%s\n' "$VMM_DIR" "$US" "$WHY" "$US" "$1" >>"$T/reports"
	WHY=""
	VMM_DIR=""
}

flush_reports() {
	while IFS=$US read -r _dir _why _desc; do
		VMM_DIR=$_dir
		WHY=$_why
		report "$_desc"
	done <"$T/reports"
	rm -f "$T/reports"
}

# net_run_judged LABEL OPTS: net_run, again (LAB_HAZARD_RETRIES) if the guest kernel panicked.
net_run_judged() {
	rm -f "$T/reports"
	net_run "$@"
	_tries=1
	while [ $_tries -le "$LAB_HAZARD_RETRIES" ] &&
	      cut -d "$US" -f2 "$T/reports" | grep -q . && tcg_patch_hazard; do
		diag "the guest kernel died ($(hazard_line)), a lab hazard (lib.sh: tcg_patch_hazard); running it again"
		rm -f "$T/reports"
		net_run "$@"
		_tries=$((_tries + 1))
	done
	flush_reports
}

# net_run LABEL OPTS: one VM on a tap it creates, --net tap=$TAP$OPTS.
net_run() {
	_label=$1
	_spec="tap=$TAP$2"
	_d="run --net $_spec"
	rm -f "$T/recv"
	# Stdin from a FIFO opened read-write: never EOF, on which busybox nc
	# would quit; the guest's nc closing the connection ends it.
	timeout -s KILL "$XFER_SECS" nc -l -p "$PORT" <>"$T/nc.in" >"$T/recv" 2>"$T/nc.err" &
	NC_PID=$!
	vmm_start run --kernel "$K" --initrd "$I" --memory 512M --name "$NAME" --net "$_spec" \
		--cmdline "$(guest_cmdline "$GUEST_IP" "$HOST_IP" "net-tcp:$HOST_IP:$PORT:$MB")"
	RUN_DIR=$VMM_DIR

	# 1. the tap, the guest's eth0, ping both ways
	if wait_netdev "$TAP" 120; then
		[ -z "$MODES" ] && diag "ip link show $TAP: $(ip link show "$TAP" 2>&1 | head -n 1)"
		{ ip addr add "$HOST_IP/24" dev "$TAP" 2>"$T/ip.err" && ip link set "$TAP" up 2>>"$T/ip.err"; } ||
			fail "configuring $TAP in L1 failed: $(tail -n 1 "$T/ip.err")"
	else
		fail "no interface $TAP appeared in L1 within 120 s"
	fi
	wait_console 150 '^SLICEVM-NET-(PING-OK|PING-BAD|BAD)' || true
	want_marker
	case "$(console_line SLICEVM-NETS)" in
	"SLICEVM-NETS eth0:mac="*":driver=virtio_net") ;;
	*) fail "the guest's interfaces: '$(console_line SLICEVM-NETS)', expected one eth0 of virtio_net" ;;
	esac
	want_line SLICEVM-NET-UP SLICEVM-NET-BAD
	want_line SLICEVM-NET-PING-OK SLICEVM-NET-PING-BAD
	ping -c 3 -W 5 "$GUEST_IP" >"$T/ping.out" 2>&1 ||
		fail "L1 cannot ping the guest: $(grep -E 'packets|ping:' "$T/ping.out" | tr '\n' ' ')"
	MAC=$(mac_of)
	LS_MAC=""
	held_report "$_d: the VMM makes the tap, the guest's eth0 (virtio_net) gets 10.0.2.2 and guest and L1 ping each other"
	diag "guest: $(console_line SLICEVM-NET-PING-OK)"

	# 2. which data path (while the VM runs)
	VMM_DIR=$RUN_DIR
	_threads=$(vhost_threads "$VMM_PID")
	_says=$(ls_net vhost)
	LS_MAC=$(ls_net mac)
	_alive "$VMM_PID" || fail "the VM ended before its data path could be seen"
	diag "$_label: vhost threads of the VMM: ${_threads:-none}; slicevm ls --json: vhost ${_says:-(none)}, mac ${LS_MAC:-(none)}"
	case "$_label" in
	off)
		[ -z "$_threads" ] || fail "vhost=off, yet the VMM has vhost worker threads ($_threads)"
		[ "$_says" = false ] || fail "slicevm ls --json says vhost '$_says', expected false"
		;;
	*)
		[ -n "$_threads" ] || fail "L1 has /dev/vhost-net, yet the VMM has no vhost worker thread (vhost-TID)"
		[ "$_says" = true ] || fail "slicevm ls --json says vhost '$_says', expected true"
		;;
	esac
	if [ "$_label" = off ]; then
		held_report "$_d: the user-space data path (no vhost worker thread in the VMM; ls --json: vhost false)"
	else
		held_report "$_d (vhost default): /dev/vhost-net is used (a vhost worker thread in the VMM; ls --json: vhost true)"
	fi

	# 3. 100 MiB guest -> L1
	VMM_DIR=$RUN_DIR
	wait_console "$XFER_SECS" '^SLICEVM-NET-(SENT|TCP-BAD)' || true
	_t0=$(uptime_cs)
	sent=$(console_line SLICEVM-NET-SENT | sed -n 's/^SLICEVM-NET-SENT \([0-9a-f]\{64\}\)$/\1/p')
	if [ -z "$sent" ]; then
		want_line SLICEVM-NET-SENT SLICEVM-NET-TCP-BAD
		kill -KILL "$NC_PID" 2>/dev/null
	fi
	# A VMM that died leaves the listener waiting: it gets 10 s more.
	# (XFER_SECS, its timeout, is counted from its start.)
	_grace=""
	while [ -n "$sent" ] && _alive "$NC_PID"; do
		if ! _alive "$VMM_PID"; then
			[ -z "$_grace" ] && _grace=$(($(uptime_s) + 10))
			[ "$(uptime_s)" -ge "$_grace" ] && kill -KILL "$NC_PID" 2>/dev/null
		fi
		sleep 0.2
	done
	wait "$NC_PID"
	_nc_rc=$?
	_cs=$(($(uptime_cs) - _t0))
	vmm_wait 120
	want_rc 0
	if [ -n "$sent" ]; then
		[ "$_nc_rc" -eq 0 ] || fail "L1's nc -l ended with status $_nc_rc (137: killed ${XFER_SECS} s after it started) $(tail -n 1 "$T/nc.err")"
		_got=$(wc -c <"$T/recv" | tr -d ' ')
		_sum=$(sha256sum <"$T/recv" | cut -d' ' -f1)
		[ "$_got" -eq $((MB * 1048576)) ] || fail "L1 received $_got bytes, expected $((MB * 1048576))"
		[ "$_sum" = "$sent" ] || fail "L1 received sha256 $_sum, the guest sent $sent"
		want_line SLICEVM-NET-TCP-DONE SLICEVM-NET-TCP-BAD
	fi
	want_no_vmm
	# The console's tail (report shows it) may miss how a guest oops began.
	[ -n "$WHY" ] && tr -d '\r' <"$VMM_CONSOLE" |
		grep -E 'Oops|BUG:|RIP:|general protection|[Kk]ernel panic|Call Trace' | head -n 6 >"$T/oops"
	held_report "$_d: $MB MiB of random data sent by the guest over TCP reach L1 with the guest's sha256; the VM powers off (0)"
	[ -s "$T/oops" ] && diag_file "the guest's oops" "$T/oops" 6
	rm -f "$T/oops"
	[ -n "$(console_line SLICEVM-NET-TCP-DONE)" ] && diag "$_label: $MB MiB in $((_cs / 100)).$((_cs / 10 % 10)) s in L1 ($(awk -v b=$((MB * 100)) -v c="$_cs" \
		'BEGIN { if (c > 0) printf "%.1f", b / c; else print "?" }') MiB/s); guest: $(console_line SLICEVM-NET-TCP-DONE | sed 's/^SLICEVM-NET-//')"
	rm -f "$T/recv"

	# 4. the tap went with the VMM
	VMM_DIR=$RUN_DIR
	gone_netdev "$TAP" 10 || fail "$TAP is still there 10 s after the VMM exited ($(ip link show "$TAP" 2>&1 | head -n 1))"
	held_report "$_d: the tap the VMM made is gone once it exits"
	MODES="$MODES $_label"
}

net_run_judged auto ""
MAC_AUTO=$MAC
LS_MAC_AUTO=$LS_MAC
net_run_judged off ",vhost=off"
MAC_OFF=$MAC

if [ -z "$MAC_AUTO" ]; then
	fail "the guest printed no MAC for eth0"
elif ! lladdr "$MAC_AUTO"; then
	fail "$MAC_AUTO is not a unicast, locally administered address"
fi
[ "$MAC_AUTO" = "$MAC_OFF" ] || fail "two runs with --name $NAME gave MACs $MAC_AUTO and $MAC_OFF"
[ "$LS_MAC_AUTO" = "$MAC_AUTO" ] || fail "slicevm ls --json says mac '$LS_MAC_AUTO', the guest has $MAC_AUTO"
report "run --net without mac=: a locally administered unicast MAC, the same for the same --name (and in ls --json)"
diag "default MAC of --name $NAME: ${MAC_AUTO:-none}"

# --- b. a tap made beforehand ----------------------------------------------
XMAC=52:54:00:12:34:56
B_DESC="run --net tap=EXISTING,mac=$XMAC,vhost=on: the VM uses a tap made beforehand (tunctl) and leaves it in place"
if ! tunctl -t slvmx >"$T/tunctl.out" 2>&1 || ! netdev slvmx; then
	skip "$B_DESC" "busybox tunctl cannot make a tap: $(tail -n 1 "$T/tunctl.out")"
	skip "run refuses a tap in use by another VM; that VM runs on" "no tap made beforehand"
else
	ip addr add 10.0.3.1/24 dev slvmx && ip link set slvmx up
	vmm_start run --kernel "$K" --initrd "$I" --memory 256M --name netvmx \
		--net "tap=slvmx,mac=$XMAC,vhost=on" --cmdline "$(guest_cmdline 10.0.3.2 10.0.3.1)"
	FIRST=$VMM_PID
	FIRST_DIR=$VMM_DIR
	FIRST_T0=$_vmm_t0
	if wait_console 150 '^SLICEVM-NET-(PING-OK|PING-BAD|BAD)'; then
		_threads=$(vhost_threads "$FIRST")
		_says=$(ls_net vhost)
		_alive "$FIRST" || fail "the VM ended before its data path could be seen"
		# c'. a second VM on the same tap
		nets_before=$(nets)
		vms_before=$(kvm_vms | tr '\n' ' ')
		vmm_run 60 run --kernel "$K" --initrd "$I" --memory 256M \
			--net tap=slvmx --cmdline "$CMDLINE_POWEROFF"
		want_rc 1
		want_error_line
		[ "$(vmm_pids)" = "$FIRST" ] || fail "slicevm processes now: $(vmm_pids), expected only $FIRST"
		[ "$(kvm_vms | tr '\n' ' ')" = "$vms_before" ] ||
			fail "KVM VMs before: $vms_before, after: $(kvm_vms | tr '\n' ' ')"
		[ "$(nets)" = "$nets_before" ] || fail "interfaces before: $nets_before, after: $(nets)"
		_alive "$FIRST" || fail "the first VM died"
		line=$(head -n 1 "$VMM_STDERR")
		report "run refuses a tap in use by another VM; that VM runs on"
		diag "stderr: $line"
		# Back to the first VM (vmm_start set these for the second).
		VMM_PID=$FIRST
		VMM_DIR=$FIRST_DIR
		VMM_CONSOLE=$FIRST_DIR/console
		VMM_STDERR=$FIRST_DIR/stderr
		_vmm_t0=$FIRST_T0
		[ -n "$_threads" ] || fail "vhost=on, yet the VMM has no vhost worker thread"
		[ "$_says" = true ] || fail "vhost=on, yet slicevm ls --json says vhost '$_says'"
	else
		fail "the guest never pinged"
		skip "run refuses a tap in use by another VM; that VM runs on" "the first VM did not get that far"
	fi
	# The power button: the guest powers off, the VMM exits 0.
	"$SLICEVM" stop netvmx >"$T/stop.out" 2>&1 ||
		{ diag "slicevm stop netvmx: $(tail -n 1 "$T/stop.out")"; kill -TERM "$FIRST" 2>/dev/null; }
	vmm_wait 120
	want_rc 0
	want_marker
	[ "$(mac_of)" = "$XMAC" ] || fail "the guest's eth0 has MAC '$(mac_of)', expected $XMAC"
	want_line SLICEVM-NET-PING-OK SLICEVM-NET-PING-BAD
	want_no_vmm
	if ! netdev slvmx; then
		fail "the tap made beforehand is gone"
	else
		ip addr show dev slvmx | grep -q ' 10\.0\.3\.1/24 ' ||
			fail "the tap lost its address: $(ip addr show dev slvmx | tr '\n' ' ')"
	fi
	report "$B_DESC"
	tunctl -d slvmx >/dev/null 2>&1
	netdev slvmx && diag "tunctl -d slvmx left it"
fi

# --- c. bad input ----------------------------------------------------------
# bad_net DESC RE ARGS...: slicevm run ARGS must exit 1 with one stderr line
# "slicevm: ..." matching RE, leave no process, VM, file or interface; the
# line is shown.
bad_net() {
	_desc=$1
	_re=$2
	shift 2
	_nets=$(nets)
	lab_state >"$T/state"
	vmm_run 60 run --kernel "$K" --initrd "$I" --memory 256M "$@" --cmdline "$CMDLINE_POWEROFF"
	want_rc 1
	want_error_line "$_re"
	want_no_vmm
	want_same_state "$T/state"
	[ "$(nets)" = "$_nets" ] || fail "interfaces before: $_nets, after: $(nets)"
	_line=$(head -n 1 "$VMM_STDERR")
	report "$_desc"
	diag "stderr: $_line"
}

bad_net "run rejects --net ...,mac= with a multicast address" '[Mm]ulticast' \
	--net tap=slvm9,mac=01:00:00:00:00:01
bad_net "run rejects --net ...,mac=zz" 'zz' --net tap=slvm9,mac=zz
bad_net "run rejects an unknown --net key" \
	'(foo.*([Uu]nknown|[Ii]nvalid|[Uu]nsupported))|(([Uu]nknown|[Ii]nvalid|[Uu]nsupported).*foo)' \
	--net tap=slvm9,foo=1
bad_net "run rejects --net ...,vhost=maybe" 'maybe' --net tap=slvm9,vhost=maybe
bad_net "run rejects a tap name longer than 15 bytes" 'abcdefghijklmnop' --net tap=abcdefghijklmnop
bad_net "run rejects --net without tap=" 'tap' --net mac=52:54:00:12:34:56
bad_net "run rejects the same tap given twice" 'slvm9' --net tap=slvm9 --net tap=slvm9
bad_net "run rejects an interface that is not a tap (lo)" "lo|[Tt]ap" --net tap=lo

# A tap an unprivileged user cannot create (CAP_NET_ADMIN): /dev/kvm and
# /dev/net/tun opened to everyone (as udev makes /dev/net/tun), vhost off
# (/dev/vhost-net stays root's), and the user's run directory made
# beforehand, so only the tap can fail.
chmod 0666 /dev/kvm /dev/net/tun
RUNDIR_MADE=""
if [ ! -e /tmp/slicevm-1000 ]; then
	mkdir /tmp/slicevm-1000 && chown 1000:1000 /tmp/slicevm-1000 && chmod 0700 /tmp/slicevm-1000 &&
		RUNDIR_MADE=yes
fi
VMM_AS=$LAB_USER bad_net "run fails cleanly when the user may not create the tap" \
	'[Pp]ermi|CAP_NET_ADMIN|EPERM|[Dd]enied|root|privilege' --net tap=slvm9,vhost=off
chmod "$KVM_MODE" /dev/kvm
chmod "$TUN_MODE" /dev/net/tun
[ -n "$RUNDIR_MADE" ] && rm -rf /tmp/slicevm-1000
RUNDIR_MADE=""

# Without /dev/vhost-net: vhost=on fails, the default falls back.
if mv /dev/vhost-net /dev/.vhost-net-hidden; then
	bad_net "run --net ...,vhost=on fails cleanly without /dev/vhost-net" 'vhost' \
		--net tap=slvm9,vhost=on
	# The guest stays up after its ping (at its shell) until slicevm stop.
	vmm_start run --kernel "$K" --initrd "$I" --memory 256M --name netfb --net "tap=$TAP" \
		--cmdline "$(guest_cmdline "$GUEST_IP" "$HOST_IP")"
	if wait_netdev "$TAP" 120; then
		ip addr add "$HOST_IP/24" dev "$TAP" && ip link set "$TAP" up
	else
		fail "no interface $TAP appeared in L1 within 120 s"
	fi
	wait_console 150 '^SLICEVM-NET-(PING-OK|PING-BAD|BAD)' || true
	_threads=$(vhost_threads "$VMM_PID")
	_says=$(ls_net vhost)
	_alive "$VMM_PID" || fail "the VM ended before its data path could be seen"
	"$SLICEVM" stop netfb >"$T/stop.out" 2>&1 ||
		{ diag "slicevm stop netfb: $(tail -n 1 "$T/stop.out")"; kill -TERM "$VMM_PID" 2>/dev/null; }
	vmm_wait 120
	want_rc 0
	want_line SLICEVM-NET-PING-OK SLICEVM-NET-PING-BAD
	[ -z "$_threads" ] || fail "the VMM has vhost worker threads ($_threads) without /dev/vhost-net"
	[ "$_says" = false ] || fail "slicevm ls --json says vhost '$_says' without /dev/vhost-net"
	want_no_vmm
	gone_netdev "$TAP" 10 || fail "$TAP is still there after the VMM exited"
	report "run --net tap=NAME without /dev/vhost-net: the default falls back to the user-space data path"
	mv /dev/.vhost-net-hidden /dev/vhost-net
else
	skip "run --net ...,vhost=on fails cleanly without /dev/vhost-net" "cannot move /dev/vhost-net"
	skip "run --net tap=NAME without /dev/vhost-net: the default falls back to the user-space data path" \
		"cannot move /dev/vhost-net"
fi
