"""The record of one training run: per-epoch curves, norms, table snapshots and how it ended."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch

from .data import Ratings
from .model import MF, predict_rows
from .preprocessing import Normalizer

if TYPE_CHECKING:
    from .training import TrainConfig

__all__ = ["History", "Divergence", "BLOWUP_FACTOR"]


@dataclass(frozen=True)
class Divergence:
    """Where and why training stopped early."""

    epoch: int
    step: int
    reason: str

    def __str__(self):
        return self.reason


@dataclass
class History:
    """Per-epoch record of a run. Index e of every per-epoch list is epoch e (0 = before any step).

    A run without validation ratings (``has_val`` False) has NaN in every ``val_rmse`` entry: by
    design, not a failure.
    """

    config: TrainConfig
    train_rmse: list = field(default_factory=list)
    val_rmse: list = field(default_factory=list)
    seconds: list = field(default_factory=list)         # cumulative wall time at each epoch's end
    grad_norm: list = field(default_factory=list)       # ‖∇ factors‖ at each epoch's last step (0: nan)
    user_norms: list = field(default_factory=list)      # (n_users,) row norms per epoch
    item_norms: list = field(default_factory=list)      # (n_items,) row norms per epoch
    tables: dict = field(default_factory=dict)          # epoch → (P, Q) numpy copies
    diverged: Divergence | None = None
    steps: int = 0
    model: MF | None = field(default=None, repr=False)
    normalizer: Normalizer | None = field(default=None, repr=False)
    train_item_counts: np.ndarray | None = field(default=None, repr=False)
    train_user_counts: np.ndarray | None = field(default=None, repr=False)
    global_init: float = 0.0                            # start value of the global bias
    n_val: int | None = None                            # validation ratings (None: not recorded)
    last_sane_epoch: int | None = None                  # after a divergence: the epoch the model
                                                        # was reset to (its predictions are that)

    @property
    def has_val(self) -> bool:
        """Whether the run had validation ratings (without them val_rmse is all NaN)."""
        if self.n_val is not None:
            return self.n_val > 0
        return bool(np.isfinite(np.asarray(self.val_rmse, float)).any())

    @property
    def epochs(self) -> np.ndarray:
        return np.arange(len(self.train_rmse))

    @property
    def best_epoch(self) -> int:
        v = np.asarray(self.val_rmse, float)
        return int(np.nanargmin(v)) if len(v) and np.isfinite(v).any() else 0

    @property
    def total_seconds(self) -> float:
        return self.seconds[-1] if self.seconds else 0.0

    @property
    def ok(self) -> bool:
        return self.diverged is None

    def predict(self, users, items) -> np.ndarray:
        """Predictions on the rating scale (normalisation undone), shape (n,); after a divergence,
        those of the last sane epoch (``last_sane_epoch``)."""
        m = self.model
        dev = next(m.parameters()).device
        u = torch.as_tensor(np.asarray(users), device=dev)
        i = torch.as_tensor(np.asarray(items), device=dev)
        z = predict_rows(m, u, i)  # (n,)
        return self.normalizer.inverse(users, z.double().cpu().numpy())

    def initial_predictions(self, users, items) -> np.ndarray:
        """Predictions of the model as initialised (epoch 0), on the rating scale.

        At init the bias tables are 0 and the global bias sits at its start value, so the
        prediction is that value plus the dot product of the initial embeddings.
        """
        P, Q = self.tables[0]
        users, items = np.asarray(users), np.asarray(items)
        z = np.einsum("nd,nd->n", P[users].astype(np.float64), Q[items].astype(np.float64))
        return self.normalizer.inverse(users, z + self.global_init)

    def to_frame(self):
        """One row per epoch (0 = before any step): RMSEs, time, gradient and mean row norms."""
        import pandas as pd

        return pd.DataFrame({
            "train_rmse": self.train_rmse, "val_rmse": self.val_rmse, "seconds": self.seconds,
            "grad_norm": self.grad_norm,
            "mean_user_norm": [float(np.mean(n)) if len(n) else np.nan for n in self.user_norms],
            "mean_item_norm": [float(np.mean(n)) if len(n) else np.nan for n in self.item_norms],
        }, index=pd.RangeIndex(len(self.train_rmse), name="epoch"))

    def factors(self):
        """The learned (P, Q) tables of the last finite epoch, as numpy arrays."""
        return self.tables[max(self.tables)]

    # -- as plain tensors, for a file loaded with torch.load(weights_only=True) -----------------
    def to_state(self) -> dict:
        """Everything but the config, as tensors, numbers and strings (no pickled objects).
        Only for runs without a custom optimizer (the model is rebuilt from the config)."""
        t = torch.from_numpy
        nz = self.normalizer
        return {
            "curves": {k: torch.tensor(getattr(self, k), dtype=torch.float64)
                       for k in ("train_rmse", "val_rmse", "seconds", "grad_norm")},
            "user_norms": [t(n) for n in self.user_norms],
            "item_norms": [t(n) for n in self.item_norms],
            "tables": {int(e): (t(P), t(Q)) for e, (P, Q) in self.tables.items()},
            "diverged": None if self.diverged is None else
            (self.diverged.epoch, self.diverged.step, self.diverged.reason),
            "steps": self.steps, "global_init": self.global_init, "n_val": self.n_val,
            "last_sane_epoch": self.last_sane_epoch,
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "model_shape": tuple(self.model.user_factors.weight.shape[:1]) +
            tuple(self.model.item_factors.weight.shape),
            "normalizer": (nz.kind, nz.mean, nz.std,
                           None if nz.user_means is None else t(nz.user_means)),
            "counts": (t(self.train_user_counts), t(self.train_item_counts)),
        }

    @classmethod
    def from_state(cls, state: dict, config: "TrainConfig") -> "History":
        """The History ``to_state`` described, its model rebuilt from ``config``."""
        n_users, n_items, dim = state["model_shape"]
        model = MF(n_users, n_items, dim, user_bias=config.user_bias, item_bias=config.item_bias,
                   global_bias=config.global_bias, sparse=config.uses_sparse, init=config.init)
        model.load_state_dict(state["model"])
        kind, mean, std, user_means = state["normalizer"]
        norm = Normalizer(kind, mean, std, None if user_means is None else user_means.numpy())
        d = state["diverged"]
        users, items = state["counts"]
        h = cls(config, model=model, normalizer=norm, train_user_counts=users.numpy(),
                train_item_counts=items.numpy(), n_val=state["n_val"],
                diverged=None if d is None else Divergence(*d), steps=state["steps"],
                global_init=state["global_init"], last_sane_epoch=state["last_sane_epoch"],
                user_norms=[n.numpy() for n in state["user_norms"]],
                item_norms=[n.numpy() for n in state["item_norms"]],
                tables={e: (P.numpy(), Q.numpy()) for e, (P, Q) in state["tables"].items()})
        for k, v in state["curves"].items():
            setattr(h, k, v.tolist())
        return h

    def __repr__(self):
        if not self.train_rmse:
            return "History(empty)"
        e = len(self.train_rmse) - 1
        s = (f"History({e} epochs, {self.steps} steps, {self.total_seconds:.2f} s: train RMSE "
             f"{self.train_rmse[-1]:.3f}, ")
        if self.has_val:
            s += (f"val RMSE {self.val_rmse[-1]:.3f} "
                  f"(best {self.val_rmse[self.best_epoch]:.3f} at epoch {self.best_epoch})")
        else:
            s += "no validation ratings"
        return s + (f"; {self.diverged}" if self.diverged else "") + ")"


# -- how a run ends ----------------------------------------------------------------------------
# A run has blown up when its RMSE passes this multiple of both its epoch-0 RMSE and the width of
# the rating scale: predictions then miss by ten rating scales on average, which no healthy run
# does at any epoch (see tests/test_training.py), whatever its init.
BLOWUP_FACTOR = 10.0


def scale_width(r: Ratings) -> float:
    """Width of the rating scale (its declared (low, high), else the ratings' range; >= 1e-12)."""
    lo, hi = r.scale if r.scale is not None else (float(r.ratings.min()), float(r.ratings.max()))
    return max(hi - lo, 1e-12)


def blowup_reason(h: History, errors, width):
    """Why this epoch's (train, val) RMSE means divergence, or None. Epoch 0 is in ``h``."""
    for name, series, now in (("train", h.train_rmse, errors[0]), ("val", h.val_rmse, errors[1])):
        if name == "val" and not h.has_val:
            continue
        if not math.isfinite(now):
            return f"{name} predictions overflowed ({name} RMSE {now})"
        start = series[0]
        if now > BLOWUP_FACTOR * max(start, width):
            return f"{name} RMSE exploded from {start:.3g} at epoch 0 to {now:.3g}"
    return None


def divergence(cfg, epoch, step, what, custom=False) -> Divergence:
    hint = (f"lower the learning rate (now {cfg.lr:g})" if cfg.optimizer in ("sgd", "momentum")
            or cfg.lr >= 0.05 else f"lower the learning rate (now {cfg.lr:g}) or the init scale")
    if custom:  # make_optimizer: the config's lr is not the one that was used
        hint = "lower the learning rate of your optimizer (make_optimizer) or the init scale"
    elif cfg.optimizer in ("sgd", "momentum") and cfg.global_bias and cfg.bias_lr is None:
        hint += ", or give the bias terms their own smaller bias_lr"
    return Divergence(epoch, step, f"diverged at epoch {epoch} (step {step}): {what} — {hint}")
