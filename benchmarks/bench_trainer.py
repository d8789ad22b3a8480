"""Trainer speed vs a tutorial-style loop and scikit-surprise's SVD, on the MovieLens-100k shape.

    python benchmarks/bench_trainer.py            # 5 rounds, all methods, alternating
    python benchmarks/bench_trainer.py --rounds 7 --skip-tutorial

Prints a table and writes benchmarks/results/trainer.json. Methods run in alternation (round 1:
A, B, C; round 2: A, B, C; …) so a busy machine slows them alike; the table shows medians.
Shape: 943 users × 1,682 items, 100k ratings, Zipf skew (items 1.2, users 0.8), 90/10 split,
dim 32, 20 epochs. Also times the notebooks' default retrain (600 × 1,500, 50k ratings, 15 epochs).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import mfteach as mf  # noqa: E402

EPOCHS, DIM = 20, 32
# The trainer's benchmark config: few big steps (each step costs ~1 ms of fixed overhead).
OURS = mf.TrainConfig(dim=DIM, epochs=EPOCHS, batch_size=16384, lr=0.02, reg="l2_batch",
                      reg_strength=0.05, seed=0)


def shape_data(seed=0):
    d = mf.synthetic(943, 1682, 100_000, item_zipf=1.2, user_zipf=0.8, seed=seed,
                     name="ML-100k shape")
    return mf.random_split(d, val=0.1, test=0.0, seed=seed)


def run_ours(split):
    t = time.perf_counter()
    h = mf.train(split, OURS)
    return time.perf_counter() - t, h.val_rmse[-1]


def run_tutorial(split, epochs=EPOCHS):
    """What a tutorial writes: DataLoader over a TensorDataset, batch 64, nn.Embedding's default
    init, raw ratings, no biases, Adam(lr=0.01)."""
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    old = torch.get_num_threads()
    torch.set_num_threads(1)  # same thread count as ours: compare loops, not threads
    try:
        torch.manual_seed(0)

        class MF(nn.Module):
            def __init__(self, n_users, n_items, dim):
                super().__init__()
                self.user = nn.Embedding(n_users, dim)
                self.item = nn.Embedding(n_items, dim)

            def forward(self, u, i):
                return (self.user(u) * self.item(i)).sum(1)

        tr, va = split.train, split.val
        model = MF(tr.n_users, tr.n_items, DIM)
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        loss_fn = nn.MSELoss()
        ds = TensorDataset(torch.as_tensor(tr.users), torch.as_tensor(tr.items),
                           torch.as_tensor(tr.ratings))
        loader = DataLoader(ds, batch_size=64, shuffle=True)
        t = time.perf_counter()
        for _ in range(epochs):
            for u, i, r in loader:
                opt.zero_grad()
                loss = loss_fn(model(u, i), r)
                loss.backward()
                opt.step()
        secs = time.perf_counter() - t
        with torch.no_grad():
            p = model(torch.as_tensor(va.users), torch.as_tensor(va.items)).numpy()
        return secs * EPOCHS / epochs, mf.rmse(p, va.ratings)
    finally:
        torch.set_num_threads(old)


def run_surprise(split, lr=0.005):
    from surprise import SVD, Dataset, Reader

    tr, va = split.train, split.val
    reader = Reader(rating_scale=(1, 5))
    trainset = Dataset.load_from_df(tr.to_frame(), reader).build_full_trainset()
    algo = SVD(n_factors=DIM, n_epochs=EPOCHS, lr_all=lr, random_state=0)
    t = time.perf_counter()
    algo.fit(trainset)
    secs = time.perf_counter() - t
    p = np.array([algo.predict(int(u), int(i), clip=False).est for u, i in zip(va.users, va.items)])
    return secs, mf.rmse(p, va.ratings)


def run_notebook_default(split):
    t = time.perf_counter()
    h = mf.train(split, mf.TrainConfig())
    return time.perf_counter() - t, h.val_rmse[-1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--skip-tutorial", action="store_true", help="skip the slow DataLoader loop")
    ap.add_argument("--tutorial-epochs", type=int, default=EPOCHS,
                    help="epochs the tutorial loop really runs (its time is scaled to 20)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "trainer.json"))
    args = ap.parse_args(argv)

    split = shape_data()
    nb_split = mf.random_split(mf.synthetic(item_zipf=1.2, user_zipf=0.8, seed=0), seed=0)
    methods = {"mfteach (batch 16384, Adam fused, 1 thread)": lambda: run_ours(split)}
    try:
        import surprise  # noqa: F401
        methods["surprise SVD (lr 0.005, default)"] = lambda: run_surprise(split)
        methods["surprise SVD (lr 0.01)"] = lambda: run_surprise(split, lr=0.01)
    except ImportError:
        print("scikit-surprise not installed: pip install scikit-surprise (skipped)")
    if not args.skip_tutorial:
        methods["tutorial DataLoader loop, batch 64"] = lambda: run_tutorial(split,
                                                                             args.tutorial_epochs)
    methods["notebook default retrain (600×1,500, 15 epochs)"] = lambda: run_notebook_default(nb_split)

    run_ours(split)  # warm-up: first-call costs (allocator, lazy init) are not what we measure
    results = {name: {"seconds": [], "val_rmse": []} for name in methods}
    for k in range(args.rounds):
        for name, fn in methods.items():
            s, v = fn()
            results[name]["seconds"].append(s)
            results[name]["val_rmse"].append(v)
        print(f"round {k + 1}/{args.rounds} done", file=sys.stderr)

    rows = []
    for name, r in results.items():
        med = statistics.median(r["seconds"])
        epochs = 15 if name.startswith("notebook") else EPOCHS
        rows.append((name, med, 1000 * med / epochs, statistics.median(r["val_rmse"])))
        r.update(median_seconds=med, ms_per_epoch=1000 * med / epochs,
                 median_val_rmse=statistics.median(r["val_rmse"]))
    print(f"\n{'method':52s} {'median s':>9s} {'ms/epoch':>9s} {'val RMSE':>9s}")
    for name, med, ms, v in rows:
        print(f"{name:52s} {med:9.3f} {ms:9.1f} {v:9.3f}")
    ours = results[next(iter(methods))]["median_seconds"]
    summary = {}
    for name, r in results.items():
        if name.startswith(("surprise", "tutorial")):
            summary[f"{name} / mfteach time"] = r["median_seconds"] / ours
    for k, v in summary.items():
        print(f"{k}: {v:.2f}x")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "torch": torch.__version__,
            "cpu_count": os.cpu_count(), "rounds": args.rounds, "config": OURS.code(),
            "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    out.write_text(json.dumps({"meta": meta, "results": results, "ratios": summary}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
