"""Claims of lesson 01 (initialization)."""
from __future__ import annotations

import math

import numpy as np

from ...training import train
from ..common import notebook_data
from . import claim


@claim("01.first-rmse",
       "Before any step, the RMSE is about √(dim·σ_u²σ_v² + Var r): √(dim + 1) rating points "
       "for N(0, 1) tables on unit-variance ratings (≈ 11 at dim 128).",
       conditions="Both tables N(0, σ²) (nn.Embedding's default: σ = 1), independent of the ratings; "
                  "the global bias starts at the mean",
       expect="measured first RMSE within 10% of the formula, for dim 16, 32 and 128")
def _first_rmse(seed):
    split = notebook_data(seed=seed)
    var_r = float(np.var(split.train.ratings))
    out, ok = {}, True
    for dim in (16, 32, 128):
        h = train(split, init="default", dim=dim, epochs=0, seed=seed)
        theory = math.sqrt(dim + var_r)
        out[f"dim {dim}: first / theory"] = f"{h.train_rmse[0]:.2f} / {theory:.2f}"
        ok &= abs(h.train_rmse[0] / theory - 1) < 0.10
    return out, ok
