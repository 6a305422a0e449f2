#!/usr/bin/env python3
"""Summarises result files of bench/run_gen.sh: one line per task (verdict,
speedup per dtype against eager and, on GPUs, torch.compile), then the
geometric means over the correct kernels' performance cases, as the README's
result tables quote them. With --combined, one more summary over all files
together, each task counted once (its result in the last file that ran it),
for a suite measured in several calls.
Usage: bench/summarize_gen.py [--combined] result.json [...]"""
import json
import math
import sys


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def main(args):
    combined = "--combined" in args
    paths = [a for a in args if a != "--combined"]
    latest = {}
    for path in paths:
        d = json.load(open(path))
        print(f"== {path}: target {d['target']}, commit {d['commit']}, {d['machine'].get('gpu') or d['machine'].get('cpu')}")
        summarize(d["results"])
        for r in d["results"]:
            if not r.get("skipped"):
                latest[r["task"]] = r
    if combined:
        print(f"== combined: {len(latest)} tasks, each from the last file that ran it")
        summarize(list(latest.values()), quiet=True)


def summarize(results, quiet=False):
    if True:
        eager_all, compile_all, per_op, light = [], [], [], []
        counts = {}
        for r in results:
            name = r["task"].split("/")[-1].removesuffix(".toml")
            if r.get("skipped"):
                counts["skipped"] = counts.get("skipped", 0) + 1
                if not quiet:
                    print(f"  {name:28s} skipped ({r['skipped']})")
                continue
            res = (r.get("answer") or {}).get("result") or {}
            verdict = res.get("verdict", f"exit {r['exit_code']}")
            counts[verdict] = counts.get(verdict, 0) + 1
            timings = res.get("timings", [])
            parts, op_eager = [], []
            for c in (t for t in timings if t["subject"] == "candidate"):
                base = {t["subject"]: t["median_ns"] for t in timings if t["index"] == c["index"] and t["subject"] != "candidate"}
                label = c["case"].split()[0]
                e = base.get("eager", 0) / c["median_ns"] if c["median_ns"] else 0
                k = base.get("compile", 0) / c["median_ns"] if c["median_ns"] and "compile" in base else None
                if verdict == "correct":
                    eager_all.append(e)
                    op_eager.append(e)
                    if k:
                        compile_all.append(k)
                parts.append(f"{label} {e:.2f}x" + (f"/{k:.2f}x" if k else ""))
            if op_eager:
                per_op.append(geomean(op_eager))
            if not quiet:
                print(f"  {name:28s} {verdict:10s} {'  '.join(parts)}")
            for c in (t for t in timings if t["subject"] == "candidate"):
                roof = res.get("roofline") or []
                if verdict == "correct" and c["index"] < len(roof) and roof[c["index"]].get("speed_of_light_ns"):
                    light.append(roof[c["index"]]["speed_of_light_ns"] / c["median_ns"])
        line = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
        print(f"  verdicts: {line}")
        print(f"  geomean over cases: {geomean(eager_all):.2f}x eager" +
              (f", {geomean(compile_all):.2f}x torch.compile" if compile_all else "") +
              f"; ops below 0.8x eager: {sum(1 for x in per_op if x < 0.8)} of {len(per_op)}")
        if light:
            light.sort()
            print(f"  speed of light (roofline) per case: median {light[len(light) // 2]:.0%}, "
                  f">= 85% in {sum(1 for x in light if x >= 0.85)} of {len(light)} cases, best {light[-1]:.0%}")


if __name__ == "__main__":
    main(sys.argv[1:])
