#!/usr/bin/env bash
# Run ON THE GPU MACHINE after scripts/gpu/build.sh: benchmarks GPU example
# kernels (CUDA C++ and Triton) against PyTorch eager and torch.compile and
# writes one JSON result file: GPU, driver, CUDA, PyTorch and Triton
# versions, the commit, the measured device ceilings, and for each kernel
# Anvil's full bench report (raw samples, medians, quartiles, host wall and
# drain medians, the cases it verified first, the roofline).
# Usage: bench/run_gpu.sh out.json [op/target[:task] ...]   e.g. softmax/cuda matmul/triton
#        rmsnorm/cuda:task_module (the task file examples/rmsnorm/task_module.toml; default task)
# (default: every examples/<op> with a .cu and a _triton.py, both targets, and
# again against a task_module.toml where one exists)
# BENCH_DEADLINE_S=N: start no kernel after N seconds (the device tool's
# calls are limited); kernels not started are listed as such in the file.
set -euo pipefail
cd "$(dirname "$0")/.."
anvil=build/gpu/src/anvil
out=$1; shift
ws=$(mktemp -d)
trap 'rm -rf "$ws"' EXIT
items=("$@")
if [ ${#items[@]} -eq 0 ]; then
  for cu in examples/*/*.cu; do
    op=$(basename "$(dirname "$cu")"); items+=("$op/cuda" "$op/triton")
    [ -f "examples/$op/task_module.toml" ] && items+=("$op/cuda:task_module" "$op/triton:task_module")
  done
fi
reports=()
start=$(date +%s)
for item in "${items[@]}"; do
  if [ -n "${BENCH_DEADLINE_S:-}" ] && [ $(( $(date +%s) - start )) -ge "$BENCH_DEADLINE_S" ]; then
    echo "not started: $item (BENCH_DEADLINE_S=$BENCH_DEADLINE_S reached)" >&2
    echo "{\"not_started\": \"$item\", \"why\": \"BENCH_DEADLINE_S=$BENCH_DEADLINE_S reached\"}" > "$ws/skip-${#reports[@]}.json"
    reports+=("$ws/skip-${#reports[@]}.json")
    continue
  fi
  task=task; case $item in *:*) task=${item#*:}; item=${item%%:*};; esac
  op=${item%/*} target=${item#*/}
  kernel=examples/$op/$op.cu; [ "$target" = triton ] && kernel=examples/$op/${op}_triton.py
  f="$ws/$op-$target-$task.json"
  echo "bench $kernel ($target, $task.toml)" >&2
  "$anvil" --workspace "$ws/anvil" --json --no-progress bench "$kernel" --task "examples/$op/$task.toml" \
    --target "$target" > "$f" || true   # a rejected kernel is a result too
  reports+=("$f")
done

python3 - "$out" "${reports[@]}" <<'PY'
import json, os, subprocess, sys
out, files = sys.argv[1], sys.argv[2:]
def sh(cmd):
    try: return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception as e: return str(e)
results = []
for f in files:
    try:
        d = json.load(open(f))
        results.append(d if "not_started" in d else d["results"][0])
    except Exception as e: results.append({"file": f, "error": "no JSON from anvil: %s" % e})
doc = {
  "benchmark": "GPU examples vs PyTorch eager and torch.compile (anvil bench --target cuda|triton)",
  # ANVIL_COMMIT first: the device tool's copy of the tree may carry a stale .git.
  "commit": os.environ.get("ANVIL_COMMIT") or sh("git rev-parse HEAD 2>/dev/null") or "?",
  "date_utc": sh("date -u +%FT%TZ"),
  "machine": {"gpu": sh("nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader"),
              "cpu_cores": os.cpu_count()},
  "software": {"torch_triton": sh("python3 -c 'import torch, triton; print(torch.__version__, torch.version.cuda, triton.__version__)'"),
               "nvcc": sh("nvcc --version | tail -1"), "compiler": sh("g++ --version | head -1")},
  "results": results,
}
json.dump(doc, open(out, "w"), indent=1)
print("wrote", out, "with", len(results), "results")
PY
