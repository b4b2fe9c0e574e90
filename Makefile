# peerchat front door. CMake does the work in build/; this file names the steps.
BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_PARALLEL ?= $(JOBS)

.PHONY: all deps build check bench demo demo-stop clean

all: build

# Installs the Debian packages peerchat needs; does nothing when all are there.
deps:
	@sh etc/install-deps.sh

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR)

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

check: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(CTEST_PARALLEL)

bench: build
	sh bench/run.sh $(BUILD_DIR)

demo: build
	sh etc/demo.sh start $(BUILD_DIR)

demo-stop:
	sh etc/demo.sh stop $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
