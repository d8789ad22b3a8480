"""What every lesson shares: the notebooks' data, the reference errors, and a panel's result."""
from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache

from ..config import TrainConfig
from ..data import Split, synthetic
from ..splits import random_split
from ..metrics import baseline_rmse
from ..training import train

__all__ = ["notebook_data", "reference_rmse", "Run", "grid", "trained", "train_many"]


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


# -- trained once, shared ------------------------------------------------------------------------
# Same data + same config = same numbers (every run is seeded by its config), so a notebook that
# asks for the same run in two cells, or in a cell and a panel, trains it once. Keyed on the data
# object (held here, so its id cannot be reused) and the frozen config; the oldest go first.
_RUNS: OrderedDict = OrderedDict()
_RUNS_MAX = 64
_RUNS_LOCK = threading.Lock()


def _config(config=None, **overrides) -> TrainConfig:
    cfg = TrainConfig() if config is None else config
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(cfg).__name__}")
    return cfg.replace(**overrides) if overrides else cfg


def trained(data, config=None, **overrides):
    """``mf.train(data, config, **overrides)``, remembered: the same data object and settings
    return the History trained the first time (treat it as read-only)."""
    cfg = _config(config, **overrides)
    key = (id(data), cfg)
    with _RUNS_LOCK:
        if key in _RUNS:
            _RUNS.move_to_end(key)
            return _RUNS[key][1]
    h = train(data, cfg)
    with _RUNS_LOCK:
        _RUNS[key] = (data, h)
        while len(_RUNS) > _RUNS_MAX:
            _RUNS.popitem(last=False)
    return h


def train_many(data, configs, workers=2) -> list:
    """``[trained(data, c) for c in configs]``, ``workers`` runs at a time in threads (torch
    releases the GIL inside its kernels: ~1.4× on 2 cores). The numbers are those of one run at a
    time: each run is seeded by its config, and torch keeps to one thread while they run."""
    import torch

    configs = [_config(c) for c in configs]
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    todo = list(dict.fromkeys(configs))  # a config asked twice trains once
    old = torch.get_num_threads()
    torch.set_num_threads(1)  # global: runs in parallel threads must not change it under each other
    try:
        if workers == 1 or len(todo) == 1:
            for c in todo:
                trained(data, c)
        else:
            with ThreadPoolExecutor(min(workers, len(todo))) as pool:
                list(pool.map(lambda c: trained(data, c), todo))
    finally:
        torch.set_num_threads(old)
    return [trained(data, c) for c in configs]
