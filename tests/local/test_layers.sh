#!/bin/sh
# The layers of src/ (docs/ARCHITECTURE.md): every #include "DIR/..." in
# src/MOD/ must name MOD itself or a layer MOD may use, so dependencies only
# run downward. A new include from a higher layer fails here, with the file
# and the line.
#
#   tests/local/test_layers.sh [SLICEVM_BINARY]   (the binary is not used)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)

# MODULE: the layers below it it may include.
allowed() {
	case "$1" in
	lib) echo "" ;;
	arch) echo "" ;;
	mem) echo "lib arch" ;;
	ctl) echo "lib" ;;
	virtio) echo "lib arch mem devices" ;;
	boot) echo "lib arch mem" ;;
	devices) echo "lib arch" ;;
	vfio) echo "lib arch mem devices" ;;
	host) echo "lib" ;;
	vmm) echo "lib arch mem ctl virtio boot devices vfio host" ;;
	cli) echo "lib arch mem ctl virtio boot devices vfio host vmm" ;;
	*) echo "?" ;;
	esac
}

bad=""
for dir in "$top"/src/*/; do
	mod=$(basename "$dir")
	ok=$(allowed "$mod")
	if [ "$ok" = "?" ]; then
		bad="$bad src/$mod is not a known layer (add it to tests/local/test_layers.sh);"
		continue
	fi
	# file:line:#include "DIR/..."
	for hit in $(grep -rnoE '#include "[a-z0-9_]+/' "$dir" | sed 's|#include "||; s|/$||' |
		sed "s|^$top/||"); do
		inc=${hit##*:}
		where=${hit%:*}
		[ "$inc" = "$mod" ] && continue
		case " $ok " in
		*" $inc "*) ;;
		*) bad="$bad $where includes $inc/ (src/$mod may use: ${ok:-nothing});" ;;
		esac
	done
done
if [ -z "$bad" ]; then
	echo "ok - layers: every include in src/ runs downward (lib, arch, mem/ctl, boot/devices/host, virtio/vfio, vmm, cli)"
else
	echo "not ok - layers:$bad"
	exit 1
fi
