#!/usr/bin/env bash
# Run ON THE GPU MACHINE from the repository root (with .deps carried, see
# fetch-deps.sh): builds Anvil there and runs the whole test suite, writing
# logs to $OUT when set (the device tool's output folder) or build/gpu.
# Today the suite exercises the CPU path against that machine's PyTorch
# (a portability check of the build against a pip LibTorch); GPU tests join
# when the CUDA backend lands.
set -euo pipefail
logs=${OUT:-build/gpu}
mkdir -p "$logs"
scripts/gpu/build.sh build/gpu > "$logs/gpu-build.log" 2>&1 || { tail -30 "$logs/gpu-build.log"; exit 1; }
{
  echo "host: $(hostname)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
} > "$logs/gpu-env.txt" 2>&1
cd build/gpu
ctest -j8 --output-on-failure > "$logs/gpu-ctest.log" 2>&1 && status=0 || status=$?
tail -15 "$logs/gpu-ctest.log"
exit $status
