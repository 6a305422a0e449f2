#!/usr/bin/env bash
# Run ON THE GPU MACHINE from the repository root (with .deps carried, see
# fetch-deps.sh): builds Anvil there and runs the test suite — the CPU labels
# (a portability check against that machine's pip LibTorch) and the `gpu`
# label (CUDA and Triton candidates, examples and exploits on the GPU).
# Logs go to $OUT when set (the device tool's output folder), else build/gpu.
# Usage: scripts/gpu/test.sh [ctest -R regex for the gpu label]
set -euo pipefail
logs=${OUT:-build/gpu}
mkdir -p "$logs"
start=$(date +%s)
scripts/gpu/build.sh build/gpu > "$logs/gpu-build.log" 2>&1 || { tail -40 "$logs/gpu-build.log"; exit 1; }
echo "build: $(( $(date +%s) - start )) s"
{
  echo "host: $(hostname)"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  python3 -c 'import torch, triton; print("torch", torch.__version__, "cuda", torch.version.cuda, "triton", triton.__version__)'
  nvcc --version | tail -2
} > "$logs/gpu-env.txt" 2>&1
cat "$logs/gpu-env.txt"
cd build/gpu
status=0
ctest -j8 -LE gpu --output-on-failure > "$logs/cpu-ctest.log" 2>&1 || status=$?
tail -4 "$logs/cpu-ctest.log"
ctest -L gpu ${1:+-R "$1"} --output-on-failure -V > "$logs/gpu-ctest.log" 2>&1 || status=$?
grep -E "tests passed|Passed|Failed|Skipped" "$logs/gpu-ctest.log" | tail -20
exit $status
