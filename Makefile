# SPDX-License-Identifier: MIT
# vflaunch: build, test, install, demo.

CC         ?= cc
# build/embed runs on the build machine: with CC a cross compiler (make CC=aarch64-linux-gnu-gcc),
# it is built with CC_FOR_BUILD, as Debian's cross-building expects.
CC_FOR_BUILD     ?= cc
CFLAGS_FOR_BUILD ?= -O2 -g
PKG_CONFIG ?= pkg-config
# The build machine's Lua, for build/embed (it compiles the embedded modules).
PKG_CONFIG_FOR_BUILD ?= pkg-config
LUA_CFLAGS_FOR_BUILD = $(shell $(PKG_CONFIG_FOR_BUILD) --cflags lua5.4 2>/dev/null)
LUA_LIBS_FOR_BUILD   = $(shell $(PKG_CONFIG_FOR_BUILD) --libs lua5.4 2>/dev/null)
# Build tools for the documentation: man pages, bash completion, the README's CLI section.
LUA        ?= lua5.4
LUAC       ?= luac5.4
PANDOC     ?= pandoc
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
DOCDIR     ?= $(DATADIR)/doc/vflaunch
# bash-completion looks in $XDG_DATA_DIRS/bash-completion/completions (/usr/local/share first).
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
# lua-language-server annotations (a ---@meta file): add this directory to workspace.library.
TYPESDIR   ?= $(DATADIR)/vflaunch/types
# systemd reads units from /usr/local/lib/systemd/system too; site scripts for the unit.
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SCRIPTDIR  ?= /etc/vflaunch
CFLAGS     ?= -O2 -g
VERSION    := 0.2.0

# Project flags stay apart from the user's CFLAGS.
WARN       := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
              -Wmissing-prototypes -Wwrite-strings
# Recursively expanded on purpose: `make check` installs the packages first, then re-enters make.
DEP_CFLAGS  = $(shell $(PKG_CONFIG) --cflags lua5.4 lua5.4-cjson libpci libmnl 2>/dev/null)
DEP_LIBS    = $(shell $(PKG_CONFIG) --libs lua5.4 lua5.4-cjson libpci libmnl 2>/dev/null)
TEST_CFLAGS = $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
TEST_LIBS   = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

# The build directory and the binary: check-asan runs the same suites with B=build/asan.
B          ?= build
VFLAUNCH_BIN ?= vflaunch
RUN_BIN     = $(if $(filter /%,$(VFLAUNCH_BIN)),$(VFLAUNCH_BIN),./$(VFLAUNCH_BIN))
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
# libmnl: rtnetlink messages for VF MAC/VLAN/rate (netlink.c).
BUILD_PKGS := build-essential pkg-config liblua5.4-dev lua-cjson-dev libpci-dev libmnl-dev pci.ids
# jq checks JSON output; systemd-analyze (systemd) verifies the unit; flock (util-linux) and
# mkfifo are essential on Debian.
# socat and bc: the hot-plug rehearsal stops a guest over QMP and times what the guest reports.
TEST_PKGS  := $(BUILD_PKGS) libcmocka-dev lua-check jq systemd socat bc
GUEST_PKGS := qemu-system-arm qemu-system-x86 cpio ca-certificates debian-archive-keyring
# The emulated test host copies lspci (pciutils) into its initramfs; the benchmark adds dpdk.
VM_PKGS    := $(TEST_PKGS) $(GUEST_PKGS) pciutils iproute2
# libvirt's schema check (virt-xml-validate, which runs xmllint) and its QEMU driver, embedded in virsh (no daemon),
# to hold --libvirt-xml to libvirt itself.
LIBVIRT_PKGS := libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu libxml2-utils
# Sanitizers and fuzzing: Debian's clang and its runtimes; jq and python3 check JSON output.
FUZZ_PKGS  := clang libclang-rt-14-dev jq python3
# The man pages, bash completion and README section (lua5.4, pandoc); check-install reads the
# pages with man (man-db) and completes with bash-completion's helpers.
DOC_PKGS   := lua5.4 pandoc
INSTALL_TEST_PKGS := $(DOC_PKGS) man-db bash-completion
# Benchmarks: /usr/bin/time; bench-bind compares with dpdk-devbind.py.
BENCH_PKGS := time dpdk pciutils
# check-arm64: a cross compiler, Debian's arm64 libraries (dpkg --add-architecture arm64, done by
# install-deps.sh), qemu-user to run the result; the stand-in is linked static (libc6-dev).
ARM64_PKGS := gcc-aarch64-linux-gnu libc6-dev:arm64 liblua5.4-dev:arm64 lua-cjson-dev:arm64 \
              libpci-dev:arm64 libmnl-dev:arm64 qemu-user
# check-vm-arm64: the emulated aarch64 host boots through Debian's UEFI firmware; the rest is
# check-vm's and check-arm64's (readelf, from binutils, reads the arm64 binaries' libraries).
VM_ARM64_PKGS := $(VM_PKGS) $(ARM64_PKGS) qemu-efi-aarch64
# make deps: what any target needs.
ALL_PKGS   := $(sort $(VM_PKGS) $(FUZZ_PKGS) $(INSTALL_TEST_PKGS) $(BENCH_PKGS) $(ARM64_PKGS) \
              $(LIBVIRT_PKGS) $(VM_ARM64_PKGS))

# Fetched kernels and busybox live outside git, shared by every checkout.
export VFLAUNCH_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/vflaunch

.PHONY: all deps check check-unit check-lua check-cli check-rehearse check-slow check-vm \
        check-libvirt guest guest-amd64 lint demo bench bench-bind install uninstall clean docs \
        readme check-fakekernel check-crash check-asan fuzz-build check-fuzz fuzz check-install \
        check-arm64 check-vm-arm64 print-pkgs

all: $(VFLAUNCH_BIN)

$(VFLAUNCH_BIN): $(OBJS)
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

# The Lua modules are compiled in as source text and as chunks compiled by the build's Lua:
# lua/x.lua becomes module vflaunch.x.
$(B)/embedded.c: $(LUASRC) $(B)/embed
	$(B)/embed $(LUASRC) > $@.tmp && mv $@.tmp $@

$(B)/embedded.o: $(B)/embedded.c
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -Ilauncher -c -o $@ $<

$(B)/embed: tools/embed.c | $(B)
	$(CC_FOR_BUILD) $(WARN) $(LUA_CFLAGS_FOR_BUILD) $(CFLAGS_FOR_BUILD) -o $@ $< $(LUA_LIBS_FOR_BUILD)

$(B):
	mkdir -p $(B)/tests

# Its own rule: $(B) may exist without it (a cross build into $(B)/arm64 made $(B) first).
$(B)/tests:
	mkdir -p $@

$(B)/tests/test_%: tests/unit/test_%.c $(wildcard tests/unit/*.h tests/tools/*.h) $(LIBOBJS) | $(B)/tests
	$(CC) $(WARN) $(DEP_CFLAGS) $(TEST_CFLAGS) $(CPPFLAGS) $(CFLAGS) -Ilauncher -o $@ $< \
		$(LIBOBJS) $(DEP_LIBS) $(TEST_LIBS) $(shell sed -n 's,^// *LDWRAP: *,,p' $<)

# Writes a simulated host's tree into a directory, for tests that need --sysfs.
$(B)/mksimhost: tests/tools/mksimhost.c $(LIBOBJS) | $(B)
	$(CC) $(WARN) $(DEP_CFLAGS) $(CPPFLAGS) $(CFLAGS) -Ilauncher -o $@ $< $(LIBOBJS) $(DEP_LIBS)

# Sends vflaunch's rtnetlink messages to the running kernel and prints the raw replies in hex:
# how tests/unit/fixtures/ were captured (tests/vm/payload/netdevsim.sh).
$(B)/nlcapture: tests/tools/nlcapture.c $(LIBOBJS) | $(B)
	$(CC) $(WARN) $(DEP_CFLAGS) $(CPPFLAGS) $(CFLAGS) -Ilauncher -o $@ $< $(LIBOBJS) $(DEP_LIBS)

# A fake kernel for the real binary, as an LD_PRELOAD shim (FK_ROOT=DIR; see the file's header).
# Never sanitized: it is preloaded into the binary under test, not tested itself.
FK_CFLAGS  ?= -O2 -g
$(B)/fakekernel.so: tests/tools/fakekernel.c tests/tools/fakekernel-core.h launcher/sysfs.c launcher/sysfs.h | $(B)
	$(CC) $(WARN) $(CPPFLAGS) $(FK_CFLAGS) -fPIC -shared -fvisibility=hidden -Ilauncher -o $@ \
		tests/tools/fakekernel.c launcher/sysfs.c -ldl

# Everything any target needs (check-install checks that each list is in here, and that each
# target's programs come from its lists: tests/install/deps.sh).
deps:
	tools/install-deps.sh $(ALL_PKGS)

# The packages a list names, one a line (for tests): make print-pkgs PKGS=VM_PKGS
print-pkgs:
	@printf '%s\n' $($(PKGS))

# The whole suite, as CI runs it: packages first, then a fresh make sees their pkg-config files.
# check-asan runs the same suites with the sanitizer build.
CHECK_SUITES := check-unit check-lua check-cli check-fakekernel check-crash check-libvirt check-rehearse
check:
	tools/install-deps.sh $(TEST_PKGS) $(GUEST_PKGS) $(INSTALL_TEST_PKGS) $(LIBVIRT_PKGS)
	$(MAKE) all $(UNITBIN) $(B)/mksimhost $(B)/fakekernel.so
	$(MAKE) lint $(CHECK_SUITES) check-install

check-unit: $(UNITBIN)
	@fail=0; for t in $(UNITBIN); do \
		if ! $$t > $$t.log 2>&1; then cat $$t.log; fail=1; else tail -n 3 $$t.log; fi; \
	done; exit $$fail

check-lua: $(VFLAUNCH_BIN)
	tests/lua/run.sh $(RUN_BIN)

check-cli: $(VFLAUNCH_BIN) $(B)/mksimhost $(B)/fakekernel.so $(B)/vflaunch-testing
	VFLAUNCH_TESTING=$(B)/vflaunch-testing tests/cli/run.sh $(RUN_BIN) $(B)/mksimhost $(B)/fakekernel.so

# The fake kernel shim itself, each knob against the real binary (a launch: run as root).
check-fakekernel: $(VFLAUNCH_BIN) $(B)/mksimhost $(B)/fakekernel.so
	tests/cli/fakekernel.sh $(RUN_BIN) $(B)/mksimhost $(B)/fakekernel.so

# --libvirt-xml of every example through libvirt (schema, then its QEMU argv) against vflaunch's
# own argv: ~40 s.
check-libvirt: $(VFLAUNCH_BIN)
	tests/libvirt/run.sh $(RUN_BIN)

# A tiny arm64 guest (Debian's kernel, busybox) that reports what it enumerated.
guest:
	tests/guest/prepare.sh arm64

# Every rehearsal runs on Debian 12's QEMU and again on QEMU 10 from bookworm-backports, fetched
# into the cache by tests/tools/fetch-qemu10.sh (and on each directory of VFLAUNCH_QEMU_DIRS);
# then hot-plug into a booted virt guest (q35: check-slow), through the test build's stand-ins.
WITH_QEMU10 = q=$$(tests/tools/fetch-qemu10.sh) && VFLAUNCH_QEMU_DIRS="$$q $${VFLAUNCH_QEMU_DIRS-}"

check-rehearse: $(VFLAUNCH_BIN) guest $(B)/vflaunch-testing $(B)/mksimhost $(B)/fakekernel.so
	$(WITH_QEMU10) tests/rehearse/run.sh $(RUN_BIN)
	tests/rehearse/hotplug.sh $(RUN_BIN) $(B)/vflaunch-testing $(B)/mksimhost $(B)/fakekernel.so virt

guest-amd64:
	tests/guest/prepare.sh amd64

# The planner at the limits of one guest (flat 248, switch 224/239, dense 1984, q35 64), on QEMU
# 7.2 and 10, and hot-plug on q35: ~15 min.
check-slow:
	tools/install-deps.sh $(TEST_PKGS) $(GUEST_PKGS)
	$(MAKE) vflaunch guest guest-amd64 $(B)/vflaunch-testing $(B)/mksimhost $(B)/fakekernel.so
	$(WITH_QEMU10) tests/rehearse/slow.sh ./vflaunch
	tests/rehearse/hotplug.sh ./vflaunch $(B)/vflaunch-testing $(B)/mksimhost $(B)/fakekernel.so q35

# A real kernel: an emulated x86_64 host (q35, intel-iommu, two SR-IOV NVMe PFs) running vflaunch
# (and the test build, for fault injection), which binds VFs and launches nested aarch64 guests,
# two at a time for the launches payload: ~20 min under TCG (measured 17). The netid payload boots a
# host with two emulated Intel 82576 NICs (igb, SR-IOV) instead, on QEMU 10 (7.2 has no igb).
check-vm:
	tools/install-deps.sh $(VM_PKGS)
	$(MAKE) vflaunch $(B)/vflaunch-testing
	$(WITH_QEMU10) VMTEST_QEMU_DIR="$$q" tests/vm/check.sh tools smoke vflaunch launches netid

# The real-kernel checks again on an emulated aarch64 host (virt, SMMUv3, GICv3, booted through
# UEFI), with the arm64 vflaunch cross-built as check-arm64 builds it and, for the nested guest,
# Debian's arm64 qemu-system-aarch64 fetched into the cache (tests/vm/build-host-initrd-arm64.sh);
# then the ACS diagnosis on the same host booted with a device tree. Payloads: tools, vflaunch,
# dt:acs (tests/vm/check-arm64.sh): 5 to 10 min under TCG (from a clean clone: 4 min 41 s with the
# cache filled; 9 min 31 s with an empty cache on a busy machine, the nested guest 277 s of it).
check-vm-arm64:
	tools/install-deps.sh $(VM_ARM64_PKGS)
	$(MAKE) B=$(ARM64_B) VFLAUNCH_BIN=$(ARM64_B)/vflaunch CC=$(ARM64_CC) \
		PKG_CONFIG="$(ARM64_PKG_CONFIG)" $(ARM64_B)/vflaunch $(ARM64_B)/vflaunch-testing
	VMTEST_VFLAUNCH=$(abspath $(ARM64_B))/vflaunch \
		VMTEST_VFLAUNCH_TESTING=$(abspath $(ARM64_B))/vflaunch-testing tests/vm/check-arm64.sh

lint:
	luacheck --no-color --quiet lua scripts tests bench
	$(LUAC) -p dist/types/vflaunch.lua

# Benchmarks (not tests): each prints ratios against its peers, measured in the same run.
bench: vflaunch $(B)/mksimhost $(B)/cputime $(B)/pagefault
	tools/install-deps.sh $(BENCH_PKGS)
	bench/plan.sh ./vflaunch $(B)/mksimhost 30 $(B)/cputime

# Runs a command and prints its CPU time (user + system) in ms, for the benchmarks.
$(B)/cputime: bench/cputime.c | $(B)
	$(CC) $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $<

# What a page fault costs here, which the benchmarks' numbers depend on.
$(B)/pagefault: bench/pagefault.c | $(B)
	$(CC) $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $<

bench-bind:
	tools/install-deps.sh $(VM_PKGS) $(BENCH_PKGS)
	$(MAKE) vflaunch
	bench/bind.sh

demo:
	tools/install-deps.sh $(BUILD_PKGS) $(GUEST_PKGS)
	$(MAKE) vflaunch guest
	./vflaunch --simulate --dry-run scripts/big-guest.lua
	./vflaunch --simulate --tree scripts/big-guest.lua
	. tests/guest/env.sh arm64 && ./vflaunch --simulate --rehearse scripts/big-guest.lua

# Crash consistency: a launch (2 VF counts, 4 binds) killed before each of its sysfs writes in
# turn, then a restore, must leave the fake host as it was (as root).
check-crash: $(VFLAUNCH_BIN) $(B)/mksimhost $(B)/fakekernel.so
	tests/crash/run.sh $(RUN_BIN) $(B)/mksimhost $(B)/fakekernel.so

# make check's suites (unit, lua, cli, rehearse) with the binary and the unit tests built with
# ASan+UBSan, leak detection on, in a directory of their own. Sanitizer reports go to
# $(ASAN_B)/reports/ (exit status 86): a test that ignores a status cannot hide one, and each
# report is printed at the end. Fails on a failed test or on any report.
ASAN_B      ?= build/asan
ASAN_CC     ?= clang
ASAN_CFLAGS ?= -fsanitize=address,undefined -fno-sanitize-recover=undefined \
               -fno-omit-frame-pointer -O1 -g
ASAN_ENV     = ASAN_OPTIONS=detect_leaks=1:exitcode=86:log_path=$(abspath $(ASAN_B))/reports/report \
               UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=86:log_path=$(abspath $(ASAN_B))/reports/report
check-asan:
	tools/install-deps.sh $(TEST_PKGS) $(GUEST_PKGS) $(FUZZ_PKGS)
	$(MAKE) B=$(ASAN_B) VFLAUNCH_BIN=$(ASAN_B)/vflaunch CC=$(ASAN_CC) CFLAGS="$(ASAN_CFLAGS)" \
		LDFLAGS="$(ASAN_CFLAGS)" $(ASAN_B)/vflaunch $(ASAN_B)/mksimhost \
		$(patsubst $(B)/%,$(ASAN_B)/%,$(UNITBIN))
	@rm -rf $(ASAN_B)/reports && mkdir -p $(ASAN_B)/reports
	@rc=0; $(ASAN_ENV) $(MAKE) -k B=$(ASAN_B) VFLAUNCH_BIN=$(ASAN_B)/vflaunch CC=$(ASAN_CC) \
		CFLAGS="$(ASAN_CFLAGS)" LDFLAGS="$(ASAN_CFLAGS)" \
		$(CHECK_SUITES) || rc=$$?; \
	for r in $(ASAN_B)/reports/*; do \
		[ -e "$$r" ] || continue; echo "== sanitizer report $$r"; cat "$$r"; rc=1; \
	done; \
	[ $$rc -eq 0 ] && echo "check-asan: every suite passed, no sanitizer report" || \
		echo "check-asan: FAILED (see the failures and reports above)"; exit $$rc

# Fuzzing with libFuzzer (Debian's clang): C targets in tests/fuzz/fuzz_*.c on the library code
# built with the fuzzer's coverage and ASan+UBSan in build/fuzz/, plus a generator of random Lua
# API scripts run through the ASan binary (tests/fuzz/api-run.sh). Seeds are tests/fuzz/corpus/;
# what a run finds and adds goes to build/fuzz/ (git-ignored). check-fuzz is bounded for CI
# (FUZZ_SECONDS per C target, FUZZ_SCRIPTS API scripts); `make fuzz FUZZ_SECONDS=600` runs longer.
FUZZ_B       ?= build/fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SCRIPTS ?= 200
FUZZ_SEED    ?= 1
FUZZ_CFLAGS  := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer -O1 -g
FUZZ_TARGETS := pciaddr sysfs journal inventory
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz_%)
fuzz_objs     = $(addprefix $(FUZZ_B)/obj/,$(1:=.o))
FUZZ_OBJS_pciaddr   := $(call fuzz_objs,pciaddr)
FUZZ_OBJS_sysfs     := $(call fuzz_objs,sysfs simhost pciaddr)
FUZZ_OBJS_journal   := $(call fuzz_objs,journal files vfio sysfs errbuf simhost pciaddr vfnet netlink netsim)
FUZZ_OBJS_inventory := $(call fuzz_objs,inventory vfio simhost pciaddr sysfs errbuf)

$(FUZZ_B)/obj/%.o: launcher/%.c $(wildcard launcher/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(WARN) $(DEP_CFLAGS) $(FUZZ_CFLAGS) -Ilauncher -c -o $@ $<

.SECONDEXPANSION:
$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzzlib.h $$(FUZZ_OBJS_$$*)
	$(FUZZ_CC) $(WARN) $(DEP_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Ilauncher -o $@ $< \
		$(FUZZ_OBJS_$*) $(DEP_LIBS)

fuzz-build:
	tools/install-deps.sh $(BUILD_PKGS) $(FUZZ_PKGS)
	$(MAKE) $(FUZZ_BINS) $(B)/fakekernel.so
	$(MAKE) B=$(ASAN_B) VFLAUNCH_BIN=$(ASAN_B)/vflaunch CC=$(ASAN_CC) CFLAGS="$(ASAN_CFLAGS)" \
		LDFLAGS="$(ASAN_CFLAGS)" $(ASAN_B)/vflaunch $(ASAN_B)/mksimhost

# Both fuzzers run to the end, whatever the first finds; then any finding fails the target.
check-fuzz: fuzz-build
	@rc=0; tests/fuzz/run.sh $(FUZZ_B) $(FUZZ_SECONDS) $(FUZZ_TARGETS) || rc=1; \
	tests/fuzz/api-run.sh $(ASAN_B)/vflaunch $(FUZZ_B)/api $(FUZZ_SEED) $(FUZZ_SCRIPTS) || rc=1; \
	exit $$rc

fuzz: FUZZ_SECONDS = 600
fuzz: FUZZ_SCRIPTS = 3000
fuzz: check-fuzz

# Generated documentation, from lua/cli.lua (vflaunch(1), the completion, the README's CLI
# section) and from doc/lua-api.md (vflaunch-lua(7)), with build-machine tools.
DOCS := $(B)/doc/vflaunch.1 $(B)/doc/vflaunch-lua.7 $(B)/doc/vflaunch.bash
docs: $(DOCS)

# A build tool that is missing: say which package has it.
need = @command -v $(1) >/dev/null 2>&1 || { echo "make: $@ needs $(1) (Debian package $(2)): \
	apt-get install $(2), or make deps" >&2; exit 1; }

$(B)/doc/vflaunch.1: lua/cli.lua tools/gendoc.lua
	$(call need,$(LUA),lua5.4)
	@mkdir -p $(@D)
	$(LUA) tools/gendoc.lua man $(VERSION) >$@.tmp && mv $@.tmp $@

$(B)/doc/vflaunch.bash: lua/cli.lua tools/gendoc.lua
	$(call need,$(LUA),lua5.4)
	@mkdir -p $(@D)
	$(LUA) tools/gendoc.lua bash >$@.tmp && mv $@.tmp $@

# The reference's first heading becomes the page's title; NAME and DESCRIPTION are added.
$(B)/doc/vflaunch-lua.7: doc/lua-api.md tools/gendoc.lua
	$(call need,$(LUA),lua5.4)
	$(call need,$(PANDOC),pandoc)
	@mkdir -p $(@D)
	{ printf '## NAME\n\nvflaunch-lua - the Lua API of vflaunch site scripts\n\n## DESCRIPTION\n\n'; \
	  sed '1{/^# /d}' doc/lua-api.md; } | $(PANDOC) -s -f markdown -t man \
		--shift-heading-level-by=-1 -M title=VFLAUNCH-LUA -M section=7 -M date= \
		-M header='vflaunch $(VERSION)' -M footer='vflaunch $(VERSION)' | \
		$(LUA) tools/gendoc.lua fit-tables >$@.tmp && mv $@.tmp $@

# The README's command-line section is --help's text; check-install fails when they differ.
readme:
	$(LUA) tools/gendoc.lua readme README.md >README.md.tmp && mv README.md.tmp README.md

# What make install puts where (the README lists it); uninstall removes exactly that.
EXAMPLES   := $(sort $(wildcard scripts/*.lua))
INSTALLED  := $(BINDIR)/vflaunch $(MANDIR)/man1/vflaunch.1 $(MANDIR)/man7/vflaunch-lua.7 \
              $(BASHCOMPDIR)/vflaunch $(UNITDIR)/vflaunch@.service $(TYPESDIR)/vflaunch.lua \
              $(DOCDIR)/README.md $(DOCDIR)/lua-api.md $(EXAMPLES:scripts/%=$(DOCDIR)/examples/%)
# Directories of vflaunch's own, removed when empty (deepest first).
OWNDIRS    := $(DOCDIR)/examples $(DOCDIR) $(TYPESDIR) $(DATADIR)/vflaunch

install: $(VFLAUNCH_BIN) $(DOCS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(TYPESDIR) \
		$(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(VFLAUNCH_BIN) $(DESTDIR)$(BINDIR)/vflaunch
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SCRIPTDIR@|$(SCRIPTDIR)|g' dist/vflaunch@.service.in \
		>$(DESTDIR)$(UNITDIR)/vflaunch@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/vflaunch@.service
	install -m 0644 $(B)/doc/vflaunch.1 $(DESTDIR)$(MANDIR)/man1/vflaunch.1
	install -m 0644 $(B)/doc/vflaunch-lua.7 $(DESTDIR)$(MANDIR)/man7/vflaunch-lua.7
	install -m 0644 $(B)/doc/vflaunch.bash $(DESTDIR)$(BASHCOMPDIR)/vflaunch
	install -m 0644 dist/types/vflaunch.lua $(DESTDIR)$(TYPESDIR)/vflaunch.lua
	install -m 0644 README.md doc/lua-api.md $(DESTDIR)$(DOCDIR)
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	for d in $(addprefix $(DESTDIR),$(OWNDIRS)); do [ ! -d "$$d" ] || rmdir "$$d" 2>/dev/null || true; done

# make install into a DESTDIR: every file where the README says, each one working (the binary
# runs, man reads both pages, bash completes, the annotations compile), then uninstall leaves no
# file behind and nothing it did not install removed.
check-install: $(VFLAUNCH_BIN) $(DOCS)
	tests/install/run.sh $(RUN_BIN) "$(MAKE)"

# Cross build for arm64 from Debian's arm64 libraries, then that binary under qemu-user: the
# same output as the native binary for every example, and the Lua and CLI suites (~7 min).
ARM64_B    ?= build/arm64
ARM64_CC   ?= aarch64-linux-gnu-gcc
ARM64_PKG_CONFIG ?= PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig $(PKG_CONFIG)
check-arm64:
	tools/install-deps.sh $(TEST_PKGS) $(ARM64_PKGS)
	$(MAKE) vflaunch $(B)/mksimhost
	$(MAKE) B=$(ARM64_B) VFLAUNCH_BIN=$(ARM64_B)/vflaunch CC=$(ARM64_CC) \
		PKG_CONFIG="$(ARM64_PKG_CONFIG)" $(ARM64_B)/vflaunch $(ARM64_B)/fakekernel.so
	$(CC_FOR_BUILD) $(WARN) $(CFLAGS_FOR_BUILD) -static -DTARGET='"$(abspath $(ARM64_B))/vflaunch"' \
		-DQEMU_USER='"qemu-aarch64"' -o $(ARM64_B)/vflaunch-user tests/tools/qemu-user-run.c
	tests/arm64/run.sh $(ARM64_B)/vflaunch $(ARM64_B)/vflaunch-user ./vflaunch $(B)/mksimhost \
		$(ARM64_B)/fakekernel.so

clean:
	rm -rf $(B) vflaunch
