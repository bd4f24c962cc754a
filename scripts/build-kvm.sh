#!/bin/sh
# Builds slicevm's kernel component (kernel/README.md): Debian's own KVM
# modules for the lab's kernel, from Debian's source of that kernel with
# kernel/patches applied, against Debian's headers of it.
#
#   scripts/build-kvm.sh [--no-vmx] [--kernel VER]       (make kernel)
#
#   --no-vmx        kvm.ko and kvm-amd.ko only (the lab's path: L1 is AMD);
#                   BUILD_VMX=0 does the same. Default: kvm-intel.ko too.
#   --kernel VER    the kernel to build for (6.12.N+deb12-amd64); default the
#                   newest Debian 12 knows, as tests/lab/guest.sh picks it.
#   KVM_JOBS        parallel jobs of the module build (default 2).
#
# Into $SLICEVM_CACHE (default <repo>/cache)/kvm:
#   debs/                   linux-source-6.12, linux-headers-VER (and the
#                           -common and linux-kbuild packages it depends on),
#                           fetched with apt-get download: nothing is installed
#   VER/headers/            those headers unpacked (dpkg-deb -x)
#   VER/source/             arch/x86/kvm and virt/kvm of the source, pristine
#   VER/kvm.ko kvm-amd.ko [kvm-intel.ko]   the modules (debug info stripped,
#                           as Debian's own), VER/build.log, VER/stamp
# The stamp holds the kernel and package versions and the checksums of
# kernel/patches, kernel/include and this script: when it matches (and
# kvm-intel.ko is there if asked for) nothing is done. Prints the module
# directory on stdout; everything else goes to stderr.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cache=$(realpath -m "${SLICEVM_CACHE:-$top/cache}")
kcache=$cache/kvm
BUILD_VMX=${BUILD_VMX:-1}
KVM_JOBS=${KVM_JOBS:-2}
ver=""

say() { echo "build-kvm: $*" >&2; }
die() { say "$*"; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	--no-vmx) BUILD_VMX=0 ;;
	--vmx) BUILD_VMX=1 ;;
	--kernel) [ $# -ge 2 ] || die "--kernel needs a version"; ver=$2; shift ;;
	*) die "usage: scripts/build-kvm.sh [--no-vmx] [--kernel 6.12.N+deb12-amd64]" ;;
	esac
	shift
done

for tool in apt-cache apt-get dpkg-deb tar xz patch make strip cksum flock \
	x86_64-linux-gnu-gcc-12 pahole; do
	command -v "$tool" >/dev/null ||
		die "$tool is missing: run scripts/install-deps.sh (as root)"
done

# --- which kernel -------------------------------------------------------------
# The newest linux-image-6.12.N+deb12-amd64, as tests/lab/guest.sh chooses
# the lab's kernel (the number moves with security updates).
newest_kernel() {
	apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' 2>/dev/null |
		sed 's/ .*//; s/^linux-image-//' | sort -V | tail -n 1
}
if [ -z "$ver" ]; then
	ver=$(newest_kernel)
	if [ -z "$ver" ] && [ "$(id -u)" -eq 0 ]; then
		say "apt-cache knows no 6.12 kernel: running apt-get update"
		apt-get update -q >&2
		ver=$(newest_kernel)
	fi
	[ -n "$ver" ] ||
		die "no linux-image-6.12.*+deb12-amd64 package found: run 'apt-get update' as root (Debian 12 sources needed)"
fi
case "$ver" in
6.12.*+deb12-amd64) ;;
*) die "kernel $ver: the component is built for Debian 12's 6.12.N+deb12-amd64 kernels" ;;
esac

mkdir -p "$kcache/debs"
# One build at a time (make kernel and a lab run may start together).
exec 9>"$kcache/.lock"
flock 9

# The package version of that kernel (6.12.N-R~deb12uM): the one the lab
# downloaded when it has, else apt's candidate.
imgdeb=$(ls "$cache/debs/linux-image-${ver}_"*.deb 2>/dev/null | head -n 1 || true)
if [ -n "$imgdeb" ]; then
	pkgver=$(dpkg-deb -f "$imgdeb" Version)
else
	pkgver=$(apt-cache show --no-all-versions "linux-image-$ver" 2>/dev/null |
		sed -n 's/^Version: //p' | head -n 1)
fi
[ -n "$pkgver" ] || die "cannot tell the package version of linux-image-$ver: run 'apt-get update' as root"

# Debian's source and headers of exactly that version, or nothing: modules
# built from other sources would not load into this kernel, or would load
# with code that differs from what it was built with.
has_version() {	# has_version PACKAGE VERSION: apt's lists offer it
	apt-cache madison "$1" 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' |
		grep -qxF "$2"
}
for p in linux-source-6.12 "linux-headers-$ver"; do
	has_version "$p" "$pkgver" ||
		die "$p $pkgver (the version of the lab's kernel linux-image-$ver) is not in apt's lists; they offer: $(apt-cache madison "$p" 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); printf "%s ", $2 }')- run 'apt-get update' as root"
done

kv=$kcache/$ver
stamp="kernel=$ver $pkgver
patches=$(cat "$top"/kernel/patches/*.patch | cksum)
abi=$(cat "$top"/kernel/include/*.h | cksum)
script=$(cksum <"$0")"
if [ -f "$kv/stamp" ] && [ "$(cat "$kv/stamp")" = "$stamp" ] &&
	{ [ "$BUILD_VMX" = 0 ] || [ -f "$kv/kvm-intel.ko" ]; }; then
	say "up to date: $kv"
	echo "$kv"
	exit 0
fi
t0=$(date +%s)

# --- download (cached) --------------------------------------------------------
. "$top/scripts/apt-fetch.sh"
# fetch PACKAGE: its .deb at $pkgver in debs/ (downloaded once); prints the path.
fetch() {
	apt_fetch "$kcache/debs" "$1" "$pkgver"
}
hdrdeb=$(fetch "linux-headers-$ver")
# What the headers need to build modules: their -common part and the kbuild
# tools (scripts, objtool, resolve_btfids), as its Depends: names them.
deps=$(dpkg-deb -f "$hdrdeb" Depends | tr ',|' '\n\n' | sed 's/^ *//; s/ .*//')
common=$(echo "$deps" | grep '^linux-headers-.*-common$' | head -n 1)
kbuild=$(echo "$deps" | grep '^linux-kbuild-' | head -n 1)
[ -n "$common" ] && [ -n "$kbuild" ] ||
	die "$(basename "$hdrdeb") names no -common headers or linux-kbuild package in its Depends"
commondeb=$(fetch "$common")
kbuilddeb=$(fetch "$kbuild")
srcdeb=$(fetch linux-source-6.12)
# Other versions' packages are not needed any more, nor their builds.
for f in "$kcache"/debs/*.deb; do
	case "$f" in
	"$hdrdeb" | "$commondeb" | "$kbuilddeb" | "$srcdeb") ;;
	*) rm -f "$f" ;;
	esac
done
for d in "$kcache"/*/; do
	case "$d" in
	"$kcache/debs/" | "$kv/") ;;
	*) rm -rf "$d" ;;
	esac
done
mkdir -p "$kv"

# --- unpack (cached per package version) --------------------------------------
hdr=$kv/headers/usr/src/linux-headers-$ver
if [ "$(cat "$kv/headers/.unpacked" 2>/dev/null)" != "$pkgver" ]; then
	say "unpacking the headers"
	rm -rf "$kv/headers"
	for f in "$hdrdeb" "$commondeb" "$kbuilddeb"; do
		dpkg-deb -x "$f" "$kv/headers"
	done
	echo "$pkgver" >"$kv/headers/.unpacked"
fi
# The flavour's Makefile includes the -common one by its installed path:
# point it at ours, on every run (the cache may have moved with its tree).
sed -i "s|^include .*/usr/src/\(linux-headers-[^/]*-common/\)|include $kv/headers/usr/src/\1|" "$hdr/Makefile"
grep -q "^include $kv/headers/usr/src/" "$hdr/Makefile" ||
	die "$hdr/Makefile does not include the -common headers as expected"
if [ "$(cat "$kv/source/.unpacked" 2>/dev/null)" != "$pkgver" ]; then
	say "unpacking arch/x86/kvm and virt/kvm from linux-source-6.12 $pkgver"
	rm -rf "$kv/source"
	mkdir -p "$kv/source"
	# Straight from the package to the two directories, without the 150 MB
	# tarball on disk. kvm_host.h only to compare with the headers' copy.
	dpkg-deb --fsys-tarfile "$srcdeb" | tar -xOf - ./usr/src/linux-source-6.12.tar.xz |
		tar -xJf - -C "$kv/source" --strip-components=1 \
			linux-source-6.12/arch/x86/kvm linux-source-6.12/virt/kvm \
			linux-source-6.12/include/linux/kvm_host.h ||
		die "cannot unpack arch/x86/kvm and virt/kvm from $(basename "$srcdeb")"
	cmp -s "$kv/source/include/linux/kvm_host.h" \
		"$kv/headers/usr/src/$common/include/linux/kvm_host.h" ||
		die "the source's include/linux/kvm_host.h differs from the headers' ($common): not the same kernel"
	echo "$pkgver" >"$kv/source/.unpacked"
fi

# --- patch and build ----------------------------------------------------------
tree=$(mktemp -d "$kv/build.XXXXXX")
trap 'rm -rf "$tree"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cp -a "$kv/source/arch" "$kv/source/virt" "$tree/"
for p in "$top"/kernel/patches/*.patch; do
	patch -d "$tree" -p1 --batch --forward --no-backup-if-mismatch -s <"$p" ||
		die "kernel/patches/$(basename "$p") does not apply to Debian's $pkgver source"
done
# The ABI header, where the patched Makefile's include path looks for it:
# the repository's own kernel/include, not a copy.
mkdir -p "$tree/slicevm"
ln -s "$top/kernel/include" "$tree/slicevm/include"

mods="kvm kvm-amd"
novmx=""
if [ "$BUILD_VMX" = 0 ]; then
	# Only what the lab loads; kbuild's command line wins over the .config.
	novmx=CONFIG_KVM_INTEL=
else
	mods="$mods kvm-intel"
fi
say "building $(echo "$mods" | sed 's/\([^ ]*\)/\1.ko/g') for $ver with $KVM_JOBS jobs (1-4 minutes on 2 cores)"
# shellcheck disable=SC2086
if ! make -C "$hdr" M="$tree/arch/x86/kvm" modules -j"$KVM_JOBS" $novmx >"$kv/build.log" 2>&1; then
	tail -n 30 "$kv/build.log" >&2
	die "the module build failed (log: $kv/build.log)"
fi
grep -q 'warning:' "$kv/build.log" && {
	say "the build warned:"
	grep -A3 'warning:' "$kv/build.log" | head -n 40 >&2
}

rm -f "$kv/stamp"
for m in $mods; do
	ko=$tree/arch/x86/kvm/$m.ko
	[ -f "$ko" ] || die "the build made no $m.ko (log: $kv/build.log)"
	magic=$(tr '\0' '\n' <"$ko" | sed -n 's/^vermagic=//p' | head -n 1)
	case "$magic" in
	"$ver "*) ;;
	*) die "$m.ko has vermagic '$magic', not for $ver" ;;
	esac
	# Without debug info, as Debian installs its modules (BTF stays).
	strip --strip-debug -o "$kv/$m.ko.new" "$ko"
	mv "$kv/$m.ko.new" "$kv/$m.ko"
done
[ "$BUILD_VMX" = 0 ] && rm -f "$kv/kvm-intel.ko"
printf '%s\n' "$stamp" >"$kv/stamp"
say "built $(cd "$kv" && ls -- *.ko | tr '\n' ' ')in $kv in $(($(date +%s) - t0)) s"
echo "$kv"
