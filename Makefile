# kdlab: one non-recursive Makefile. `make help` lists the targets.
# Build: core/ -> build/libkdlab.a; experiments/*.c -> bin/<name>; tests/test_*.c -> build/tests/.

SCALE ?= quick
# recorded in every result's .meta
export KD_REVISION ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)
OPT ?= -O2
RUN ?=
V ?= 0
CC ?= cc

ifeq ($(V),0)
Q := @
else
Q :=
endif

# -fno-trapping-math: kdlab never reads floating-point exception flags, and with them gcc may not
# evaluate both arms of a select in a loop: GELU, softmax, layernorm and batchnorm stayed scalar
# without AVX-512's masks (GELU was a third of a ViT's step on a Zen 3). It changes no value.
CFLAGS := -std=c11 -D_GNU_SOURCE $(OPT) -g -march=native -fvect-cost-model=dynamic -fopenmp \
          -fno-trapping-math \
          -Wall -Wextra -Werror \
          -Wno-unused-parameter -Wno-format-truncation -MMD -MP -Icore
LDLIBS := -lopenblas -lyaml -lpng -lcjson -lz -lm -lgomp -lpthread
ifneq ($(SANITIZE),)
CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif

comma := ,
BUILD := build$(if $(SANITIZE),-$(subst $(comma),-,$(SANITIZE)))

CORE_SRC := $(sort $(wildcard core/*/*.c))
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libkdlab.a
EXP_SRC := $(sort $(wildcard experiments/*.c))
# a sanitized build keeps its binaries beside its objects, so bin/ stays the normal build;
# shell tests find them through KD_BIN (unit-tests sets it)
BIN := $(if $(SANITIZE),$(BUILD)/bin,bin)
EXP_BIN := $(EXP_SRC:experiments/%.c=$(BIN)/%)
TOOL_SRC := $(sort $(wildcard tools/*.c))
TOOL_BIN := $(TOOL_SRC:tools/%.c=$(BIN)/%)
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_SUPPORT := $(filter-out $(TEST_SRC),$(wildcard tests/*.c))

.DELETE_ON_ERROR:
.SECONDARY:
.DEFAULT_GOAL := all

.PHONY: all
all: $(EXP_BIN) $(TOOL_BIN) $(TEST_BIN) ## build the core, every experiment and every test

# the compiler and its flags, one a line: every object is rebuilt when they change (a flag edited
# above, OPT=-O0, CC=clang), not only when its source does. '+': under make -n too, which would
# otherwise take the stamp for new and list every object.
FLAGS_STAMP := $(BUILD)/compile-flags
$(FLAGS_STAMP): FORCE
	+$(call write_if_changed,$@,$(CC) $(CFLAGS))

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(CORE_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN)/%: $(BUILD)/experiments/%.o $(LIB)
	@mkdir -p $(BIN)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(BIN)/%: $(BUILD)/tools/%.o $(LIB)
	@mkdir -p $(BIN)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(TEST_SUPPORT:%.c=$(BUILD)/%.o) $(LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

-include $(shell find build* -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------------------------------------
# Experiments. bin/plan turns every YAML under configs/ (but base/) into a rule
#   results/$(SCALE)/<path>-s<seed>.csv: <path>-s<seed>.key | bin/<kind> <results it reads>
# where the .key stamp is new exactly when the result's .meta records another key than its
# configs give now (core/train/result_key.h): freshness by content, not by date. Editing one
# YAML value re-runs that experiment and what reads it; a rebuild, a touch or a fresh clone of
# published results re-runs nothing. RUN prefixes every experiment: RUN="srun -c2" sends each
# to a Slurm cluster.

CONFIGS := $(sort $(shell find configs -name '*.yaml' -not -path 'configs/base/*' 2>/dev/null))
BASE_CONFIGS := $(wildcard configs/base/*.yaml)
# the numerics version is part of every key; KD_NUMERICS=N pretends a bump (the tests do)
export KD_NUMERICS := $(or $(KD_NUMERICS),$(shell sed -n \
                        's/^\#define KD_NUMERICS \([0-9]*\).*/\1/p' $(wildcard core/base/numerics.h)))
PLAN := build/plan-$(SCALE)-n$(KD_NUMERICS).mk
CATALOGUE := configs/catalogue.tsv
# table ids and "alias=id" pairs for <paper>-table<N>, from the catalogue
TABLES := $(shell awk -F'\t' '!/^#/ && NF>1 {print $$1}' $(CATALOGUE) 2>/dev/null)
ALIASES := $(shell awk -F'\t' '!/^#/ && NF>1 && $$3!="-" && $$2"-table"$$3!=$$1 \
             {print $$2"-table"$$3"="$$1}' \
             $(CATALOGUE) 2>/dev/null)

# "  RUN 3/12 <stem>": runs are numbered as they start (Make expands a recipe just before it
# runs it, one at a time even under -j), out of the runs the goals need: counted by a dry run
# of the same goals when the first one starts (KD_COUNTING marks that dry run; make -n says ?).
RUN_N :=
dry_run = $(or $(KD_COUNTING),$(findstring n,$(firstword -$(MAKEFLAGS))))
RUN_TOTAL = $(eval RUN_TOTAL := $(if $(dry_run),?,$(shell KD_COUNTING=1 MAKEFLAGS= $(MAKE) -n \
              --no-print-directory $(MAKEOVERRIDES) $(MAKECMDGOALS) 2>/dev/null | \
              grep -c '^echo "  RUN ')))$(RUN_TOTAL)

define run_experiment
	@mkdir -p $(dir $3)
	@echo "  RUN $(eval RUN_N += x)$(words $(RUN_N))/$(RUN_TOTAL) $3"
	$(Q)$(RUN) bin/$1 $2 --scale $(SCALE) --out $3 run.seed=$4
endef

# $(call same_run,FROM,CONFIG,STEM,SEED): STEM is the same run as FROM (bin/plan found the same
# key: a point two tables share), so FROM's result is copied, not computed again.
define same_run
	@echo "  SAME $3 (the run of $1)"
	$(Q)bin/same_run $1 $2 --scale $(SCALE) --out $3 run.seed=$4
endef

# $(call key_stamp,STEM,KEY): STEM.key holds KEY, and is no newer than STEM.csv while STEM.meta
# records that key; else it is new and Make runs the experiment. '+': under make -n too, so
# that a dry run plans what a real one does.
define key_stamp
	+$(Q)mkdir -p $(dir $1) && echo $2 >$1.key && if [ -f $1.csv ] && \
	  grep -qx 'key: $2' $1.meta 2>/dev/null; then touch -r $1.csv $1.key; fi
endef

# $(call need_input,STEM,SUFFIX): the next run reads STEM<SUFFIX> (a checkpoint, soft labels);
# when STEM.csv is here but that file is not (published results hold CSVs, not checkpoints),
# STEM runs again first, once under make -j (the lock), its own inputs made the same way (not
# under make -n, which cannot know).
define need_input
	+$(Q)$(if $(dry_run),:,[ -e $1$2 ] || [ ! -e $1.csv ] || flock $1.lock sh -c \
	  '[ -e $1$2 ] || $(MAKE) --no-print-directory $1.again')
endef

# $(call write_if_changed,FILE,WORDS): FILE holds WORDS one a line, and its date changes only
# when they do; a rule on FORCE that calls it runs every time but remakes its dependents only
# then. A YAML deleted makes no remaining file newer: these lists are what changes. The temporary
# file is per process: two makes started together (one per core) must not share it. One recipe
# line, so that a caller may prefix it ('+').
define write_if_changed
	$(Q)mkdir -p $(dir $1) && t=$1.tmp.$$$$ && printf '%s\n' $2 >$$t && \
	  if cmp -s $$t $1; then rm -f $$t; else mv $$t $1; fi
endef
.PHONY: FORCE
FORCE:

# every experiment's YAML: the plan is remade when one is added or deleted
CONFIG_LIST := build/configs.list
$(CONFIG_LIST): FORCE
	$(call write_if_changed,$@,$(CONFIGS))

$(PLAN): bin/plan $(CATALOGUE) $(CONFIGS) $(BASE_CONFIGS) $(CONFIG_LIST)
	@mkdir -p $(dir $@)
	$(Q)bin/plan $(SCALE) $(CATALOGUE) $(CONFIGS) > $@.tmp.$$$$ && mv $@.tmp.$$$$ $@

# The plan needs the built core, so only goals that run experiments read it; demo and test
# install the dependencies first and then call make again for their experiments.
NOPLAN_GOALS := all help list deps clean demo test smoke unit-tests skipped asan bench \
                bench-tinyvit fuzz export status publish format format-check
include tests/fuzz/fuzz.mk  # make fuzz: libFuzzer harnesses (adds its goals to NOPLAN_GOALS)
include tools/perf.mk       # make bench-scaling: the scaling figure (adds its goal to NOPLAN_GOALS)
ifneq ($(filter-out $(NOPLAN_GOALS),$(or $(MAKECMDGOALS),all)),)
include $(PLAN)
endif

# SEEDS="0" makes a table from those seeds only: a first pass of a five-seed table at full
# scale (the table says how many seeds it holds); without it, every seed of the configs.
SEEDS ?=
seeds_of = $(if $(SEEDS),$(filter $(foreach s,$(SEEDS),%-s$(s).csv),$(1)),$(1))

# One table: its points' CSVs -> summary CSV + markdown (bin/report) -> figure (gnuplot; plots/lib/
# style.gp writes it to results/$(SCALE)/figures/, so each scale keeps its own). The .points file
# lists those CSVs, so a point deleted (or SEEDS changed) redraws the table too.
define table_rules
.PHONY: $(1)
$(1): results/$(SCALE)/tables/$(1).md
results/$(SCALE)/tables/$(1).points: FORCE
	$$(call write_if_changed,$$@,$$(call seeds_of,$$(TABLE_$(1))))
results/$(SCALE)/tables/$(1).md: $$(call seeds_of,$$(TABLE_$(1))) bin/report $(CATALOGUE) $$(wildcard plots/$(1).gp) \
		$$(wildcard $$(FOLDER_$(1))/paper.csv) results/$(SCALE)/tables/$(1).points
	@mkdir -p $$(dir $$@)
	$(Q)bin/report $(SCALE) $(1) $$(call seeds_of,$$(TABLE_$(1)))
	$(Q)if [ -f plots/$(1).gp ]; then gnuplot -e "scale='$(SCALE)'" plots/$(1).gp; fi
	$(Q)cat $$@
endef
$(foreach t,$(TABLES),$(eval $(call table_rules,$(t))))
$(foreach a,$(ALIASES),$(eval .PHONY: $(word 1,$(subst =, ,$(a))))\
  $(eval $(word 1,$(subst =, ,$(a))): $(word 2,$(subst =, ,$(a)))))

# make rerun CONFIG=configs/<...>.yaml: that experiment again from the start (its seeds at SCALE;
# SEEDS filters), its tables' summaries removed so that the next `make <table>` redraws them.
RERUN_STEM = results/$(SCALE)/$(patsubst configs/%.yaml,%,$(CONFIG))
RERUN_CSVS = $(call seeds_of,$(filter $(RERUN_STEM)-s%.csv,$(ALL_RESULTS)))
RERUN_TABLES = $(foreach t,$(TABLES),$(if $(filter $(RERUN_CSVS),$(TABLE_$(t))),$(t)))
.PHONY: rerun
rerun: ## CONFIG=configs/<...>.yaml: run that experiment again from the start (SCALE, SEEDS)
	@test -n "$(RERUN_CSVS)" || { echo "make rerun: '$(CONFIG)' is no experiment at" \
	  "SCALE=$(SCALE)$(if $(SEEDS), with SEEDS=$(SEEDS)) (usage: make rerun" \
	  "CONFIG=configs/tinyvit/topk/k05.yaml)" >&2; exit 2; }
	$(Q)rm -f $(foreach c,$(RERUN_CSVS),$(c:.csv=).*) $(RERUN_TABLES:%=results/$(SCALE)/tables/%.md)
	$(Q)$(MAKE) --no-print-directory $(RERUN_CSVS)
	@echo "  then    make $(strip $(RERUN_TABLES)) SCALE=$(SCALE)  (redraws its table)"

.PHONY: tables campaign teachers results report publish claims list status
tables: $(TABLES) report ## run every table of the catalogue at SCALE

# The campaign (`make -j2 -k campaign SCALE=full`): every table of the catalogue in the order a
# reader learns most per hour: SEED's MoCo-v2 teachers, then one table per claim family with the
# headline claims first (each brings the teachers it reads: the zoo without smoothing, the
# hybrid, ViT-s, ViT-d, MAE), then the rest, the survey last. The zoo's own table comes after the
# headline claims: its ViT-m and ViT-l with smoothing (about 25 hours at one thread on a Zen 3)
# are read by no distillation table. Run it again after a stop: what is made is kept, and a
# stopped run goes on from its resume point. SEEDS=0 first gives every table a first point sooner.
CAMPAIGN := seed-teachers tinyvit-scratch tinyvit-teacher tinyvit-topk \
            seed-students tinymim-targets dcvit-macs dcvit-macs-deep kdlab-teachers tinyvit-gt \
            tinyvit-cost tinyvit-arch seed-table4 seed-table3 seed-table5 seed-teacher seed-queue \
            tinymim-relations tinymim-layer tinymim-droppath tinymim-sequential dcvit-latency \
            dcvit-metric dcvit-samples kdlab-survey
ifneq ($(filter campaign,$(MAKECMDGOALS)),)
ifneq ($(sort $(CAMPAIGN)),$(sort $(TABLES)))
$(error Makefile: CAMPAIGN and $(CATALOGUE) name different tables: only in CAMPAIGN: \
  $(or $(filter-out $(TABLES),$(CAMPAIGN)),none); only in the catalogue: \
  $(or $(filter-out $(CAMPAIGN),$(TABLES)),none) (fix: give CAMPAIGN every table once))
endif
endif
campaign: $(CAMPAIGN) ## every table at SCALE in the campaign's order (CAMPAIGN), then publish
	$(Q)$(MAKE) --no-print-directory publish
teachers: $(filter results/$(SCALE)/teachers/%,$(ALL_RESULTS)) ## train the teacher zoo at SCALE
results: $(ALL_RESULTS) ## run every experiment at SCALE
# REPORT_TABLES may name tables by their aliases (tinymim-table10); the report wants targets.
REPORT_TABLES ?= $(TABLES)
table_of = $(or $(patsubst $(1)=%,%,$(filter $(1)=%,$(ALIASES))),$(1))
REPORT_TARGETS = $(foreach t,$(REPORT_TABLES),$(call table_of,$(t)))
report: $(REPORT_TARGETS:%=results/$(SCALE)/tables/%.md) ## results/SCALE/REPORT.md and CLAIMS.md: the tables (run as needed) and every claim's verdict
	$(Q)$(MAKE) --no-print-directory publish REPORT_TABLES="$(REPORT_TABLES)"
# REPORT.md and CLAIMS.md from the tables there are, running nothing: what `git add results/full`
# publishes as full-scale results come in.
# PUBLISH_DIR: where the two files go (tests/test_published.sh writes them aside and compares).
PUBLISH_DIR ?= results/$(SCALE)
publish: bin/report bin/claims ## results/SCALE/REPORT.md and CLAIMS.md from the tables made so far (runs nothing)
	@mkdir -p $(PUBLISH_DIR)
	$(Q)bin/claims $(SCALE) configs/claims.tsv --markdown >$(PUBLISH_DIR)/CLAIMS.md.tmp && \
	  mv $(PUBLISH_DIR)/CLAIMS.md.tmp $(PUBLISH_DIR)/CLAIMS.md
	$(Q){ bin/report $(SCALE) --all $(REPORT_TARGETS) && cat $(PUBLISH_DIR)/CLAIMS.md; } \
	  >$(PUBLISH_DIR)/REPORT.md.tmp && mv $(PUBLISH_DIR)/REPORT.md.tmp $(PUBLISH_DIR)/REPORT.md
	@echo "  REPORT  $(PUBLISH_DIR)/REPORT.md, $(PUBLISH_DIR)/CLAIMS.md"
status: bin/status ## every result at SCALE: up to date (its hours), stale (and why) or missing; each folder
	$(Q)bin/status $(SCALE) $(CONFIGS)
claims: bin/claims ## check every claim of the papers against the results at SCALE
	$(Q)bin/claims $(SCALE) configs/claims.tsv
list: ## every table: paper, target, number, verified, title, time at each scale
	@awk -F'\t' 'BEGIN {printf "%-8s %-20s %-6s %-8s %-52s %-7s %-7s\n", "paper", "target", \
	  "table", "verified", "title", "quick", "full"} !/^#/ && NF>1 {printf \
	  "%-8s %-20s %-6s %-8s %-52s %-7s %-7s\n", $$2, $$1, $$3, $$4, $$8, $$10, $$11}' $(CATALOGUE)

# ---------------------------------------------------------------------------------------------
# Setup, tests, benchmarks.

.PHONY: deps demo test unit-tests skipped smoke asan bench bench-tinyvit clean help format \
        format-check
DEMO_TABLES ?= tinyvit-gt seed-table4 tinymim-table10 dcvit-metric
demo: | deps ## the main job: one table per paper at SCALE (quick), figures, report, claims
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory $(DEMO_TABLES) report claims REPORT_TABLES="$(DEMO_TABLES)"
	$(Q)$(if $(filter full,$(SCALE)),,bin/report $(SCALE) --beside full \
	  $(foreach t,$(DEMO_TABLES),$(call table_of,$(t))))

deps: ## install the Debian packages kdlab needs (apt-get; sudo when not root)
	$(Q)bash tools/deps.sh

# What the test scripts leave out (Slurm not startable, no PyTorch...), one line each written
# by tests/skip.sh; unit-tests starts it afresh, `make skipped` lists it (CI=true: fails on a
# component that `make deps` installs).
SKIPPED := $(CURDIR)/$(BUILD)/skipped.txt
export KD_SKIPPED := $(SKIPPED)

unit-tests: $(TEST_BIN) $(EXP_BIN) $(TOOL_BIN)
	$(Q)rm -f $(SKIPPED); fail=0; for t in $(TEST_BIN); do $$t || fail=1; done; \
	for t in tests/test_*.sh; do [ -f $$t ] || continue; KD_BIN=$(BIN) bash $$t || fail=1; done; \
	bash tests/skipped.sh $(SKIPPED) || fail=1; exit $$fail

skipped: ## what the last unit-tests / test run skipped and why (CI=true: fails if it matters)
	$(Q)bash tests/skipped.sh $(SKIPPED)

smoke: all ## every table at SCALE=smoke (results/smoke/, seconds each)
	$(Q)$(MAKE) --no-print-directory SCALE=smoke tables

test: | deps ## unit tests, gradient checks, bad-input cases, Slurm, and a smoke run of every table
	$(Q)$(MAKE) --no-print-directory format-check
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit-tests
	$(Q)$(MAKE) --no-print-directory smoke
	$(Q)$(MAKE) --no-print-directory demo SCALE=smoke  # README's main command, on the smoke results
	$(Q)bash tests/determinism.sh
	$(Q)bash tests/skipped.sh $(SKIPPED)
	@echo "all tests passed"

# Every C file as .clang-format (clang-format 14, Debian bookworm's) writes it.
C_SOURCES = $(sort $(shell find core experiments tools tests -name '*.[ch]'))
format-check: ## fail on a C file that clang-format would change (fix: make format)
	$(Q)out=$$(clang-format --dry-run -Werror $(C_SOURCES) 2>&1) || { printf '%s\n' "$$out" \
	  | grep -m1 'error:' | sed 's/$$/ (fix: make format)/' >&2; exit 1; }

format: ## format every C file in place with clang-format
	$(Q)clang-format -i $(C_SOURCES)

# The PyTorch twin traces 20 steps there, not 100: the sanitized build is what it checks for
# memory faults, and the full comparison has run in `make test`.
asan: ## the unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
	$(Q)KD_TWIN_STEPS=20 $(MAKE) --no-print-directory SANITIZE=address,undefined OPT=-O1 unit-tests

bench: bin/bench ## training/inference img/s of the reference ViT: kdlab vs PyTorch, with sgemm
	$(Q)bin/bench

bench-tinyvit: bin/bench ## the same for the hybrid TinyViT teacher (bin/bench --arch tinyvit)
	$(Q)bin/bench --arch tinyvit

.PHONY: export
export: bin/export ## CKPT=<run>.ckpt OUT=<file>.safetensors: weights for PyTorch (timm ViT names)
	$(Q)test -n "$(CKPT)" -a -n "$(OUT)" || { echo "usage: make export CKPT=results/quick/teachers/vit_s-s0.ckpt OUT=vit_s.safetensors" >&2; exit 2; }
	$(Q)bin/export $(CKPT) $(OUT)

clean: ## remove build products (results and their figures stay)
	rm -rf build build-* bin
	rm -f plots/*.png plots/*.svg  # figures drawn there by older trees

help: ## this list
	@echo "kdlab targets (SCALE=smoke|quick|full, default quick; RUN=\"srun -c2\" for Slurm):"
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | \
	  awk -F'\t' '{printf "  %-14s %s\n", $$1, $$2}'
	@echo "  <table>        one table of 'make list', e.g. tinyvit-topk (or its alias tinyvit-table3)"
