# nsq in C: one GNU Makefile for the library, the programs and the tests.
#
#   make            build lib + bin/* (warnings are errors)
#   make run        install missing packages, build, run nsqd (and nsqlookupd)
#   make test       install missing packages, build, run every suite twice:
#                   plain, then under AddressSanitizer + UBSan; prints
#                   "N passed, N failed" last
#   make unit|bats|interop   one suite on the plain build
#   make asan       unit + bats under the sanitizers
#   make bench fuzz lint fmt install clean
#
# SANITIZE=1 builds into build/asan (bin in build/asan/bin); STATIC=1 into
# build/static, with the daemons linked statically.  V=1 is verbose.

PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
VERSION  := 0.1.0

ifeq ($(STATIC),1)
# Daemons linked statically: an idle nsqd then maps no shared libraries
# (under 2 MB RSS instead of about 5 MB, most of it libraries' pages).
O        := build/static
BINDIR   := build/static/bin
SANFLAGS :=
OPT      ?= -O2 -g
else ifeq ($(SANITIZE),1)
O        := build/asan
BINDIR   := build/asan/bin
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined
OPT      := -O1 -g
else
O        := build/plain
BINDIR   := bin
SANFLAGS :=
OPT      ?= -O2 -g
endif

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wwrite-strings -Wformat=2 \
            -Wno-format-nonliteral
CPPFLAGS += -D_GNU_SOURCE -DNSQ_VERSION='"$(VERSION)"' -Ilib -MMD -MP
CFLAGS   += -std=c11 $(OPT) $(WARN) $(SANFLAGS)
LDFLAGS  += $(SANFLAGS) -Wl,--as-needed
LDLIBS   += -lev -lhttp_parser -lcurl -lz -lsnappy -lssl -lcrypto -lm

ifneq ($(V),1)
Q := @
endif

LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(O)/%.o)
LIBA     := $(O)/libnsq.a

# cmd/common is no program: it holds what the tools share (TOOLS link it).
PROGS    := $(filter-out common,$(notdir $(wildcard cmd/*)))
TOOLS    := nsq-pub nsq-stat nsq-tail nsq-to-file
TOOL_OBJ := $(patsubst %.c,$(O)/%.o,$(wildcard cmd/common/*.c))
BINS     := $(PROGS:%=$(BINDIR)/%)

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNITS    := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)

.PHONY: all run test unit bats interop asan bench fuzz lint fmt install \
        clean deps deps-test
.DEFAULT_GOAL := all

all: $(BINS) $(UNITS)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# Each program is every .c file of its folder (and cmd/common's for the
# tools), linked with the library.
prog_objs = $(patsubst %.c,$(O)/%.o,$(wildcard cmd/$(1)/*.c)) \
    $(if $(filter $(1),$(TOOLS)),$(TOOL_OBJ))
ifeq ($(STATIC),1)
$(BINDIR)/nsqd $(BINDIR)/nsqlookupd: LDFLAGS += -static
$(BINDIR)/nsqd $(BINDIR)/nsqlookupd: LDLIBS := $(filter-out -lcurl,$(LDLIBS)) \
    -lstdc++
endif

.SECONDEXPANSION:
$(BINDIR)/%: $$(call prog_objs,$$*) $(LIBA)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/test_%: $(O)/tests/unit/test_%.o $(LIBA)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

# Packages: installed only when missing, so a prepared machine is untouched.
deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

run: deps all
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

asan:
	@$(MAKE) --no-print-directory SANITIZE=1 all
	@scripts/test.sh asan

bench: all
	@bench/run.sh

fuzz:
	@scripts/fuzz.sh

lint:
	@cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --std=c11 -D_GNU_SOURCE -Ilib lib cmd

fmt:
	@clang-format -i $(LIB_SRC) $(wildcard lib/*.h cmd/*/*.[ch])

# install_some GLOB,DIR: install the files GLOB matches (if any) into DIR.
install_some = $(if $(wildcard $(1)),install -m 644 $(wildcard $(1)) \
    $(DESTDIR)$(PREFIX)/$(2))

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	    $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin
	$(call install_some,man/*.1,share/man/man1)
	$(call install_some,man/*.8,share/man/man8)
	$(call install_some,completions/bash/*,share/bash-completion/completions)
	$(call install_some,completions/zsh/_*,share/zsh/site-functions)
	$(call install_some,completions/fish/*.fish,share/fish/vendor_completions.d)

clean:
	rm -rf build bin

-include $(LIB_OBJ:.o=.d) $(wildcard $(O)/cmd/*/*.d) $(wildcard $(O)/tests/unit/*.d)
.SECONDARY:
