"""Panel latency: change a control, time until the figure (PNG) is updated. Headless.

    python benchmarks/bench_panels.py [--moves 12]

For each notebook panel, cycles one slider through values it has not visited (so every move
retrains: no cache hits), timing `control.value = x` until the Image widget holds a new PNG (the
observer runs synchronously, so that is the whole retrain + redraw). Prints medians and writes
benchmarks/results/panels.json. Target: ≤ 0.5 s median on 2 cores (aim 0.3 s).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path


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
}


def bench(factory, control, values, moves):
    p = factory()
    steps = values if control is None else [(control, v) for v in values]
    out = []
    for name, v in steps[:moves]:
        before = p.image.value
        t = time.perf_counter()
        p.controls[name].value = v
        dt = time.perf_counter() - t
        assert p.image.value != before, "the figure did not change"
        assert not p.last_seconds["cached"], "a benchmark move must retrain"
        out.append({"total": dt, **{k: p.last_seconds[k] for k in ("compute", "draw")}})
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--moves", type=int, default=12)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "panels.json"))
    args = ap.parse_args(argv)
    notebook_data(cold_items=0.05)  # data built once, as in a notebook
    results = {}
    print(f"{'case':48s} {'median s':>9s} {'compute':>8s} {'draw':>6s} {'max s':>6s}")
    for name, (factory, control, values) in CASES.items():
        r = bench(factory, control, values, args.moves)
        med = {k: statistics.median(x[k] for x in r) for k in ("total", "compute", "draw")}
        results[name] = {"median": med, "max": max(x["total"] for x in r), "moves": r}
        print(f"{name:48s} {med['total']:9.3f} {med['compute']:8.3f} {med['draw']:6.3f} "
              f"{results[name]['max']:6.3f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cpu_count": os.cpu_count(), "when": time.strftime("%F %T"),
                               "results": results}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
