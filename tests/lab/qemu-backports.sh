#!/bin/bash
# Fetches the QEMU the lab's x2APIC flavour boots L1 with ("# lab: x2apic=1",
# l0.sh's lab_qemu with LAB_X2APIC=1): Debian 12's own QEMU 7.2 gives L1 no
# x2APIC under TCG; QEMU 10 from bookworm-backports does. Nothing is
# installed and the machine's apt sources are not touched: a private sources
# list names bookworm-backports, and apt-get works on private lists.
#
#   tests/lab/qemu-backports.sh [--offline]
#
#   --offline   no network: the cached QEMU if there is one, else fail.
#   default     apt-get update of the private lists when they are older than
#               a day (about 1 s), then the newest version they offer; when
#               that is the cached one nothing more is done. When the update
#               fails, a cached QEMU is used (and said so).
#
# Into $SLICEVM_CACHE (default <repo>/cache)/qemu-backports:
#   apt/            the private sources.list, lists and apt cache
#   debs/           qemu-system-x86, qemu-system-common, qemu-system-data and
#                   the seabios they depend on (qemu-system-x86 wants seabios
#                   newer than Debian 12's 1.16.2), as apt-get download gets them
#   root/           those packages unpacked (dpkg-deb -x): root/usr/bin/
#                   qemu-system-x86_64, its firmware in root/usr/share/qemu
#                   and root/usr/share/seabios, its modules in
#                   root/usr/lib/x86_64-linux-gnu/qemu
#   stamp           the versions in root/ and this script's checksum
# The binary runs with Debian 12's libraries. It looks for firmware and
# modules where Debian installs them, which on this machine are QEMU 7.2's:
# run it with -L root/usr/share/qemu -L root/usr/share/seabios and
# QEMU_MODULE_DIR=root/usr/lib/x86_64-linux-gnu/qemu (lab_qemu does). NIC
# option ROMs (ipxe-qemu) are not fetched: the lab has no NIC (-nic none).
#
# Prints the path of the binary on stdout; everything else goes to stderr,
# and a failure ends with one line "qemu-backports: <why>".
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cache=$(realpath -m "${SLICEVM_CACHE:-$top/cache}")
qb=$cache/qemu-backports
SUITE=bookworm-backports
# The oldest upstream QEMU whose TCG emulates x2APIC well enough for L1.
MIN_VERSION=1:10.0
PKGS="qemu-system-x86 qemu-system-common qemu-system-data"
offline=0

say() { echo "qemu-backports: $*" >&2; }
die() { say "$*"; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	--offline) offline=1 ;;
	*) die "usage: tests/lab/qemu-backports.sh [--offline]" ;;
	esac
	shift
done

for tool in apt-get apt-cache dpkg dpkg-deb flock realpath; do
	command -v "$tool" >/dev/null ||
		die "$tool is missing (this script needs Debian's apt and dpkg)"
done
# shellcheck source=scripts/apt-fetch.sh
. "$top/scripts/apt-fetch.sh"

bin=$qb/root/usr/bin/qemu-system-x86_64
script_sum=$(cksum <"$0")

# cached_ok: root/ holds a complete unpack (it has a stamp) whose binary
# runs; cached_current: one this very script made (the stamp's last line).
cached_ok() {
	[ -f "$qb/stamp" ] && [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1
}
cached_current() {
	cached_ok && [ "$(tail -n 1 "$qb/stamp")" = "script=$script_sum" ]
}
cached_version() {
	sed -n 's/^qemu=//p' "$qb/stamp" 2>/dev/null
}

mkdir -p "$qb/apt/lists/partial" "$qb/apt/cache/archives/partial" "$qb/debs"
# One fetch at a time (two lab runs may start together).
exec 9>"$qb/.lock"
flock 9

if [ "$offline" = 1 ]; then
	cached_ok || die "--offline: no cached QEMU in $qb (run once with the network)"
	say "cached (offline): QEMU $(cached_version)"
	echo "$bin"
	exit 0
fi

# --- the private apt view of bookworm-backports -------------------------------
# The machine's own mirror for Debian, so a proxy or mirror it is set up for
# applies here too.
mirror=$(grep -hs -E '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	/etc/apt/sources.list.d/*.sources 2>/dev/null |
	grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v -- '-security' | head -n 1 |
	sed 's/ *$//; s:/$::' || true)
mirror=${mirror:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || die "$keyring is missing (package debian-archive-keyring)"
printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$SUITE" >"$qb/apt/sources.list"
APT_OPTS=(-o "Dir::Etc::SourceList=$qb/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$qb/apt/lists" -o "Dir::Cache=$qb/apt/cache")
[ "$(id -u)" -eq 0 ] && APT_OPTS+=(-o APT::Sandbox::User=root)

updated=$qb/apt/updated
# A failed fetch is only a warning to apt-get update (status 0, the old lists
# kept): its log must have no Err: or E: line and no "Failed to fetch".
if [ -n "$(find "$updated" -mmin -1440 2>/dev/null)" ] &&
	grep -qxF "$mirror $SUITE" "$updated"; then
	say "the $SUITE lists are less than a day old"
elif apt-get -q "${APT_OPTS[@]}" update >"$qb/apt/update.log" 2>&1 &&
	! grep -qE '^(Err:|E: |W: Failed to fetch)' "$qb/apt/update.log"; then
	echo "$mirror $SUITE" >"$updated"
else
	rm -f "$updated"
	why=$(grep -m 1 -E '^(E: |W: Failed to fetch )' "$qb/apt/update.log" | sed 's/^[EW]: //' ||
		tail -n 1 "$qb/apt/update.log")
	why="apt-get update of $SUITE failed: $why"
	if cached_ok; then
		say "$why; using the cached QEMU $(cached_version)"
		echo "$bin"
		exit 0
	fi
	die "$why (and no QEMU is cached)"
fi

# newest PACKAGE: the newest version of PACKAGE the private lists offer.
newest() {
	local v best=""
	for v in $(apt-cache "${APT_OPTS[@]}" madison "$1" 2>/dev/null |
		awk -F'|' '{ gsub(/ /, "", $2); print $2 }'); do
		if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then
			best=$v
		fi
	done
	echo "$best"
}
qver=$(newest qemu-system-x86)
[ -n "$qver" ] || die "$SUITE offers no qemu-system-x86 (from $mirror)"
dpkg --compare-versions "$qver" ge "$MIN_VERSION" ||
	die "$SUITE offers qemu-system-x86 $qver, older than $MIN_VERSION"
for p in qemu-system-common qemu-system-data; do
	apt-cache "${APT_OPTS[@]}" madison "$p" 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' |
		grep -qxF "$qver" || die "$SUITE offers qemu-system-x86 $qver but no $p of that version"
done

if cached_current && [ "$(cached_version)" = "$qver" ]; then
	say "up to date: QEMU $qver"
	echo "$bin"
	exit 0
fi

# --- download -----------------------------------------------------------------
t0=$SECONDS
debs=()
for p in $PKGS; do
	f=$(apt_fetch "$qb/debs" "$p" "$qver" "${APT_OPTS[@]}") ||
		die "cannot download $p $qver from $SUITE"
	debs+=("$f")
done
# The seabios it wants (Depends: seabios (>> 1.16.3-1~) for 10.0.2): the
# newest of the suite when that satisfies it, else the machine's own.
need=$(dpkg-deb -f "${debs[0]}" Depends | tr ',' '\n' |
	sed -n 's/^ *seabios *(\([<>=]*\) *\([^)]*\)).*/\1 \2/p' | head -n 1)
satisfies() {	# satisfies VERSION: VERSION meets $need (an empty need: any)
	[ -n "$need" ] || return 0
	local op=${need%% *}
	case "$op" in
	">>") op=gt ;; ">=") op=ge ;; "=") op=eq ;; "<<") op=lt ;; "<=") op=le ;;
	esac
	dpkg --compare-versions "$1" "$op" "${need#* }"
}
sbver=$(newest seabios)
seabios=""
if [ -n "$sbver" ] && satisfies "$sbver"; then
	f=$(apt_fetch "$qb/debs" seabios "$sbver" "${APT_OPTS[@]}") ||
		die "cannot download seabios $sbver from $SUITE"
	debs+=("$f")
	seabios=$sbver
else
	host_sb=$(dpkg-query -W -f '${Version}' seabios 2>/dev/null || true)
	if [ -z "$host_sb" ] || ! satisfies "$host_sb"; then
		die "qemu-system-x86 $qver wants seabios ($need); $SUITE offers '${sbver:-none}', this machine has '${host_sb:-none}'"
	fi
	seabios="installed $host_sb"
fi
say "packages ready in debs/ ($((SECONDS - t0)) s)"

# --- unpack -------------------------------------------------------------------
rm -rf "$qb/root.new"
mkdir -p "$qb/root.new"
for d in "${debs[@]}"; do
	dpkg-deb -x "$d" "$qb/root.new" || die "cannot unpack $(basename "$d")"
done
newbin=$qb/root.new/usr/bin/qemu-system-x86_64
[ -x "$newbin" ] || die "qemu-system-x86 $qver has no usr/bin/qemu-system-x86_64"
# It must run with this machine's libraries (it does on Debian 12: the
# backport is built for it).
if ! out=$("$newbin" --version 2>&1); then
	missing=$(ldd "$newbin" 2>/dev/null | grep 'not found' | awk '{ print $1 }' | tr '\n' ' ' || true)
	die "the unpacked QEMU does not run${missing:+ (libraries missing: $missing)}: $(echo "$out" | head -n 1)"
fi
rm -rf "$qb/root" "$qb/stamp"
mv "$qb/root.new" "$qb/root"
# Other versions' packages are not needed any more.
for f in "$qb"/debs/*.deb; do
	keep=0
	for d in "${debs[@]}"; do [ "$f" = "$d" ] && keep=1; done
	[ "$keep" = 1 ] || rm -f "$f"
done
printf 'qemu=%s\nseabios=%s\nsuite=%s %s\nscript=%s\n' "$qver" "$seabios" "$mirror" "$SUITE" \
	"$script_sum" >"$qb/stamp"
say "$(echo "$out" | head -n 1) in $qb/root ($((SECONDS - t0)) s)"
echo "$bin"
