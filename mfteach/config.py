"""The training configuration: one frozen, self-validating record of everything that defines a
run. Same config + same data = same numbers."""
from __future__ import annotations

import difflib
import math
from dataclasses import asdict, dataclass, replace
from functools import partial

import numpy as np
import torch

from .model import INIT_SCHEMES
from .preprocessing import NORMALIZATIONS

__all__ = ["TrainConfig", "OPTIMIZERS", "REGULARIZERS"]

OPTIMIZERS = {
    "sgd": "plain SGD",
    "momentum": "SGD with momentum",
    "adam": "Adam",
    "adamw": "AdamW (decoupled weight decay)",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
    "sparse_adam": "SparseAdam on sparse embeddings (+ Adam for the global bias)",
}
REGULARIZERS = {
    "none": "no regularization",
    "weight_decay": "the optimizer's weight_decay (coupled L2 in Adam, decoupled in AdamW)",
    "l2_batch": "λ·mean over the batch of (‖p_u‖² + ‖q_i‖²) — classic MF",
    "l2_all": "λ·(mean over all users ‖p‖² + mean over all items ‖q‖²)",
    "l1_batch": "λ·mean over the batch of (‖p_u‖₁ + ‖q_i‖₁)",
}
_SPARSE_OK = ("sgd", "adagrad", "sparse_adam")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines one training run. Same config + same data = same numbers."""

    dim: int = 32                    # embedding size
    epochs: int = 15                 # passes over the training ratings
    batch_size: int = 4096           # ratings per optimizer step (steps are the time budget)
    optimizer: str = "adam"          # one of OPTIMIZERS
    lr: float = 0.02                 # learning rate of the embeddings
    bias_lr: float | None = None     # learning rate of the bias terms; None = same as lr
    momentum: float = 0.9            # used by optimizer="momentum" only
    init: str = "normal"             # one of model.INIT_SCHEMES
    init_std: float = 0.1            # std for init="normal"/"uniform"
    init_value: float = 0.1          # value for init="constant"
    reg: str = "none"                # one of REGULARIZERS
    reg_strength: float = 0.0        # λ (or weight_decay) of that regularizer
    user_bias: bool = True           # learn a bias per user
    item_bias: bool = True           # learn a bias per item
    global_bias: bool = True         # learn a global bias, started at the training mean
    normalize: str = "center"        # "none", "center", "user" or "zscore" (the seed's StandardScaler)
    sparse: bool | None = None       # sparse embeddings; None = only for sparse_adam
    seed: int = 0                    # seeds init and batch order (private generators)
    threads: int | None = 1          # torch threads while training; None = leave as is
    device: str = "cpu"              # "cuda" when available and wanted
    snapshot_epochs: tuple = ()      # epochs (besides first and last) to keep full tables of
    fused: bool = True               # use PyTorch's fused optimizer kernels when they exist
    train_eval_sample: int | None = 20_000  # train RMSE on a fixed random sample of this many
                                            # training ratings (None = all): ±0.5% for 5x less time

    def __post_init__(self):
        def bad(pname, why):
            raise ValueError(f"{pname} must be {why}, got {getattr(self, pname)!r}")

        put = partial(object.__setattr__, self)  # frozen: store the cleaned-up values
        # numpy scalars are accepted (sweeps over np.arange) and stored as plain Python values.
        for pname, low, why in (("dim", 1, "a positive integer"), ("epochs", 0, "an integer >= 0"),
                                ("batch_size", 1, "a positive integer"),
                                ("seed", 0, "an integer in [0, 2**63)"),
                                ("threads", 1, "None or a positive integer"),
                                ("train_eval_sample", 1, "None or a positive integer")):
            v = getattr(self, pname)
            if v is None and why.startswith("None"):
                continue
            if not (_is_int(v) and low <= v < 2 ** 63):
                bad(pname, why)
            put(pname, int(v))
        for pname in ("user_bias", "item_bias", "global_bias", "fused", "sparse"):
            v = getattr(self, pname)
            if not (isinstance(v, (bool, np.bool_)) or (v is None and pname == "sparse")):
                bad(pname, "True or False" + (" or None" if pname == "sparse" else ""))
            put(pname, None if v is None else bool(v))
        for pname, names in (("optimizer", OPTIMIZERS), ("reg", REGULARIZERS),
                             ("init", INIT_SCHEMES), ("normalize", NORMALIZATIONS)):
            v = getattr(self, pname)
            if isinstance(v, str) and v.lower() in names:  # "Adam" is "adam"
                put(pname, v.lower())
            else:
                close = difflib.get_close_matches(str(v).lower(), list(names), n=1, cutoff=0.6) \
                    if isinstance(v, str) else []
                bad(pname, f"one of {list(names)}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        for pname, ok, why in (("lr", lambda f: f > 0, "a finite number > 0"),
                               ("init_std", lambda f: f > 0, "a finite number > 0"),
                               ("bias_lr", lambda f: f > 0, "None or a finite number > 0"),
                               ("reg_strength", lambda f: f >= 0, "a finite number >= 0"),
                               ("momentum", lambda f: 0 <= f < 1, "in [0, 1)"),
                               ("init_value", lambda f: True, "a finite number")):
            v = getattr(self, pname)
            if v is None and pname == "bias_lr":
                continue
            f = _as_float(v)
            if f is None or not math.isfinite(f) or not ok(f):
                bad(pname, why)
            put(pname, f)
        dev = str(self.device) if isinstance(self.device, torch.device) else self.device
        if not (isinstance(dev, str) and _device_type(dev)):
            bad("device", "'cpu', 'cuda', 'cuda:N' or 'mps'")
        put("device", dev)
        try:
            snaps = tuple(self.snapshot_epochs)
        except TypeError:
            snaps = None
        if isinstance(self.snapshot_epochs, str) or snaps is None or not all(
                _is_int(e) and e >= 0 for e in snaps):
            bad("snapshot_epochs", "a tuple of epoch numbers >= 0")
        put("snapshot_epochs", tuple(int(e) for e in snaps))
        if self.sparse and self.optimizer not in _SPARSE_OK:
            raise ValueError(f"sparse=True needs an optimizer that takes sparse gradients "
                             f"({_SPARSE_OK}), got optimizer={self.optimizer!r}")
        if self.optimizer == "sparse_adam" and self.sparse is False:
            raise ValueError("optimizer='sparse_adam' needs sparse embeddings, got sparse=False")
        if self.uses_sparse and self.reg == "weight_decay" and self.reg_strength > 0:
            raise ValueError(f"reg='weight_decay' is not available with sparse embeddings "
                             f"(optimizer={self.optimizer!r}); use reg='l2_batch'")
        if self.uses_sparse and self.reg == "l2_all" and self.reg_strength > 0:
            raise ValueError("reg='l2_all' touches every row, which sparse embeddings cannot do; "
                             "use reg='l2_batch'")

    @property
    def uses_sparse(self) -> bool:
        return self.optimizer == "sparse_adam" if self.sparse is None else bool(self.sparse)

    def replace(self, **changes) -> "TrainConfig":
        return replace(self, **changes)

    def code(self) -> str:
        """One line of code that reproduces this config (only the non-default fields)."""
        default = TrainConfig()
        diff = {k: v for k, v in asdict(self).items() if getattr(default, k) != v}
        return "TrainConfig(" + ", ".join(f"{k}={v!r}" for k, v in diff.items()) + ")"


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _as_float(v):
    """v as a float if it is a real number (not a bool, str or array), else None."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        return None
    try:
        return float(v)
    except OverflowError:  # an int too large for a float
        return None


def _device_type(name: str):
    """'cpu', 'cuda' or 'mps' when ``name`` is such a device string, else None."""
    try:
        kind = torch.device(name).type
    except (RuntimeError, ValueError, TypeError):
        return None
    return kind if kind in ("cpu", "cuda", "mps") else None
