#!/bin/sh
# Installs every Debian package that building slicevm, building its guest and
# lab, and running its tests need. Idempotent: does nothing when all are there.
# gcc-12 and pahole build the kernel component (make kernel, scripts/build-kvm.sh)
# against Debian's linux-headers: gcc-12 is the compiler Debian built its 6.12
# kernel with, and pahole adds BTF to the modules as the headers' .config asks.
set -eu

PACKAGES="make gcc clang libclang-rt-14-dev pkg-config
libjson-c-dev libsqlite3-dev libhwloc-dev libnuma-dev liburing-dev
libseccomp-dev libcmocka-dev
qemu-system-x86 busybox-static cpio zstd xz-utils e2fsprogs valgrind file
fio iperf3
gcc-12 pahole"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing; run this script as root" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
