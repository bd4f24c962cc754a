# slicevm: one binary, one directory per concern under src/.
#
#   make               build build/slicevm
#   make check         unit tests (cmocka), fuzz corpora and lab tests; ends "N passed, N failed"
#   make check-unit    unit tests only (UNIT_MODULES="host lib" narrows them)
#   make check-lab     lab tests only (boots the nested lab, see tests/lab/)
#   make asan          build and unit-test with AddressSanitizer and UBSan
#   make fuzz          build the libFuzzer harnesses (build/fuzz/) and run each
#                      for FUZZ_TIME seconds (bench/fuzz.sh); a crash fails
#   make check-fuzz    run every file of the fuzz corpora once (part of check)
#   make fuzz-merge    merge new inputs of the last `make fuzz` into tests/fuzz/corpus
#   make boot          boot the default guest (in the lab on hosts whose KVM cannot)
#   make rootfs        build a small Debian 12 root file system image (cache/rootfs/, mmdebstrap)
#   make boot ROOTFS=cache/rootfs/debian-12.ext4   boot that image as the guest's /dev/vda
#   make bench         boot-time and memory benchmark against QEMU microvm
#   make bench-mem     guest memory by slice backing against QEMU (bench/mem.sh)
#   make bench-virtio  virtio disk and network I/O against QEMU (bench/virtio.sh)
#   make bench-passthrough  fio on a passed-through NVMe against QEMU vfio-pci (bench/passthrough.sh)
#   make bench-timer   VM exits per guest timer tick and per IPI, direct timer, interrupts and IPIs against stock KVM (bench/timer.sh)
#   make kernel        the kernel component: Debian's KVM modules with kernel/patches
#                      (scripts/build-kvm.sh, cache/kvm/; BUILD_VMX=0: no kvm-intel.ko)
#   make install PREFIX=/usr/local

.DEFAULT_GOAL := all

PREFIX	?= /usr/local
BUILD	?= build
CC	?= cc

PKGS		:= json-c sqlite3 hwloc liburing libseccomp
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS	:= $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lnuma -lpthread

CFLAGS	?= -O2 -g
CFLAGS	+= -std=gnu11 -D_GNU_SOURCE -Isrc -Ikernel/include $(PKG_CFLAGS) -MMD -MP \
	   -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow \
	   -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
LDLIBS	+= $(PKG_LIBS)

# The fuzz build (FUZZ=1, BUILD=build/fuzz, CC=clang): every module with
# sanitizers and libFuzzer's coverage instrumentation. FUZZ_CFLAGS come
# last, e.g. "-fno-sanitize=nonnull-attribute" (with another FUZZ_BUILD) to
# fuzz on past a known bug.
ifeq ($(FUZZ),1)
CFLAGS	+= -fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer \
	   -fno-sanitize-recover=all $(FUZZ_CFLAGS)
endif

ifeq ($(SANITIZE),1)
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS	+= -fsanitize=address,undefined
endif

MODULES		:= lib mem ctl virtio boot devices vfio host vmm cli
UNIT_MODULES	?= lib mem ctl virtio boot devices vfio host vmm

mod_objs = $(patsubst src/%.c,$(BUILD)/%.o,$(wildcard src/$(1)/*.c))
mod_lib  = $(BUILD)/lib$(1).a
ALL_LIBS := $(foreach m,$(MODULES),$(call mod_lib,$(m)))

$(foreach m,$(MODULES),$(eval $(call mod_lib,$(m)): $(call mod_objs,$(m))))

UNIT_SRCS := $(foreach m,$(UNIT_MODULES),$(wildcard tests/unit/test_$(m)_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
UNIT_LIBS := $(foreach m,$(sort $(UNIT_MODULES) lib),$(call mod_lib,$(m)))

FUZZ_CC		?= clang
FUZZ_BUILD	?= build/fuzz
FUZZ_TIME	?= 60
FUZZ_NAMES	:= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS	:= $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_NAMES))
FUZZ_LIBS	:= $(foreach m,$(filter-out cli,$(MODULES)),$(call mod_lib,$(m)))

.PHONY: all deps check check-unit check-lab unit asan boot guest lab bench bench-mem install clean
.PHONY: fuzz fuzz-build fuzz-bins fuzz-merge check-fuzz
all: $(BUILD)/slicevm

$(BUILD)/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/lib%.a:
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/slicevm: $(ALL_LIBS)
	$(CC) $(LDFLAGS) -o $@ -Wl,--start-group $(ALL_LIBS) -Wl,--end-group $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(UNIT_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -Wl,--start-group $(UNIT_LIBS) \
		-Wl,--end-group $(LDLIBS) -lcmocka

unit: $(UNIT_BINS)

deps:
	@scripts/install-deps.sh

check: deps
	$(MAKE) all unit
	$(MAKE) fuzz-build
	tests/run.sh --unit "$(UNIT_BINS)" --fuzz "$(FUZZ_BINS)" --lab $(BUILD)/slicevm

check-unit: unit
	tests/run.sh --unit "$(UNIT_BINS)"

check-lab: all
	tests/run.sh --lab $(BUILD)/slicevm

# Harnesses in tests/fuzz/, seeds in tests/fuzz/corpus/<name>/ (see bench/fuzz.sh).
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIBS)
	$(CC) $(CFLAGS) -DFUZZ_TOPO_DIR='"$(CURDIR)/tests/unit/data/host"' \
		-fsanitize=fuzzer -o $@ $< -Wl,--start-group $(FUZZ_LIBS) \
		-Wl,--end-group $(LDLIBS)

fuzz-bins: $(patsubst %,$(BUILD)/fuzz_%,$(FUZZ_NAMES))

fuzz-build:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) FUZZ=1 fuzz-bins

fuzz: fuzz-build
	FUZZ_TIME=$(FUZZ_TIME) bench/fuzz.sh $(FUZZ_BINS)

check-fuzz: fuzz-build
	tests/run.sh --fuzz "$(FUZZ_BINS)"

fuzz-merge: fuzz-build
	bench/fuzz.sh --merge $(FUZZ_BINS)

asan:
	$(MAKE) BUILD=build/asan SANITIZE=1 CC=$(CC) check-unit

guest: deps
	tests/lab/guest.sh

# ROOTFS=IMAGE: boot the system on IMAGE (the VM's /dev/vda) rather than the busybox initramfs.
ROOTFS	?=
boot: deps all
	scripts/boot-default-guest.sh $(BUILD)/slicevm $(ROOTFS)

# A Debian 12 root file system image for ROOTFS= (scripts/build-rootfs.sh; cached).
.PHONY: rootfs
rootfs: deps
	scripts/build-rootfs.sh

# The kernel component (kernel/README.md): kvm.ko, kvm-amd.ko and kvm-intel.ko
# built from Debian's linux-source-6.12 with kernel/patches, in cache/kvm/VER/.
.PHONY: kernel
kernel: deps
	scripts/build-kvm.sh >/dev/null

bench: deps all
	bench/boot.sh $(BUILD)/slicevm

# Guest memory by backing (anon, hugetlb, reserved) against QEMU, in the lab.
bench-mem: deps all
	bench/mem.sh $(BUILD)/slicevm

# Virtio disk (and later network) I/O against QEMU, in the lab (bench/virtio.sh).
.PHONY: bench-virtio
bench-virtio: deps all
	bench/virtio.sh $(BUILD)/slicevm

# PCI passthrough (an NVMe) against virtio-blk and QEMU's vfio-pci, in the
# lab's IOMMU flavour (bench/passthrough.sh).
.PHONY: bench-passthrough
bench-passthrough: deps all
	bench/passthrough.sh $(BUILD)/slicevm

# The kernel component's direct timer against stock KVM: VM exits of an
# idle vCPU and of a 1 kHz guest timer loop, in the lab (bench/timer.sh).
.PHONY: bench-timer
bench-timer: deps all
	bench/timer.sh $(BUILD)/slicevm

# make install PREFIX=/usr/local DESTDIR=: the binary, the man pages, bash
# completion, the example configurations and the systemd units (whose
# ExecStart= names $(BINDIR)/slicevm, without DESTDIR).
BINDIR		?= $(PREFIX)/bin
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/slicevm
BASHCOMPDIR	?= $(PREFIX)/share/bash-completion/completions
UNITDIR		?= $(PREFIX)/lib/systemd/system
MAN_PAGES	:= $(wildcard man/*.1)
EXAMPLES	:= $(wildcard examples/*.json examples/README.md)
UNITS		:= slicevm@.service slicevm-host.service

install: all
	install -D -m 0755 $(BUILD)/slicevm $(DESTDIR)$(BINDIR)/slicevm
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(UNITDIR)
	install -m 0644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 completion/slicevm.bash $(DESTDIR)$(BASHCOMPDIR)/slicevm
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	for u in $(UNITS); do \
		sed 's|@BINDIR@|$(BINDIR)|g' systemd/$$u.in >$(DESTDIR)$(UNITDIR)/$$u.tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp && \
		mv -f $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
