"""Notebook 01 (initialization): its exercises and small helpers, so the notebook stays thin."""
from __future__ import annotations

import math

from .exercises import Exercise, check_init_function, close_to

__all__ = ["first_rmse_exercise", "size_free_init_exercise", "catalogue_init_exercise",
           "init_comparison"]


def first_rmse_exercise(std=0.5, dim=64, rating_var=0.88) -> Exercise:
    """Compute by hand the first RMSE of N(0, std²) embeddings of size dim."""
    target = math.sqrt(dim * std ** 4 + rating_var)
    return Exercise(
        "first RMSE by hand",
        f"Both tables start N(0, {std}²), dim = {dim}, the ratings' variance around their mean is "
        f"{rating_var}. What RMSE do you expect before the first step?",
        close_to(target, rel=0.03, what="your first RMSE"),
        hints=["Each prediction is the mean plus <p, q>, a sum of dim products p_k·q_k.",
               "One product of two independent N(0, σ²) numbers has variance σ⁴, so <p, q> has "
               "variance dim·σ⁴; the rating's own deviation adds Var(r).",
               "RMSE = √(dim·σ⁴ + Var(r))."],
        solution=f"import math\nmath.sqrt({dim} * {std}**4 + {rating_var})  # = {target:.3f}")


def size_free_init_exercise(dim=32) -> Exercise:
    """Write an init with Xavier's scale for a dim × dim table, whatever the number of rows."""
    target = 1 / math.sqrt(dim)
    return Exercise(
        "Xavier-like scale, independent of the table size",
        f"Write `def my_init(w): ...` that fills a (rows, {dim}) weight in place with std "
        f"1/√dim = {target:.4f} (what Xavier gives a square dim × dim table) for ANY number of "
        f"rows. One line of PyTorch.",
        check_init_function(target, dim=dim),
        hints=["Xavier's std is √(2/(fan_in + fan_out)) and PyTorch takes fan_out = rows.",
               "Take the rows out of the formula: use fan_in = fan_out = dim.",
               "torch.nn.init.normal_(w, mean=0.0, std=...) fills w in place."],
        solution=f"import math, torch\n\ndef my_init(w):\n    torch.nn.init.normal_(w, std=1 / math.sqrt(w.shape[1]))")


def catalogue_init_exercise(dim=32) -> Exercise:
    """Pick an init for a 1M-item catalogue (and a 5k-user table) and justify it."""

    def check(fn):
        import torch

        if not callable(fn):
            return False, "pass a function that takes a weight tensor and initialises it in place"
        stds = []
        for n in (5_000, 1_000_000):
            w = torch.full((n, dim), float("nan"))
            with torch.no_grad():
                fn(w)
            if not torch.isfinite(w).all():
                return False, (f"on a ({n:,}, {dim}) table some weights were not set: initialise "
                               f"the tensor in place, e.g. torch.nn.init.normal_(w, std=...)")
            stds.append(w.std().item())
        lo, hi = min(stds), max(stds)
        if hi > 1.5 * lo:
            return False, (f"your init gives std {stds[0]:.4f} on the 5k-row table but "
                           f"{stds[1]:.4f} on the 1M-row table: the two tables would start on "
                           f"different scales (that is what Xavier does)")
        if hi > 0.3:
            return False, (f"std {hi:.3f} is large: the first predictions are off by about "
                           f"√dim·σ² = {math.sqrt(dim) * hi * hi:.2f} rating points and Adam needs "
                           f"many steps to shrink them; cold items keep that noise forever")
        if lo < 1e-4:
            return False, (f"std {lo:.1e} is so small that the gradient of <p, q> (which is "
                           f"the other table's row) is tiny: learning starts slowly")
        return True, (f"std {lo:.4f} on both tables: small, the same for 5k and 1M rows, and "
                      f"cold items predict ≈ their biases")

    return Exercise(
        "an init for a 1M-item catalogue",
        "Your shop has 5,000 users and 1,000,000 items, dim 32. Write `def big_init(w): ...` "
        "and use the panels to justify it: what std does Xavier give each table, and what "
        "does that do to the first predictions?",
        check,
        hints=["Look at the init-std panel: where is Xavier at 1M rows?",
               "Anything between 0.01 and 0.1 trained equally well in the comparison above, and "
               "it should not depend on the number of rows."],
        solution="import torch\n\ndef big_init(w):\n    torch.nn.init.normal_(w, std=0.05)")


def init_comparison(split, schemes=(("default", {}), ("xavier_uniform", {}), ("kaiming", {}),
                                    ("normal", {"init_std": 0.1}), ("normal", {"init_std": 0.01}),
                                    ("zeros", {}), ("constant", {})), **train_kw):
    """Train once per scheme; rows of (scheme, its std on the item table, first/train/val RMSE)."""
    from .model import init_std
    from .training import train

    rows = []
    for scheme, kw in schemes:
        h = train(split, init=scheme, **kw, **train_kw)
        std = init_std(scheme, split.train.n_items, h.config.dim, std=kw.get("init_std", 0.1))
        name = scheme + (f"({kw['init_std']:g})" if kw else "")
        rows.append({"init": name, "item std": round(std, 4), "first RMSE": round(h.train_rmse[0], 2),
                     "train RMSE": round(h.train_rmse[-1], 3), "val RMSE": round(h.val_rmse[-1], 3)})
    return rows
