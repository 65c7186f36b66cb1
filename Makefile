# attograd: a small reverse-mode autograd engine with attention layers.
# Objects and dependency files go under $(BUILD); `make help` lists the targets.

# Build with every core unless told otherwise (make -jN).
MAKEFLAGS += -j$(shell nproc)

CXX      ?= g++
BUILD    ?= build
# Never -ffast-math: it assumes no infinities and breaks the -inf attention mask.
# -ffp-contract=off keeps results (and the PyTorch-compatible random numbers) independent of FMA contraction.
# -fno-trapping-math lets g++ vectorise loops with float selects (softmax's exp checks for underflow and NaN) by
# evaluating both sides; no result changes, since nothing here reads the floating-point exception flags.
# -fvect-cost-model=dynamic lets -O2 vectorise loops whose pointers might overlap, behind a run-time overlap check
# (the element-wise kernels: out, a and b are separate pointers); -O2's default model leaves them scalar.
CXXFLAGS ?= -O2 -march=native
CXXFLAGS += -std=c++20 -ffp-contract=off -fno-trapping-math -fvect-cost-model=dynamic -Wall -Wextra -fopenmp -I. \
            -MMD -MP
# OpenBLAS is found through pkg-config (expanded when a recipe runs, after `deps` installed it).
BLAS_CFLAGS = $(shell pkg-config --cflags openblas)
BLAS_LIBS   = $(shell pkg-config --libs openblas)
LDLIBS   = $(BLAS_LIBS) -fopenmp

# `make test SANITIZE=1` builds everything under build/sanitize with AddressSanitizer and UBSan.
ifdef SANITIZE
BUILD    := build/sanitize
CXXFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined \
            $(filter-out -O2 -march=native,$(CXXFLAGS))
LDLIBS   += -fsanitize=address,undefined
endif

# `make test TSAN=1` builds everything under build/tsan with clang and ThreadSanitizer, on LLVM's OpenMP runtime
# with its Archer tool, which tells ThreadSanitizer about OpenMP's barriers and tasks (no false reports).
ifdef TSAN
ifdef SANITIZE
$(error choose one of SANITIZE=1 and TSAN=1: AddressSanitizer and ThreadSanitizer cannot share a build)
endif
BUILD    := build/tsan
CXX      := clang++
CXXFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=thread -Wno-pass-failed \
            $(filter-out -O2 -march=native -fvect-cost-model=%,$(CXXFLAGS))
LDLIBS   += -fsanitize=thread
# Archer, from the LLVM that clang++ belongs to (found when a recipe runs, after `deps` installed it).
export OMP_TOOL_LIBRARIES = $(shell p=$$(dirname $$(readlink -f $$(command -v clang++)))/../lib/libarcher.so; \
                                    test -f $$p && readlink -f $$p)
export TSAN_OPTIONS = ignore_noninstrumented_modules=1 halt_on_error=1
export OMP_NUM_THREADS = 2
endif

LIB_SRCS  := $(wildcard engine/*.cpp layers/*.cpp io/*.cpp)
TEST_SRCS := $(wildcard tests/*.cpp)
EXAMPLES  := $(patsubst examples/%.cpp,$(BUILD)/examples/%,$(wildcard examples/*.cpp))
LIB       := $(BUILD)/libattograd.a
# The examples' shared helpers (tasks, model, plots, flags), linked into every example and into the tests.
SUPPORT   := $(BUILD)/libsupport.a
DEPS_OK   := $(BUILD)/.deps-ok

PREFIX    ?= /usr/local

.PHONY: all run xbow graph gradcheck-report test examples bench fuzz install uninstall deps clean help
# Keep the objects that pattern rules build along the way (the fuzz targets' ones), so a rerun does not rebuild.
.SECONDARY:

# Build the library, the examples and the test runner.
all: $(LIB) $(EXAMPLES) $(BUILD)/tests/run_tests

# Build and run the trainer with its defaults (an attention head learns a toy task; `train --help` for more).
run: $(BUILD)/examples/train
	$(BUILD)/examples/train

# Build and run the notebooks' averaging trick.
xbow: $(BUILD)/examples/xbow
	$(BUILD)/examples/xbow

# Print a Head's autograd graph and draw it: head_graph.dot, and head_graph.svg when Graphviz is installed.
graph: $(BUILD)/examples/graph
	$(BUILD)/examples/graph

# Show gradcheck's report on ops with a deliberately wrong backward, and how to read it (docs/06-gradcheck.md).
gradcheck-report: $(BUILD)/examples/gradcheck_report
	$(BUILD)/examples/gradcheck_report

# Build and run the whole test suite; the last line reads "N passed, M failed".
test: $(BUILD)/tests/run_tests
	$(BUILD)/tests/run_tests

# Build every example program into $(BUILD)/examples.
examples: $(EXAMPLES)

# Time a training step against PyTorch (if installed) and OpenBLAS's peak; writes bench/RESULTS.md (~2 minutes).
bench: $(BUILD)/bench/bench_step
	/usr/bin/python3 bench/run.py --bin $(BUILD)/bench/bench_step

# Fuzzing: a crashing input is saved under fuzz/crashes/ (make it a test: tests/test_safetensors.cpp,
# tests/test_trainer.cpp). Each target mutates with the tokens of its dictionary, fuzz/<target>.dict. The stack is
# cut to FUZZ_STACK_KB, so that recursion driven by the input (printing a deeply nested header, say) overflows at a
# depth of about a thousand, within libFuzzer's default input size of 4 KB; on the usual 8 MiB it takes over 10,000
# levels, out of its reach.
FUZZ_SECONDS  ?= 60
FUZZ_STACK_KB ?= 512
FUZZ_TARGETS  := safetensors flags
# Fuzz the checkpoint loader and the trainer's flag parser (libFuzzer, ASan, UBSan), FUZZ_SECONDS (default 60) each.
fuzz: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
	@mkdir -p fuzz/crashes
	ulimit -s $(FUZZ_STACK_KB) && for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(BUILD)/fuzz/corpus_$$t && cp fuzz/seeds/$$t/* $(BUILD)/fuzz/corpus_$$t/ && \
	    $(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -dict=fuzz/$$t.dict \
	        -artifact_prefix=fuzz/crashes/$$t- $(BUILD)/fuzz/corpus_$$t || exit 1; \
	done

# Install the headers, the static library and a pkg-config file under $(PREFIX), so that your own program builds
# with `g++ my.cpp $$(pkg-config --cflags --libs attograd)` (examples/out_of_tree shows one).
install: $(LIB)
	install -d $(DESTDIR)$(PREFIX)/include/attograd/engine $(DESTDIR)$(PREFIX)/include/attograd/layers \
	           $(DESTDIR)$(PREFIX)/include/attograd/io $(DESTDIR)$(PREFIX)/include/attograd/testing \
	           $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(filter-out engine/kernels.h,$(wildcard engine/*.h)) $(DESTDIR)$(PREFIX)/include/attograd/engine/
	install -m 644 layers/*.h $(DESTDIR)$(PREFIX)/include/attograd/layers/
	install -m 644 io/*.h $(DESTDIR)$(PREFIX)/include/attograd/io/
	install -m 644 testing/*.h $(DESTDIR)$(PREFIX)/include/attograd/testing/
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/
	sed 's|@PREFIX@|$(PREFIX)|' attograd.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/attograd.pc

# Remove what `make install` put under $(PREFIX).
uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/include/attograd
	rm -f $(DESTDIR)$(PREFIX)/lib/libattograd.a $(DESTDIR)$(PREFIX)/lib/pkgconfig/attograd.pc

# Install the Debian packages the build needs, if any is missing (needs root or sudo).
deps: $(DEPS_OK)
$(DEPS_OK):
	@scripts/install-deps.sh
	@mkdir -p $(@D) && touch $@

# Remove everything the build made.
clean:
	rm -rf build

# List the targets.
help:
	@grep -B1 -E '^[a-z-]+:' Makefile | grep -E '^#' | sed 's/^# //'

# Objects depend on the Makefile too: a change of flags rebuilds them.
$(BUILD)/%.o: %.cpp Makefile | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(BLAS_CFLAGS) -c $< -o $@

$(LIB): $(LIB_SRCS:%.cpp=$(BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^

$(SUPPORT): $(patsubst %.cpp,$(BUILD)/%.o,$(wildcard examples/support/*.cpp))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/examples/%: $(BUILD)/examples/%.o $(SUPPORT) $(LIB)
	$(CXX) $(CXXFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/run_tests: $(TEST_SRCS:%.cpp=$(BUILD)/%.o) $(SUPPORT) $(LIB)
	$(CXX) $(CXXFLAGS) $^ -o $@ $(LDLIBS)

# The benchmark's timing program: the public engine and layers only, no example support.
$(BUILD)/bench/bench_step: $(BUILD)/bench/bench_step.o $(LIB)
	$(CXX) $(CXXFLAGS) $^ -o $@ $(LDLIBS)

# The fuzz target and the library, compiled by clang with libFuzzer's coverage instrumentation. Undefined behaviour
# aborts (-fno-sanitize-recover), so libFuzzer counts it as a crash and saves the input, rather than UBSan printing a
# report and the run going on. With stack-depth coverage, libFuzzer keeps any input that reaches deeper into the
# stack than those before, and so works its way towards recursion that the input drives.
FUZZ_CXXFLAGS = -std=c++20 -O1 -g -ffp-contract=off -Wno-pass-failed -fopenmp -I. -MMD -MP \
                -fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined \
                -fsanitize-coverage=stack-depth
$(BUILD)/fuzz/obj/%.o: %.cpp Makefile | $(DEPS_OK)
	@mkdir -p $(@D)
	clang++ $(FUZZ_CXXFLAGS) $(BLAS_CFLAGS) -c $< -o $@
$(BUILD)/fuzz/fuzz_%: $(patsubst %.cpp,$(BUILD)/fuzz/obj/%.o,fuzz/fuzz_%.cpp $(LIB_SRCS) $(wildcard examples/support/*.cpp))
	clang++ $(FUZZ_CXXFLAGS) -fsanitize=fuzzer $^ -o $@ $(BLAS_LIBS)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
