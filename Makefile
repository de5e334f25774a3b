# The two commands of the README: `make run` and `make test`. Everything else is a helper of those.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps build run test unit integration clean

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# Runs a node with the embedded defaults: SQLite catalog and local repository in ./opendbs-data.
run: build
	$(BUILD)/opendbs serve --data-dir ./opendbs-data --listen 127.0.0.1:8080

# Every test: C++ unit and integration tests (CTest), then the suites under tests/ that need running servers.
test: build
	scripts/run-tests $(BUILD)

clean:
	rm -rf $(BUILD)
