# autodeploy — see README.md and INSTALL.
#
# Programs are found by wildcard: every bin/NAME.c is a program, every
# lib/*.c goes into one static library, every t/unit/NAME.c is a C unit test
# and every t/*.t is run by prove (t/0095-valgrind.t by check-valgrind).
# Adding a file needs no edit here.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/autodeploy
COMPDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR ?=
BUILD   ?= build

CC      ?= cc
CFLAGS  ?= -O2 -g
SAN     ?=
WARN     = -Wall -Wextra -Werror -Wstrict-prototypes -Wvla -Wwrite-strings
PKGS     = libgit2 popt zlib json-c
# Recursively expanded on purpose: pkg-config must run only after `deps`
# has had its chance to install the -dev packages.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN) -Ilib $(PKG_CFLAGS)
# mbedcrypto (no .pc file in Debian): lib/crypto; libgit2 is built with it.
ALL_LIBS   = $(PKG_LIBS) -lmbedcrypto -lpthread

PROGRAMS = $(patsubst bin/%.c,%,$(wildcard bin/*.c))
HOOKS    = $(patsubst hooks/%.c,%,$(wildcard hooks/*.c))
LIB_SRC  = $(wildcard lib/*.c)
LIB_HDR  = $(wildcard lib/*.h)
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBA     = $(BUILD)/libautodeploy.a
UNITS    = $(patsubst t/unit/%.c,%,$(filter-out t/unit/tap.c,$(wildcard t/unit/*.c)))
MAN1     = $(wildcard share/man/man1/*.1)
MAN5     = $(wildcard share/man/man5/*.5)
MAN7     = $(wildcard share/man/man7/*.7)
UNIT_TPL = $(wildcard systemd-units/*.in)

BIN_OUT  = $(PROGRAMS:%=$(BUILD)/bin/%) $(HOOKS:%=$(BUILD)/hooks/%)
UNIT_OUT = $(UNITS:%=$(BUILD)/t/unit/%)

.PHONY: all programs deps deb check check-asan check-valgrind test-build install uninstall clean demo fuzz fuzz-targets bench

# `make` checks for the -dev packages first (installing them as root, or
# printing the apt-get line), so a missing header never shows up as a
# compiler error.
all:
	@sh .ci/deps build
	@$(MAKE) --no-print-directory programs

programs: $(BIN_OUT)

deps:
	@sh .ci/deps build test

$(BUILD)/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/bin/%: bin/%.c $(LIBA) $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(ALL_LIBS)

$(BUILD)/hooks/%: hooks/%.c $(LIBA) $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(ALL_LIBS)

$(BUILD)/t/unit/%: t/unit/%.c t/unit/tap.c t/unit/tap.h $(LIBA) $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -It/unit -o $@ $< t/unit/tap.c $(LIBA) $(ALL_LIBS)

test-build: $(BIN_OUT) $(UNIT_OUT)

# `make check` is the one command a newcomer runs: it installs what is
# missing (as root) or says what to install, builds, then runs every test.
# Valgrind is slow and says nothing the sanitizers of check-asan miss on
# our own code: its test runs in `make check-valgrind` (CI runs both).
#
# Scripts run in parallel, one per core and one more (most of a deploy
# test is waiting on git, sshd or the engine); each has its own scratch
# folder, ports and compose project.  The slowest go first so that no core
# is left with one long script at the end.
VALGRIND_T = t/0095-valgrind.t
SLOW_T     = t/9003-ansible-fleet.t t/2019-run-deploy-systemd.t t/9002-debian-package.t \
             t/2042-bluegreen-kill-sweep.t t/2035-run-deploy-kill-sweep-docker.t t/2028-run-deploy-kill-sweep.t \
             t/2040-run-deploy-kill-sweep-term.t t/2039-run-deploy-bluegreen.t t/2043-birdhouse-recreate-proxy.t \
             t/2016-run-deploy-docker.t
CHECK_T    = $(foreach t,$(SLOW_T),$(wildcard $t)) \
             $(filter-out $(VALGRIND_T) $(SLOW_T),$(sort $(wildcard t/*.t)))
PROVE_JOBS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
PROVE_FLAGS ?= -j$(PROVE_JOBS)
# Every test's packages are installed up front (the package and fleet
# tests' too): scripts run in parallel, and apt-get takes one at a time.
check:
	@sh .ci/deps build test deb fleet
	@$(MAKE) --no-print-directory test-build
	AUTODEPLOY_BUILD=$(abspath $(BUILD)) AUTODEPLOY_SANITIZED="$(SAN)" \
	    prove $(PROVE_FLAGS) $(CHECK_T)

check-valgrind:
	@sh .ci/deps build test
	@$(MAKE) --no-print-directory test-build
	AUTODEPLOY_BUILD=$(abspath $(BUILD)) prove $(PROVE_FLAGS) $(VALGRIND_T)

# The same suite against binaries built with AddressSanitizer and UBSan.
# t/lsan.supp holds the one leak we cannot fix: Debian's libgit2 1.5 loses
# pcre2 match data on every config regex that does not match (fixed
# upstream, libgit2 PR #6382), plus two leaks in its ssh transport.  The
# slow unwinder gives whole stacks through the frame-pointer-less system
# libraries, so suppressions can name libgit2 functions and a libgit2
# object we forget to free is still reported with our own frames.
check-asan:
	@LSAN_OPTIONS=suppressions=$(abspath t/lsan.supp):print_suppressions=0:fast_unwind_on_malloc=0 \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0 \
	$(MAKE) --no-print-directory BUILD=build-asan \
	    SAN='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
	    CFLAGS='-O1 -g' check

# libFuzzer targets (clang only): the library is compiled once with the
# fuzzer's instrumentation, then each fuzz/NAME.c is linked against it.
FUZZ       = $(patsubst fuzz/%.c,%,$(wildcard fuzz/*.c))
FUZZ_FLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined -Ilib
FUZZ_OBJ   = $(LIB_SRC:%.c=$(BUILD)/fuzz/%.o)
FUZZ_OUT   = $(FUZZ:%=$(BUILD)/fuzz/%)

# `make fuzz` fuzzes every target for FUZZ_SECONDS over its corpus (new
# inputs go to build/fuzz/new-NAME; copy the interesting ones into
# fuzz/corpus/NAME).  `make check` only replays the corpora (t/0090).
FUZZ_SECONDS = 60
fuzz:
	@sh .ci/deps build fuzz
	@$(MAKE) --no-print-directory fuzz-targets
	@for t in $(FUZZ); do \
	    mkdir -p $(BUILD)/fuzz/new-$$t && \
	    echo "fuzzing $$t for $(FUZZ_SECONDS) s" && \
	    $(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=1024 \
	        -artifact_prefix=$(BUILD)/fuzz/$$t- $(BUILD)/fuzz/new-$$t fuzz/corpus/$${t%_fuzz} \
	        2>$(BUILD)/fuzz/$$t.log || { tail -n 40 $(BUILD)/fuzz/$$t.log; exit 1; }; \
	done

fuzz-targets: $(FUZZ_OUT)

$(BUILD)/fuzz/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/fuzz/%: fuzz/%.c $(FUZZ_OBJ)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -o $@ $< $(FUZZ_OBJ) $(ALL_LIBS)

# The Debian package (debian/): autodeploy_VERSION_ARCH.deb in build/deb/,
# checked with lintian.
deb:
	@sh .ci/deps build deb
	dpkg-buildpackage -us -uc -b
	@mkdir -p build/deb
	mv ../autodeploy_*.deb ../autodeploy-dbgsym_*.deb ../autodeploy_*.buildinfo ../autodeploy_*.changes build/deb/
	lintian --fail-on error build/deb/autodeploy_*.changes

demo:
	@sh .ci/deps build test
	@$(MAKE) --no-print-directory programs
	@AUTODEPLOY_BUILD=$(abspath $(BUILD)) sh demo/demo.sh

bench:
	@sh .ci/deps build test bench
	@$(MAKE) --no-print-directory programs
	@AUTODEPLOY_BUILD=$(abspath $(BUILD)) sh bench/run.sh

install: programs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DATADIR)/systemd-units $(DESTDIR)$(DATADIR)/logrotate.d
	install -m 0755 $(BIN_OUT) $(DESTDIR)$(BINDIR)/
	$(if $(MAN1),install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/)
	$(if $(MAN5),install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/)
	$(if $(MAN7),install -m 0644 $(MAN7) $(DESTDIR)$(MANDIR)/man7/)
	$(if $(UNIT_TPL),install -m 0644 $(UNIT_TPL) $(DESTDIR)$(DATADIR)/systemd-units/)
	$(if $(wildcard logrotate.d/*),install -m 0644 $(wildcard logrotate.d/*) $(DESTDIR)$(DATADIR)/logrotate.d/)
	install -m 0644 share/env.local.example $(DESTDIR)$(DATADIR)/
	install -m 0644 share/doc/MIGRATING-from-birdhouse.md $(DESTDIR)$(DATADIR)/
	install -d $(DESTDIR)$(COMPDIR)
	for p in $(PROGRAMS); do install -m 0644 share/bash-completion/autodeploy $(DESTDIR)$(COMPDIR)/$$p || exit 1; done

uninstall:
	rm -f $(PROGRAMS:%=$(DESTDIR)$(BINDIR)/%) $(HOOKS:%=$(DESTDIR)$(BINDIR)/%)
	rm -f $(MAN1:share/man/man1/%=$(DESTDIR)$(MANDIR)/man1/%) $(MAN5:share/man/man5/%=$(DESTDIR)$(MANDIR)/man5/%)
	rm -f $(MAN7:share/man/man7/%=$(DESTDIR)$(MANDIR)/man7/%)
	rm -rf $(DESTDIR)$(DATADIR)
	rm -f $(PROGRAMS:%=$(DESTDIR)$(COMPDIR)/%)

clean:
	rm -rf build build-asan
