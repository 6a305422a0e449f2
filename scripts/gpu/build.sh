#!/usr/bin/env bash
# Run ON THE GPU MACHINE from the repository root (after scripts/gpu/fetch-deps.sh
# here, with .deps carried): builds Anvil against the PyTorch, CUDA and Python
# found there, with the carried Debian packages for what that machine lacks.
# The worker gets CUDA (LibTorch's), and embeds that machine's Python, whose
# torch and triton packages it imports (Triton candidates, torch.compile).
# Usage: scripts/gpu/build.sh [build-dir]   (default build/gpu)
set -euo pipefail
build=${1:-build/gpu}
deps=$PWD/.deps/root
[ -d "$deps/usr/include" ] || { echo "gpu/build: no .deps/root: run scripts/gpu/fetch-deps.sh first and carry .deps" >&2; exit 2; }
python=$(command -v python3)
torch_cmake=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
lib=$deps/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_PREFIX_PATH="$torch_cmake;$deps/usr;$lib/cmake" \
  -DSQLite3_INCLUDE_DIR="$deps/usr/include" -DSQLite3_LIBRARY="$lib/libsqlite3.a" \
  -DDLPACK_INCLUDE_DIR="$deps/usr/include" \
  -DPython3_EXECUTABLE="$python" -DCUDAToolkit_ROOT=/usr/local/cuda
cmake --build "$build" -j "$(nproc)"
