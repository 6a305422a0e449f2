#!/usr/bin/env bash
# Time from `anvil gen` to a verified kernel, cold and cached: runs the same
# gen twice in one fresh workspace (the first tunes, the second finds the
# tuned parameters in the store and evaluates only them) and writes one JSON
# file with both wall times, the configurations measured, the verdicts and
# the machine. Usage: bench/run_gen_cache.sh out.json TARGET task.toml [gen flags...]
# Env: ANVIL (the anvil binary), ANVIL_COMMIT.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1; target=$2; task=$3; shift 3
anvil=${ANVIL:-build/release/src/anvil}
[ -x build/gpu/src/anvil ] && [ -z "${ANVIL:-}" ] && anvil=build/gpu/src/anvil
ws=$(mktemp -d)
trap 'rm -rf "$ws"' EXIT
for run in cold cached; do
  t0=$(date +%s.%N)
  ANVIL_WORKSPACE="$ws/anvil" "$anvil" --json --no-progress gen --task "$task" --target "$target" \
    --out "$ws/kernel" "$@" > "$ws/$run.json" 2> "$ws/$run.err" || true
  t1=$(date +%s.%N)
  echo "$t0 $t1" > "$ws/$run.time"
done
commit=${ANVIL_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
python3 - "$out" "$target" "$task" "$commit" "$ws" "$*" <<'PY'
import datetime, json, os, subprocess, sys
out, target, task, commit, ws, flags = sys.argv[1:]
runs = {}
for run in ("cold", "cached"):
    t0, t1 = map(float, open(f"{ws}/{run}.time").read().split())
    try:
        a = json.load(open(f"{ws}/{run}.json"))
    except Exception:
        a = None
    runs[run] = {"seconds": t1 - t0, "from_cache": a and a.get("from_cache"),
                 "configurations": a and [{"params": c["params"], "verdict": c["verdict"], "score_ns": c["score_ns"]}
                                          for c in a["configurations"]],
                 "verdict": a and a["result"]["verdict"], "speedup": a and a["result"].get("speedup"),
                 "stderr_tail": open(f"{ws}/{run}.err").read()[-1500:]}
cpu = subprocess.run("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2", shell=True, capture_output=True, text=True).stdout.strip()
json.dump({"benchmark": "anvil gen, cold then cached", "target": target, "task": task, "flags": flags, "commit": commit,
           "date_utc": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
           "machine": {"cpu": cpu, "cores": os.cpu_count()}, "runs": runs}, open(out, "w"), indent=1)
print(f"wrote {out}: cold {runs['cold']['seconds']:.1f} s, cached {runs['cached']['seconds']:.1f} s", file=sys.stderr)
PY
