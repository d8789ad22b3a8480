"""Metrics that read a trained model: RMSE (overall and per popularity bucket), recovery of the
true factors, norm–popularity correlation, and the singular values of the learned rating matrix."""
from __future__ import annotations

import numpy as np

from .data import Ratings
from .preprocessing import BUCKETS, popularity_buckets

__all__ = ["rmse", "bucket_rmse", "history_bucket_rmse", "recovery_r2", "norm_popularity_spearman", "singular_values",
           "baseline_rmse"]


def rmse(pred, target) -> float:
    pred, target = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    if pred.shape != target.shape:
        raise ValueError(f"pred and target shapes differ: {pred.shape} vs {target.shape}")
    return float(np.sqrt(np.mean((pred - target) ** 2))) if pred.size else float("nan")


def baseline_rmse(train: Ratings, test: Ratings, kind="mean") -> float:
    """RMSE of a reference model: "mean" (predict the training mean) or "truth" (the true,
    noise-free model of synthetic data)."""
    if kind == "mean":
        return rmse(np.full(len(test), train.ratings.mean()), test.ratings)
    if kind == "truth":
        if test.truth is None:
            raise ValueError("kind='truth' needs synthetic data with a known truth")
        return rmse(test.truth.predict(test.users, test.items), test.ratings)
    raise ValueError(f"kind must be 'mean' or 'truth', got {kind!r}")


def bucket_rmse(pred, ratings: Ratings, train_counts, edges=(0, 5, 100)) -> dict:
    """RMSE overall, per item-popularity bucket, and averaged per item.

    pred: (n,) predictions for ``ratings``; train_counts: (n_items,) training ratings per item.
    Returns {"overall", "per_item", "buckets": {name: {"rmse", "ratings", "items"}}}. The per-item
    average weighs every item alike, so it shows what the popularity-weighted overall hides.
    """
    pred = np.asarray(pred, np.float64)
    err2 = (pred - ratings.ratings) ** 2
    b_item = popularity_buckets(train_counts, edges)
    b = b_item[ratings.items]
    out = {"overall": float(np.sqrt(err2.mean())) if len(err2) else float("nan"), "buckets": {}}
    for k, name in enumerate(BUCKETS):
        m = b == k
        out["buckets"][name] = {"rmse": float(np.sqrt(err2[m].mean())) if m.any() else float("nan"),
                                "ratings": int(m.sum()),
                                "items": int(len(np.unique(ratings.items[m])))}
    n_i = np.bincount(ratings.items, minlength=ratings.n_items)
    s_i = np.bincount(ratings.items, err2, minlength=ratings.n_items)
    seen = n_i > 0
    out["per_item"] = float(np.mean(np.sqrt(s_i[seen] / n_i[seen]))) if seen.any() else float("nan")
    return out


def history_bucket_rmse(history, ratings: Ratings) -> dict:
    """``bucket_rmse`` of a trained run (a ``History``) on ``ratings`` (usually the validation
    set), with buckets from the run's training counts. Rows past ``ratings.n_items`` (a padded
    item table) are ignored."""
    counts = history.train_item_counts[:ratings.n_items]
    return bucket_rmse(history.predict(ratings.users, ratings.items), ratings, counts)


def recovery_r2(learned, true, groups=None, *, seed=0) -> dict:
    """How well learned embeddings recover the true factors, as cross-fitted R².

    A linear map learned → true (embeddings are only defined up to rotation and scale) is fitted
    on one random half of the rows and scored on the other, then the halves swap, so a rich
    embedding cannot score by memorising. ``groups`` (n_rows,) ints (e.g. popularity buckets)
    give an R² per group as well. Returns {"overall": r2, "groups": {g: r2}}.
    """
    X = np.asarray(learned, np.float64)
    Y = np.asarray(true, np.float64)
    n = len(X)
    if len(Y) != n:
        raise ValueError(f"learned has {n} rows but true has {len(Y)}")
    X1 = np.hstack([X, np.ones((n, 1))])
    half = np.random.default_rng(seed).permutation(n) < n // 2
    pred = np.empty_like(Y)
    for fit in (half, ~half):
        A = X1[fit]
        G = A.T @ A
        ridge = 1e-6 * np.trace(G) / len(G) + 1e-12  # tiny ridge: stable with dim ≥ half the rows
        beta = np.linalg.solve(G + ridge * np.eye(len(G)), A.T @ Y[fit])
        pred[~fit] = X1[~fit] @ beta
    sse = ((Y - pred) ** 2).sum(1)
    sst = ((Y - Y.mean(0)) ** 2).sum(1)
    out = {"overall": float(1 - sse.sum() / sst.sum()), "groups": {}}
    if groups is not None:
        groups = np.asarray(groups)
        for g in np.unique(groups):
            m = groups == g
            out["groups"][int(g)] = float(1 - sse[m].sum() / sst[m].sum())
    return out


def norm_popularity_spearman(norms, counts) -> float:
    """Spearman rank correlation between a row's norm and its training count (NaN if either
    has a NaN, as scipy's ``spearmanr``)."""
    norms, counts = np.asarray(norms, float), np.asarray(counts, float)
    if norms.shape != counts.shape or norms.ndim != 1:
        raise ValueError(f"norms and counts must be 1-D and the same length, got shapes "
                         f"{norms.shape} and {counts.shape}")
    if np.ptp(norms) == 0 or np.ptp(counts) == 0:
        return 0.0  # a constant has no rank order: no correlation to report
    if np.isnan(norms).any() or np.isnan(counts).any():
        return float("nan")
    # Pearson's r of the tie-averaged ranks: scipy.stats.spearmanr's number, without importing
    # scipy.stats (0.4-0.9 s of a notebook's first Run All; tests/test_metrics.py compares them).
    rn, rc = average_ranks(norms), average_ranks(counts)
    rn, rc = rn - rn.mean(), rc - rc.mean()
    return float(np.clip(rn @ rc / np.sqrt((rn @ rn) * (rc @ rc)), -1.0, 1.0))


def average_ranks(x) -> np.ndarray:
    """1-based ranks of ``x``, ties given their average rank (scipy's ``rankdata``)."""
    x = np.asarray(x)
    order = np.argsort(x, kind="stable")
    xs = x[order]
    first = np.r_[True, xs[1:] != xs[:-1]]           # where each run of equal values starts
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(x)]                  # one past each run's end
    ranks = np.empty(len(x))
    ranks[order] = ((starts + ends + 1) / 2.0)[np.cumsum(first) - 1]
    return ranks


def singular_values(P, Q) -> np.ndarray:
    """Singular values of the learned rating matrix P Qᵀ (n_users × n_items), largest first.

    Computed from the two thin factors (QR of each) instead of the full matrix: exact and cheap.
    """
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    P, Q = np.asarray(P, np.float64), np.asarray(Q, np.float64)
    # One BLAS thread (restored on exit): for these thin matrices OpenBLAS's threads cost far more
    # than they save, worst beside torch's own threads (measured: 13 ms instead of 0.1–1 s for a
    # 9,066 × 64 table); mode="r" skips building Q.
    with threadpool_limits(limits=1, user_api="blas"):
        Rp = np.linalg.qr(P, mode="r")
        Rq = np.linalg.qr(Q, mode="r")
        return np.linalg.svd(Rp @ Rq.T, compute_uv=False)
