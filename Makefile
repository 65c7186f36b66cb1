# attograd: a small reverse-mode autograd engine with attention layers.
# Objects and dependency files go under $(BUILD); `make help` lists the targets. Builds run in parallel with
# `make -jN` (e.g. `make -j$(nproc) test`); make alone builds one file at a time.

BUILD ?= build

# The flags attograd needs, whatever CXXFLAGS says (`make CXXFLAGS=-O0` only changes the optimisation):
# never -ffast-math: it assumes no infinities and breaks the -inf attention mask;
# -ffp-contract=off keeps results (and the PyTorch-compatible random numbers) independent of FMA contraction;
# -fno-trapping-math lets the compiler vectorise loops with float selects (softmax's exp checks for underflow and
# NaN) by evaluating both sides; no result changes, since nothing here reads the floating-point exception flags;
# -fno-math-errno lets sqrt be the one instruction (and vectorise, as in AdamW's update) instead of a call that may
# set errno; no result changes, since nothing here reads errno;
# -fopenmp-simd reads the kernels' `#pragma omp simd` (vectorisation only: the engine's threads are its own).
REQUIRED_CXXFLAGS = -std=c++20 -ffp-contract=off -fno-trapping-math -fno-math-errno -Wall -Wextra -fopenmp-simd -pthread -I. -MMD -MP
# g++ only: -fvect-cost-model=dynamic lets -O2 vectorise loops whose pointers might overlap, behind a run-time
# overlap check (the element-wise kernels: out, a and b are separate pointers); -O2's default leaves them scalar.
GCC_CXXFLAGS = $(if $(findstring clang,$(CXX)),,-fvect-cost-model=dynamic)
# OpenBLAS, its pthreads build (Debian's libopenblas-pthread-dev), found through its own pkg-config file (expanded
# when a recipe runs, after the packages are installed) and pinned by an rpath: the engine calls it from its own
# threads, which the OpenMP build of OpenBLAS does not allow (its buffers belong to OpenMP's threads).
BLAS_PC     = PKG_CONFIG_PATH=/usr/lib/$(shell $(CC) -print-multiarch)/openblas-pthread/pkgconfig pkg-config openblas
BLAS_CFLAGS = $(shell $(BLAS_PC) --cflags)
BLAS_LIBS   = $(shell $(BLAS_PC) --libs) -Wl,-rpath,$(shell $(BLAS_PC) --variable=libdir)
LDLIBS      = $(BLAS_LIBS) -pthread
# The Debian packages a build needs (scripts/install-deps.sh installs each group when it is missing).
DEPS_GROUPS = base

ifdef SANITIZE
ifdef TSAN
$(error choose one of SANITIZE=1 and TSAN=1: AddressSanitizer and ThreadSanitizer cannot share a build)
endif
# `make test SANITIZE=1` builds everything under build/sanitize with AddressSanitizer and UBSan.
BUILD    := build/sanitize
CXXFLAGS ?= -O1 -g -fno-omit-frame-pointer
SANITIZER_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined
else ifdef TSAN
# `make test TSAN=1` builds everything under build/tsan with clang and ThreadSanitizer.
BUILD    := build/tsan
CXX      := clang++
CXXFLAGS ?= -O1 -g -fno-omit-frame-pointer
SANITIZER_FLAGS = -fsanitize=thread -Wno-pass-failed
DEPS_GROUPS = base clang
export TSAN_OPTIONS = ignore_noninstrumented_modules=1 halt_on_error=1
export OMP_NUM_THREADS = 2
else
CXXFLAGS ?= -O2 -march=native
endif

ALL_CXXFLAGS = $(REQUIRED_CXXFLAGS) $(GCC_CXXFLAGS) $(SANITIZER_FLAGS) $(CXXFLAGS)
ALL_LDFLAGS  = $(ALL_CXXFLAGS) $(LDFLAGS)

LIB_SRCS     := $(wildcard engine/*.cpp layers/*.cpp io/*.cpp)
SUPPORT_SRCS := $(wildcard examples/support/*.cpp)
TEST_SRCS    := $(wildcard tests/*.cpp)
EXAMPLE_SRCS := $(wildcard examples/*.cpp)
EXAMPLES     := $(EXAMPLE_SRCS:examples/%.cpp=$(BUILD)/examples/%)
OBJS         := $(patsubst %.cpp,$(BUILD)/%.o,$(LIB_SRCS) $(SUPPORT_SRCS) $(TEST_SRCS) $(EXAMPLE_SRCS) bench/bench_step.cpp)
LIB          := $(BUILD)/libattograd.a
# The examples' shared helpers (tasks, model, plots, flags), linked into every example and into the tests.
SUPPORT      := $(BUILD)/libsupport.a
# A stamp per group of packages: each is checked once per build directory.
DEPS_OK      := $(DEPS_GROUPS:%=$(BUILD)/.deps-%)

PREFIX ?= /usr/local

.PHONY: all run xbow graph gradcheck-report gpt docs test examples bench fuzz install uninstall deps clean help
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

# Print a Head's autograd graph and draw it to head_graph.svg with Graphviz (installed if missing).
graph: $(BUILD)/examples/graph $(BUILD)/.deps-graphviz
	$(BUILD)/examples/graph

# The GPT's default corpus: every fortunes file (installed if missing), in name order, as one UTF-8 text.
FORTUNES := /usr/share/games/fortunes
$(BUILD)/data/fortunes.txt: | $(BUILD)/.deps-fortunes
	@mkdir -p $(@D)
	find $(FORTUNES) -maxdepth 1 -type f ! -name '*.dat' ! -name '*.u8' | LC_ALL=C sort | xargs cat > $@.tmp
	mv $@.tmp $@

# The recipe of `make gpt`: nanoGPT's CPU one (4 layers of 4 heads, n_embd 128, context 64), a few minutes.
GPT_FLAGS ?= --n-layer 4 --n-head 4 --n-embd 128 --block-size 64 --batch-size 12 --dropout 0 \
             --learning-rate 1e-3 --max-iters 4000 --eval-interval 500 --eval-iters 20 --out $(BUILD)/gpt
# Train the lecture's GPT on the fortunes (GPT_FLAGS overrides the recipe), then print the text it writes.
gpt: $(BUILD)/examples/gpt $(BUILD)/data/fortunes.txt
	$(BUILD)/examples/gpt --data $(BUILD)/data/fortunes.txt $(GPT_FLAGS)

# Show gradcheck's report on ops with a deliberately wrong backward, and how to read it (docs/06-gradcheck.md).
gradcheck-report: $(BUILD)/examples/gradcheck_report
	$(BUILD)/examples/gradcheck_report

# Compile and run every program the pages in docs/ show, and check the output they quote (none can go stale).
docs: $(LIB) $(EXAMPLES)
	scripts/docs-programs.sh $(BUILD)/docs "$(CXX) $(ALL_CXXFLAGS) $(BLAS_CFLAGS)" "$(LIB) $(LDLIBS)" $(BUILD)/examples

# Build and run the whole test suite; the last line reads "N passed, M failed".
test: $(BUILD)/tests/run_tests
	$(BUILD)/tests/run_tests

# Build every example program into build/examples.
examples: $(EXAMPLES)

# PyTorch's C++ API side of the bench, built only when Debian's libtorch-dev is installed (nothing else needs it;
# without it the bench compares with PyTorch from Python alone).
LIBTORCH_INCLUDE = /usr/include/torch/csrc/api/include
LIBTORCH_BENCH   = $(if $(wildcard $(LIBTORCH_INCLUDE)/torch/torch.h),$(BUILD)/bench/bench_libtorch)

# Time training steps (a Head, the lecture's GPT) and the trainers against PyTorch (if installed), on the quiet
# machine and beside a busy process; writes bench/RESULTS.md (~30 min).
bench: $(BUILD)/bench/bench_step $(LIBTORCH_BENCH) $(BUILD)/examples/train $(BUILD)/examples/gpt $(BUILD)/data/fortunes.txt
	/usr/bin/python3 bench/run.py --bin $(BUILD)/bench/bench_step $(if $(LIBTORCH_BENCH),--libtorch $(LIBTORCH_BENCH)) \
	    --examples $(BUILD)/examples --text $(BUILD)/data/fortunes.txt

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

# Your own program then builds with `g++ my.cpp $$(pkg-config --cflags --libs attograd)` (see examples/out_of_tree).
# Install the headers, the static library and a pkg-config file under $(PREFIX).
install: $(LIB)
	install -d $(DESTDIR)$(PREFIX)/include/attograd/engine $(DESTDIR)$(PREFIX)/include/attograd/layers \
	           $(DESTDIR)$(PREFIX)/include/attograd/io $(DESTDIR)$(PREFIX)/include/attograd/testing \
	           $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(filter-out engine/kernels.h,$(wildcard engine/*.h)) $(DESTDIR)$(PREFIX)/include/attograd/engine/
	install -m 644 layers/*.h $(DESTDIR)$(PREFIX)/include/attograd/layers/
	install -m 644 io/*.h $(DESTDIR)$(PREFIX)/include/attograd/io/
	install -m 644 testing/*.h $(DESTDIR)$(PREFIX)/include/attograd/testing/
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/
	sed 's|@PREFIX@|$(PREFIX)|; s|@BLAS_LIBS@|$(BLAS_LIBS)|' attograd.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/attograd.pc

# Remove what `make install` put under $(PREFIX).
uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/include/attograd
	rm -f $(DESTDIR)$(PREFIX)/lib/libattograd.a $(DESTDIR)$(PREFIX)/lib/pkgconfig/attograd.pc

# Install the Debian packages this build needs, if any is missing (needs root or sudo).
deps: $(DEPS_OK)
$(BUILD)/.deps-%:
	@scripts/install-deps.sh $*
	@mkdir -p $(@D) && touch $@

# Remove everything the build made.
clean:
	rm -rf build

# List the targets, each with the last line of the comment above it.
help:
	@awk '/^# / { line = substr($$0, 3); next } /^[a-z-]+:/ && line { sub(/:.*/, "", $$1); \
	      printf "  %-18s %s\n", $$1, line } { line = "" }' Makefile

# Objects depend on the Makefile too: a change of flags rebuilds them.
$(BUILD)/%.o: %.cpp Makefile | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CXX) $(ALL_CXXFLAGS) $(BLAS_CFLAGS) -c $< -o $@

$(LIB): $(LIB_SRCS:%.cpp=$(BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^

$(SUPPORT): $(SUPPORT_SRCS:%.cpp=$(BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/examples/%: $(BUILD)/examples/%.o $(SUPPORT) $(LIB)
	$(CXX) $(ALL_LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/run_tests: $(TEST_SRCS:%.cpp=$(BUILD)/%.o) $(SUPPORT) $(LIB)
	$(CXX) $(ALL_LDFLAGS) $^ -o $@ $(LDLIBS)

# The benchmark's timing program: the public engine and layers only, no example support.
$(BUILD)/bench/bench_step: $(BUILD)/bench/bench_step.o $(LIB)
	$(CXX) $(ALL_LDFLAGS) $^ -o $@ $(LDLIBS)

# PyTorch C++ API side (see LIBTORCH_BENCH above); it links only libtorch, not the engine.
$(BUILD)/bench/bench_libtorch: bench/bench_libtorch.cpp
	@mkdir -p $(@D)
	$(CXX) -std=c++17 -O2 -I$(LIBTORCH_INCLUDE) -Wno-deprecated-declarations $< -o $@ -ltorch -ltorch_cpu -lc10

# The fuzz target and the library, compiled by clang with libFuzzer's coverage instrumentation, with the same
# required flags. Undefined behaviour aborts (-fno-sanitize-recover), so libFuzzer counts it as a crash and saves
# the input, rather than UBSan printing a report and the run going on. With stack-depth coverage, libFuzzer keeps
# any input that reaches deeper into the stack than those before, and so works its way towards recursion that the
# input drives.
FUZZ_CXXFLAGS = $(REQUIRED_CXXFLAGS) -O1 -g -Wno-pass-failed -fsanitize=address,undefined,fuzzer-no-link \
                -fno-sanitize-recover=undefined -fsanitize-coverage=stack-depth
FUZZ_OBJS     = $(patsubst %.cpp,$(BUILD)/fuzz/obj/%.o,$(LIB_SRCS) $(SUPPORT_SRCS))
$(BUILD)/fuzz/obj/%.o: %.cpp Makefile | $(DEPS_OK) $(BUILD)/.deps-clang
	@mkdir -p $(@D)
	clang++ $(FUZZ_CXXFLAGS) $(BLAS_CFLAGS) -c $< -o $@
$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/obj/fuzz/fuzz_%.o $(FUZZ_OBJS)
	clang++ $(FUZZ_CXXFLAGS) -fsanitize=fuzzer $^ -o $@ $(BLAS_LIBS)

# The dependency files of this build's objects only (the sanitizer builds under build/ keep their own).
-include $(OBJS:.o=.d) $(FUZZ_OBJS:.o=.d) $(FUZZ_TARGETS:%=$(BUILD)/fuzz/obj/fuzz/fuzz_%.d)
