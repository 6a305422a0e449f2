#!/usr/bin/env bash
# The demo: the built-in compiler turns a formula into a fused CPU kernel,
# verified on every case and timed against LibTorch; then a deliberately
# wrong kernel is rejected. Uses its own workspace.
set -uo pipefail
bin=${1:-build/release/src}
anvil="$bin/anvil"
export ANVIL_WORKSPACE=${ANVIL_WORKSPACE:-.anvil}

echo "== Anvil demo: a formula in, a verified fused CPU kernel out (the built-in compiler)"
echo
status=0
mkdir -p "$ANVIL_WORKSPACE"
# RMSNorm after a residual add (LLaMA), one output per row element; f32.
"$anvil" gen 'h = x + r
out = h * rsqrt(mean(h * h, -1, keepdim=True) + eps) * w' \
  --input 'x: f32[R, C]' --input 'r: f32[R, C]' --input 'w: f32[C]' --attr 'eps: f32 = 1e-6' \
  --perf 'R=2048, C=2048' --name rmsnorm_residual --out "$ANVIL_WORKSPACE/rmsnorm_residual.cpp" || status=1
echo "(the kernel, with a header saying how it was verified: $ANVIL_WORKSPACE/rmsnorm_residual.cpp)"
echo
echo "== A deliberately wrong kernel (examples/wrong_softmax): Anvil must reject it"
echo
"$anvil" verify examples/wrong_softmax/kernel.cpp --task examples/wrong_softmax/task.toml
rc=$?
if [ $rc -eq 1 ]; then
  echo "(rejected as expected: exit code 1)"
else
  echo "demo: the wrong kernel was NOT rejected (exit code $rc)" >&2
  status=1
fi
echo
echo "== Recorded in the store ($ANVIL_WORKSPACE/anvil.db):"
"$anvil" results --limit 10
exit $status
