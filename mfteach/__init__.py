"""mfteach: see why matrix-factorization embeddings go wrong in PyTorch, and how to fix them.

Three layers, importing one way only (a test guards it):
- the core, here at the package root (data, files, datasets, preprocessing, model, training,
  metrics, diagnostics, watch, report, findings, evidence): no plotting, no widgets, no lesson code;
- ``mfteach.ui``: the live-panel builder and the plot classes (draw, never train);
- ``mfteach.lessons``: one module per lesson (setup, experiments, panel, exercises).
``ui`` and ``lessons`` load on first use, so ``import mfteach`` stays free of matplotlib.
"""
from .data import Ratings, Split, Truth, synthetic
from .datasets import DatasetUnavailable, load_movielens_100k, load_movielens_small
from .diagnostics import Finding, Report, diagnose
from .files import read_movielens_udata, read_ratings
from .metrics import (baseline_rmse, bucket_rmse, history_bucket_rmse, norm_popularity_spearman,
                      recovery_r2, rmse, singular_values)
from .model import INIT_SCHEMES, MF, expected_initial_rmse, init_embedding_, init_std
from .splits import cold_item_split, per_user_split, random_split
from .preprocessing import BUCKETS, IdMap, Normalizer, popularity_buckets
from .training import OPTIMIZERS, REGULARIZERS, Divergence, History, TrainConfig, train
from .watch import Recorder, watch

__version__ = "0.1.0"
__all__ = ["Ratings", "Split", "Truth", "synthetic", "random_split", "per_user_split",
           "cold_item_split", "read_ratings", "read_movielens_udata", "load_movielens_small",
           "load_movielens_100k", "DatasetUnavailable", "MF", "INIT_SCHEMES", "init_embedding_",
           "init_std", "expected_initial_rmse", "BUCKETS", "IdMap", "Normalizer",
           "popularity_buckets", "TrainConfig", "train", "History", "Divergence", "OPTIMIZERS",
           "REGULARIZERS", "rmse", "baseline_rmse", "bucket_rmse", "history_bucket_rmse",
           "recovery_r2", "norm_popularity_spearman", "singular_values", "Finding", "diagnose",
           "Report", "watch", "Recorder", "ui", "lessons", "projector"]


def __getattr__(name):
    import importlib

    if name in ("ui", "lessons"):
        return importlib.import_module(f".{name}", __name__)
    if name == "projector":  # mf.projector(True) in a kernel (Colab: no environment variable)
        return importlib.import_module(".ui", __name__).projector
    raise AttributeError(f"module 'mfteach' has no attribute {name!r}")
