"""Splits of ratings into train / validation / test: at random, per user, or with cold items
(items whose ratings are all held out)."""
from __future__ import annotations

import numpy as np

from .data import Ratings, Split

__all__ = ["random_split", "per_user_split", "cold_item_split"]


def _check_fracs(val, test):
    for pname, f in (("val", val), ("test", test)):
        if not 0 <= f < 1:
            raise ValueError(f"{pname} must be a share in [0, 1), got {f!r}")
    if val + test >= 1:
        raise ValueError(f"val + test must be < 1, got {val} + {test}")


def _make_split(r: Ratings, part: np.ndarray, kind: str) -> Split:
    # part: (n,) 0 = train, 1 = val, 2 = test
    return Split(r.subset(part == 0, f"{r.name} train"), r.subset(part == 1, f"{r.name} val"),
                 r.subset(part == 2, f"{r.name} test"), kind)


def _cold_parts(r: Ratings, part: np.ndarray, rng) -> np.ndarray:
    """Move every rating of a cold item out of training, alternating it between val and test."""
    if len(r.cold_items):
        cold = np.isin(r.items, r.cold_items)
        part = part.copy()
        part[cold] = 1 + (rng.random(cold.sum()) < 0.5)
    return part


def random_split(r: Ratings, val=0.1, test=0.1, *, seed=0) -> Split:
    """Random holdout of ratings (the usual 80/10/10); cold items never reach training."""
    _check_fracs(val, test)
    rng = np.random.default_rng(seed)
    u = rng.random(len(r))
    part = np.where(u < test, 2, np.where(u < test + val, 1, 0))
    return _make_split(r, _cold_parts(r, part, rng), "random")


def per_user_split(r: Ratings, val=0.1, test=0.1, *, seed=0, min_train=1) -> Split:
    """Hold out the same share of *each* user's ratings, keeping at least ``min_train`` in training."""
    _check_fracs(val, test)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(r)), r.users))  # shuffled within each user
    counts = r.user_counts()
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank_in_user = np.empty(len(r), np.int64)
    rank_in_user[order] = np.arange(len(r)) - np.repeat(starts, counts)
    n = counts[r.users]
    n_test = np.floor(n * test).astype(int)
    n_val = np.floor(n * val).astype(int)
    held = np.maximum(n - min_train, 0)
    n_test = np.minimum(n_test, held)
    n_val = np.minimum(n_val, held - n_test)
    part = np.where(rank_in_user < n_test, 2, np.where(rank_in_user < n_test + n_val, 1, 0))
    return _make_split(r, _cold_parts(r, part, rng), "per-user")


def cold_item_split(r: Ratings, cold=0.1, val=0.1, test=0.1, *, seed=0) -> Split:
    """Random holdout plus a share ``cold`` of items whose ratings all go to val/test."""
    if not 0 <= cold < 1:
        raise ValueError(f"cold must be a share in [0, 1), got {cold!r}")
    rng = np.random.default_rng(seed)
    n_cold = int(round(cold * r.n_items))
    chosen = np.union1d(r.cold_items, rng.choice(r.n_items, n_cold, replace=False))
    marked = Ratings(r.users, r.items, r.ratings, n_users=r.n_users, n_items=r.n_items,
                     scale=r.scale, truth=r.truth, user_ids=r.user_ids, item_ids=r.item_ids,
                     cold_items=chosen, name=r.name, allow_duplicates=r.allow_duplicates)
    s = random_split(marked, val, test, seed=seed)
    return Split(s.train, s.val, s.test, "cold-item")
