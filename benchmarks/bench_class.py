"""A class on one server: N student kernels moving panel controls at once, on this machine.

    python benchmarks/bench_class.py [--students 1 4 8 16] [--moves 20] [--think 2.0]

Each student is a separate Python process (what a kernel is) that builds notebook 01's and 02's
panels, then moves a random control every `think` seconds (±50%, seeded) for `moves` moves, timing
each move until its new figure is ready, and reports its memory. Nothing touches the network.
Prints, per class size, the move latency's median and 90th percentile and the memory per kernel;
writes benchmarks/results/class.json. Use it to size a server (docs/instructor.md).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

STUDENT = r'''
import json, random, sys, time
sys.path.insert(0, {root!r})
sys.path.insert(0, {root!r} + '/benchmarks')
from mfteach.lessons import initialization, regularization
from moves import random_move

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

rng = random.Random({seed})
t0 = time.perf_counter()
panels = [initialization.init_panel(), regularization.reg_panel()]
build = time.perf_counter() - t0
lat, peak = [], rss_mb()
for _ in range({moves}):
    time.sleep({think} * rng.uniform(0.5, 1.5))
    p = rng.choice(panels)
    t = time.perf_counter()
    p.set(**random_move(p, rng))
    lat.append(time.perf_counter() - t)
    peak = max(peak, rss_mb())
print(json.dumps({{"build": build, "latency": lat, "peak_mb": peak, "end_mb": rss_mb()}}))
'''


def run_class(n, moves, think):
    # each student's moves retrain: runs kept on disk (mfteach.runcache) would answer instead
    env = {**os.environ, "MPLBACKEND": "Agg", "MFTEACH_RUN_CACHE": "off"}
    procs = [subprocess.Popen([sys.executable, "-c", STUDENT.format(root=str(ROOT), seed=k,
                                                                       moves=moves, think=think)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for k in range(n)]
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=1800)
        if p.returncode:
            raise RuntimeError(stderr[-2000:])
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    lat = sorted(x for r in out for x in r["latency"])
    return {"students": n, "median_s": statistics.median(lat),
            "p90_s": lat[int(0.9 * (len(lat) - 1))], "build_s": statistics.median(r["build"] for r in out),
            "peak_mb_per_kernel": max(r["peak_mb"] for r in out),
            "mean_end_mb_per_kernel": statistics.mean(r["end_mb"] for r in out)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, nargs="+", default=[1, 4, 8, 16])
    ap.add_argument("--moves", type=int, default=20)
    ap.add_argument("--think", type=float, default=2.0, help="seconds between a student's moves")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "class.json"))
    args = ap.parse_args()
    rows = []
    print(f"{os.cpu_count()} CPU cores; each student: {args.moves} moves, one every ~{args.think} s")
    print(f"{'students':>8} {'median':>8} {'p90':>8} {'panels built':>13} {'peak MB/kernel':>15}")
    for n in args.students:
        t = time.perf_counter()
        r = run_class(n, args.moves, args.think)
        r["wall_s"] = time.perf_counter() - t
        rows.append(r)
        print(f"{n:8d} {r['median_s']:7.2f}s {r['p90_s']:7.2f}s {r['build_s']:12.1f}s "
              f"{r['peak_mb_per_kernel']:14.0f}", flush=True)
    Path(args.out).write_text(json.dumps({"cores": os.cpu_count(), "moves": args.moves,
                                          "think_s": args.think, "classes": rows}, indent=1))


if __name__ == "__main__":
    main()
