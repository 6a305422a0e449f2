# Two commands do everything on a fresh Debian 12 machine:
#   make demo   install missing packages, build, generate a verified fused kernel from a formula
#   make test   install missing packages, build, run the whole test suite
# On a GPU machine with PyTorch, Triton and nvcc (no package installs there):
#   make gpu-test   build against that machine's PyTorch, run the CPU and gpu labels
PRESET ?= release
BIN := build/$(PRESET)/src

.PHONY: setup build demo test gpu-test clean

setup:
	@scripts/setup.sh

build: setup
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET)

demo: build
	@scripts/demo.sh $(BIN)

test: build
	@ctest --preset $(PRESET) -j2

gpu-test:
	@scripts/gpu/test.sh

clean:
	rm -rf build .anvil
