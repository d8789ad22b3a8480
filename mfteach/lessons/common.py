"""What every lesson shares: the notebooks' data, the reference errors, and a panel's result."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from ..data import Split, synthetic
from ..splits import random_split
from ..metrics import baseline_rmse

__all__ = ["notebook_data", "reference_rmse", "Run", "grid"]


@lru_cache(maxsize=16)
def notebook_data(item_zipf=1.2, user_zipf=0.8, noise=0.5, cold_items=0.0, n_items=1500,
                  seed=0) -> Split:
    """The notebooks' default data (600 users × 1,500 items, 50k ratings from a known rank-4
    model), split 80/10/10; cached, since it is deterministic."""
    d = synthetic(600, n_items, 50_000, item_zipf=item_zipf, user_zipf=user_zipf, noise=noise,
                  cold_items=cold_items, seed=seed)
    return random_split(d, seed=seed)


def reference_rmse(split: Split) -> tuple:
    """(predicting the training mean, the true model or None) on the validation set."""
    truth = baseline_rmse(split.train, split.val, "truth") if split.truth is not None else None
    return baseline_rmse(split.train, split.val), truth


@dataclass
class Run:
    """What a panel computed: the history plus the numbers its plots and status need."""

    history: object
    split: Split
    mean_rmse: float
    truth_rmse: float | None
    extra: dict = field(default_factory=dict)

    @classmethod
    def of(cls, history, split: Split, **extra) -> "Run":
        return cls(history, split, *reference_rmse(split), extra)


def grid(fig, rows=2, cols=2):
    """A rows × cols grid of axes on ``fig`` (always 2-D)."""
    return fig.subplots(rows, cols, squeeze=False)
