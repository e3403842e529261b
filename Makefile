# The two commands the README opens with:
#   make run    install what is needed, build, start on the embedded default config
#   make test   install what is needed, build, run every test (what CI runs)
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: run test deps deps-test build unit integration sanitize fuzz clean

run: deps build
	./$(BUILD)/sluice run

test: deps-test
	bash scripts/test-all.sh

deps:
	bash scripts/install-deps.sh build

deps-test:
	bash scripts/install-deps.sh test

build:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

clean:
	rm -rf build build-asan build-fuzz
