#!/usr/bin/env bash
# Benchmarks every example CPU kernel against LibTorch eager and writes one JSON
# result file: the machine and software it ran on, the commit, and for each
# example Anvil's full bench report (raw samples, medians, quartiles, the
# cases it verified first). Usage: bench/run_examples.sh [out.json]
set -euo pipefail
cd "$(dirname "$0")/.."
anvil=build/release/src/anvil
out=${1:-bench/results/cpu-examples-$(date -u +%Y%m%d-%H%M%S).json}
ws=$(mktemp -d)
trap 'rm -rf "$ws"' EXIT

reports=()
for dir in examples/*/; do
  dir=${dir%/}
  [ "$(basename "$dir")" = wrong_softmax ] && continue
  [ -f "$dir/kernel.cpp" ] || continue   # GPU-only examples (bench/run_gpu.sh)
  f="$ws/$(basename "$dir").json"
  "$anvil" --workspace "$ws" --json --no-progress bench "$dir/kernel.cpp" --task "$dir/task.toml" > "$f"
  reports+=("$f")
done

/usr/bin/python3 - "$out" "${reports[@]}" <<'PY'
import json, os, platform, subprocess, sys
out, files = sys.argv[1], sys.argv[2:]
def sh(cmd):
    try: return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception as e: return str(e)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
doc = {
  "benchmark": "examples vs LibTorch eager (anvil bench)",
  "commit": sh("git rev-parse HEAD"), "dirty": bool(sh("git status --porcelain")),
  "date_utc": sh("date -u +%FT%TZ"),
  "machine": {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(), "load_avg_1m": os.getloadavg()[0]},
  "software": {"compiler": sh("g++ --version | head -1"),
               "libtorch": sh("dpkg-query -W -f='${Version}' libtorch-dev"),
               "os": sh(". /etc/os-release && echo $PRETTY_NAME")},
  "results": [json.load(open(f))["results"][0] for f in files],
}
os.makedirs(os.path.dirname(out), exist_ok=True)
json.dump(doc, open(out, "w"), indent=1)
for r in doc["results"]:
    print(f'{r["task"]:<18} {r["verdict"]:<8} speedup {r.get("speedup", 0):.2f}x')
print("wrote", out)
PY
