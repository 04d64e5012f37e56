# nsq in C: one GNU Makefile for the library, the programs and the tests.
#
#   make            build lib's two archives, libnsq.so, bin/*, examples/
#                   (warnings are errors)
#   make run        install missing packages, build, run nsqd (and nsqlookupd)
#   make test       install missing packages, build, run every suite twice:
#                   plain, then under AddressSanitizer + UBSan (with
#                   -DNSQ_DEBUG_CHECKS), then make lint; prints
#                   "N passed, N failed" last
#   make unit|bats|interop|browser   one suite on the plain build
#   make asan       unit + bats under the sanitizers
#   make bench fuzz lint install clean
#   make soak [SOAK_SECONDS=300]   the soak test (tests/soak/soak.py)
#
# The daemons (nsqd, nsqlookupd) are linked statically, as Go ships nsqd:
# an idle nsqd then maps no shared libraries (under 2 MB RSS instead of
# about 5.5 MB, most of it libraries' pages).  STATIC=0 links them
# dynamically, for distributions that want that; the tools and nsqadmin
# are always dynamic (libcurl).  SANITIZE=1 builds into build/asan (bin in
# build/asan/bin), dynamic as the sanitizers need.  V=1 is verbose.

PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
VERSION  := 0.1.0

STATIC   ?= 1

ifeq ($(SANITIZE),1)
O        := build/asan
BINDIR   := build/asan/bin
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined
OPT      := -O1 -g
CHECKS   := -DNSQ_DEBUG_CHECKS
override STATIC := 0
else
O        := build/plain
BINDIR   := bin
SANFLAGS :=
OPT      ?= -O2 -g
CHECKS   :=
endif

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wwrite-strings -Wformat=2 \
            -Wno-format-nonliteral
# assert(3) stays on in every build (no NDEBUG): the invariants whose
# breach corrupts data (hmap and idtab probing, heap indexes, lane order,
# buffer offsets) cost a few compares.  NSQ_DEBUG_CHECKS, in the sanitized
# build only, adds the O(n) ones (the whole heap after each change).
CPPFLAGS += -D_GNU_SOURCE -DNSQ_VERSION='"$(VERSION)"' $(CHECKS) -Ilib \
            -MMD -MP
# Each function and object in its own section, and the linker drops the
# ones nothing calls: a smaller binary, and fewer of its pages resident
# in an idle nsqd (1.91 MB RSS instead of 1.98).
CFLAGS   += -std=c11 -pthread -ffunction-sections -fdata-sections $(OPT) \
            $(WARN) $(SANFLAGS)
LDFLAGS  += -pthread $(SANFLAGS) -Wl,--as-needed -Wl,--gc-sections
LDLIBS   += -lev -lhttp_parser -lcurl -lz -lsnappy -lssl -lcrypto -lm

ifneq ($(V),1)
Q := @
endif

# lib/ builds two archives.  libnsq.a is the client library nsq.h
# promises (producer, consumer, discovery and what they use): no thread,
# no printing, no exit; tests/bats/lib.bats checks its symbols.
# libnsqsrv.a is what the daemons add (disk queue and its syncer thread,
# log with fatal(), HTTP server, ...).  Its xmalloc-report.o is
# lib/xmalloc.c again, saying on stderr what it could not allocate
# before it aborts; listed first, it is the xmalloc programs get.
CLIENT   := buffer compress config conn consumer errbuf frame httpc json \
            lookup message names net options producer rand text tlsc \
            xmalloc
LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(O)/%.o)
CLI_OBJ  := $(CLIENT:%=$(O)/lib/%.o)
SRV_OBJ  := $(filter-out $(CLI_OBJ),$(LIB_OBJ)) $(O)/lib/xmalloc-report.o
LIBA     := $(O)/libnsq.a
LIBSRV   := $(O)/libnsqsrv.a
LIBS     := $(LIBSRV) $(LIBA)

# The shared client library is the client objects built again,
# position-independent and with every symbol hidden but those nsq.h
# declares (its visibility pragma), so programs see only the API.  Its
# soname carries VERSION's major number.
SOMAJOR  := $(firstword $(subst ., ,$(VERSION)))
LIBSO    := $(O)/libnsq.so.$(VERSION)
PIC_OBJ  := $(CLIENT:%=$(O)/pic/lib/%.o)
# One program per role of nsq.h, linked with libnsq.a in the tree (and
# by tests/bats/install.bats against an installed prefix).
EXAMPLES := $(patsubst %.c,$(O)/%,$(wildcard examples/*.c))

# cmd/common is no program: it holds what the tools and the daemons share
# (the option prologue; nsq-bench alone has its own).
PROGS    := $(filter-out common,$(notdir $(wildcard cmd/*)))
TOOLS    := nsq-pub nsq-stat nsq-tail nsq-to-file nsq-to-http nsq-to-nsq
TOOL_OBJ := $(patsubst %.c,$(O)/%.o,$(wildcard cmd/common/*.c))
BINS     := $(PROGS:%=$(BINDIR)/%)

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNITS    := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)

.PHONY: all run test unit bats interop browser asan bench fuzz lint install \
        clean deps deps-test soak FORCE
.DEFAULT_GOAL := all

all: $(BINS) $(UNITS) $(LIBSO) $(EXAMPLES)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(O)/lib/xmalloc-report.o: lib/xmalloc.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (report)")
	$(Q)$(CC) $(CPPFLAGS) -DXMALLOC_REPORT $(CFLAGS) -c -o $@ $<

$(O)/pic/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (pic)")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

# --as-needed (LDFLAGS) keeps only the libraries the client objects call.
$(LIBSO): $(PIC_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,-soname,libnsq.so.$(SOMAJOR) $(LDFLAGS) -o $@ \
	    $^ $(LDLIBS)

$(O)/examples/%: examples/%.c $(LIBA)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

$(LIBA): $(CLI_OBJ)
$(LIBSRV): $(SRV_OBJ)
$(LIBS):
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# Each program is every .c file of its folder (and cmd/common's for the
# tools and daemons), linked with both archives, libnsqsrv.a first.
prog_objs = $(patsubst %.c,$(O)/%.o,$(wildcard cmd/$(1)/*.c)) \
    $(if $(filter $(1),$(TOOLS) nsqd nsqlookupd nsqadmin),$(TOOL_OBJ))
DAEMONS  := $(BINDIR)/nsqd $(BINDIR)/nsqlookupd

# Static daemons: no libcurl (only the tools use it), and libsnappy.a needs
# libstdc++ named.  ld warns that getaddrinfo (and, inside libcrypto.a,
# gethostbyname and dlopen) "requires at runtime the shared libraries from
# the glibc version used for linking".  That is accepted: these are linker
# notes, not compiler warnings (-Werror ignores them; only
# -Wl,--fatal-warnings would fail), and bookworm's glibc 2.36 has the
# "files" and "dns" lookups inside libc.a, so names such as localhost:4160
# resolve without loading anything.  Only an nsswitch.conf "hosts" entry
# naming another module (mdns, resolve, ...) or an openssl.cnf loading an
# engine would dlopen, and need the build machine's glibc.  (ld -w would
# hide the notes but also turns link errors into a broken binary.)
ifeq ($(STATIC),1)
$(DAEMONS): LDFLAGS += -static
$(DAEMONS): LDLIBS := $(filter-out -lcurl,$(LDLIBS)) -lstdc++
endif

# Switching STATIC relinks the daemons: they depend on a file holding its
# value, rewritten only when the value changes.
$(DAEMONS): $(O)/static
$(O)/static: FORCE
	@mkdir -p $(@D)
	@echo $(STATIC) | cmp -s - $@ || echo $(STATIC) >$@

.SECONDEXPANSION:
$(BINDIR)/%: $$(call prog_objs,$$*) $(LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS)

# lib/regex is PCRE2; only what calls it links the library (nsqd: the
# auth servers' patterns).
$(BINDIR)/nsq-to-file $(BINDIR)/nsqd $(O)/tests/test_regex \
    $(O)/tests/test_nsqd_v2 $(O)/tests/test_nsqd_auth: LDLIBS += -lpcre2-8

$(O)/tests/test_%: $(O)/tests/unit/test_%.o $(LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

# The V2 engine's test drives nsqd's own code (engine and broker core, no
# socket): it links nsqd's objects but main.o, whose main() it replaces.
NSQD_OBJ := $(filter-out $(O)/cmd/nsqd/main.o,$(call prog_objs,nsqd))
$(O)/tests/test_nsqd_v2 $(O)/tests/test_nsqd_auth: $(O)/tests/test_nsqd_%: \
    $(O)/tests/unit/test_nsqd_%.o $(NSQD_OBJ) $(LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

# nsqadmin's web page is compiled in: scripts/embed-assets.sh turns the
# files of cmd/nsqadmin/ui/ into byte arrays that assets.c includes.
UI_SRC   := $(sort $(wildcard cmd/nsqadmin/ui/*.html cmd/nsqadmin/ui/*.css \
            cmd/nsqadmin/ui/*.js cmd/nsqadmin/ui/*.svg))
$(O)/gen/nsqadmin_assets.inc: scripts/embed-assets.sh $(UI_SRC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  GEN     $@")
	$(Q)scripts/embed-assets.sh $(UI_SRC) >$@.tmp && mv $@.tmp $@
$(O)/cmd/nsqadmin/assets.o: $(O)/gen/nsqadmin_assets.inc
$(O)/cmd/nsqadmin/assets.o: CPPFLAGS += -I$(O)/gen

# nsqadmin's readers and sums (cmd/nsqadmin/stats.c), tested alone.
$(O)/tests/test_admin_stats: $(O)/tests/unit/test_admin_stats.o \
    $(O)/cmd/nsqadmin/stats.o $(LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

# Packages: installed only when missing, so a prepared machine is untouched.
deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

# The programs alone: the unit tests need cmocka, which deps (unlike
# deps-test) does not install.
run: deps $(BINS)
	@mkdir -p data
	scripts/run.sh

# The whole suite, plain then sanitized; the runner prints the summary line.
test: deps-test
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory SANITIZE=1 all
	@scripts/test.sh all

unit: all
	@scripts/test.sh unit

bats: all
	@scripts/test.sh bats

interop: deps-test all
	@scripts/test.sh interop

browser: deps-test all
	@scripts/test.sh browser

asan:
	@$(MAKE) --no-print-directory SANITIZE=1 all
	@scripts/test.sh asan

bench: all
	@bench/run.sh

fuzz:
	@scripts/fuzz.sh

# The soak test (not part of make test, which runs its 30 s self-test):
# two durable nsqd and an nsqlookupd under churn and restarts for
# SOAK_SECONDS, then one line: published, received, lost, duplicated,
# RSS and fds of each daemon.  Fails if a published message was lost.
SOAK_SECONDS ?= 300
soak: all
	@tests/soak/soak.py --bin $(BINDIR) --seconds $(SOAK_SECONDS)

lint:
	@cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --std=c11 -D_GNU_SOURCE -Ilib lib cmd examples

# No fmt target: clang-format 14 cannot express our KNF.  Its declaration
# alignment pads every name of a group to one column, where KNF puts one
# tab after the type ("const char\t*config;" beside "bool\t\t verbose;");
# it re-breaks long calls and conditions by its own penalties, not
# KNF's "fill the line, continue 4 spaces in"; trailing comments lose
# their tab.  The closest .clang-format we found rewrote 3,700 lines of
# 89 files.  style(9) is kept by review; cppcheck (make lint) is run by
# make test.

# install_some GLOB,DIR: install the files GLOB matches (if any) into DIR.
install_some = $(if $(wildcard $(1)),install -m 644 $(wildcard $(1)) \
    $(DESTDIR)$(PREFIX)/$(2))

# The library's files: the header, both libraries with the soname links,
# nsq.pc (its private requirements read from what libnsq.so was linked
# with), nsq(3); and the daemons' systemd units, their ExecStart in
# PREFIX's bin.
LIBDIR   ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(PREFIX)/share/man/man3 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	    $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin
	$(call install_some,man/*.1,share/man/man1)
	$(call install_some,man/*.8,share/man/man8)
	$(call install_some,completions/bash/*,share/bash-completion/completions)
	$(call install_some,completions/zsh/_*,share/zsh/site-functions)
	$(call install_some,completions/fish/*.fish,share/fish/vendor_completions.d)
	$(call install_some,man/*.3,share/man/man3)
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
	    $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 644 lib/nsq.h $(DESTDIR)$(INCLUDEDIR)
	install -m 644 $(LIBA) $(DESTDIR)$(LIBDIR)
	install -m 755 $(LIBSO) $(DESTDIR)$(LIBDIR)
	ln -sf libnsq.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnsq.so.$(SOMAJOR)
	ln -sf libnsq.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libnsq.so
	$(Q)req=; priv=; \
	for l in $$(readelf -d $(LIBSO) | \
	    sed -n 's/.*Shared library: \[lib\([^.]*\)\.so.*/\1/p'); do \
		case $$l in \
		c|ev|asan|ubsan|gcc_s|pthread) ;; \
		curl|ssl|crypto) req="$$req lib$$l" ;; \
		z) req="$$req zlib" ;; \
		snappy) req="$$req snappy" ;; \
		*) priv="$$priv -l$$l" ;; \
		esac; \
	done; \
	sed -e 's|@prefix@|$(PREFIX)|' -e 's|@libdir@|$(LIBDIR)|' \
	    -e 's|@includedir@|$(INCLUDEDIR)|' -e 's|@version@|$(VERSION)|' \
	    -e "s|@requires_private@|$${req# }|" \
	    -e "s|@libs_private@|$${priv# }|" lib/nsq.pc.in \
	    >$(DESTDIR)$(LIBDIR)/pkgconfig/nsq.pc
	$(Q)for u in dist/systemd/*.service.in; do \
		sed 's|@bindir@|$(PREFIX)/bin|g' $$u \
		    >$(DESTDIR)$(SYSTEMDUNITDIR)/$$(basename $${u%.in}) || \
		    exit 1; \
	done

clean:
	rm -rf build bin

-include $(LIB_OBJ:.o=.d) $(O)/lib/xmalloc-report.d $(PIC_OBJ:.o=.d) \
    $(EXAMPLES:=.d) \
    $(wildcard $(O)/cmd/*/*.d) $(wildcard $(O)/tests/unit/*.d)
.SECONDARY:
