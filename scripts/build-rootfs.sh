#!/bin/bash
# Builds a small Debian 12 (bookworm) root file system image that slicevm
# boots from a virtio disk (root=/dev/vda; the default guest's initramfs
# loads virtio_blk and ext4 and hands over to its systemd).
#
#   scripts/build-rootfs.sh          (make rootfs; as root)
#
# Into $SLICEVM_CACHE/rootfs (default: <repo>/cache/rootfs):
#   debian-12.ext4         the image: ext4 on the whole disk (no partition
#                          table), label slicevm-root, sparse
#   debian-12.ext4.stamp   what it was built from; a re-run with the same
#                          script and package list only checks it
#   debs/                  the .debs mmdebstrap downloaded, offered to the
#                          next build so it fetches only what changed
# Prints the image's path on stdout, how long the build took and its size on
# stderr.
#
# What is in it: mmdebstrap --variant=minbase from Debian's packages (the
# mirrors apt uses for bookworm, with updates and security) plus
# ROOTFS_PACKAGES (default below: systemd as init, udev, dbus for logind,
# iproute2, procps, kmod, ping, less). No documentation, man pages or
# translations (dpkg path-exclude, kept in the image so later installs skip
# them too). Hostname slicevm-guest; root has no password (console login as
# "root", no password asked); /etc/fstab mounts /dev/vda as / (ext4); a
# login prompt on ttyS0; a unit that, when the kernel command line has
# slicevm.rootfs=poweroff, prints SLICEVM-ROOTFS-BOOTED once multi-user.target
# is reached and powers off (what scripts/boot-default-guest.sh uses without
# a terminal). No kernel or modules: slicevm boots the default guest's kernel
# and initramfs (tests/lab/guest.sh) with root=/dev/vda.
#
# Nothing on this machine outside the cache changes: mmdebstrap runs in
# unshare mode, which as root keeps the real user ids but gives the build
# its own mount, pid, UTS and IPC namespaces, so the /proc, /sys and /dev it
# mounts into the tree are never seen outside; the image is made from the
# tree by mkfs.ext4 -d (no loop device, no mount).
set -eu

SUITE=bookworm
ROOTFS_PACKAGES=${ROOTFS_PACKAGES:-"systemd-sysv udev dbus iproute2 procps kmod iputils-ping less"}

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cache=$(realpath -m "${SLICEVM_CACHE:-$top/cache}")
dir=$cache/rootfs
img=$dir/debian-12.ext4

say() { echo "build-rootfs: $*" >&2; }
die() { say "$*"; exit 1; }

mkfs=$(PATH=$PATH:/usr/sbin:/sbin command -v mkfs.ext4) ||
	die "mkfs.ext4 is missing: run scripts/install-deps.sh (as root) for e2fsprogs"

# Everything the image depends on; a match means the cached one is current.
stamp="suite=$SUITE
packages=$ROOTFS_PACKAGES
script=$(cksum <"$0")
mkfs=$("$mkfs" -V 2>&1 | head -n 1)"
if [ -f "$img" ] && [ "$(cat "$img.stamp" 2>/dev/null)" = "$stamp" ]; then
	say "$img is current ($(du -h --apparent-size "$img" | cut -f1)); delete it to rebuild"
	echo "$img"
	exit 0
fi

[ "$(id -u)" -eq 0 ] ||
	die "run as root: mmdebstrap needs it to give the files their owners (root's unshare mode)"
if ! command -v mmdebstrap >/dev/null; then
	# Only here, not in install-deps.sh: nothing else needs it.
	say "installing mmdebstrap"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends mmdebstrap >&2 || {
		apt-get update -q >&2 &&
			apt-get install -y -q --no-install-recommends mmdebstrap >&2
	} || die "cannot install mmdebstrap"
fi

t0=$(date +%s)
mkdir -p "$dir/debs"
work=$(mktemp -d "$dir/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/tree
mkdir "$tree" "$work/debs"

# The .debs of the last build go into apt's cache inside the tree before
# anything is downloaded, and what apt has there at the end comes back out
# (then the image's copy is deleted); --skip=essential/unlink keeps apt's
# cache until then.
# The merged-usr hooks (mmdebstrap's own) make /bin, /lib ... symlinks into
# /usr and install usr-is-merged with the essential packages: otherwise apt
# satisfies init-system-helpers' "usrmerge | usr-is-merged" with usrmerge,
# which brings all of perl (50 MB).
include=$(echo "$ROOTFS_PACKAGES" | tr -s ' \n' ',,' | sed 's/^,//; s/,$//')
say "mmdebstrap $SUITE (minbase + $include)"
mmdebstrap --mode=unshare --variant=minbase --include="$include" \
	--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr --skip=essential/unlink \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-include=/usr/share/locale/locale.alias' \
	--setup-hook='mkdir -p "$1/var/cache/apt/archives"' \
	--setup-hook="sync-in '$dir/debs' /var/cache/apt/archives" \
	--customize-hook="sync-out /var/cache/apt/archives '$work/debs'" \
	--customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
	"$SUITE" "$tree" >&2 || die "mmdebstrap failed"
# Only the .debs of this build stay in the cache (an updated package's old
# version goes).
rm -rf "$work/debs/partial" "$work/debs/lock"
rm -rf "$dir/debs" && mv "$work/debs" "$dir/debs"

# --- the guest's configuration (plain files: nothing runs in the tree) -----
[ -n "$tree" ] && [ -x "$tree/bin/sh" ] && [ -d "$tree/etc/systemd/system" ] ||
	die "mmdebstrap left no Debian tree with systemd in $tree"
echo slicevm-guest >"$tree/etc/hostname"
cat >"$tree/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	slicevm-guest
::1		localhost ip6-localhost ip6-loopback
EOF
cat >"$tree/etc/fstab" <<'EOF'
# slicevm: the first virtio disk is the root file system (the whole disk,
# no partition table). The initramfs mounts it as the kernel command line
# says (root=/dev/vda rw, or ro); systemd remounts it with these options.
/dev/vda	/	ext4	errors=remount-ro	0	1
EOF
# mmdebstrap leaves this machine's resolv.conf; the guest has its own network.
rm -f "$tree/etc/resolv.conf"
: >"$tree/etc/resolv.conf"
# root logs in on the console without a password (pam_unix's nullok).
sed -i 's/^root:[^:]*:/root::/' "$tree/etc/shadow"
grep -q '^root::' "$tree/etc/shadow" || die "cannot clear root's password in /etc/shadow"
# A login prompt on the serial console (systemd's getty generator also
# starts it for console=ttyS0; this one is there whatever the command line).
mkdir -p "$tree/etc/systemd/system/getty.target.wants"
ln -sf /lib/systemd/system/serial-getty@.service \
	"$tree/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service"
# slicevm.rootfs=poweroff: say the system is up (and which units failed),
# then power off.
cat >"$tree/usr/local/sbin/slicevm-booted" <<'EOF'
#!/bin/sh
# The serial getty starts with multi-user.target: a moment for its login
# prompt, so the transcript of an unattended boot shows it (around this
# line, not always before it) before the power off.
sleep 2
failed=$(systemctl list-units --failed --plain --no-legend | cut -d' ' -f1 | paste -sd, -)
echo "SLICEVM-ROOTFS-BOOTED $(cat /proc/sys/kernel/hostname) uptime=$(cut -d' ' -f1 /proc/uptime)s failed=${failed:-none}"
EOF
chmod 0755 "$tree/usr/local/sbin/slicevm-booted"
cat >"$tree/etc/systemd/system/slicevm-booted.service" <<'EOF'
[Unit]
Description=slicevm: report a booted system and power off (slicevm.rootfs=poweroff)
ConditionKernelCommandLine=slicevm.rootfs=poweroff
After=multi-user.target getty.target

[Service]
Type=oneshot
StandardOutput=journal+console
ExecStart=/usr/local/sbin/slicevm-booted
ExecStart=/bin/systemctl --no-block poweroff

[Install]
WantedBy=multi-user.target
EOF
mkdir -p "$tree/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/slicevm-booted.service \
	"$tree/etc/systemd/system/multi-user.target.wants/slicevm-booted.service"

# --- the image -------------------------------------------------------------
# Size: what the tree holds plus a quarter and 64 MiB free, in whole MiB;
# inodes: twice the files plus 8192 (the default ratio would give a small
# file system too few for a Debian tree).
used_kib=$(du -sk "$tree" | cut -f1)
files=$(find "$tree" | wc -l)
size_mib=$(( used_kib * 5 / 4 / 1024 + 64 ))
say "tree: $((used_kib / 1024)) MiB in $files files; making a $size_mib MiB ext4 image"
"$mkfs" -q -F -t ext4 -b 4096 -L slicevm-root -N $((files * 2 + 8192)) \
	-d "$tree" "$work/image" "${size_mib}M" >&2 || die "mkfs.ext4 -d failed"
mv "$work/image" "$img"
printf '%s\n' "$stamp" >"$img.stamp"
t1=$(date +%s)
say "built $img in $((t1 - t0)) s: $(du -h --apparent-size "$img" | cut -f1) ($(du -h "$img" | cut -f1) on disk, sparse)"
echo "$img"
