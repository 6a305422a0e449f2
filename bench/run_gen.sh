#!/usr/bin/env bash
# Runs the built-in compiler over task files and writes one JSON result file:
# machine, software versions, the commit, and for each task `anvil gen
# --json`'s whole answer (the plan, every configuration tried with its
# verdict and time, the winner's verification and timings against eager and,
# on GPUs, torch.compile), plus the wall time of the gen itself.
# Usage: bench/run_gen.sh out.json TARGET [task.toml ...]   (default: tasks/fused/*.toml)
# Env: ANVIL (the anvil binary; default build/release/src/anvil, build/gpu/src/anvil when present),
#      GEN_FLAGS (extra flags, e.g. --no-tune), BENCH_DEADLINE_S (start no task after N seconds),
#      ANVIL_COMMIT (the commit, when the tree has no usable .git).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1; target=$2; shift 2
anvil=${ANVIL:-build/release/src/anvil}
[ -x build/gpu/src/anvil ] && [ -z "${ANVIL:-}" ] && anvil=build/gpu/src/anvil
tasks=("$@")
[ ${#tasks[@]} -eq 0 ] && tasks=(tasks/fused/*.toml)
ws=$(mktemp -d)
trap 'rm -rf "$ws"' EXIT
start=$(date +%s)
results=()
for t in "${tasks[@]}"; do
  name=$(basename "$t" .toml)
  if [ -n "${BENCH_DEADLINE_S:-}" ] && [ $(( $(date +%s) - start )) -ge "$BENCH_DEADLINE_S" ]; then
    echo "{\"task\": \"$t\", \"skipped\": \"deadline\"}" > "$ws/$name.json"; results+=("$ws/$name.json"); continue
  fi
  echo "gen $t ($target)" >&2
  t0=$(date +%s.%N)
  set +e
  ANVIL_WORKSPACE="$ws/anvil" "$anvil" --json --no-progress gen --task "$t" --target "$target" \
    --out "$ws/$name.kernel" ${GEN_FLAGS:-} > "$ws/$name.out" 2> "$ws/$name.err"
  rc=$?
  set -e
  t1=$(date +%s.%N)
  python3 - "$t" "$rc" "$t0" "$t1" "$ws/$name.out" "$ws/$name.err" > "$ws/$name.json" <<'PY'
import json, sys
task, rc, t0, t1, out, err = sys.argv[1:]
try:
    answer = json.load(open(out))
except Exception:
    answer = None
print(json.dumps({"task": task, "exit_code": int(rc), "gen_seconds": float(t1) - float(t0),
                  "answer": answer, "stderr_tail": open(err).read()[-2000:]}))
PY
  results+=("$ws/$name.json")
done
commit=${ANVIL_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
python3 - "$out" "$target" "$commit" "${results[@]}" <<'PY'
import json, os, platform, subprocess, sys, datetime
out, target, commit, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def run(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception as e:
        return f"unavailable: {e}"
machine = {"cpu": run("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"), "cores": os.cpu_count(),
           "gpu": run("nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null")}
software = {"compiler": run("g++ --version | head -1"), "nvcc": run("nvcc --version 2>/dev/null | tail -1"),
            "torch_triton": run("python3 -c 'import torch; import importlib.util as u; t=u.find_spec(\"triton\"); "
                                "print(torch.__version__, torch.version.cuda, __import__(\"triton\").__version__ if t else \"no triton\")' 2>/dev/null")}
results = [json.load(open(f)) for f in files]
json.dump({"benchmark": "anvil gen over task files", "target": target, "commit": commit,
           "date_utc": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
           "machine": machine, "software": software, "results": results}, open(out, "w"), indent=1)
print(f"wrote {out} with {len(results)} results", file=sys.stderr)
PY
