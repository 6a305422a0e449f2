# Two commands do everything on a fresh Debian 12 machine:
#   make demo   install missing packages, build, verify and benchmark the examples
#   make test   install missing packages, build, run the whole test suite
PRESET ?= release
BIN := build/$(PRESET)/src

.PHONY: setup build demo test clean

setup:
	@scripts/setup.sh

build: setup
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET)

demo: build
	@scripts/demo.sh $(BIN)

test: build
	@ctest --preset $(PRESET) -j2

clean:
	rm -rf build .anvil
