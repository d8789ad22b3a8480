"""Notebook 03 (skew, optimizers, normalization): experiments and exercises."""
from __future__ import annotations

import copy
import time

import numpy as np

from .data import Ratings, Split
from .exercises import Exercise

__all__ = ["skew_sweep", "optimizer_lr_sweep", "LR_GRID", "ghost_updates", "pad_items",
           "optimizer_timing", "scaled", "bucket_rmse_exercise", "param_groups_exercise",
           "skewed_catalogue_exercise", "fill_missing_demo"]

# Learning rates tried per optimizer: about a decade either side of each one's sweet spot.
LR_GRID = {"sgd": [3, 10, 30, 100, 200],
           "momentum": [0.3, 1, 3, 10, 20],
           "adam": [0.002, 0.005, 0.01, 0.02, 0.05, 0.3],
           "rmsprop": [0.001, 0.003, 0.01, 0.03, 0.1],
           "adagrad": [0.03, 0.1, 0.3, 1, 10],
           "sparse_adam": [0.005, 0.01, 0.02, 0.05]}


def skew_sweep(zipfs=(0.0, 0.5, 1.0, 1.2, 1.5), optimizer="adam") -> list[dict]:
    """Overall vs per-item RMSE, rare/popular RMSE and recovery R² as item skew grows."""
    from .metrics import bucket_rmse, norm_popularity_spearman, recovery_r2
    from .panels import notebook_data, skew_config
    from .preprocessing import popularity_buckets
    from .training import train

    rows = []
    for z in zipfs:
        s = notebook_data(item_zipf=z)
        h = train(s, skew_config(optimizer))
        c = h.train_item_counts
        b = bucket_rmse(h.predict(s.val.users, s.val.items), s.val, c)
        r2 = recovery_r2(h.factors()[1], s.truth.item_factors, popularity_buckets(c))
        seen = c > 0
        norms = np.linalg.norm(h.factors()[1], axis=1)
        rows.append({"zipf": z, "overall": b["overall"], "per_item": b["per_item"],
                     "rare": b["buckets"]["rare"]["rmse"], "popular": b["buckets"]["popular"]["rmse"],
                     "R2": r2["overall"], "R2 rare": r2["groups"].get(1, np.nan),
                     "R2 popular": r2["groups"].get(3, np.nan),
                     "rho learned": norm_popularity_spearman(norms[seen], c[seen]),
                     "rho true": norm_popularity_spearman(
                         np.linalg.norm(s.truth.item_factors, axis=1)[seen], c[seen])})
    return rows


def optimizer_lr_sweep(split, grid=None, progress=print, **config) -> dict:
    """Final validation RMSE for each optimizer at each learning rate (NaN = diverged).

    Uses the skew panel's setup (biases, L2 on the batch's rows 0.05; SGD's biases get lr ≤ 0.5).
    ``progress``: called with a line per optimizer (pass None for silence).
    """
    from .panels import OPT_LR, skew_config
    from .training import train

    grid = grid or LR_GRID
    out = {}
    for opt, lrs in grid.items():
        t = time.perf_counter()
        vals = []
        for lr in lrs:
            h = train(split, skew_config(opt, lr / OPT_LR[opt], **config))
            vals.append(h.val_rmse[-1] if h.ok else np.nan)
        out[opt] = (list(lrs), vals)
        if progress:
            best = np.nanmin(vals) if np.isfinite(vals).any() else np.nan
            progress(f"{opt:12s} {len(lrs)} learning rates in {time.perf_counter() - t:4.1f} s; "
                     f"best val {best:.3f}")
    return out


def ghost_updates(optimizer="adam", steps=60, lr=0.02) -> np.ndarray:
    """How far a row seen in ONE batch moves over the following steps (its distance from init).

    A tiny MF model; item 0 is in the first batch only, later batches never contain it.
    Dense Adam keeps moving it (its moment estimates persist and keep producing updates); SGD
    and SparseAdam move it once.
    """
    import torch

    from .model import MF

    g = torch.Generator().manual_seed(0)
    sparse = optimizer == "sparse_adam"
    m = MF(50, 40, 8, sparse=sparse, init="normal", init_std=0.1, seed=0, global_bias=False,
           user_bias=False, item_bias=False)
    opt = {"adam": lambda p: torch.optim.Adam(p, lr=lr),
           "sgd": lambda p: torch.optim.SGD(p, lr=lr * 50),
           "sparse_adam": lambda p: torch.optim.SparseAdam(p, lr=lr)}[optimizer](list(m.parameters()))
    start = m.item_factors.weight.detach()[0].clone()
    dist = []
    for step in range(steps):
        u = torch.randint(0, 50, (64,), generator=g)
        i = torch.randint(1, 40, (64,), generator=g)
        if step == 0:
            i[:8] = 0  # item 0 appears in this batch only
        r = torch.randn(64, generator=g)
        loss = ((m(u, i) - r) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        dist.append(float((m.item_factors.weight.detach()[0] - start).norm()))
    return np.array(dist)


def pad_items(split: Split, extra: int) -> Split:
    """The same ratings with ``extra`` never-rated items appended to the item table."""
    def pad(r: Ratings):
        return Ratings(r.users, r.items, r.ratings, n_users=r.n_users, n_items=r.n_items + extra,
                       scale=r.scale, name=r.name)
    return Split(pad(split.train), pad(split.val), pad(split.test), split.kind)


def optimizer_timing(split, extras=(0, 20_000, 100_000), epochs=3) -> dict:
    """Training seconds of dense Adam vs SparseAdam as the item table grows (unused rows)."""
    from .panels import skew_config
    from .training import train

    out = {}
    for extra in extras:
        s = pad_items(split, extra) if extra else split
        out[extra] = {}
        for opt in ("adam", "sparse_adam"):
            h = train(s, skew_config(opt, epochs=epochs))
            out[extra][opt] = h.total_seconds
    return out


def scaled(split: Split, factor: float) -> Split:
    """The same data with ratings multiplied by ``factor`` (e.g. a 10–50 scale)."""
    def sc(r: Ratings):
        lo, hi = r.scale
        return Ratings(r.users, r.items, r.ratings * factor, n_users=r.n_users,
                       n_items=r.n_items, scale=(lo * factor, hi * factor), name=f"{r.name} ×{factor:g}")
    return Split(sc(split.train), sc(split.val), sc(split.test), split.kind)


def fill_missing_demo(split, epochs=2):
    """The seed's Example 3 pipeline: a dense user × item table with missing ratings filled
    with 0, then StandardScaler on it. Returns what it does to the training targets and the
    validation RMSE of a model trained on the filled table."""
    import pandas as pd

    from .training import train

    tr = split.train
    table = pd.DataFrame({"user": tr.users, "item": tr.items, "rating": tr.ratings}).pivot(
        index="user", columns="item", values="rating").reindex(
        index=range(tr.n_users), columns=range(tr.n_items))
    missing = float(table.isna().to_numpy().mean())
    filled = table.fillna(0)                         # the seed's fill: "no rating" becomes 0 stars
    values = filled.to_numpy()                       # (n_users, n_items)
    uu, ii = np.nonzero(np.ones_like(values, bool))
    dense = Ratings(uu, ii, values.ravel(), n_users=tr.n_users, n_items=tr.n_items,
                    name="zero-filled table")
    # normalize="zscore" is the seed's StandardScaler on the rating column (of the filled table)
    h = train(Split(dense, split.val, split.test), epochs=epochs, batch_size=65_536,
              normalize="zscore", lr=0.02)
    return {"missing share": missing, "mean of the filled table": float(filled.to_numpy().mean()),
            "mean of the real ratings": float(tr.ratings.mean()), "val RMSE": h.val_rmse[-1],
            "train cells": len(dense)}


# -- exercises -----------------------------------------------------------------------------------
def bucket_rmse_exercise() -> Exercise:
    """Compute the validation RMSE per popularity bucket yourself."""
    from .metrics import bucket_rmse
    from .preprocessing import BUCKETS

    def check(fn):
        if not callable(fn):
            return False, "pass your function per_bucket_rmse(pred, items, ratings, train_counts)"
        rng = np.random.default_rng(0)
        counts = np.concatenate([[0, 0], rng.integers(1, 6, 10), rng.integers(6, 101, 20),
                                 rng.integers(101, 500, 5)])
        n_items = len(counts)
        items = rng.integers(0, n_items, 400)
        ratings = rng.uniform(1, 5, 400)
        pred = ratings + rng.normal(0, 1, 400) * (1 + (counts[items] < 6))
        got = fn(pred, items, ratings, counts)
        val = Ratings(np.zeros(400, int), items, ratings, n_users=1, n_items=n_items,
                      allow_duplicates=True)
        want = bucket_rmse(pred, val, counts)["buckets"]
        if not isinstance(got, dict):
            return False, f"return a dict {{bucket name: RMSE}}, got {type(got).__name__}"
        missing = [b for b in BUCKETS if b not in got]
        if missing:
            return False, f"missing bucket(s) {missing}; use the names {BUCKETS}"
        for b in BUCKETS:
            if not np.isclose(float(got[b]), want[b]["rmse"], rtol=1e-6):
                return False, (f"bucket '{b}': you give {float(got[b]):.4f}, expected "
                               f"{want[b]['rmse']:.4f}. Are the edges 0 / 1–5 / 6–100 / >100 "
                               f"on *training* counts, and is it the root of the *mean* squared error?")
        return True, "your per-bucket RMSE matches mfteach.bucket_rmse on every bucket"

    return Exercise(
        "RMSE per popularity bucket, by hand",
        "Write per_bucket_rmse(pred, items, ratings, train_counts) returning {'cold', 'rare', "
        "'mid', 'popular'} → RMSE, with buckets by the item's training count: 0, 1–5, 6–100, >100.",
        check,
        hints=["bucket = np.digitize(train_counts[items], [0.5, 5.5, 100.5]) gives 0..3 per rating.",
               "For each bucket k: m = bucket == k; np.sqrt(np.mean((pred[m] - ratings[m]) ** 2))."],
        solution=("def per_bucket_rmse(pred, items, ratings, train_counts):\n"
                  "    b = np.digitize(train_counts[items], [0.5, 5.5, 100.5])\n"
                  "    names = ['cold', 'rare', 'mid', 'popular']\n"
                  "    return {n: np.sqrt(np.mean((pred[b == k] - ratings[b == k]) ** 2))\n"
                  "            for k, n in enumerate(names)}"))


def param_groups_exercise(split=None) -> Exercise:
    """Give SGD two parameter groups so it trains with bias terms."""
    import torch

    def check(make_optimizer):
        from .panels import notebook_data
        from .training import TrainConfig, _train

        if not callable(make_optimizer):
            return False, "pass your function make_optimizer(model) that returns an optimizer"
        s = split or notebook_data()
        from .model import MF

        probe = MF(10, 10, 4)
        opt = make_optimizer(probe)
        if not isinstance(opt, torch.optim.SGD):
            return False, f"use torch.optim.SGD (got {type(opt).__name__})"
        groups = opt.param_groups
        if len(groups) < 2:
            return False, "one parameter group: embeddings and biases share one lr; make two"
        emb = {id(p) for p in probe.factor_parameters()}
        lr_of = {id(p): g["lr"] for g in groups for p in g["params"]}
        if set(lr_of) != {id(p) for p in probe.parameters()}:
            return False, "every parameter must be in exactly one group (model.parameters())"
        emb_lr = min(lr_of[i] for i in emb)
        bias_lr = max(v for k, v in lr_of.items() if k not in emb)
        if bias_lr >= 1.0:
            return False, f"bias lr {bias_lr:g}: the global bias sees every example, keep it < 1"
        h = _train_with(s, make_optimizer)
        if h is None:
            return False, "training diverged (loss became inf/nan): lower a learning rate"
        if h > 0.75:
            return False, (f"it trains but validation RMSE is {h:.3f}: the embeddings' lr "
                           f"({emb_lr:g}) is too small for SGD on a mean loss — try ~30")
        return True, f"SGD with two groups (embeddings {emb_lr:g}, biases {bias_lr:g}): val {h:.3f}"

    return Exercise(
        "two parameter groups for SGD",
        "Write make_optimizer(model) returning torch.optim.SGD with two parameter groups: the "
        "embeddings (model.factor_parameters()) at a large lr, the biases "
        "(model.bias_parameters()) at a small one.",
        check,
        hints=["torch.optim.SGD([{'params': [...], 'lr': a}, {'params': [...], 'lr': b}])",
               "Embeddings want lr ≈ 30 (a mean loss scales each row's gradient by its "
               "frequency); biases, especially the global one, want lr < 1."],
        solution=("def make_optimizer(model):\n"
                  "    return torch.optim.SGD([\n"
                  "        {'params': model.factor_parameters(), 'lr': 30.0},\n"
                  "        {'params': model.bias_parameters(), 'lr': 0.5},\n"
                  "    ])"))


def _train_with(split, make_optimizer, epochs=15, batch=4096):
    """A plain loop with the student's optimizer; final val RMSE or None if it diverged."""
    import torch

    from .model import MF

    tr, va = split.train, split.val
    mean = float(tr.ratings.mean())
    m = MF(tr.n_users, tr.n_items, 32, seed=0, global_init=0.0)
    opt = make_optimizer(m)
    u, i, r = (torch.as_tensor(x) for x in (tr.users, tr.items, tr.ratings - mean))
    g = torch.Generator().manual_seed(1)
    for _ in range(epochs):
        perm = torch.randperm(len(r), generator=g)
        for s in range(0, len(r), batch):
            idx = perm[s:s + batch]
            pred, p, q = m.forward_parts(u[idx], i[idx])
            loss = ((pred - r[idx]) ** 2).mean() + 0.05 * ((p * p).sum(1) + (q * q).sum(1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if not torch.isfinite(loss):
                return None
    with torch.no_grad():
        p = m(torch.as_tensor(va.users), torch.as_tensor(va.items)).numpy() + mean
    return float(np.sqrt(np.mean((p - va.ratings) ** 2)))


def skewed_catalogue_exercise(tol=0.02) -> Exercise:
    """Choose an optimizer and lr for a heavily skewed catalogue (Zipf 1.5)."""
    from .panels import OPT_LR, notebook_data, skew_config
    from .training import train

    def check(answer):
        try:
            opt, lr = answer
            lr = float(lr)
        except (TypeError, ValueError):
            return False, "answer a pair like ('adam', 0.01)"
        if opt not in OPT_LR:
            return False, f"optimizer must be one of {list(OPT_LR)}"
        s = notebook_data(item_zipf=1.5)
        h = train(s, skew_config(opt, lr / OPT_LR[opt]))
        if not h.ok:
            return False, f"{opt} at lr {lr:g}: {h.diverged}"
        ref = train(s, skew_config("adam")).val_rmse[-1]  # Adam at its tuned lr
        got = h.val_rmse[-1]
        if got <= ref + tol:
            return True, (f"{opt} at lr {lr:g}: val {got:.3f} (tuned Adam: {ref:.3f}). Tuned, "
                          f"they tie — defend your choice by how easy it was to tune")
        return False, f"{opt} at lr {lr:g}: val {got:.3f}, more than {tol} above tuned Adam ({ref:.3f})"

    return Exercise(
        "an optimizer for a heavily skewed catalogue",
        "Item popularity Zipf 1.5 (a few blockbusters, a very long tail). Pick (optimizer, lr) "
        "from the sweep and get within 0.02 of tuned Adam. Then write one sentence defending it.",
        check,
        hints=["Read the optimizer sweep plot: each curve's minimum is that optimizer tuned.",
               "SGD can win, but its stable lr range shrinks as skew grows; Adam/Adagrad have wide "
               "flat bottoms."],
        solution="('adagrad', 0.1)  # or ('adam', 0.01): tuned, they tie; adaptive ones are easier")
