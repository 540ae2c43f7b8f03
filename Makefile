# kdlab: one non-recursive Makefile. `make help` lists the targets.
# Build: core/ -> build/libkdlab.a; experiments/*.c -> bin/<name>; tests/test_*.c -> build/tests/.

SCALE ?= quick
OPT ?= -O2
RUN ?=
V ?= 0
CC ?= cc

ifeq ($(V),0)
Q := @
else
Q :=
endif

CFLAGS := -std=c11 -D_GNU_SOURCE $(OPT) -g -march=native -Wall -Wextra -Werror \
          -Wno-unused-parameter -MMD -MP -Icore
LDLIBS := -lopenblas -lyaml -lpng -lz -lm -lpthread
ifneq ($(SANITIZE),)
CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif

BUILD := build$(if $(SANITIZE),-$(subst $(comma),-,$(SANITIZE)))
comma := ,

CORE_SRC := $(sort $(wildcard core/*/*.c))
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libkdlab.a
EXP_SRC := $(sort $(wildcard experiments/*.c))
EXP_BIN := $(EXP_SRC:experiments/%.c=bin/%)
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_SUPPORT := $(filter-out $(TEST_SRC),$(wildcard tests/*.c))

.DELETE_ON_ERROR:
.SECONDARY:
.DEFAULT_GOAL := all

.PHONY: all
all: $(EXP_BIN) $(TEST_BIN) ## build the core, every experiment and every test

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(CORE_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

bin/%: $(BUILD)/experiments/%.o $(LIB)
	@mkdir -p bin
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(TEST_SUPPORT:%.c=$(BUILD)/%.o) $(LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

-include $(shell find build* -name '*.d' 2>/dev/null)
