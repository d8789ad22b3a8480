"""Kernel memory over a long panel session: N distinct moves per panel, RSS every 25 moves.

    python benchmarks/bench_memory.py [--moves 300] [--panels init_panel capstone_panel]

Each panel runs in its own fresh process (as a student's kernel would). A move picks a random
control and a random value of it (seeded), so most moves are settings not seen before. Goal: a
300-move session stays under 1 GB of RSS. Not a test: prints a table, writes
benchmarks/results/memory.json.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PANELS = {"init_panel": "initialization.init_panel()", "init_std_panel": "initialization.init_std_panel()",
          "reg_panel": "regularization.reg_panel()", "skew_panel": "skew.skew_panel()",
          "capstone_panel": "capstone.capstone_panel('hard')"}

CHILD = r'''
import json, random, sys
sys.path.insert(0, {root!r})
sys.path.insert(0, {root!r} + '/benchmarks')
import mfteach as mf
from mfteach.lessons import capstone, initialization, regularization, skew
from moves import random_move

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

p = {make}
rng = random.Random(0)
curve = [(0, rss_mb())]
for move in range(1, {moves} + 1):
    p.set(**random_move(p, rng))
    if move % 25 == 0:
        curve.append((move, rss_mb()))
print(json.dumps({{"curve": curve, "cached": len(p.cache), "cache_mb": p.cache.bytes / 2**20}}))
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moves", type=int, default=300)
    ap.add_argument("--panels", nargs="+", default=list(PANELS))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "memory.json"))
    args = ap.parse_args()
    results = {}
    for name in args.panels:
        code = CHILD.format(root=str(ROOT), make=PANELS[name], moves=args.moves)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={"MPLBACKEND": "Agg", **__import__("os").environ,
                                  "MFTEACH_RUN_CACHE": "off"})  # measure real training
        if out.returncode:
            print(f"{name}: failed\n{out.stderr[-2000:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results[name] = r
        curve = " ".join(f"{m}:{mb:.0f}" for m, mb in r["curve"])
        print(f"{name:15s} peak {max(mb for _, mb in r['curve']):6.0f} MB, end "
              f"{r['curve'][-1][1]:6.0f} MB; cache {r['cached']} results, {r['cache_mb']:.0f} MB  "
              f"[RSS by move: {curve}]", flush=True)
    Path(args.out).write_text(json.dumps({"moves": args.moves, "panels": results}, indent=1))


if __name__ == "__main__":
    main()
