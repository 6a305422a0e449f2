#!/usr/bin/env bash
# The demo: verify and benchmark every example kernel against LibTorch, then
# show a deliberately wrong kernel being rejected. Uses its own workspace.
set -uo pipefail
bin=${1:-build/release/src}
anvil="$bin/anvil"
export ANVIL_WORKSPACE=${ANVIL_WORKSPACE:-.anvil}

echo "== Anvil demo: example kernels, verified and timed against LibTorch eager"
echo
status=0
for dir in examples/*/; do
  dir=${dir%/}
  name=$(basename "$dir")
  [ "$name" = wrong_softmax ] && continue
  [ -f "$dir/task.toml" ] && [ -f "$dir/kernel.cpp" ] || continue
  "$anvil" bench "$dir/kernel.cpp" --task "$dir/task.toml" || status=1
done

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
