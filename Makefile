# One build for everything. `make` builds, `make test` runs every test,
# `make fuzz` runs the fuzzers long, `make cluster` starts a local cluster.
# Quiet unless V=1; -Werror when CI=true; BUILD=dir to build elsewhere.

BUILD   ?= build
CC      ?= cc
CLANG   ?= clang
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)
FUZZ_SMOKE_SECONDS ?= 3
FUZZ_RUNS ?= 1000000

PKGS    := libsodium msgpack libuv lmdb inih jansson
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wconversion -Wsign-conversion -Wformat=2 \
           -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wundef \
           -Wno-missing-field-initializers
ifeq ($(CI),true)
WARN    += -Werror
endif
BASE    := -std=c11 -D_GNU_SOURCE -I. -MMD -MP $(WARN)
HARDEN  := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
REL_CFLAGS := $(BASE) -O2 -g $(HARDEN) $(PKG_CFLAGS) $(CFLAGS)
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CFLAGS := $(BASE) -O1 -g $(SAN) $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lpthread

# Library modules, in dependency order (wire <- ledger, consensus <- node, cli).
MODULES := wire ledger consensus
srcs     = $(sort $(wildcard $(1)/*.c))
LIB_SRCS := $(foreach m,$(MODULES),$(call srcs,$(m)))
NODE_SRCS := $(call srcs,node)
CLI_SRCS  := $(call srcs,cli)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TESTLIB_SRCS := $(sort $(wildcard tests/lib/*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
# Integration and chaos programs share the process harness.
HARNESS_OBJS := $(BUILD)/rel/tests/integration/harness.o $(BUILD)/rel/tests/integration/link.o $(BUILD)/rel/tests/integration/netns.o $(BUILD)/rel/tests/integration/pipeline.o
ITEST_BIN := $(BUILD)/bin/itest
CHAOS_SRCS := $(sort $(wildcard tests/chaos/*.c))
CHAOS_BIN := $(if $(CHAOS_SRCS),$(BUILD)/bin/chaos)
BENCH_SRCS := $(sort $(wildcard tests/bench/bench_*.c))
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/bin/%)

REL_LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/rel/%.o)
SAN_LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/san/%.o)
SAN_NODE_OBJS := $(filter-out $(BUILD)/san/node/main.o,$(NODE_SRCS:%.c=$(BUILD)/san/%.o))
SAN_CLI_OBJS  := $(filter-out $(BUILD)/san/cli/loyctl.o,$(CLI_SRCS:%.c=$(BUILD)/san/%.o))
SAN_TESTLIB_OBJS := $(TESTLIB_SRCS:%.c=$(BUILD)/san/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
NOSAN_SRCS := $(sort $(wildcard tests/nosan/test_*.c))
UNIT_BINS += $(NOSAN_SRCS:tests/nosan/%.c=$(BUILD)/tests/nosan_%)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_LIB_SRCS := $(call srcs,wire)

BINS :=
ifneq ($(wildcard node/main.c),)
BINS += $(BUILD)/bin/loyd
endif
ifneq ($(wildcard cli/loyctl.c),)
BINS += $(BUILD)/bin/loyctl
endif


.PHONY: itest chaos
.PHONY: all deps test unit fuzz fuzz-smoke purity format format-check clean cluster cluster-down bench chaos
.DEFAULT_GOAL := all
.SECONDARY:

all: deps $(BINS) $(BUILD)/rel/libloy.a

deps:
	$(Q)sh deploy/install-deps.sh

$(BUILD)/rel/libloy.a: $(REL_LIB_OBJS)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/rel/%.o: %.c | deps
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(REL_CFLAGS) -c $< -o $@

$(BUILD)/san/%.o: %.c | deps
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC san  $<")
	$(Q)$(CC) $(SAN_CFLAGS) -c $< -o $@

$(BUILD)/bin/loyd: $(NODE_SRCS:%.c=$(BUILD)/rel/%.o) $(BUILD)/rel/libloy.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(REL_CFLAGS) -pie -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/bin/loyctl: $(CLI_SRCS:%.c=$(BUILD)/rel/%.o) $(BUILD)/rel/libloy.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(REL_CFLAGS) -pie -o $@ $^ $(LDLIBS_ALL)

# Unit tests: one binary per tests/unit/test_*.c, sanitizers on, linked with
# every library module (and node/cli objects other than their main files).
$(BUILD)/tests/%: $(BUILD)/san/tests/unit/%.o $(SAN_TESTLIB_OBJS) $(SAN_NODE_OBJS) $(SAN_CLI_OBJS) $(SAN_LIB_OBJS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD san  $@")
	$(Q)$(CC) $(SAN_CFLAGS) -o $@ $^ $(LDLIBS_ALL) -lcmocka

# Tests that must see the real allocator (they interpose malloc) are built
# without sanitizers, against the release objects.
$(BUILD)/tests/nosan_%: $(BUILD)/rel/tests/nosan/%.o $(BUILD)/rel/libloy.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS_ALL) -lcmocka

# Integration tests: a driver that starts real loyd processes.
$(BUILD)/bin/itest: $(BUILD)/rel/tests/integration/itest.o $(BUILD)/rel/tests/integration/itest_shed.o $(HARNESS_OBJS) $(BUILD)/rel/libloy.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(REL_CFLAGS) -pie -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/bin/chaos: $(CHAOS_SRCS:%.c=$(BUILD)/rel/%.o) $(HARNESS_OBJS) $(BUILD)/rel/libloy.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(REL_CFLAGS) -pie -o $@ $^ $(LDLIBS_ALL)

# Benchmarks: one program per tests/bench/bench_*.c, release build.
$(BUILD)/bin/bench_%: $(BUILD)/rel/tests/bench/bench_%.o $(BUILD)/rel/libloy.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(REL_CFLAGS) -pie -o $@ $^ $(LDLIBS_ALL)

# Fuzz targets: clang + libFuzzer + ASan/UBSan over the wire module, whose
# objects are compiled once for all targets.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -I. -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all $(PKG_CFLAGS)
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(BUILD)/fuzzobj/%.o)

$(BUILD)/fuzzobj/%.o: %.c | deps
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC fuzz $<")
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/fuzz/%: $(BUILD)/fuzzobj/tests/fuzz/%.o $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CLANG) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS_ALL)

test: deps $(BINS) $(UNIT_BINS) $(FUZZ_BINS) $(ITEST_BIN) $(CHAOS_BIN) purity
	$(Q)sh tests/run-unit.sh $(BUILD)/tests $(UNIT_BINS)
	$(Q)sh tests/run-fuzz.sh smoke $(FUZZ_SMOKE_SECONDS) $(FUZZ_BINS)
	$(Q)$(BUILD)/bin/itest $(BUILD)/bin/loyd
	$(Q)bash tests/integration/cli_e2e.sh $(BUILD)
	$(Q)$(if $(CHAOS_BIN),$(CHAOS_BIN) --short --loyd $(BUILD)/bin/loyd --loyctl $(BUILD)/bin/loyctl)

itest: deps $(BINS) $(ITEST_BIN)
	$(Q)$(BUILD)/bin/itest $(BUILD)/bin/loyd
	$(Q)bash tests/integration/cli_e2e.sh $(BUILD)

# The fault campaign (long); make test runs a short one.
CHAOS_CYCLES ?= 30
chaos: deps $(BINS) $(CHAOS_BIN)
	$(Q)$(BUILD)/bin/chaos --loyd $(BUILD)/bin/loyd --loyctl $(BUILD)/bin/loyctl --cycles $(CHAOS_CYCLES)

unit: deps $(UNIT_BINS)
	$(Q)sh tests/run-unit.sh $(BUILD)/tests $(UNIT_BINS)

fuzz: deps $(FUZZ_BINS)
	$(Q)sh tests/run-fuzz.sh long $(FUZZ_RUNS) $(FUZZ_BINS)

fuzz-smoke: deps $(FUZZ_BINS)
	$(Q)sh tests/run-fuzz.sh smoke $(FUZZ_SMOKE_SECONDS) $(FUZZ_BINS)

# consensus/ is a pure state machine: no libuv, no LMDB, no clock, no randomness.
purity:
	$(Q)sh tests/check-purity.sh

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	$(Q)clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

# Benchmarks (not part of make test): figures beside this machine's limits.
bench: all $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) sh tests/bench/run.sh

# A local 4-node cluster in ./cluster with a short demo; it keeps running.
cluster: all
	$(Q)BUILD=$(BUILD) sh deploy/cluster.sh up

cluster-down:
	$(Q)BUILD=$(BUILD) sh deploy/cluster.sh down

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# A longer simulated-cluster campaign: make sim SEEDS=100000 [SIM_JOBS=k].
SEEDS ?= 100000
.PHONY: sim
sim: $(BUILD)/tests/test_consensus_sim
	$(Q)cd $(BUILD)/tests && SIM_SEEDS=$(SEEDS) ./test_consensus_sim
