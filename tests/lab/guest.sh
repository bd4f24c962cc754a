#!/bin/sh
# Builds the default slicevm guest and the ingredients of the nested lab.
#
#   tests/lab/guest.sh            (make guest)
#
# Into $SLICEVM_CACHE (default: <repo>/cache):
#   debs/linux-image-<ver>_*.deb    the Debian 6.12 kernel package (downloaded once)
#   guest/bzImage                   its bzImage
#   guest/vmlinux                   the ELF vmlinux unpacked from the bzImage payload
#   guest/initrd.cpio.gz            busybox-static + tests/lab/guest-init as /init,
#                                   and the GUEST_MODULES (decompressed, with their
#                                   dependencies) in /lib/modules, load-order there
#   guest/initrd-fio.cpio.gz        the same plus Debian's fio as /bin/fio with the
#                                   libraries it loads (the disk cases' fio check,
#                                   bench/virtio.sh); kept apart so normal boots
#                                   stay small
#   guest/modules/*.ko              modules for the lab's L1 (decompressed): kvm, pmem, tun,
#                                   vhost-net; vfio and nvme; ext4 and lpc_ich
#   guest/modules/load-order        the insmod order of what every L1 loads, dependencies first
#   guest/modules/load-order.iommu  what an L1 booted with "# lab: iommu=nvme" loads after those
#   guest/modules/load-order.case   shipped, not loaded: cases insmod them when they need them
#   guest/version                   the kernel version
# A re-run with nothing changed only checks the stamp and returns.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=$(realpath -m "${SLICEVM_CACHE:-$top/cache}")
guest=$cache/guest
# L1 needs these to run KVM guests on the SVM that QEMU TCG emulates.
# nd_e820 ... device_dax: a memmap=SIZE!START range as pmem, then device-dax.
# tun ... vhost_net: taps for --net and the kernel's vhost-net data path
# (/dev/net/tun, /dev/vhost-net). vhost_net's depends= is vhost,tun,tap
# (tap: the macvtap helper) and vhost's is vhost_iotlb; add_module puts
# each dependency first whatever the order here.
L1_MODULES="irqbypass kvm ccp kvm-amd nd_e820 nd_pmem dax_pmem device_dax tun vhost_iotlb vhost vhost_net"
# The IOMMU flavour of L1 ("# lab: iommu=nvme", an emulated NVMe behind an
# intel-iommu): the NVMe's host driver (nvme: depends= nvme-core, whose
# depends= is nvme-auth), so the device starts on it as on a real host, and
# VFIO with the type1 IOMMU back end and vfio-pci (vfio-pci-core's depends=
# is vfio,irqbypass; vfio's softdep=post: vfio_iommu_type1 is listed here,
# add_module only follows pre:). Debian 6.12 has IOMMUFD off, so vfio needs
# no iommufd. Loaded by l1-init after L1_MODULES, only in that flavour.
L1_IOMMU_MODULES="nvme vfio vfio_iommu_type1 vfio-pci-core vfio-pci"
# Shipped to every L1 but loaded by no one but the cases that want them:
# ext4 (to mount a file system on the NVMe in L1), lpc_ich (a host driver
# for the ICH9 LPC bridge of a q35 L1, which shares an IOMMU group with the
# SATA and SMBus functions).
L1_CASE_MODULES="ext4 lpc_ich"
# The guest loads these from its initramfs (/lib/modules, in this order,
# each after what it needs): the ACPI power button and input events, the
# virtio-pci drivers slicevm's devices need (virtio_pci itself is built in),
# and ext4 for the disk tests.
# nvme: a passed-through NVMe (slicevm.test=nvme).
GUEST_MODULES="button evdev virtio_blk virtio_rng virtio_net ext4 nvme"
# Soft dependencies (softdep=pre: in .modinfo) name an alias, not a module;
# the package has no modules.alias (depmod writes it at install time), so
# the module meant for each alias is named here. crc32c_generic rather than
# crc32c_intel, which needs SSE4.2.
MODULE_ALIASES="crypto-crc32c=crc32c_generic crc32c=crc32c_generic"

say() { echo "guest.sh: $*" >&2; }
die() { say "$*"; exit 1; }

for tool in apt-cache apt-get dpkg-deb zstd xz cpio gzip od; do
	command -v "$tool" >/dev/null ||
		die "$tool is missing: run scripts/install-deps.sh (as root)"
done

# The newest linux-image-6.12.N+deb12-amd64; the number moves with security
# updates, so look it up rather than pinning it.
newest_kernel() {
	apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' 2>/dev/null |
		sed 's/ .*//; s/^linux-image-//' | sort -V | tail -n 1
}

ver=$(newest_kernel)
if [ -z "$ver" ]; then
	if [ -s "$guest/version" ]; then
		# Offline and no package lists, but a guest is already built: keep it.
		ver=$(cat "$guest/version")
		say "apt-cache knows no 6.12 kernel; keeping the cached $ver"
	elif [ "$(id -u)" -eq 0 ]; then
		say "apt-cache knows no 6.12 kernel: running apt-get update"
		apt-get update -q >&2
		ver=$(newest_kernel)
	fi
fi
[ -n "$ver" ] ||
	die "no linux-image-6.12.*+deb12-amd64 package found: run 'apt-get update' as root (Debian 12 sources needed)"

busybox=$(dpkg -L busybox-static 2>/dev/null | grep '/busybox$' | head -n 1 || true)
[ -n "$busybox" ] && [ -x "$busybox" ] ||
	die "busybox-static is not installed: run scripts/install-deps.sh (as root)"
fio=$(command -v fio || true)
[ -n "$fio" ] || die "fio is not installed: run scripts/install-deps.sh (as root)"
for tool in gcc readelf ldd; do
	command -v "$tool" >/dev/null || die "$tool is missing (it builds fio's stub libraries)"
done

# Everything the result depends on; a match means the cache is current.
stamp="kernel=$ver
busybox=$(cksum <"$busybox")
init=$(cksum <"$here/guest-init")
timerloop=$(cksum <"$here/timerloop.c")
ipiping=$(cksum <"$here/ipiping.c")
fio=$(cksum <"$fio")
script=$(cksum <"$0")
modules=$GUEST_MODULES
l1=$L1_MODULES|$L1_IOMMU_MODULES|$L1_CASE_MODULES"
if [ -f "$guest/stamp" ] && [ "$(cat "$guest/stamp")" = "$stamp" ]; then
	exit 0
fi

# --- download (cached) ---------------------------------------------------
mkdir -p "$cache/debs"
deb=$(ls "$cache/debs/linux-image-${ver}_"*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
	say "downloading linux-image-$ver"
	# As root apt wants to drop to _apt, which cannot write the cache dir;
	# the download is a plain file fetch, so root is fine here.
	sandbox=""
	[ "$(id -u)" -eq 0 ] && sandbox="-o APT::Sandbox::User=root"
	# shellcheck disable=SC2086
	(cd "$cache/debs" && apt-get download -q $sandbox "linux-image-$ver" >&2)
	deb=$(ls "$cache/debs/linux-image-${ver}_"*.deb 2>/dev/null | head -n 1 || true)
	[ -n "$deb" ] || die "apt-get download linux-image-$ver produced no .deb"
	# Older kernels' packages are not needed any more.
	for old in "$cache/debs"/linux-image-*.deb; do
		[ "$old" = "$deb" ] || rm -f "$old"
	done
fi

# --- unpack into a scratch dir, build into guest.new, then swap ------------
work=$(mktemp -d "$cache/guest-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
say "building the guest from $(basename "$deb")"
dpkg-deb -x "$deb" "$work/pkg"
new=$work/guest
mkdir -p "$new/modules"

bz=$work/pkg/boot/vmlinuz-$ver
[ -f "$bz" ] || die "$(basename "$deb") has no boot/vmlinuz-$ver"
cp "$bz" "$new/bzImage"

# Little-endian integer of N bytes at OFFSET of FILE.
le() {
	od -An -tu1 -j "$2" -N "$3" "$1" |
		awk '{ for (i = NF; i >= 1; i--) v = v * 256 + $i } END { printf "%d\n", v }'
}

# vmlinux: the protected-mode part starts after (setup_sects + 1) sectors;
# payload_offset (0x248) and payload_length (0x24c) locate the compressed
# kernel inside it. The payload ends with a 4-byte decompressed size that is
# not part of the zstd frame, so it is cut off.
setup_sects=$(le "$bz" $((0x1f1)) 1)
[ "$setup_sects" -eq 0 ] && setup_sects=4
poff=$(( (setup_sects + 1) * 512 + $(le "$bz" $((0x248)) 4) ))
plen=$(le "$bz" $((0x24c)) 4)
magic=$(od -An -tx1 -j "$poff" -N 4 "$bz" | tr -d ' ')
[ "$magic" = "28b52ffd" ] ||
	die "bzImage payload at $poff is not zstd (magic $magic): cannot unpack vmlinux"
tail -c +$((poff + 1)) "$bz" | head -c $((plen - 4)) | zstd -dcq >"$new/vmlinux"
[ "$(od -An -tx1 -N 4 "$new/vmlinux" | tr -d ' ')" = "7f454c46" ] ||
	die "the unpacked vmlinux is not an ELF file"

# Modules: decompress (busybox insmod cannot read .ko.xz) and follow the
# .modinfo fields so dependencies load first: depends= (what modules.dep
# would list) and the pre: part of softdep= (what modprobe loads before),
# the latter through MODULE_ALIASES; modules built into the kernel
# (modules.builtin) are skipped.
kdir=$work/pkg/lib/modules/$ver/kernel
builtin=$work/pkg/lib/modules/$ver/modules.builtin
# mod_file NAME: the .ko.xz of NAME ('-' and '_' are the same in module names).
mod_file() {
	find "$kdir" \( -name "$1.ko.xz" -o -name "$(echo "$1" | tr _ -).ko.xz" \
		-o -name "$(echo "$1" | tr - _).ko.xz" \) | head -n 1
}
# is_builtin NAME: NAME is part of the kernel image.
is_builtin() {
	sed 's|.*/||; s|\.ko$||' "$builtin" 2>/dev/null | tr - _ |
		grep -qx "$(echo "$1" | tr - _)"
}
# soft_dep ALIAS: the module that provides ALIAS, or nothing when built in.
soft_dep() {
	local a
	for a in $MODULE_ALIASES; do
		[ "${a%%=*}" = "$1" ] && { echo "${a#*=}"; return 0; }
	done
	is_builtin "$1" && return 0
	[ -n "$(mod_file "$1")" ] && { echo "$1"; return 0; }
	die "soft dependency $1 is no module of linux-image-$ver: add it to MODULE_ALIASES"
}
# (local: dash and busybox sh have it; the recursion needs it.)
# add_module DIR NAME [ORDER]: NAME and what it depends on into DIR, listed
# in DIR/ORDER (default load-order); a module already in any DIR/load-order*
# is not added again (a list loaded later relies on the earlier ones).
add_module() {
	local dir=$1 name=$2 order=${3:-load-order} file deps dep soft
	cat "$dir"/load-order* 2>/dev/null | grep -qx "$name" && return 0
	file=$(mod_file "$name")
	[ -n "$file" ] || die "module $name not found in linux-image-$ver"
	xz -dc "$file" >"$dir/$name.ko"
	deps=$(tr '\0' '\n' <"$dir/$name.ko" | sed -n 's/^depends=//p' | head -n 1)
	# "softdep=pre: a b post: c": a and b.
	soft=$(tr '\0' '\n' <"$dir/$name.ko" | sed -n 's/^softdep=//p' | awk '{
		pre = 0
		for (i = 1; i <= NF; i++)
			if ($i == "pre:") pre = 1; else if ($i == "post:") pre = 0; else if (pre) print $i
	}')
	for dep in $soft; do
		dep=$(soft_dep "$dep") || exit 1
		if [ -n "$dep" ]; then add_module "$dir" "$dep" "$order"; fi
	done
	for dep in $(echo "$deps" | tr , ' '); do
		add_module "$dir" "$dep" "$order"
	done
	echo "$name" >>"$dir/$order"
}
: >"$new/modules/load-order"
for m in $L1_MODULES; do
	add_module "$new/modules" "$m"
done
: >"$new/modules/load-order.iommu"
for m in $L1_IOMMU_MODULES; do
	add_module "$new/modules" "$m" load-order.iommu
done
: >"$new/modules/load-order.case"
for m in $L1_CASE_MODULES; do
	add_module "$new/modules" "$m" load-order.case
done

# The guest initramfs: static busybox with a link per applet, and our /init.
root=$work/initrd
mkdir -p "$root/bin" "$root/sbin" "$root/proc" "$root/sys" "$root/dev" \
	"$root/tmp" "$root/root" "$root/etc"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
# Modules the guest loads itself (Debian builds them as modules): the ACPI
# power button and input events, so 'slicevm stop' can shut it down; the
# virtio drivers and ext4 (GUEST_MODULES).
mkdir -p "$root/lib/modules"
: >"$root/lib/modules/load-order"
for m in $GUEST_MODULES; do
	add_module "$root/lib/modules" "$m"
done
cp "$here/guest-init" "$root/init"
chmod 0755 "$root/init"
# The guest's timer workload (slicevm.test=timer:...), static like busybox.
gcc -static -O2 -s -Wall -Wextra -o "$root/bin/timerloop" "$here/timerloop.c" ||
	die "cannot build tests/lab/timerloop.c"
# IPIs between the guest's CPUs (slicevm.test=ipiping:...).
gcc -static -O2 -s -Wall -Wextra -pthread -o "$root/bin/ipiping" "$here/ipiping.c" ||
	die "cannot build tests/lab/ipiping.c"
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
(cd "$root" && find . | sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9n >"$new/initrd.cpio.gz"

# initrd-fio.cpio.gz: the same tree plus Debian's fio. fio links the
# libraries of every I/O engine Debian builds in (Ceph RADOS/RBD,
# GlusterFS, NBD, RDMA, PMDK: about 80 MB with what they pull in); the
# guest only uses psync and libaio, so those are replaced by stub
# libraries of the same soname that define the functions fio imports from
# them (fio is linked with BIND_NOW, so every one must resolve) and exit
# 127 if one is ever called. fio itself is Debian's binary, unchanged.
FIO_STUB_LIBS="libgfapi.so.0 libnbd.so.0 libibverbs.so.1 librdmacm.so.1 librados.so.2 librbd.so.1 libpmemblk.so.1 libpmem.so.1"
stubs=$work/fio-stubs
mkdir -p "$stubs"
readelf --dyn-syms -W "$fio" | awk '$7 == "UND" && $8 != "" { print $8 }' >"$stubs/und"
for so in $FIO_STUB_LIBS; do
	real=$(ldd "$fio" | sed -n "s|^[[:space:]]*$so => \(/[^ ]*\).*|\1|p")
	[ -n "$real" ] || die "$fio does not load $so any more: update FIO_STUB_LIBS"
	# What fio imports (NAME or NAME@VERSION) that $so defines.
	readelf --dyn-syms -W "$real" |
		awk '$7 != "UND" && $4 ~ /FUNC/ { n = $8; sub(/@.*/, "", n); print n }' >"$stubs/def"
	awk 'NR == FNR { d[$1] = 1; next }
	{ n = $1; v = ""; i = index(n, "@"); if (i) { v = substr(n, i + 1); n = substr(n, 1, i - 1) } }
	n in d { print n, v }' "$stubs/def" "$stubs/und" >"$stubs/$so.syms"
	{
		# (printf, not echo: dash's echo would turn the \n into a newline)
		printf '%s\n' '#include <unistd.h>' \
			'static const char m[] = ": I/O engine not in this guest (stub library)\n";' \
			'static void stub(const char *n) { write(2, n, __builtin_strlen(n));' \
			'	write(2, m, sizeof m - 1); _exit(127); }'
		awk '{ printf "void %s(void) { stub(\"%s\"); }\n", $1, $1 }' "$stubs/$so.syms"
	} >"$stubs/$so.c"
	# The symbol versions fio asks for, if any.
	awk '$2 != "" { s[$2] = s[$2] " " $1 ";" } END { for (v in s) printf "%s {\n global:%s\n};\n", v, s[v] }' \
		"$stubs/$so.syms" >"$stubs/$so.map"
	vs=""
	[ -s "$stubs/$so.map" ] && vs="-Wl,--version-script=$stubs/$so.map"
	# shellcheck disable=SC2086
	gcc -shared -fPIC -O2 -s -Wl,-soname,"$so" $vs -o "$stubs/$so" "$stubs/$so.c" ||
		die "cannot build the stub $so for fio"
done
# fio and what the loader loads for it with the stubs in place, at their
# own paths (as l0.sh's lab_copy_with_libs); the stubs where Debian keeps
# the real ones.
mkdir -p "$root/lib/x86_64-linux-gnu"
cp -L "$fio" "$root/bin/fio"
for lib in $(LD_LIBRARY_PATH=$stubs ldd "$fio" |
	sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
	case "$lib" in
	"$stubs"/*) cp "$lib" "$root/lib/x86_64-linux-gnu/" ;;
	*) mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib" ;;
	esac
done
(cd "$root" && find . | sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9n >"$new/initrd-fio.cpio.gz"

echo "$ver" >"$new/version"
printf '%s\n' "$stamp" >"$new/stamp"
# Swap with two renames so a lab running meanwhile sees no missing files
# for longer than a moment.
[ -d "$guest" ] && mv "$guest" "$work/old"
mv "$new" "$guest"
say "guest ready in $guest (Linux $ver)"
