# SPDX-License-Identifier: MIT
# usock - plain GNU Make.  `make` builds the libraries and tools, `make run`
# runs the main job, `make check` runs every test suite, `make bench` prints
# the kernel-vs-usock tables.  SAN=1 builds with ASan + UBSan (into build/san).

CC ?= cc
SAN ?=
ifeq ($(SAN),1)
BUILD ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
SANFLAGS :=
endif

OPT ?= -O2
WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS_ALL := -std=gnu11 $(OPT) -g -fPIC -pthread -D_GNU_SOURCE $(WARN) \
	-Iinclude -Isrc $(SANFLAGS) $(CFLAGS)
LDFLAGS_ALL := -pthread $(SANFLAGS) $(LDFLAGS)

LIB_SRC := $(sort $(shell find src -name '*.c'))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
DEPS := $(LIB_OBJ:.o=.d)

UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
CONF_SRC := $(sort $(wildcard tests/conformance/*.c))
INTEROP_SRC := $(sort $(wildcard tests/interop/*.c))
SIM_SRC := $(sort $(wildcard tests/sim/*.c))
TESTLIB_SRC := $(sort $(wildcard tests/lib/*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))
EXAMPLES := $(patsubst tools/examples/%.c,$(BUILD)/examples/%,$(wildcard tools/examples/*.c))

.PHONY: all lib run check check-unit check-conformance check-interop check-sim fuzz-short \
	bench deps clean examples
all: lib examples $(BUILD)/tests/unit $(BUILD)/tests/conformance $(BUILD)/bench/bench

lib: $(BUILD)/libusock.a $(BUILD)/libusock.so

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

-include $(DEPS)

$(BUILD)/libusock.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libusock.so: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $^ $(LDFLAGS_ALL)

examples: $(EXAMPLES)
$(BUILD)/examples/%: tools/examples/%.c $(BUILD)/libusock.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< -o $@ $(BUILD)/libusock.a $(LDFLAGS_ALL)

TEST_CFLAGS := $(CFLAGS_ALL) -Itests/lib -Wno-sign-compare
$(BUILD)/tests/unit: $(UNIT_SRC) $(TESTLIB_SRC) $(BUILD)/libusock.a
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(UNIT_SRC) $(TESTLIB_SRC) -o $@ $(BUILD)/libusock.a -lcriterion $(LDFLAGS_ALL)
$(BUILD)/tests/conformance: $(CONF_SRC) $(TESTLIB_SRC) $(BUILD)/libusock.a
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(CONF_SRC) $(TESTLIB_SRC) -o $@ $(BUILD)/libusock.a -lcriterion $(LDFLAGS_ALL)
$(BUILD)/tests/interop: $(INTEROP_SRC) $(TESTLIB_SRC) $(BUILD)/libusock.a
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(INTEROP_SRC) $(TESTLIB_SRC) -o $@ $(BUILD)/libusock.a -lcriterion $(LDFLAGS_ALL)
$(BUILD)/tests/sim: $(SIM_SRC) $(TESTLIB_SRC) $(BUILD)/libusock.a
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(SIM_SRC) $(TESTLIB_SRC) -o $@ $(BUILD)/libusock.a -lcriterion $(LDFLAGS_ALL)
$(BUILD)/bench/bench: $(BENCH_SRC) $(wildcard bench/*.h) $(BUILD)/libusock.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(BENCH_SRC) -o $@ $(BUILD)/libusock.a $(LDFLAGS_ALL)

deps:
	@scripts/deps

run: deps lib $(BUILD)/examples/sendmmsg_example
	@scripts/run-main $(BUILD)

CRIT := --jobs 2
# Criterion's own allocations are not ours to find (tests/lsan.supp)
TESTENV := LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0
check: deps all
	$(MAKE) --no-print-directory check-unit check-conformance check-interop check-sim fuzz-short
check-unit: $(BUILD)/tests/unit
	$(TESTENV) $(BUILD)/tests/unit $(CRIT)
check-conformance: $(BUILD)/tests/conformance
	$(TESTENV) $(BUILD)/tests/conformance $(CRIT)
check-interop: $(if $(INTEROP_SRC),$(BUILD)/tests/interop)
	$(if $(INTEROP_SRC),$(TESTENV) $(BUILD)/tests/interop --jobs 1,@echo "interop: no tests yet")
check-sim: $(if $(SIM_SRC),$(BUILD)/tests/sim)
	$(if $(SIM_SRC),$(TESTENV) $(BUILD)/tests/sim $(CRIT),@echo "sim: no tests yet")
fuzz-short:
	@scripts/fuzz-short

bench: deps $(BUILD)/bench/bench
	$(BUILD)/bench/bench $(BENCH_ARGS)

clean:
	rm -rf build
