"""Ratings data: a self-validating container, a synthetic generator with known truth, and splits.

Everything here is numpy; tensors are made once per container (``Ratings.tensors``) so that a
training loop never converts data in its hot path.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._csv import FLOAT32_LIMIT, first_duplicate

__all__ = ["Ratings", "Truth", "Split", "synthetic"]


@dataclass(frozen=True)
class Truth:
    """The ground truth behind synthetic ratings (what a perfect model would learn)."""

    user_factors: np.ndarray   # (n_users, rank) true user factors u*
    item_factors: np.ndarray   # (n_items, rank) true item factors v*
    user_bias: np.ndarray      # (n_users,)
    item_bias: np.ndarray      # (n_items,)
    global_mean: float         # the 3.5 in r = 3.5 + b_u + b_i + scale·<u*, v*>/sqrt(k) + noise
    factor_scale: float        # the "scale" above
    noise: float               # std of the Gaussian noise added to every rating
    scale: tuple               # (low, high) ratings are clipped to

    @property
    def rank(self) -> int:
        return self.user_factors.shape[1]

    def predict(self, users, items) -> np.ndarray:
        """Noise-free ratings of the true model (clipped like the data)."""
        users, items = np.asarray(users), np.asarray(items)
        k = self.rank
        dot = np.einsum("nk,nk->n", self.user_factors[users], self.item_factors[items])
        r = (self.global_mean + self.user_bias[users] + self.item_bias[items]
             + self.factor_scale * dot / np.sqrt(k))
        return np.clip(r, *self.scale)


def _as_index_array(name, values, n):
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            lo, hi = arr.min(), arr.max()
            if lo < 0 or hi >= n:  # before the cast: a float beyond int64 has no int64 value
                raise ValueError(f"{name} holds index {lo if lo < 0 else hi:.17g}, outside 0..{n - 1}")
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{name} must hold integer indices, got dtype {arr.dtype}")
    if arr.size and arr.dtype == np.uint64 and arr.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name} holds index {int(arr.max())}, outside 0..{n - 1}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size:
        lo, hi = arr.min(), arr.max()
        if lo < 0 or hi >= n:
            bad = int(lo) if lo < 0 else int(hi)
            raise ValueError(f"{name} holds index {bad}, outside 0..{n - 1}")
    return arr


class Ratings:
    """(user, item, rating) triples with contiguous 0-based indices.

    Validates itself on creation: integer indices in range, finite ratings (inside ``scale`` when
    given), and no duplicate (user, item) pair unless ``allow_duplicates=True``.

    ``user_ids``/``item_ids`` map an index back to the raw id of a real file; ``truth`` holds the
    true model of synthetic data; ``cold_items`` are items that must never be trained on.
    """

    def __init__(self, users, items, ratings, *, n_users=None, n_items=None, scale=None,
                 truth: Truth | None = None, user_ids=None, item_ids=None, cold_items=None,
                 name="ratings", allow_duplicates=False):
        users_arr, items_arr = np.asarray(users), np.asarray(items)
        if n_users is None:
            n_users = int(users_arr.max()) + 1 if users_arr.size else 0
        if n_items is None:
            n_items = int(items_arr.max()) + 1 if items_arr.size else 0
        for pname, val in (("n_users", n_users), ("n_items", n_items)):
            if not isinstance(val, (int, np.integer)) or isinstance(val, (bool, np.bool_)) or val < 0:
                raise ValueError(f"{pname} must be a non-negative integer, got {val!r}")
        self.n_users, self.n_items = int(n_users), int(n_items)
        self.users = _as_index_array("users", users_arr, self.n_users)
        self.items = _as_index_array("items", items_arr, self.n_items)
        try:
            r = np.asarray(ratings, dtype=np.float64)
        except (TypeError, ValueError) as e:
            shown = repr(ratings) if len(repr(ratings)) <= 60 else repr(ratings)[:60] + "…"
            raise type(e)(f"ratings must be numbers, got {shown} ({e})") from None
        if not (r.ndim == 1 and len(r) == len(self.users) == len(self.items)):
            raise ValueError(f"users, items and ratings must be 1-D of equal length, got "
                             f"{len(self.users)}, {len(self.items)}, {r.shape}")
        if r.size and not np.all(np.isfinite(r)):
            k = int(np.flatnonzero(~np.isfinite(r))[0])
            raise ValueError(f"ratings must be finite: rating #{k} is {r[k]}")
        too_big = np.abs(r) >= FLOAT32_LIMIT  # finite in float64, infinite once stored as float32
        if too_big.any():
            k = int(np.flatnonzero(too_big)[0])
            raise ValueError(f"rating #{k} is {r[k]:g}, too large for float32, the type ratings "
                             f"are stored in (at most ±{np.finfo(np.float32).max:.4g})")
        if scale is not None:
            lo, hi = (float(s) for s in scale)
            if not lo < hi:
                raise ValueError(f"scale must be (low, high) with low < high, got {scale!r}")
            outside = (r < lo) | (r > hi)
            if outside.any():
                k = int(np.flatnonzero(outside)[0])
                raise ValueError(f"rating #{k} is {r[k]}, outside the scale {lo:g}..{hi:g}")
            scale = (lo, hi)
        self.ratings = r.astype(np.float32)
        self.scale = scale
        if not allow_duplicates and len(self.users) > 1:
            dup = first_duplicate(self.users, self.items, self.n_users, self.n_items)
            if dup is not None:
                raise ValueError(f"duplicate (user, item) pair ({self.users[dup]}, {self.items[dup]}) "
                                 f"at rating #{dup}; pass allow_duplicates=True to keep duplicates")
        self.allow_duplicates = allow_duplicates
        self.truth = truth
        self.user_ids = None if user_ids is None else np.asarray(user_ids)
        self.item_ids = None if item_ids is None else np.asarray(item_ids)
        for pname, ids, n in (("user_ids", self.user_ids, self.n_users),
                              ("item_ids", self.item_ids, self.n_items)):
            if ids is not None and len(ids) != n:
                raise ValueError(f"{pname} must have one raw id per index ({n}), got {len(ids)}")
        self.cold_items = (np.zeros(0, np.int64) if cold_items is None
                           else np.unique(_as_index_array("cold_items", cold_items, self.n_items)))
        self.name = name
        self._tensors = {}

    # -- basics -------------------------------------------------------------------------------
    def __len__(self):
        return len(self.ratings)

    def __repr__(self):
        density = len(self) / max(self.n_users * self.n_items, 1)
        mean = f", mean {self.ratings.mean():.2f}" if len(self) else ""
        extra = " with truth" if self.truth is not None else ""
        scale = f", scale {self.scale[0]:g}..{self.scale[1]:g}" if self.scale else ""
        return (f"Ratings({self.name!r}: {len(self):,} ratings, {self.n_users:,} users × "
                f"{self.n_items:,} items, density {density:.2%}{mean}{scale}{extra})")

    def user_counts(self) -> np.ndarray:
        """Ratings per user, shape (n_users,)."""
        return np.bincount(self.users, minlength=self.n_users)

    def item_counts(self) -> np.ndarray:
        """Ratings per item (its popularity), shape (n_items,)."""
        return np.bincount(self.items, minlength=self.n_items)

    def subset(self, mask_or_index, name=None) -> "Ratings":
        """The same users/items/truth with a subset of the ratings."""
        sel = np.asarray(mask_or_index)
        return Ratings(self.users[sel], self.items[sel], self.ratings[sel], n_users=self.n_users,
                       n_items=self.n_items, scale=self.scale, truth=self.truth,
                       user_ids=self.user_ids, item_ids=self.item_ids, cold_items=self.cold_items,
                       name=name or self.name, allow_duplicates=self.allow_duplicates)

    def replace(self, **changes) -> "Ratings":
        """A copy with some constructor arguments changed (validated again), e.g.
        ``r.replace(n_items=r.n_items + 100)`` or ``r.replace(ratings=r.ratings * 10)``."""
        fields = dict(users=self.users, items=self.items, ratings=self.ratings,
                      n_users=self.n_users, n_items=self.n_items, scale=self.scale,
                      truth=self.truth, user_ids=self.user_ids, item_ids=self.item_ids,
                      cold_items=self.cold_items, name=self.name,
                      allow_duplicates=self.allow_duplicates)
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"Ratings.replace() got unknown field(s) {sorted(unknown)}; "
                            f"fields: {sorted(fields)}")
        fields.update(changes)
        users, items, ratings = fields.pop("users"), fields.pop("items"), fields.pop("ratings")
        return Ratings(users, items, ratings, **fields)

    def tensors(self, device="cpu"):
        """(users, items, ratings) as torch tensors on ``device``; made once and cached."""
        import torch  # local: keep `import mfteach.data` light

        key = str(device)
        if key not in self._tensors:
            self._tensors[key] = (torch.as_tensor(self.users, device=device),
                                  torch.as_tensor(self.items, device=device),
                                  torch.as_tensor(self.ratings, device=device))
        return self._tensors[key]

    # -- pandas -------------------------------------------------------------------------------
    def to_frame(self, raw_ids=False):
        """A DataFrame with columns user, item, rating (raw ids when ``raw_ids`` and known)."""
        import pandas as pd

        users = self.user_ids[self.users] if raw_ids and self.user_ids is not None else self.users
        items = self.item_ids[self.items] if raw_ids and self.item_ids is not None else self.items
        return pd.DataFrame({"user": users, "item": items, "rating": self.ratings})

    @classmethod
    def from_frame(cls, df, user="user", item="item", rating="rating", *, scale=None,
                   name="ratings", allow_duplicates=False):
        """Ratings from a DataFrame of raw ids; ids are mapped to contiguous indices (sorted)."""
        from .preprocessing import IdMap

        for col in (user, item, rating):
            if col not in df.columns:
                raise ValueError(f"column {col!r} not in the DataFrame (columns: {list(df.columns)})")
        umap, imap = IdMap(df[user].to_numpy()), IdMap(df[item].to_numpy())
        return cls(umap.encode(df[user].to_numpy()), imap.encode(df[item].to_numpy()),
                   df[rating].to_numpy(dtype=np.float64), n_users=len(umap), n_items=len(imap),
                   scale=scale, user_ids=umap.ids, item_ids=imap.ids, name=name,
                   allow_duplicates=allow_duplicates)


@dataclass(frozen=True)
class Split:
    """Train/validation/test ratings over the same users and items."""

    train: Ratings
    val: Ratings
    test: Ratings
    kind: str = "random"

    def map(self, fn) -> "Split":
        """The split with ``fn(ratings) -> Ratings`` applied to train, val and test alike."""
        return Split(fn(self.train), fn(self.val), fn(self.test), self.kind)

    def __repr__(self):
        t = self.train
        return (f"Split({self.kind}: train {len(t):,} / val {len(self.val):,} / test "
                f"{len(self.test):,}; {t.n_users:,} users × {t.n_items:,} items)")

    @property
    def truth(self):
        return self.train.truth


# -- synthetic data ------------------------------------------------------------------------------
def _zipf_weights(n, exponent, rng):
    """Sampling weights ∝ rank^-exponent, with ranks shuffled so index order means nothing."""
    w = np.arange(1, n + 1, dtype=np.float64) ** -float(exponent)
    return rng.permutation(w / w.sum())


def synthetic(n_users=600, n_items=1500, n_ratings=50_000, *, rank=4, item_zipf=0.0,
              user_zipf=0.0, noise=0.5, factor_scale=0.8, global_mean=3.5, user_bias_std=0.3,
              item_bias_std=0.3, popularity_rating_effect=0.0, scale=(1.0, 5.0), cold_items=0.0,
              seed=0, name=None) -> Ratings:
    """Ratings from a known low-rank model (FINDINGS.md's setup).

    r = global_mean + b_u + b_i + factor_scale·<u*, v*>/sqrt(rank) + N(0, noise²), clipped to
    ``scale``. Users and items are drawn with Zipf weights (exponent 0 = uniform), so item_zipf=1.2
    gives a few blockbuster items and a long tail. ``popularity_rating_effect`` adds that many
    rating points per std of log-popularity to the item bias (popular items rated higher).
    ``cold_items`` is the share of items marked cold: splits keep their ratings out of training.
    """
    for pname, val in (("n_users", n_users), ("n_items", n_items), ("n_ratings", n_ratings),
                       ("rank", rank)):
        if not isinstance(val, (int, np.integer)) or val < 1:
            raise ValueError(f"{pname} must be a positive integer, got {val!r}")
    for pname, val in (("item_zipf", item_zipf), ("user_zipf", user_zipf), ("noise", noise),
                       ("user_bias_std", user_bias_std), ("item_bias_std", item_bias_std)):
        if not np.isfinite(val) or val < 0:
            raise ValueError(f"{pname} must be a finite number >= 0, got {val!r}")
    if not 0 <= cold_items < 1:
        raise ValueError(f"cold_items must be a share in [0, 1), got {cold_items!r}")
    if n_ratings > 0.6 * n_users * n_items:
        raise ValueError(f"n_ratings={n_ratings} is too many for {n_users}×{n_items}: "
                         f"keep it under 60% of all pairs")
    rng = np.random.default_rng(seed)
    pu, pi = _zipf_weights(n_users, user_zipf, rng), _zipf_weights(n_items, item_zipf, rng)

    # Draw pairs in rounds and keep each (user, item) once, in order of first draw. With strong
    # skew the popular items saturate (every user has rated them), so later rounds draw more to
    # make up for the rejected duplicates.
    keys = np.zeros(0, np.int64)
    accept = 1.0
    for _ in range(200):
        need = n_ratings - len(keys)
        if need <= 0:
            break
        m = int(min(need * 1.2 / max(accept, 1e-3), 40 * n_ratings)) + 16
        new = rng.choice(n_users, m, p=pu) * n_items + rng.choice(n_items, m, p=pi)
        allk = np.concatenate([keys, new])
        _, first = np.unique(allk, return_index=True)
        before = len(keys)
        keys = allk[np.sort(first)]
        accept = max((len(keys) - before) / m, 1e-3)
    if len(keys) < n_ratings:
        raise ValueError(f"could not draw {n_ratings} distinct pairs with item_zipf={item_zipf}, "
                         f"user_zipf={user_zipf}: lower n_ratings or the skew")
    keys = keys[:n_ratings]
    users, items = keys // n_items, keys % n_items

    U = rng.standard_normal((n_users, rank))
    V = rng.standard_normal((n_items, rank))
    bu = rng.normal(0.0, user_bias_std, n_users)
    bi = rng.normal(0.0, item_bias_std, n_items)
    if popularity_rating_effect:
        logpop = np.log(pi)
        bi = bi + popularity_rating_effect * (logpop - logpop.mean()) / logpop.std()
    truth = Truth(U, V, bu, bi, float(global_mean), float(factor_scale), float(noise),
                  tuple(float(s) for s in scale))
    clean = (global_mean + bu[users] + bi[items]
             + factor_scale * np.einsum("nk,nk->n", U[users], V[items]) / np.sqrt(rank))
    r = np.clip(clean + rng.normal(0.0, noise, n_ratings), *scale)

    n_cold = int(round(cold_items * n_items))
    cold = rng.choice(n_items, n_cold, replace=False) if n_cold else None
    if name is None:
        name = f"synthetic {n_users}x{n_items} zipf {item_zipf:g}/{user_zipf:g}"
    return Ratings(users, items, r, n_users=n_users, n_items=n_items, scale=scale, truth=truth,
                   cold_items=cold, name=name)


# -- splits --------------------------------------------------------------------------------------
