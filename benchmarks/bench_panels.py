"""Panel latency, headless: change a control, time until the figure (PNG) is updated.

    python benchmarks/bench_panels.py [--moves 12]

For each notebook panel, cycles one control through values it has not visited (so every move
retrains: no cache hits). Without a kernel a panel does its work at once, so `control.value = x`
returns when all is done; the Image widget is watched to stamp the first new image ("new plot":
the current run drawn) and the last one ("last": a sweep such as 02's U-curve filled in). Per move:
retrain (compute), draw (artists + Agg), encode (PNG), new plot, last. Also, in a fresh process:
the first `train()` (which imports torch._dynamo) against later ones, and whether the first
slider move pays for it. Prints a table; writes benchmarks/results/panels.json.
Targets (browser, issue 15): new plot ≤ 0.25 s median, ≤ 0.4 s p90.
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


# Every move must retrain here: runs kept on disk (mfteach.runcache) would answer instead.
os.environ.setdefault("MFTEACH_RUN_CACHE", "off")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mfteach.lessons import capstone, initialization, regularization, skew  # noqa: E402
from mfteach.lessons.common import notebook_data  # noqa: E402
from mfteach.ui import log_options  # noqa: E402

def _gray_walk(toggles):
    """Moves that flip one toggle at a time through every on/off combination once (Gray code),
    starting from all on: each move is a setting not seen before."""
    moves, prev = [], 0
    for i in range(1, 2 ** len(toggles)):
        g = i ^ (i >> 1)
        bit = (g ^ prev).bit_length() - 1
        moves.append((toggles[bit], not bool(g >> bit & 1)))  # bit set in g = switched off
        prev = g
    return moves


# (panel factory, control to move, values to step through) — or a list of (control, value)
# moves, for panels whose controls have few values (toggles, dropdowns).
CASES = {
    "init_panel: init std (normal)": (lambda: initialization.init_panel(init="normal"), "init_std", log_options(3e-3, 1.0)[:12]),
    "init_panel: dim": (initialization.init_panel, "dim", [8, 12, 16, 20, 24, 28, 36, 40, 44, 48, 52, 56]),
    "reg_panel: strength": (regularization.reg_panel, "reg_strength", log_options(2e-3, 0.5)[:12]),
    # a regularizer not chosen before also computes its U-curve once (7 runs, then cached)
    "reg_panel: regularizer (first visit: + U-curve)": (regularization.reg_panel, None,
        [("reg", r) for r in ("adam_weight_decay", "adamw", "l2_all", "l1_batch", "none")]),
    "skew_panel: item zipf": (skew.skew_panel, "item_zipf", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1]),
    "skew_panel: learning rate": (skew.skew_panel, "lr", log_options(2e-3, 0.1)[:12]),
    "capstone_panel (medium): one fault toggled": (lambda: capstone.capstone_panel("medium"), None,
                                                   _gray_walk(("init", "weight_decay", "biases"))),
    # hard: SGD with one lr for everything is among the faults
    "capstone_panel (hard): one fault toggled": (lambda: capstone.capstone_panel("hard"), None,
                                                 _gray_walk(("init", "weight_decay", "biases", "sgd_lr"))),
    "init_std_panel: dim (no training)": (initialization.init_std_panel, "dim", [8, 16, 24, 40, 48, 56, 64, 72, 80, 96, 112, 128]),
    # a new epoch count also asks for a new U-curve: the current run first, then its 7 points
    "reg_panel: epochs (+ its U-curve, filled in after)": (regularization.reg_panel, "epochs", [5, 10, 20, 25, 30, 35, 40]),
}

FRESH = """
import json, sys, time
t = time.perf_counter(); import mfteach; t_import = time.perf_counter() - t
dynamo_after_import = 'torch._dynamo' in sys.modules
from mfteach.lessons import initialization
t = time.perf_counter(); p = initialization.init_panel(); t_build = time.perf_counter() - t
first_build_compute = p.last_seconds['compute']
moves = []
for dim in (40, 48, 56, 24):
    p.controls['dim'].value = dim
    moves.append(p.last_seconds['compute'])
print(json.dumps({"import_mfteach_s": t_import, "dynamo_loaded_by_import": dynamo_after_import,
                  "panel_build_s": t_build, "panel_build_compute_s": first_build_compute,
                  "move_compute_s": moves}))
"""


def fresh_process():
    """The first train() in a fresh process costs ~1 s more (torch._dynamo is imported by the first
    torch.optim constructor): is it paid by the panel's build (a cell running) or a slider move?"""
    out = subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True, timeout=300,
                         cwd=str(Path(__file__).resolve().parents[1]))
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench(factory, control, values, moves):
    p = factory()
    steps = values if control is None else [(control, v) for v in values
                                            if v != p.controls[control].value]
    stamps = []
    p.image.observe(lambda change: stamps.append(time.perf_counter()), names="value")
    out = []
    for name, v in steps[:moves]:
        before = p.image.value
        stamps.clear()
        t = time.perf_counter()
        p.controls[name].value = v
        dt = time.perf_counter() - t
        assert p.image.value != before, "the figure did not change"
        assert p._job.seconds.get("compute") is not None and not p._job.cached, \
            "a benchmark move must retrain"
        first = p._job.seconds  # the current run's retrain, draw and encode
        out.append({"new_plot": stamps[0] - t, "last": dt, "images": len(stamps),
                    **{k: first[k] for k in ("compute", "draw", "encode")}})
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--moves", type=int, default=12)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "panels.json"))
    args = ap.parse_args(argv)
    load0 = os.getloadavg()
    notebook_data(cold_items=0.05)  # data built once, as in a notebook
    results = {}
    keys = ("new_plot", "compute", "draw", "encode", "last")
    print(f"{'case (median s)':52s} {'new plot':>8s} {'retrain':>8s} {'draw':>6s} {'encode':>6s} "
          f"{'p90 new':>7s} {'last':>6s}")
    for name, (factory, control, values) in CASES.items():
        r = bench(factory, control, values, args.moves)
        med = {k: statistics.median(x[k] for x in r) for k in keys}
        new = sorted(x["new_plot"] for x in r)
        results[name] = {"median": med, "p90_new_plot": new[round(0.9 * (len(new) - 1))],
                         "max_new_plot": new[-1], "max_last": max(x["last"] for x in r), "moves": r}
        print(f"{name:52s} {med['new_plot']:8.3f} {med['compute']:8.3f} {med['draw']:6.3f} "
              f"{med['encode']:6.3f} {results[name]['p90_new_plot']:7.3f} {med['last']:6.3f}")
    fresh = fresh_process()
    print(f"fresh process: import mfteach {fresh['import_mfteach_s']:.2f} s (torch._dynamo loaded: "
          f"{fresh['dynamo_loaded_by_import']}); first panel build {fresh['panel_build_s']:.2f} s, "
          f"its train {fresh['panel_build_compute_s']:.2f} s; then moves retrain in "
          + ", ".join(f"{x:.2f}" for x in fresh["move_compute_s"]) + " s")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cpu_count": os.cpu_count(), "when": time.strftime("%F %T"),
                               "load_before": load0, "load_after": os.getloadavg(),
                               "results": results, "fresh_process": fresh}, indent=1))
    print(f"load {load0[0]:.2f} → {os.getloadavg()[0]:.2f}; wrote {out}")


if __name__ == "__main__":
    main()
