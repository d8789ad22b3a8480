"""Preprocessing: raw ids ↔ indices, rating normalisation, popularity buckets."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["IdMap", "Normalizer", "NORMALIZATIONS", "BUCKETS", "popularity_buckets"]


class IdMap:
    """Raw ids (any sortable values) → contiguous indices 0..n-1, and back.

    Policy for ids never seen when the map was built: ``encode(..., unknown="raise")`` (default)
    raises a ValueError naming the first unknown id; ``unknown="mask"`` returns -1 for them so the
    caller decides (nothing is dropped silently).
    """

    def __init__(self, ids):
        self.ids = np.unique(np.asarray(ids))  # sorted, so the mapping is deterministic

    def __len__(self):
        return len(self.ids)

    def __repr__(self):
        head = ", ".join(map(str, self.ids[:3])) + (", …" if len(self.ids) > 3 else "")
        return f"IdMap({len(self)} ids: {head})"

    def encode(self, raw, unknown="raise") -> np.ndarray:
        if unknown not in ("raise", "mask"):
            raise ValueError(f"unknown must be 'raise' or 'mask', got {unknown!r}")
        raw = np.asarray(raw)
        if len(self.ids) == 0:
            idx_c, found = np.zeros(raw.shape, np.int64), np.zeros(raw.shape, bool)
        else:
            idx_c = np.minimum(np.searchsorted(self.ids, raw), len(self.ids) - 1)
            found = self.ids[idx_c] == raw
        if not np.all(found):
            if unknown == "raise":
                bad = raw[~found].ravel()[0]
                raise ValueError(f"id {bad!r} was not seen when the IdMap was built "
                                 f"({(~found).sum()} unknown ids); use unknown='mask' to get -1")
            return np.where(found, idx_c, -1).astype(np.int64)
        return idx_c.astype(np.int64)

    def decode(self, index) -> np.ndarray:
        index = np.asarray(index)
        if index.size and (index.min() < 0 or index.max() >= len(self.ids)):
            raise ValueError(f"index out of range 0..{len(self.ids) - 1}")
        return self.ids[index]


NORMALIZATIONS = ("none", "center", "user", "zscore")


@dataclass
class Normalizer:
    """Rating normalisation fitted on training ratings and inverted for predictions.

    - ``none``: raw ratings.
    - ``center``: subtract the global training mean.
    - ``user``: subtract each user's training mean (global mean for users without ratings).
    - ``zscore``: (r - mean) / std — what the seed article's ``StandardScaler`` on the rating
      column does. Note it *only* centres and rescales one number: it knows nothing of users or items.
    """

    kind: str = "center"
    mean: float = 0.0
    std: float = 1.0
    user_means: np.ndarray | None = None

    def __post_init__(self):
        if self.kind not in NORMALIZATIONS:
            raise ValueError(f"normalize must be one of {NORMALIZATIONS}, got {self.kind!r}")

    def fit(self, ratings) -> "Normalizer":
        r = ratings.ratings.astype(np.float64)
        self.mean = float(r.mean()) if len(r) else 0.0
        self.std = float(r.std()) if len(r) > 1 and r.std() > 0 else 1.0
        if self.kind == "user":
            sums = np.bincount(ratings.users, r, minlength=ratings.n_users)
            counts = np.bincount(ratings.users, minlength=ratings.n_users)
            self.user_means = np.where(counts > 0, sums / np.maximum(counts, 1), self.mean)
        if self.kind == "zscore":
            # Use sklearn's StandardScaler so students see the exact object the seed article used.
            from sklearn.preprocessing import StandardScaler

            sc = StandardScaler().fit(r.reshape(-1, 1))
            self.mean, self.std = float(sc.mean_[0]), float(sc.scale_[0])
        return self

    def offset(self, users) -> np.ndarray | float:
        if self.kind == "none":
            return 0.0
        if self.kind == "user":
            return self.user_means[np.asarray(users)]
        return self.mean

    @property
    def divisor(self) -> float:
        return self.std if self.kind == "zscore" else 1.0

    def transform(self, users, r):
        return (np.asarray(r, np.float64) - self.offset(users)) / self.divisor

    def inverse(self, users, z):
        return np.asarray(z, np.float64) * self.divisor + self.offset(users)


# Bucket edges on training counts: cold = 0, rare = 1-5, mid = 6-100, popular > 100.
BUCKETS = ("cold", "rare", "mid", "popular")


def popularity_buckets(counts, edges=(0, 5, 100)) -> np.ndarray:
    """Bucket index per row (0 cold, 1 rare, 2 mid, 3 popular) from its training count.

    ``edges=(0, 5, 100)``: count == 0 → cold, ≤ 5 → rare, ≤ 100 → mid, else popular.
    """
    counts = np.asarray(counts)
    if len(edges) != 3 or not edges[0] < edges[1] < edges[2]:
        raise ValueError(f"edges must be three increasing counts, got {edges!r}")
    return np.digitize(counts, np.asarray(edges) + 0.5).astype(np.int64)
