# SPDX-License-Identifier: MIT
# vflaunch: build, test, install, demo.

CC         ?= cc
PKG_CONFIG ?= pkg-config
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
CFLAGS     ?= -O2 -g
VERSION    := 0.2.0

# Project flags stay apart from the user's CFLAGS.
WARN       := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
              -Wmissing-prototypes -Wwrite-strings
# Recursively expanded on purpose: `make check` installs the packages first, then re-enters make.
DEP_CFLAGS  = $(shell $(PKG_CONFIG) --cflags lua5.4 lua5.4-cjson libpci 2>/dev/null)
DEP_LIBS    = $(shell $(PKG_CONFIG) --libs lua5.4 lua5.4-cjson libpci 2>/dev/null)
TEST_CFLAGS = $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
TEST_LIBS   = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

B          := build
SRCS       := $(sort $(wildcard launcher/*.c))
OBJS       := $(SRCS:launcher/%.c=$(B)/%.o) $(B)/embedded.o
LIBOBJS    := $(filter-out $(B)/main.o,$(OBJS))
# The test build: the same sources compiled with -DVFLAUNCH_TESTING (it honours the VFLAUNCH_TEST_*
# fault injection), objects of its own so that the two builds never mix.
TB         := $(B)/testing
TESTOBJS   := $(SRCS:launcher/%.c=$(TB)/%.o) $(TB)/embedded.o
LUASRC     := $(sort $(wildcard lua/*.lua lua/*/*.lua))
UNITSRC    := $(sort $(wildcard tests/unit/test_*.c))
UNITBIN    := $(UNITSRC:tests/unit/%.c=$(B)/tests/%)

# Debian packages: to build, to test, to rehearse guests.
BUILD_PKGS := build-essential pkg-config liblua5.4-dev lua-cjson-dev libpci-dev pci.ids
TEST_PKGS  := $(BUILD_PKGS) libcmocka-dev lua-check
GUEST_PKGS := qemu-system-arm qemu-system-x86 cpio ca-certificates debian-archive-keyring
# The emulated test host copies lspci (pciutils) into its initramfs; the benchmark adds dpdk.
VM_PKGS    := $(TEST_PKGS) $(GUEST_PKGS) pciutils

# Fetched kernels and busybox live outside git, shared by every checkout.
export VFLAUNCH_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/vflaunch

.PHONY: all deps check check-unit check-lua check-cli check-rehearse check-slow check-vm \
        guest guest-amd64 lint demo bench bench-bind install uninstall clean

all: vflaunch

vflaunch: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(DEP_LIBS)

$(B)/%.o: launcher/%.c $(wildcard launcher/*.h) | $(B)
	$(CC) $(WARN) -DVFLAUNCH_VERSION='"$(VERSION)"' $(DEP_CFLAGS) $(CPPFLAGS) $(CFLAGS) -Ilauncher -c -o $@ $<

$(B)/vflaunch-testing: $(TESTOBJS)
	$(CC) $(LDFLAGS) -o $@ $(TESTOBJS) $(DEP_LIBS)

$(TB)/%.o: launcher/%.c $(wildcard launcher/*.h) | $(TB)
	$(CC) $(WARN) -DVFLAUNCH_TESTING -DVFLAUNCH_VERSION='"$(VERSION)-testing"' $(DEP_CFLAGS) \
		$(CPPFLAGS) $(CFLAGS) -Ilauncher -c -o $@ $<

$(TB)/embedded.o: $(B)/embedded.c | $(TB)
	$(CC) $(WARN) -DVFLAUNCH_TESTING $(CPPFLAGS) $(CFLAGS) -Ilauncher -c -o $@ $<

$(TB):
	mkdir -p $(TB)

# The Lua modules are compiled in as source text: lua/x.lua becomes module vflaunch.x.
$(B)/embedded.c: $(LUASRC) $(B)/embed
	$(B)/embed $(LUASRC) > $@.tmp && mv $@.tmp $@

$(B)/embedded.o: $(B)/embedded.c
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -Ilauncher -c -o $@ $<

$(B)/embed: tools/embed.c | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ $<

$(B):
	mkdir -p $(B)/tests

$(B)/tests/test_%: tests/unit/test_%.c $(wildcard tests/unit/*.h) $(LIBOBJS) | $(B)
	$(CC) $(WARN) $(DEP_CFLAGS) $(TEST_CFLAGS) $(CPPFLAGS) $(CFLAGS) -Ilauncher -o $@ $< \
		$(LIBOBJS) $(DEP_LIBS) $(TEST_LIBS) $(shell sed -n 's,^// *LDWRAP: *,,p' $<)

# Writes a simulated host's tree into a directory, for tests that need --sysfs.
$(B)/mksimhost: tests/tools/mksimhost.c $(LIBOBJS) | $(B)
	$(CC) $(WARN) $(DEP_CFLAGS) $(CPPFLAGS) $(CFLAGS) -Ilauncher -o $@ $< $(LIBOBJS) $(DEP_LIBS)

deps:
	tools/install-deps.sh $(TEST_PKGS) $(GUEST_PKGS)

# The whole suite, as CI runs it: packages first, then a fresh make sees their pkg-config files.
check: deps
	$(MAKE) all $(UNITBIN) $(B)/mksimhost
	$(MAKE) lint check-unit check-lua check-cli check-rehearse

check-unit: $(UNITBIN)
	@fail=0; for t in $(UNITBIN); do \
		if ! $$t > $$t.log 2>&1; then cat $$t.log; fail=1; else tail -n 3 $$t.log; fi; \
	done; exit $$fail

check-lua: vflaunch
	tests/lua/run.sh ./vflaunch

check-cli: vflaunch $(B)/mksimhost
	tests/cli/run.sh ./vflaunch $(B)/mksimhost

# A tiny arm64 guest (Debian's kernel, busybox) that reports what it enumerated.
guest:
	tests/guest/prepare.sh arm64

check-rehearse: vflaunch guest
	tests/rehearse/run.sh ./vflaunch

guest-amd64:
	tests/guest/prepare.sh amd64

# The planner at the limits of one guest (flat 248, switch 224/239, dense 1984, q35 64): ~3 min.
check-slow: deps
	$(MAKE) vflaunch guest guest-amd64
	tests/rehearse/slow.sh ./vflaunch

# A real kernel: an emulated x86_64 host (q35, intel-iommu, two SR-IOV NVMe PFs) running vflaunch
# (and the test build, for fault injection), which binds VFs and launches nested aarch64 guests,
# two at a time for the launches payload: ~25 min under TCG.
check-vm:
	tools/install-deps.sh $(VM_PKGS)
	$(MAKE) vflaunch $(B)/vflaunch-testing
	tests/vm/check.sh tools smoke vflaunch launches

lint:
	luacheck --no-color --quiet lua scripts tests bench

# Benchmarks (not tests): each prints ratios against its peers, measured in the same run.
bench: vflaunch $(B)/mksimhost
	tools/install-deps.sh time
	bench/plan.sh ./vflaunch $(B)/mksimhost

bench-bind:
	tools/install-deps.sh $(VM_PKGS) dpdk
	$(MAKE) vflaunch
	bench/bind.sh

demo:
	tools/install-deps.sh $(BUILD_PKGS) $(GUEST_PKGS)
	$(MAKE) vflaunch guest
	./vflaunch --simulate --dry-run --tree scripts/big-guest.lua
	. tests/guest/env.sh arm64 && ./vflaunch --simulate --rehearse scripts/big-guest.lua

install: vflaunch
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 vflaunch $(DESTDIR)$(BINDIR)/vflaunch

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/vflaunch

clean:
	rm -rf $(B) vflaunch
