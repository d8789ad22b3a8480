"""mfteach: see why matrix-factorization embeddings go wrong in PyTorch, and how to fix them.

The core (data → preprocessing → model → training → metrics) imports no plotting or widget code.
"""
from .data import Ratings, Split, Truth, cold_item_split, per_user_split, random_split, synthetic
from .datasets import DatasetUnavailable, load_movielens_100k, load_movielens_small
from .files import read_movielens_udata, read_ratings
from .model import INIT_SCHEMES, MF, init_embedding_, init_std
from .preprocessing import BUCKETS, IdMap, Normalizer, popularity_buckets
from .training import OPTIMIZERS, REGULARIZERS, Divergence, History, TrainConfig, train

__version__ = "0.1.0"
from .diagnostics import Finding, diagnose
from .exercises import Exercise
from .metrics import (baseline_rmse, bucket_rmse, norm_popularity_spearman, recovery_r2, rmse,
                      singular_values)
from .model import expected_initial_rmse


def __getattr__(name):
    # The screen layer (panels, plots, widgets) loads on first use, so `import mfteach` stays
    # free of matplotlib/ipywidgets and the core can run anywhere.
    if name in ("panels", "plots", "widgets"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'mfteach' has no attribute {name!r}")
