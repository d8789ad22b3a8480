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
from .metrics import (baseline_rmse, bucket_rmse, norm_popularity_spearman, recovery_r2, rmse,
                      singular_values)
