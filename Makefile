# peerchat front door. CMake does the work in build/; this file names the steps.
BUILD_DIR ?= build
FUZZ_DIR ?= build-fuzz
ASAN_DIR ?= build-asan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_PARALLEL ?= $(JOBS)
# Seconds of flood per scenario of make stress.
STRESS_SECONDS ?= 30
# Seconds each fuzz target runs in make fuzz, and in make check.
FUZZ_SECONDS ?= 60
FUZZ_CHECK_SECONDS ?= 10

.PHONY: all deps build check bench stress demo demo-stop clean fuzz-build fuzz fuzz-brief check-asan

all: build

# Installs the Debian packages peerchat needs; does nothing when all are there.
deps:
	@sh etc/install-deps.sh

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR)

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

check: build fuzz-brief
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(CTEST_PARALLEL)

# The libFuzzer targets of tests/fuzz, built with clang in their own directory.
$(FUZZ_DIR)/CMakeCache.txt: | deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -DPEERCHAT_FUZZ=ON

fuzz-build: deps $(FUZZ_DIR)/CMakeCache.txt
	cmake --build $(FUZZ_DIR) -j $(JOBS)

fuzz: fuzz-build
	sh tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

fuzz-brief: fuzz-build
	sh tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_CHECK_SECONDS)

# Every test, unit and integration (daemons included), under ASan and UBSan.
$(ASAN_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(ASAN_DIR) -DPEERCHAT_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo

check-asan: deps $(ASAN_DIR)/CMakeCache.txt
	cmake --build $(ASAN_DIR) -j $(JOBS)
	sh tests/sanitizers/run-ctest.sh $(ASAN_DIR) $(CTEST_PARALLEL)

bench: build
	sh bench/run.sh $(BUILD_DIR)

# The attacks of issue 9 at full rate, STRESS_SECONDS each (not in make check;
# needs root). STRESS_SCENARIOS picks some, e.g. make stress STRESS_SCENARIOS="4 6".
stress: build
	STRESS_SECONDS=$(STRESS_SECONDS) sh tests/stress/run.sh $(BUILD_DIR)

demo: build
	sh etc/demo.sh start $(BUILD_DIR)

demo-stop:
	sh etc/demo.sh stop $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_DIR) $(ASAN_DIR)
