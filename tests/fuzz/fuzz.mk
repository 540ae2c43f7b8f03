# Fuzzing (included by the Makefile). `make fuzz` builds every tests/fuzz/fuzz_*.c harness with
# clang's libFuzzer + AddressSanitizer + UndefinedBehaviorSanitizer against a fuzz build of the
# core (build-fuzz/), runs each for FUZZ_SECONDS from its committed seeds (tests/fuzz/corpus/<h>/)
# and fails on the first crash, leak or timeout; the input that did it lands in
# build-fuzz/crashes/. Copy it to tests/fuzz/regress/<h>/ and fix the reader: test_fuzz_replay
# replays every corpus and regression file through the normal (and `make asan`) build.
# `make -j2 fuzz` runs two harnesses at a time.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS ?= -timeout=10 -rss_limit_mb=2048
FUZZ_BUILD := build-fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Wno-unused-parameter -Icore \
               $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/%.c=%)
FUZZ_BIN := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/%)
FUZZ_LIB := $(FUZZ_BUILD)/libkdlab.a

$(FUZZ_BUILD)/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(CORE_SRC:%.c=$(FUZZ_BUILD)/%.o)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_LIB)
	@$(if $(Q),echo "  FUZZLD  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB) $(LDLIBS) -o $@

# One harness: fresh working corpus seeded from the committed one; the libFuzzer log is kept.
.PHONY: fuzz fuzz-build fuzz-seeds $(FUZZ_NAMES:%=fuzz-run-%)
$(FUZZ_NAMES:%=fuzz-run-%): fuzz-run-%: $(FUZZ_BUILD)/%
	@mkdir -p $(FUZZ_BUILD)/corpus/$* $(FUZZ_BUILD)/crashes
	@echo "  FUZZ    $* for $(FUZZ_SECONDS) s"
	$(Q)if $(FUZZ_BUILD)/$* $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD)/crashes/$*- $(FUZZ_BUILD)/corpus/$* \
	    tests/fuzz/corpus/$* > $(FUZZ_BUILD)/$*.log 2>&1; then \
	  echo "  FUZZ    $*: $$(awk '/number_of_executed_units/ {print $$2}' \
	    $(FUZZ_BUILD)/$*.log) executions, $$(ls $(FUZZ_BUILD)/corpus/$* | wc -l) corpus files," \
	    "no crash"; \
	else \
	  grep -E 'ERROR|runtime error|SUMMARY|Test unit written|^fuzz_' $(FUZZ_BUILD)/$*.log | head -20; \
	  echo "  FUZZ    $*: CRASH (log $(FUZZ_BUILD)/$*.log); add the input to tests/fuzz/regress/$*/"; \
	  exit 1; \
	fi

fuzz: $(FUZZ_NAMES:%=fuzz-run-%) ## fuzz every reader of outside bytes, FUZZ_SECONDS (60) each

fuzz-build: $(FUZZ_BIN) ## build the libFuzzer harnesses (clang) without running them

# The generated seeds (IDX, PNG, checkpoint, CSV); written once and committed.
fuzz-seeds: $(BUILD)/tests/fuzz/make_seeds
	$(Q)$< tests/fuzz/corpus

$(BUILD)/tests/fuzz/make_seeds: $(BUILD)/tests/fuzz/make_seeds.o $(LIB)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

NOPLAN_GOALS += fuzz-build fuzz-seeds fuzz-run-%
