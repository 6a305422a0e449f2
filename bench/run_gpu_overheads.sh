#!/usr/bin/env bash
# Run ON THE GPU MACHINE after scripts/gpu/build.sh: the three measurements
# the GPU backend owes besides kernel speedups, in one JSON file.
#   1. Per-candidate evaluation overhead, from `anvil --json verify` reports
#      of an elementwise CUDA candidate (tests/gpu_exploits/correct_scale.cu,
#      every correctness case of its task): worker start, a cold build, a
#      build-cache hit, and the verify itself (the rest of the evaluation).
#   2. The timer's run-to-run spread: `anvil bench examples/softmax/softmax.cu`
#      repeated, the candidate's median per performance case in each run;
#      target: every run within 2% of the median of the runs.
#   3. The copy ceiling Anvil measured (from the bench reports) against what
#      torch reaches for a 1 GiB device-to-device copy timed the same way
#      (CUDA events, 3 warm-ups, median of 20).
# Usage: bench/run_gpu_overheads.sh out.json [repeats, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
anvil=build/gpu/src/anvil
out=$1
repeats=${2:-5}
ws=$(mktemp -d)
trap 'rm -rf "$ws"' EXIT

scale=(verify tests/gpu_exploits/correct_scale.cu --task tests/gpu_exploits/task_scale.toml --target cuda)
for i in $(seq "$repeats"); do
  # A fresh workspace: worker start and a cold build; then the same candidate
  # again in a new CLI run on that workspace: a build-cache hit.
  "$anvil" --workspace "$ws/cold$i" --json --no-progress "${scale[@]}" > "$ws/cold$i.json" || true
  "$anvil" --workspace "$ws/cold$i" --json --no-progress "${scale[@]}" > "$ws/warm$i.json" || true
done
for i in $(seq "$repeats"); do
  "$anvil" --workspace "$ws/bench" --json --no-progress bench examples/softmax/softmax.cu \
    --task examples/softmax/task.toml --target cuda > "$ws/bench$i.json" || true
done

python3 - "$out" "$ws" "$repeats" <<'PY'
import json, os, statistics, subprocess, sys
out, ws, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def load(name):
    try: return json.load(open(os.path.join(ws, name)))["results"][0]
    except Exception as e: return {"error": str(e)}
def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()

overhead = []
for i in range(1, n + 1):
    cold, warm = load(f"cold{i}.json"), load(f"warm{i}.json")
    row = {}
    for tag, r in (("cold", cold), ("warm", warm)):
        if "error" in r: row[tag] = r; continue
        b = r["build"]["seconds"]
        row[tag] = {"verdict": r["verdict"], "cases": r["cases_total"], "total_s": r["seconds"],
                    "worker_start_s": r["worker_start_seconds"], "build_s": b, "build_cached": r["build"]["cached"],
                    "verify_s": r["seconds"] - b - r["worker_start_seconds"]}
    overhead.append(row)

runs = [load(f"bench{i}.json") for i in range(1, n + 1)]
spread = {}
for r in runs:
    for t in r.get("timings", []):
        if t["subject"] == "candidate": spread.setdefault(t["case"], []).append(t["median_ns"])
spread_summary = {}
for case, medians in spread.items():
    m = statistics.median(medians)
    spread_summary[case] = {"medians_ns": medians, "median_of_runs_ns": m,
                            "max_deviation_pct": 100 * max(abs(x - m) for x in medians) / m}

ceilings = next((r["device_ceilings"] for r in runs if "device_ceilings" in r), None)
torch_copy = sh("""python3 - <<'EOF'
import torch
n = 1 << 30
a = torch.empty(n, dtype=torch.uint8, device="cuda"); b = torch.empty_like(a)
s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
for _ in range(3): b.copy_(a)
ts = []
for _ in range(20):
    s.record(); b.copy_(a); e.record(); e.synchronize(); ts.append(s.elapsed_time(e) / 1e3)
ts.sort()
print(2 * n / ts[len(ts) // 2] / 1e9)
EOF""")
doc = {
  "benchmark": "GPU evaluation overheads, timer run-to-run spread, copy ceiling vs torch",
  "commit": os.environ.get("ANVIL_COMMIT", "?"),
  "date_utc": sh("date -u +%FT%TZ"),
  "machine": {"gpu": sh("nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader"),
              "cpu_cores": os.cpu_count()},
  "software": {"torch_triton": sh("python3 -c 'import torch, triton; print(torch.__version__, torch.version.cuda, triton.__version__)'")},
  "overhead": overhead,
  "timer_spread": spread_summary,
  "copy_gbps": {"anvil_ceiling": ceilings and ceilings.get("copy_gbps"), "torch_copy": float(torch_copy or 0)},
  "raw_bench_reports": runs,
}
json.dump(doc, open(out, "w"), indent=1)
print("wrote", out)
PY
