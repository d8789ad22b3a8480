"""Lesson 03's checkers for the per-bucket RMSE and the SGD parameter groups: each runs the
learner's answer, compares it with the right result and with the usual slips, and names the slip."""
from __future__ import annotations

import numpy as np

from ..data import Ratings
from ..metrics import bucket_rmse
from ..preprocessing import BUCKETS
from ..training import TrainConfig, train

__all__ = ["check_bucket_rmse", "make_param_groups_check"]

# the edge counts every bucket rule must get right: 0 | 1 … 5 | 6 … 100 | 101 …
EDGE_COUNTS = (0, 1, 5, 6, 100, 101)


def _bucket_data():
    rng = np.random.default_rng(0)
    counts = np.concatenate([np.repeat(EDGE_COUNTS, 2), rng.integers(1, 6, 8),
                             rng.integers(6, 101, 16), rng.integers(101, 500, 5)])
    n_items = len(counts)
    items = np.concatenate([np.repeat(np.arange(12), 6), rng.integers(0, n_items, 400)])
    n = len(items)
    ratings = rng.uniform(1, 5, n)
    offset = rng.normal(0, 1, n_items)  # each item its own error, so a moved item shows
    pred = ratings + offset[items] + rng.normal(0, 0.5, n) * (1 + (counts[items] < 6))
    return pred, items, ratings, counts


def _by_rule(pred, items, ratings, bucket_of_item, stat="rmse"):
    b = bucket_of_item[items]
    out = {}
    for k, name in enumerate(BUCKETS):
        e = pred[b == k] - ratings[b == k]
        if stat == "rmse":
            out[name] = np.sqrt(np.mean(e ** 2))
        elif stat == "mse":
            out[name] = np.mean(e ** 2)
        elif stat == "root_sum":
            out[name] = np.sqrt(np.sum(e ** 2))
        elif stat == "mae":
            out[name] = np.mean(np.abs(e))
        else:  # "per_item": the average of per-item RMSEs
            its = items[b == k]
            out[name] = np.mean([np.sqrt(np.mean(e[its == j] ** 2)) for j in np.unique(its)])
    return out


def _slips(pred, items, ratings, counts):
    """(values, message) per usual slip."""
    def rule(edges):
        return np.digitize(counts, edges)

    right = rule([0.5, 5.5, 100.5])
    val_counts = np.bincount(items, minlength=len(counts))
    out = [
        (_by_rule(pred, items, ratings, right, "mse"),
         "that is the mean squared error: take the square root"),
        (_by_rule(pred, items, ratings, right, "root_sum"),
         "you took the root of the *sum* of squared errors: take the mean first"),
        (_by_rule(pred, items, ratings, right, "mae"),
         "that is the mean absolute error: square the errors, average, then take the root"),
        (_by_rule(pred, items, ratings, right, "per_item"),
         "you averaged per-item RMSEs: a bucket's RMSE is over its ratings, not its items"),
        (_by_rule(pred, items, ratings, np.digitize(val_counts, [0.5, 5.5, 100.5])),
         "you bucketed by how often each item appears in the validation ratings: use the "
         "*training* counts (train_counts)"),
    ]
    names = {0: "'cold'", 1: "'rare'", 2: "'mid'", 3: "'popular'"}
    for j, (edge, lo, hi) in enumerate(((0.5, 0, 1), (5.5, 5, 6), (100.5, 100, 101))):
        for shifted, count, wrong_b in ((edge - 1, lo, j + 1), (edge + 1, hi, j)):
            if shifted < 0:
                continue
            edges = [0.5, 5.5, 100.5]
            edges[j] = shifted
            right_b = j if count == lo else j + 1
            out.append((_by_rule(pred, items, ratings, rule(edges)),
                        f"wrong bucket edges: an item with exactly {count} training ratings is "
                        f"{names[right_b]}, yours puts it in {names[wrong_b]} (cold 0, rare 1–5, "
                        f"mid 6–100, popular > 100)"))
    return out


def _matches(got, want):
    return all(np.isclose(float(got[b]), float(want[b]), rtol=1e-6, equal_nan=True)
               for b in BUCKETS)


def check_bucket_rmse(fn):
    if not callable(fn):
        return False, "pass your function per_bucket_rmse(pred, items, ratings, train_counts)"
    pred, items, ratings, counts = _bucket_data()
    got = fn(pred.copy(), items.copy(), ratings.copy(), counts.copy())
    if not isinstance(got, dict):
        return False, f"return a dict {{bucket name: RMSE}}, got {type(got).__name__}"
    missing = [b for b in BUCKETS if b not in got]
    if missing:
        return False, f"missing bucket(s) {missing}; use the names {BUCKETS}"
    try:
        vals = {b: float(got[b]) for b in BUCKETS}
    except (TypeError, ValueError):
        return False, "each bucket's value should be one number (its RMSE)"
    val = Ratings(np.zeros(len(items), int), items, ratings, n_users=1, n_items=len(counts),
                  allow_duplicates=True)
    want = {b: v["rmse"] for b, v in bucket_rmse(pred, val, counts)["buckets"].items()}
    if _matches(vals, want):
        return True, ("your per-bucket RMSE matches mfteach.bucket_rmse on every bucket, items "
                      "with exactly 0, 1, 5, 6, 100 and 101 training ratings included")
    with np.errstate(all="ignore"):
        for values, why in _slips(pred, items, ratings, counts):
            if _matches(vals, values):
                return False, why
    bad = [b for b in BUCKETS if not np.isfinite(vals[b])]
    if bad:
        return False, (f"bucket '{bad[0]}' is not a finite number: an empty selection or a "
                       f"division by zero? (every bucket has ratings here)")
    b = next(b for b in BUCKETS if not np.isclose(vals[b], want[b], rtol=1e-6))
    return False, (f"bucket '{b}': you give {vals[b]:.4f}, expected {want[b]:.4f}. Are the edges "
                   f"0 / 1–5 / 6–100 / >100 on *training* counts, and is it the root of the "
                   f"*mean* squared error?")


def make_param_groups_check(get_split):
    """The checker of 'two parameter groups for SGD'; ``get_split()`` gives the data to train on."""
    import torch

    from ..model import MF

    def check(make_optimizer):
        if not callable(make_optimizer):
            return False, "pass your function make_optimizer(model) that returns an optimizer"
        probe = MF(10, 10, 4)
        opt = make_optimizer(probe)
        if not isinstance(opt, torch.optim.Optimizer):
            return False, f"return the optimizer itself, a torch.optim.SGD (got {type(opt).__name__})"
        if not isinstance(opt, torch.optim.SGD):
            return False, (f"use torch.optim.SGD (got {type(opt).__name__}): this exercise is about "
                           f"what plain SGD needs")
        groups = opt.param_groups
        if len(groups) < 2:
            return False, "one parameter group: embeddings and biases share one lr; make two"
        emb = {id(p) for p in probe.factor_parameters()}
        bias = {id(p) for p in probe.bias_parameters()}
        lr_of = {id(p): g["lr"] for g in groups for p in g["params"]}
        if not emb <= set(lr_of):
            return False, "an embedding table is in no group: it would never train"
        if not bias <= set(lr_of):
            return False, "some bias terms are in no group: they would never train"
        for k, g in enumerate(groups):
            ids = {id(p) for p in g["params"]}
            if ids & emb and ids & bias:
                return False, (f"group {k + 1} mixes embeddings and biases: put the embeddings in "
                               f"one group and the biases in another")
        emb_lr = min(lr_of[i] for i in emb)
        bias_lr = max(lr_of[i] for i in bias)
        if bias_lr >= 1.0:
            swapped = " — did you swap the two lrs?" if emb_lr < bias_lr else ""
            return False, (f"bias lr {bias_lr:g}: the global bias sees every example, keep it "
                           f"< 1{swapped}")
        if any(g.get("momentum", 0) for g in groups):
            return False, "plain SGD here: leave momentum out (notebook 03 compares it separately)"
        run = train(get_split(), TrainConfig(reg="l2_batch", reg_strength=0.05),
                    make_optimizer=make_optimizer)
        if not run.ok:
            return False, (f"training diverged ({run.diverged.reason.split(' — ')[0]}): lower a "
                           f"learning rate")
        h = run.val_rmse[-1]
        if h > 0.75:
            return False, (f"it trains but validation RMSE is {h:.3f}: the embeddings' lr "
                           f"({emb_lr:g}) is too small for SGD on a mean loss — try ~30")
        lrs = ", ".join(f"{g['lr']:g}" for g in groups)
        what = ("two groups" if len(groups) == 2 else
                f"{len(groups)} groups (lrs {lrs}; two are enough)")
        return True, f"SGD with {what}: embeddings {emb_lr:g}, biases {bias_lr:g}: val {h:.3f}"

    return check
