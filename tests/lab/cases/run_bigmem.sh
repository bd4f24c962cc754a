#!/bin/sh
# lab: smp=2 mem=5G
# timeout: 300
# A 3.5 GiB guest: its RAM must continue above 4 GiB (past the 32-bit MMIO
# hole) and the guest must see nearly all of it.
. /lab/lib.sh

vmm_run 240 run --kernel "$GUEST_BZIMAGE" --initrd "$GUEST_INITRD" \
	--cmdline "$CMDLINE_POWEROFF" --cpus 2 --memory 3584M
want_rc 0
want_cpus 2
want_ram_above_4g
# The guest keeps ~5% here: struct pages, its image and a 64 MiB swiotlb
# (the kernel reserves that once RAM reaches past 4 GiB); allow 6%.
want_memtotal 3584 6
want_no_vmm
report "run: 3.5 GiB guest has RAM above 4 GiB and MemTotal within 6% of 3.5 GiB"
